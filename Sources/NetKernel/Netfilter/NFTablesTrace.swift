// NFTablesTrace: nf_tables' packet tracing (net/netfilter/nf_tables_trace.c and the trace
// calls of nft_do_chain() in nf_tables_core.c). A packet marked by TRACE (iptables-nft's
// `meta nftrace set 1`) produces one NFT_MSG_TRACE message per step of every base chain it
// walks afterwards, for the NFNLGRP_NFTRACE subscribers of its namespace (xtables-monitor
// --trace); with the nf_tables backend nothing is written to the kernel log.
// Guarantees, as Linux 6.18 sends them:
// - a rule that matched sends a "rule" message with its handle and verdict after its target
//   ran (CONTINUE for a rule without verdict, ACCEPT/DROP for REJECT and the NAT targets,
//   JUMP/GOTO with the chain, RETURN); a rule that did not match sends nothing;
// - the end of a chain (user or built-in) sends a "rule" message without a rule handle
//   (__nft_trace_verdict() masks NFT_CONTINUE with NF_VERDICT_MASK and so never picks the
//   "return" type), and a built-in chain's policy a "policy" message;
// - the first message of each base chain walk carries the packet: in/out devices (in: the
//   receiving device, also at POSTROUTING of a routed packet, but none at POSTROUTING of a
//   bridged one), up to 40 bytes of the IP header, 20 of the transport header, the
//   link-layer header of a received packet (typeless without an in device), the mark;
// - a trace id that stays the same for one packet (sk_buff) from hook to hook in a namespace
//   and changes when the packet is received again, also by the bridge it was bridged on
//   when it is passed up to the host (Kernel: siphash of the skb address, its
//   flow hash and skb_iif with a random key; here a seeded stream per namespace, the packet
//   recognised by fields no netfilter hook rewrites: IP id, length, protocol, TCP sequence /
//   ICMP sequence / UDP length).
// Leaves out: the conntrack attributes (CT_STATE, CT_ID...: xtables-monitor 1.8.9 prints
// none of them), VLAN tags, the inet/bridge families.

import SimCore
import Wire

/// The verdict a trace message carries (Kernel: nft_verdict codes).
public enum NFTVerdict: Sendable, Equatable {
    case accept, drop, stolen
    /// NFT_CONTINUE.
    case `continue`
    /// NFT_RETURN.
    case `return`
    case jump(String)
    case goto(String)
}

/// Kernel: the packet part of a trace message (nf_trace_fill_dev_info(),
/// nf_trace_fill_pkt_info()).
public struct NFTTracePacket: Sendable {
    /// NFTA_TRACE_IIF / IIFTYPE (ARPHRD_*).
    public let inIfindex: Int?
    public let inType: UInt16?
    /// NFTA_TRACE_OIF.
    public let outIfindex: Int?
    /// NFTA_TRACE_LL_HEADER: the received link-layer header (nil: none was set).
    public let link: [UInt8]?
    /// NFTA_TRACE_NETWORK_HEADER: up to 40 bytes from the IP header.
    public let network: [UInt8]
    /// NFTA_TRACE_TRANSPORT_HEADER: up to 20 bytes from the transport header.
    public let transport: [UInt8]
}

/// One NFT_MSG_TRACE message.
public struct NFTTraceEvent: Sendable {
    /// Kernel: enum nft_trace_types.
    public enum Kind: Sendable { case rule, `return`, policy }
    public let kind: Kind
    /// NFTA_TRACE_ID.
    public let id: UInt32
    public let table: XTTableKind
    public let chain: String
    /// NFTA_TRACE_RULE_HANDLE (absent at the end of a chain and in policy messages).
    public let ruleHandle: UInt64?
    /// NFTA_TRACE_VERDICT of rule messages.
    public let verdict: NFTVerdict?
    /// NFTA_TRACE_POLICY of policy messages.
    public let policy: XTPolicy?
    /// NFTA_TRACE_MARK (0: absent).
    public let mark: UInt32
    /// Only the first message of a base chain walk has it.
    public let packet: NFTTracePacket?
}

/// ARPHRD_* of a device, as NFTA_TRACE_IIFTYPE carries it.
func arphrd(_ d: NetDevice) -> UInt16 {
    switch d.linkTypeName {
    case "loopback": return 772
    case "none": return 0xfffe
    default: return 1
    }
}

/// The packets traced lately in a namespace: which device each was received on and its id.
struct NFTraceContexts {
    private var ring: [(key: UInt64, iif: Int, id: UInt32)] = []
    private var next = 0
    private var rng: SplitMix64?
    static let size = 16

