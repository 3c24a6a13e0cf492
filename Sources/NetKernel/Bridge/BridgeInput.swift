// Bridge input: net/bridge/br_input.c. A frame received on a port: learn its source, then
// deliver it up (to the bridge's own address, or a copy of a broadcast, or everything while
// the bridge is promiscuous), forward it to the port its destination was learned on, or flood.
// Guarantees: the source is learned before forwarding (so a reply is never flooded); a frame
// is never sent back out of the port it came in on (no hairpin by default).

import SimCore
import Wire

extension BridgeDevice {
    /// Kernel: br_handle_frame() + br_handle_frame_finish().
    func handleFrame(_ port: BridgePort, _ p: inout Packet) -> RxHandlerResult {
        let ns = namespace
        if p.pktType == .loopback { return .pass }
        let src = EthernetView.source(p.bytes)
        var dst = EthernetView.destination(p.bytes)
        guard !src.isMulticast, !src.isZero else {
            ns.kernel.trace(ns, port.device, .drop, "invalid source \(src)")
            return .consumed
        }
        // 802.1D link-local group (STP BPDUs and friends) is not forwarded; pass it up.
        if dst.raw & 0xffff_ffff_fff0 == 0x0180_c200_0000 { return .pass }
        guard port.state == .forwarding || port.state == .learning else {
            ns.kernel.trace(ns, port.device, .drop, "port \(port.state.name) (\(DropReason.bridgePortState.rawValue))")
            return .consumed
        }
        // br_netfilter: the IPv4 PREROUTING hook (may drop, DNAT or pass the frame up).
        guard brNFPreRouting(port, &p) else { return .consumed }
        dst = EthernetView.destination(p.bytes)
        if port.learning { learn(src, on: port) }
        guard port.state == .forwarding else { return .consumed }

        var localReceive = isPromiscuous
        if dst.isMulticast {
            localReceive = true
            flood(p, from: port, localOrigin: false)
        } else if let e = fdb.find(dst) {
            if e.isLocal {
                ns.kernel.trace(ns, self, .deliver, "\(dst) is local: up the stack of \(name)")
                passFrameUp(p)
                return .consumed
            }
            e.used = ns.machine.jiffiesNow
            if let to = e.port { forward(p, to: to, from: port) }
        } else {
            ns.kernel.trace(ns, self, .flood, "\(dst) unknown: flood")
            flood(p, from: port, localOrigin: false)
        }
        if localReceive { passFrameUp(p) }
        return .consumed
    }

    /// Kernel: br_fdb_update(): learn or refresh `mac` behind `port`.
    func learn(_ mac: MACAddress, on port: BridgePort) {
        let now = namespace.machine.jiffiesNow
        if let e = fdb.find(mac) {
            if e.isLocal {
                namespace.kernel.trace(namespace, self, .drop, "received packet on \(port.device.name) with own address as source address")
                return
            }
            if e.port !== port {
                namespace.kernel.trace(namespace, self, .fdbLearn, "\(mac) moved to \(port.device.name)")
                e.port = port
            }
            e.updated = now
            return
        }
        fdb.insert(mac, port: port, isLocal: false, isStatic: false, now: now)
        namespace.kernel.trace(namespace, self, .fdbLearn, "\(mac) learned on \(port.device.name)")
    }

    /// Kernel: br_pass_frame_up(): the bridge device receives the frame as its own.
    func passFrameUp(_ p: Packet) {
        var q = p
        q.bridged = true
        let ns = namespace
        ns.deliverToTaps(self, q.bytes, .incoming)
        stats.rxPackets += 1
        // br_pass_frame_up() counts skb->len after the port's eth_type_trans() pulled the
        // Ethernet header (observed on Linux 6.18: 4 echo frames up br0 count 224 bytes).
        stats.rxBytes += q.bytes.count - EthernetHeader.length
        ns.deliverUp(self, q)
    }
}
