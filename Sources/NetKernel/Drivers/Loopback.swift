// Loopback: drivers/net/loopback.c. Every namespace has one, ifindex 1, down at creation,
// MTU 65536; what it sends it receives, after the loopback latency.

import SimCore
import Wire

public final class LoopbackDevice: NetDevice {
    init(namespace: NetNamespace) {
        super.init(name: "lo", namespace: namespace, mac: .zero, assign: .permanent, mtu: 65536)
        broadcastMAC = .zero
        carrier = true
    }

    public override var baseFlags: InterfaceFlags { [.loopback] }
    public override var isLoopback: Bool { true }
    public override var linkTypeName: String { "loopback" }

    public override func startXmit(_ p: Packet) {
        let ns = namespace
        ns.clock.schedule(after: ns.kernel.config.loopbackLatency) { [self] in
            guard self.namespace === ns, ns.alive else { return }
            var q = p
            q.pktType = .loopback
            ns.netifReceive(self, q)
        }
    }
}
