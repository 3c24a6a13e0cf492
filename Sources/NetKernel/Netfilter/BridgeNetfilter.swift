// BridgeNetfilter: net/bridge/br_netfilter_hooks.c. With net.bridge.bridge-nf-call-iptables
// = 1 (the default in every namespace on the machines we check against: br_netfilter is
// built in), IPv4 frames a bridge switches also cross the IPv4 PREROUTING, FORWARD and
// POSTROUTING hooks, so iptables rules (and conntrack, and NAT) apply to bridged traffic.
// Guarantees, as observed on Linux 6.18:
// - The hooks see the bridge as the device: in=br0 at PREROUTING and FORWARD, out=br0 at
//   FORWARD and POSTROUTING; the ports are only visible to -m physdev (and as PHYSIN=/
//   PHYSOUT= in LOG lines). --physdev-is-bridged never matches at PREROUTING (the out port
//   is not known yet).
// - A frame the bridge passes up to its own stack crossed PREROUTING once, at the bridge:
//   ip_sabotage_in() makes ip_rcv() skip a second PREROUTING; INPUT sees in=br0. Frames the
//   host itself sends through the bridge cross only the host's OUTPUT and POSTROUTING.
// - Every flooded copy crosses FORWARD and POSTROUTING on its own.
// - DNAT at the bridge's PREROUTING re-routes: a new destination behind the same bridge is
//   bridged to it (the next hop's MAC resolved by the neighbour table); any other is passed
//   up to the stack with the bridge's MAC as destination (br_nf_pre_routing_finish()).
// - Before the hooks the IPv4 header is validated and link-layer padding trimmed
//   (br_validate_ipv4()).
// - With conntrack running, its defrag reassembles fragments at PREROUTING; the port
//   transmit cuts them again (br_nf_dev_queue_xmit(), in BridgeForward.swift).
// Leaves out: VLAN- and PPPoE-encapsulated IPv4, IPv6 and ARP (bridge-nf-call-ip6tables and
// -arptables are kept as settings only), the per-bridge nf_call_iptables option.

import SimCore
import Wire

/// Kernel: struct nf_bridge_info.
public struct BridgeNFInfo {
    /// The port the frame came in on (physindev) and the one it leaves by (physoutdev).
    public var physIn: NetDevice?
    public var physOut: NetDevice?
    /// In the bridge's PREROUTING (ip_sabotage_in() must let it pass).
    var inPrerouting = false
    /// ip_sabotage_in() already handed the frame to routing.
    var sabotageDone = false
    /// The destination before PREROUTING (to notice DNAT).
    var originalDestination = IPv4Address.any
    /// DNAT to a host behind the same bridge: br_dev_xmit() continues bridging the frame.
    var bridgedDNAT = false
    /// The Ethernet source to restore for a bridged DNAT frame (neigh_header).
    var savedSource = MACAddress.zero
}

extension NetNamespace {
    /// net.bridge.bridge-nf-call-iptables (1 unless a namespace set it to 0).
    var bridgeNFCallIPTables: Bool { xtables?.bridgeNF.callIPTables ?? true }

    /// Kernel: ip_sabotage_in(), registered at NF_IP_PRI_FIRST on PREROUTING: a frame that
    /// already crossed PREROUTING at the bridge goes straight to routing.
    func registerSabotageHook() {
        let st = netfilter
        guard !st.sabotageRegistered else { return }
        st.sabotageRegistered = true
        registerHook(NFHookOps(hook: .preRouting, priority: Int(Int32.min), name: "br_netfilter") { [unowned(unsafe) self] p, s in
            guard var nb = p.nfBridge, !nb.sabotageDone, !nb.inPrerouting, let dev = s.inDevice else { return .accept }
            nb.sabotageDone = true
            p.nfBridge = nb
            self.kernel.trace(self, dev, .netfilter, "bridged frame already crossed PREROUTING at \(dev.name): straight to routing")
            self.ipRouteInput(dev, p)
            return .stolen
        })
    }
}

