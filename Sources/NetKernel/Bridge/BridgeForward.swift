// Bridge forward: net/bridge/br_forward.c. Sending a frame out of one port, or flooding it to
// every port that may have it.
// Guarantees: flood order is the kernel's port-list order (newest port first); a port gets a
// frame only while forwarding and never the one it came from.

import SimCore
import Wire

extension BridgeDevice {
    /// Kernel: should_deliver().
    func shouldDeliver(to port: BridgePort, from ingress: BridgePort?) -> Bool {
        (port.hairpin || port !== ingress) && port.state == .forwarding
    }

    /// Kernel: br_forward() / __br_forward() / br_dev_queue_push_xmit().
    func forward(_ p: Packet, to port: BridgePort, from ingress: BridgePort?) {
        if ingress == nil && p.nfBridge?.bridgedDNAT == true && brNFBridgedDNATResume(p) { return }
        guard shouldDeliver(to: port, from: ingress) else {
            namespace.kernel.trace(namespace, self, .drop, "destination behind the ingress port (\(DropReason.bridgeSamePort.rawValue))")
            return
        }
        namespace.kernel.trace(namespace, self, .forward, "\(EthernetView.destination(p.bytes)) -> \(port.device.name)")
        var q = p
        q.hops += 1
        guard brNFForward(&q, to: port, from: ingress) else { return }
        pushXmit(q, to: port)
    }

    /// Kernel: br_dev_queue_push_xmit(), through br_nf_dev_queue_xmit(): an IPv4 datagram
    /// that conntrack's defrag put together at the bridge's PREROUTING leaves in fragments
    /// again, none bigger than its largest original one or the port's MTU.
    func pushXmit(_ q: Packet, to port: BridgePort) {
        let dev = port.device
        if q.fragMaxSize > 0, EthernetView.etherType(q.bytes) == .ipv4 {
            let mtu = min(dev.mtu, q.fragMaxSize)
            if q.bytes.count - q.network > mtu {
                for f in namespace.ipFragment(q, mtu: mtu) { namespace.devQueueXmit(dev, f) }
                return
            }
        }
        namespace.devQueueXmit(dev, q)
    }

    /// Kernel: br_flood(): walks br->port_list, newest port first. A port's `flood` flag gates
    /// unknown unicast only; `mcast_flood` and `bcast_flood` gate multicast and broadcast,
    /// except for frames the bridge device itself sends.
    func flood(_ p: Packet, from ingress: BridgePort?, localOrigin: Bool) {
        if ingress == nil && p.nfBridge?.bridgedDNAT == true && brNFBridgedDNATResume(p) { return }
        let dst = EthernetView.destination(p.bytes)
        let fromBridge = ingress == nil
        for port in ports.reversed() where shouldDeliver(to: port, from: ingress) {
            if dst.isBroadcast {
                if !port.bcastFlood && !fromBridge { continue }
            } else if dst.isMulticast {
                if !port.mcastFlood && !fromBridge { continue }
            } else if !port.flood {
                continue
            }
            var q = p
            q.hops += 1
            guard brNFForward(&q, to: port, from: ingress) else { continue }
            pushXmit(q, to: port)
        }
    }
}