    /// The id of the packet `key` received on `iif` (0: locally generated; nil: not known at
    /// this hook, the latest packet with that key). Returns the receiving ifindex as well.
    mutating func lookup(key: UInt64, iif: Int?, seed: () -> SplitMix64) -> (iif: Int, id: UInt32) {
        var i = next
        for _ in 0..<ring.count {
            i = (i + ring.count - 1) % ring.count
            let e = ring[i]
            if e.key == key && (iif == nil || e.iif == iif!) { return (e.iif, e.id) }
        }
        if rng == nil { rng = seed() }
        let id = UInt32(truncatingIfNeeded: rng!.next())
        let entry = (key: key, iif: iif ?? 0, id: id)
        if ring.count < NFTraceContexts.size {
            ring.append(entry)
            next = ring.count % NFTraceContexts.size
        } else {
            ring[next] = entry
            next = (next + 1) % NFTraceContexts.size
        }
        return (entry.iif, id)
    }
}

/// Kernel: struct nft_traceinfo, one per base chain walk.
struct NFTraceInfo {
    var packetDumped = false
    var id: UInt32 = 0
    var iif: Int = 0
    var known = false
}

extension NetNamespace {
    /// Kernel: nft_trace_notify(). `rule` nil: the end of `chain`; `policy`: the policy message.
    func nftTraceNotify(_ info: inout NFTraceInfo, _ p: Packet, _ s: NFHookState, table: XTTableKind, chain: String,
                        rule: XTRule?, verdict: NFTVerdict?, policy: XTPolicy? = nil) {
        guard nfnetlinkHasListeners(.nftrace), let st = xtables else { return }
        let o = p.network
        guard p.bytes.count >= o + 20 else { return }
        let b = p.bytes
        if !info.known {
            // Kernel: nft_trace_init()'s skbid, the same for the packet at every hook.
            let ihl = Int(b[o] & 0x0f) * 4, t = o + ihl, proto = b[o + 9]
            var extra: UInt64 = 0
            if b.count >= t + 8 {
                switch proto {
                case 6: extra = UInt64(b.u32(at: t + 4) & 0xff_ffff)
                case 1: extra = UInt64(b[t]) << 16 | UInt64(b.u16(at: t + 6))
                case 17: extra = UInt64(b.u16(at: t + 4))
                default: break
                }
            }
            let key = UInt64(b.u16(at: o + 4)) << 48 | UInt64(b.u16(at: o + 2)) << 32 | UInt64(proto) << 24 | extra
            // skb_iif: the device the frame was received on (a bridged frame's port; once
            // passed up to the host, the bridge); unknown at POSTROUTING, 0 for a local packet.
            let rx = s.bridged ? (p.nfBridge?.physIn ?? s.inDevice) : s.inDevice
            let iif: Int? = rx.map(\.ifindex) ?? (s.hook == .postRouting ? nil : 0)
            let machineName = machine.name, ser = serial, seed = kernel.seed
            let found = st.traceContexts.lookup(key: key, iif: iif) {
                SplitMix64(seed: seed, stream: "nftrace/\(machineName)/\(ser)")
            }
            info.id = found.id
            info.iif = found.iif
            info.known = true
        }
        var packet: NFTTracePacket?
        if !info.packetDumped {
            info.packetDumped = true
            // ip_output() hands POSTROUTING the receiving device of a forwarded packet;
            // br_netfilter hands it none.
            let inDev = s.inDevice ?? (info.iif != 0 && !s.bridged ? device(index: info.iif) : nil)
            let ihl = Int(b[o] & 0x0f) * 4
            let end = min(b.count, o + Int(b.u16(at: o + 2)))
            let t = min(o + ihl, end)
            let network = Array(b[o..<min(o + ihl, o + 40, end)])
            let transport = Array(b[t..<min(t + 20, end)])
            // A received packet keeps its link-layer header (the mac header was set).
            var link: [UInt8]?
            if info.iif != 0 || inDev != nil, o > 0, inDev.map(arphrd) != 0xfffe { link = Array(b[max(0, o - 14)..<o]) }
            packet = NFTTracePacket(inIfindex: inDev?.ifindex, inType: inDev.map(arphrd), outIfindex: s.outDevice?.ifindex,
                                    link: link, network: network, transport: transport)
        }
        let kind: NFTTraceEvent.Kind = policy != nil ? .policy : .rule
        let e = NFTTraceEvent(kind: kind, id: info.id, table: table, chain: chain, ruleHandle: rule?.handle,
                              verdict: verdict, policy: policy, mark: p.mark, packet: packet)
        nfnetlinkSend(.nftrace, .trace(e))
    }
}