extension BridgeDevice {
    /// Kernel: br_nf_pre_routing() + br_nf_pre_routing_finish(), at NF_BR_PRE_ROUTING. False
    /// when the frame was dropped or taken over.
    func brNFPreRouting(_ port: BridgePort, _ p: inout Packet) -> Bool {
        let ns = namespace
        if ns.nfHooks.isEmpty { return true }
        guard ns.bridgeNFCallIPTables, p.bytes.count >= EthernetHeader.length,
              EthernetView.etherType(p.bytes) == .ipv4 else { return true }
        p.network = EthernetHeader.length
        // Kernel: br_validate_ipv4().
        guard let (h, ok) = try? IPv4Header.parse(p.bytes, at: p.network), ok,
              p.network + Int(h.totalLength) <= p.bytes.count else {
            ns.kernel.trace(ns, port.device, .drop, "br_netfilter: bad ip header (\(DropReason.ipInvalidHeader.rawValue))")
            return false
        }
        let end = p.network + Int(h.totalLength)
        if end < p.bytes.count { p.bytes.removeSubrange(end...) }
        ns.registerSabotageHook()
        var nb = BridgeNFInfo()
        nb.physIn = port.device
        nb.inPrerouting = true
        nb.originalDestination = h.destination
        p.nfBridge = nb
        let wasOtherHost = p.pktType == .otherHost
        if wasOtherHost { p.pktType = .host }
        guard ns.netfilterHook(.preRouting, &p, inDevice: self, outDevice: nil, bridged: true) == .accept else { return false }
        // br_nf_pre_routing_finish()
        if wasOtherHost { p.pktType = .otherHost }
        p.nfBridge?.inPrerouting = false
        let dst = IPv4View.destination(p.bytes, at: p.network)
        guard dst != nb.originalDestination else { return true }
        // DNAT changed the destination: route it again (ip_route_input() on the bridge).
        if ns.isLocalAddress(dst) || dst.isLimitedBroadcast {
            EthernetHeader.setDestination(&p.bytes, mac)
            p.pktType = .host
            return true
        }
        guard let res = ns.fib.lookup(dst), res.type == .unicast, ns.forwardingEnabled(self) || res.device === self else {
            ns.kernel.trace(ns, self, .drop, "br_netfilter: no route to \(dst) after DNAT (\(DropReason.ipInNoRoutes.rawValue))")
            return false
        }
        if res.device === self {
            // Bridged DNAT: resolve the new next hop on the bridge and keep bridging.
            let nextHop = res.route.gateway ?? dst
            if let n = ns.neighbours.lookup(nextHop, self), let ll = n.lladdr, !n.state.isDisjoint(with: .connected) {
                EthernetHeader.setDestination(&p.bytes, ll)
                ns.kernel.trace(ns, self, .netfilter, "br_netfilter: DNAT to \(dst) behind \(name): bridged to \(ll)")
                return true
            }
            var q = p
            q.nfBridge?.bridgedDNAT = true
            q.nfBridge?.savedSource = EthernetView.source(p.bytes)
            ns.kernel.trace(ns, self, .netfilter, "br_netfilter: DNAT to \(dst) behind \(name): resolving \(nextHop)")
            ns.neighbours.output(q, nextHop: nextHop, dev: self)
            return false
        }
        EthernetHeader.setDestination(&p.bytes, mac)
        p.pktType = .host
        return true
    }

    /// Kernel: br_nf_pre_routing_finish_bridge_slow(), reached from br_dev_xmit() once the
    /// neighbour of a bridged-DNAT frame resolved: back to br_handle_frame_finish() on the
    /// port the frame came in on. True when `p` was such a frame (and is now handled).
    func brNFBridgedDNATResume(_ p: Packet) -> Bool {
        guard let nb = p.nfBridge, nb.bridgedDNAT, let inDev = nb.physIn, let port = port(for: inDev) else { return false }
        var q = p
        q.nfBridge?.bridgedDNAT = false
        EthernetHeader.setSource(&q.bytes, nb.savedSource)
        let dst = EthernetView.destination(q.bytes)
        if let e = fdb.find(dst), let to = e.port {
            forward(q, to: to, from: port)
        } else {
            flood(q, from: port, localOrigin: false)
        }
        return true
    }

    /// Kernel: br_nf_forward_ip() (IPv4 FORWARD, in=out=the bridge) then br_nf_post_routing()
    /// (IPv4 POSTROUTING, out=the bridge) for a bridged frame leaving by `port`. False when
    /// the frame was dropped or taken over.
    func brNFForward(_ p: inout Packet, to port: BridgePort, from ingress: BridgePort?) -> Bool {
        guard ingress != nil, p.nfBridge != nil else { return true }
        let ns = namespace
        guard EthernetView.etherType(p.bytes) == .ipv4 else { return true }
        p.nfBridge?.physOut = port.device
        let wasOtherHost = p.pktType == .otherHost
        if wasOtherHost { p.pktType = .host }
        guard ns.netfilterHook(.forward, &p, inDevice: self, outDevice: self, bridged: true) == .accept else { return false }
        if wasOtherHost { p.pktType = .otherHost }
        return ns.netfilterHook(.postRouting, &p, inDevice: nil, outDevice: self, bridged: true) == .accept
    }
}

extension EthernetHeader {
    static func setDestination(_ b: inout [UInt8], _ m: MACAddress) { m.write(into: &b, at: 0) }
    static func setSource(_ b: inout [UInt8], _ m: MACAddress) { m.write(into: &b, at: 6) }
}
