// Veth: drivers/net/veth.c. A pair of Ethernet devices; what one end transmits, the other
// receives (netif_rx onto its namespace's backlog), across namespaces too.
// Guarantees: carrier is on only while both ends are up (veth_open/veth_close); deleting one
// end deletes both.
// Leaves out: XDP, GRO, multiple queues.

import SimCore
import Wire

public final class VethDevice: NetDevice {
    /// The other end (cleared on both sides when the pair is deleted). Unowned: the two ends
    /// must not keep each other alive; their namespaces (or the machine's retired list) own them.
    public internal(set) unowned(unsafe) var peer: VethDevice?

    init(name: String, namespace: NetNamespace, mac: MACAddress) {
        super.init(name: name, namespace: namespace, mac: mac, assign: .random, mtu: 1500)
    }

    public override var kind: String? { "veth" }
    public override var iflink: Int? { peer?.ifindex }

    public override func startXmit(_ p: Packet) {
        guard let peer, peer.isRunning else {
            stats.txDropped += 1
            namespace.kernel.trace(namespace, self, .drop, "peer not running")
            return
        }
        // The peer sees pkt_type recomputed by eth_type_trans() on its side.
        var q = Packet(bytes: p.bytes)
        q.hops = p.hops + 1
        q.mark = 0
        let k = namespace.kernel
        k.deliver(q, to: peer, at: k.clock.now + k.config.vethLatency)
    }

    /// Kernel: veth_open(): carrier comes up on both ends once the peer is up too.
    public override func didOpen() {
        if let peer, peer.adminUp {
            setCarrier(true)
            peer.setCarrier(true)
        }
    }

    /// Kernel: veth_close(): both ends lose carrier.
    public override func didStop() {
        setCarrier(false)
        peer?.setCarrier(false)
    }

    public override func willUnregister() {
        guard let p = peer else { return }
        peer = nil
        p.peer = nil
        p.namespace.unregister(p)
    }
}
