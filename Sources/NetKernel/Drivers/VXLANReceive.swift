// VXLANReceive: a datagram on a vxlan socket (vxlan_rcv()): the VXLAN header is checked, the
// VNI picks the device, the inner frame's source is learned behind the outer source address
// (vxlan_set_mac() -> vxlan_snoop()), and the inner frame is received on the vxlan device
// (gro_cells_receive() -> __netif_receive_skb()), where taps see it and a bridge takes it.
// Guarantees: the drops are vxlan_rcv()'s, in its order, each traced with its drop reason;
// the inner frame is received in the same instant, after what the current event does.
// Leaves out: ECN decapsulation errors, GRO, remote checksum offload.

import SimCore
import Wire

extension VXLANSocket {
    /// Kernel: vxlan_rcv(). `p` is the whole outer packet (IPv4 header at `network`).
    func receive(_ p: Packet, inDevice: NetDevice) {
        let ns = udp.namespace
        let b = p.bytes
        let o = p.network
        let u = o + IPv4View.headerLength(b, at: o)
        let v = u + UDPHeader.headerLength
        let end = min(b.count, u + UDPView.length(b, at: u))
        guard end - v >= VXLANHeader.length else {
            ns.kernel.trace(ns, inDevice, .drop, "vxlan: short datagram (PKT_TOO_SMALL)")
            return
        }
        guard VXLANView.flags(b, at: v) & VXLANHeader.flagVNI != 0 else {
            ns.kernel.trace(ns, inDevice, .drop, "vxlan: I flag not set (VXLAN_INVALID_HDR)")
            return
        }
        let vni = VXLANView.vni(b, at: v)
        guard let dev = device(vni: vni) else {
            ns.kernel.trace(ns, inDevice, .drop, "vxlan: vni \(vni) on port \(port) has no device (VXLAN_VNI_NOT_FOUND)")
            return
        }
        let reserved = VXLANView.reservedBits(b, at: v)
        guard reserved.flags == 0 && reserved.vni == 0 else {
            dev.stats.rxDropped += 1
            ns.kernel.trace(ns, dev, .drop, "vxlan: reserved bits set (VXLAN_INVALID_HDR)")
            return
        }
        let inner = v + VXLANHeader.length
        guard end - inner >= EthernetHeader.length else {
            ns.kernel.trace(ns, dev, .drop, "vxlan: no inner frame (PKT_TOO_SMALL)")
            return
        }
        let frame = Array(b[inner..<end])
        // vxlan_set_mac(): our own address coming back is a loop (or multicast echo).
        let src = EthernetView.source(frame)
        if src == dev.mac {
            ns.kernel.trace(ns, dev, .drop, "vxlan: own source address \(src) (LOCAL_MAC)")
            return
        }
        if dev.config.learning, let reason = dev.snoop(src, from: IPv4View.source(b, at: o)) {
            ns.kernel.trace(ns, dev, .drop, "vxlan: \(src) from \(IPv4View.source(b, at: o)) (\(reason))")
            return
        }
        guard dev.adminUp else {
            dev.stats.rxDropped += 1
            ns.kernel.trace(ns, dev, .drop, "vxlan: device down (DEV_READY)")
            return
        }
        var q = Packet(bytes: frame)
        q.hops = p.hops + 1
        let k = ns.kernel
        k.deliver(q, to: dev, at: k.clock.now)
    }
}
