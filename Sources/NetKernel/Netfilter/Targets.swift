// Targets: what a matching rule does (the standard verdicts and jumps of ip_tables.c, and
// ipt_REJECT.c + nf_reject_ipv4.c, xt_LOG.c, xt_TRACE.c, xt_nat.c, xt_MASQUERADE.c,
// xt_REDIRECT.c), with the checks that decide where each target may be used.
// Guarantees: REJECT sends the ICMP error through icmp_send() (so its source address and
// rate limit are the stack's) or builds the TCP reset as nf_send_reset() does (TTL from
// the route, ID 0, DF, no options, seq/ack from the offending segment, RST after a bridged
// packet sent straight out of its in-port); the NAT targets hand their range to the NAT
// core (natSetup) and end the walk with its verdict; LOG writes the kernel log; TRACE marks
// the packet for nf_tables tracing (NFTablesTrace.swift).
// Leaves out: other targets (MARK, CT, NFLOG, ...), --random-fully, NAT port offsets.

import SimCore
import Wire

/// Kernel: enum ipt_reject_with, in libipt_REJECT's table order.
public enum XTRejectWith: Int, CaseIterable, Sendable {
    case netUnreachable = 0, hostUnreachable, protoUnreachable, portUnreachable
    case echoReply, netProhibited, hostProhibited, tcpReset, adminProhibited

    public var name: String {
        switch self {
        case .netUnreachable: return "icmp-net-unreachable"
        case .hostUnreachable: return "icmp-host-unreachable"
        case .protoUnreachable: return "icmp-proto-unreachable"
        case .portUnreachable: return "icmp-port-unreachable"
        case .echoReply: return "icmp-echo-reply"
        case .netProhibited: return "icmp-net-prohibited"
        case .hostProhibited: return "icmp-host-prohibited"
        case .tcpReset: return "tcp-reset"
        case .adminProhibited: return "icmp-admin-prohibited"
        }
    }

    public var alias: String {
        switch self {
        case .netUnreachable: return "net-unreach"
        case .hostUnreachable: return "host-unreach"
        case .protoUnreachable: return "proto-unreach"
        case .portUnreachable: return "port-unreach"
        case .echoReply: return "echoreply"
        case .netProhibited: return "net-prohib"
        case .hostProhibited: return "host-prohib"
        case .tcpReset: return "tcp-rst"
        case .adminProhibited: return "admin-prohib"
        }
    }

    /// ICMP destination-unreachable code (Kernel: reject_tg()).
    var icmpCode: UInt8? {
        switch self {
        case .netUnreachable: return 0
        case .hostUnreachable: return 1
        case .protoUnreachable: return 2
        case .portUnreachable: return 3
        case .netProhibited: return 9
        case .hostProhibited: return 10
        case .adminProhibited: return 13
        case .echoReply, .tcpReset: return nil
        }
    }
}

/// Kernel: struct xt_log_info.
public struct XTLogOptions: Sendable, Equatable {
    public var level: UInt8 = 4
    public var prefix = ""
    /// XT_LOG_TCPSEQ 0x01, TCPOPT 0x02, IPOPT 0x04, UID 0x08, MACDECODE 0x20.
    public var flags: UInt8 = 0
    public init() {}
}

/// Kernel: struct nf_nat_range2 as SNAT/DNAT/MASQUERADE/REDIRECT fill it.
public struct XTNATRange: Sendable, Equatable {
    public var addresses: ClosedRange<UInt32>?
    public var ports: ClosedRange<UInt16>?
    public var random = false
    public var randomFully = false
    public var persistent = false
    public init(addresses: ClosedRange<UInt32>? = nil, ports: ClosedRange<UInt16>? = nil) {
        self.addresses = addresses
        self.ports = ports
    }
}

/// A rule's target.
public enum XTTarget: Sendable, Equatable {
    /// No -j: the rule only counts.
    case none
    case accept, drop, returnTarget
    /// -j CHAIN (a user chain).
    case jump(String)
    /// -g CHAIN.
    case goto(String)
    case reject(XTRejectWith)
    case log(XTLogOptions)
    case trace
    case snat(XTNATRange)
    case dnat(XTNATRange)
    case masquerade(XTNATRange)
    case redirect(XTNATRange)

    /// The user chain this target enters.
    public var chainTarget: String? {
        switch self {
        case .jump(let c), .goto(let c): return c
        default: return nil
        }
    }

    mutating func retarget(to new: String) {
        switch self {
        case .jump: self = .jump(new)
        case .goto: self = .goto(new)
        default: break
        }
    }

    /// The name after -j (empty for none; the chain for jumps).
    public var name: String {
        switch self {
        case .none: return ""
        case .accept: return "ACCEPT"
        case .drop: return "DROP"
        case .returnTarget: return "RETURN"
        case .jump(let c), .goto(let c): return c
        case .reject: return "REJECT"
        case .log: return "LOG"
        case .trace: return "TRACE"
        case .snat: return "SNAT"
        case .dnat: return "DNAT"
        case .masquerade: return "MASQUERADE"
        case .redirect: return "REDIRECT"
        }
    }

    /// Kernel: x_tables' checkentry for the target: its table and hooks (hook nil: a chain no
    /// built-in chain reaches yet, only the table is checked), and REJECT's tcp-reset check.
    func allowed(table: XTTableKind, hook: NFHook?, rule: XTRule) -> Bool {
        func hooks(_ t: XTTableKind?, _ hs: [NFHook]) -> Bool {
            if let t, t != table { return false }
            guard let h = hook else { return true }
            return hs.contains(h)
        }
        // Kernel: xt_mac registers for PRE_ROUTING, LOCAL_IN and FORWARD only.
        if rule.matches.contains(where: { if case .mac = $0 { return true } else { return false } }),
           !hooks(nil, [.preRouting, .localIn, .forward]) {
            return false
        }
        switch self {
        case .reject(let w):
            // Kernel: reject_tg_check(): tcp-reset only for -p tcp (not inverted).
            if w == .tcpReset && (rule.ip.proto != 6 || rule.ip.invertProto) { return false }
            if w == .echoReply { return false }
            return hooks(.filter, [.localIn, .forward, .localOut])
        case .dnat, .redirect: return hooks(.nat, [.preRouting, .localOut])
        case .snat: return hooks(.nat, [.postRouting, .localIn])
        case .masquerade: return hooks(.nat, [.postRouting])
        default: return true
        }
    }
}

extension NetNamespace {
    /// Runs a target that is not a standard verdict or jump. nil: continue with the next
    /// rule (XT_CONTINUE); otherwise the verdict that ends the walk.
    func runTarget(_ t: XTTarget, _ p: inout Packet, _ s: NFHookState, table: XTTableKind, where desc: @autoclosure () -> String) -> NFVerdict? {
        switch t {
        case .reject(let w):
            rejectPacket(p, s, with: w)
            return .drop("REJECT \(w.name) by \(desc()) (\(DropReason.netfilterDrop.rawValue))")
        case .log(let o):
            nfLogPacket(p, s, level: o.level, prefix: o.prefix, flags: o.flags)
            return nil
        case .trace:
            p.nfTrace = true
            return nil
        case .snat(let r):
            guard let a = r.addresses else { return .accept }
            return natSetup(&p, s, .snat(addresses: a, ports: r.ports, random: r.random, persistent: r.persistent))
        case .dnat(let r):
            guard let a = r.addresses else {
                // Only ports given: the destination address stays.
                let d = IPv4View.destination(p.bytes, at: p.network).raw
                return natSetup(&p, s, .dnat(addresses: d...d, ports: r.ports, random: r.random, persistent: r.persistent))
            }
            return natSetup(&p, s, .dnat(addresses: a, ports: r.ports, random: r.random, persistent: r.persistent))
        case .masquerade(let r):
            return natSetup(&p, s, .masquerade(ports: r.ports, random: r.random))
        case .redirect(let r):
            return natSetup(&p, s, .redirect(ports: r.ports, random: r.random))
        case .none, .accept, .drop, .returnTarget, .jump, .goto:
            return nil
        }
    }

    /// Kernel: reject_tg() in ipt_REJECT.c.
    func rejectPacket(_ p: Packet, _ s: NFHookState, with w: XTRejectWith) {
        kernel.trace(self, s.inDevice ?? s.outDevice, .netfilter, "REJECT --reject-with \(w.name)")
        if let code = w.icmpCode {
            // Kernel: nf_send_unreach() -> icmp_send().
            icmpSendError(p, type: .destinationUnreachable, code: code, inDevice: s.inDevice)
            return
        }
        if w == .tcpReset { sendReset(p, s) }
    }

    /// Kernel: nf_send_reset() in net/ipv4/netfilter/nf_reject_ipv4.c.
    func sendReset(_ p: Packet, _ s: NFHookState) {
        guard let v = XTPacketView(p), v.proto == 6, v.fragmentOffset == 0, v.transportLength >= 20 else { return }
        let b = p.bytes, t = v.transport
        let oflags = b[t + 13]
        if oflags & 0x04 != 0 { return }  // no RST for a RST
        let doff = Int(b[t + 12] >> 4) * 4
        // The route back (nf_reject_fill_skb_dst) must exist and not be broadcast/multicast.
        guard let route = try? routeOutput(to: v.source) else { return }
        if v.destination.isLimitedBroadcast || v.destination.isMulticast || route.type == .broadcast { return }
        if inetAddrType(v.destination) == .named("BROADCAST")! { return }
        var tcp = [UInt8](repeating: 0, count: 20)
        tcp[0] = b[t + 2]; tcp[1] = b[t + 3]      // source = their destination
        tcp[2] = b[t]; tcp[3] = b[t + 1]          // destination = their source
        if oflags & 0x10 != 0 {
            tcp[4] = b[t + 8]; tcp[5] = b[t + 9]; tcp[6] = b[t + 10]; tcp[7] = b[t + 11]   // seq = their ack
            tcp[13] = 0x04
        } else {
            let seq = b.u32(at: t + 4)
            let payload = UInt32(max(0, v.transportLength - doff))
            let ack = seq &+ UInt32(oflags & 0x02 != 0 ? 1 : 0) &+ UInt32(oflags & 0x01 != 0 ? 1 : 0) &+ payload
            tcp.setU32(ack, at: 8)
            tcp[13] = 0x14
        }
        tcp[12] = 5 << 4
        // TCP checksum over the pseudo header.
        var pseudo: [UInt8] = v.destination.bytes + v.source.bytes + [0, 6, 0, 20]
        pseudo += tcp
        tcp.setU16(InternetChecksum.checksum(pseudo, 0..<pseudo.count), at: 16)
        var h = IPv4Header(totalLength: 40, identification: 0, dontFragment: true, ttl: ipv4.defaultTTL,
                           proto: .tcp, source: v.destination, destination: v.source, tos: 0)
        if let nb = p.nfBridge, let port = nb.physIn {
            // Kernel: a bridged packet's RST goes straight out of the port it came in on,
            // with the original addresses swapped in the Ethernet header.
            var bytes = [UInt8](repeating: 0, count: EthernetHeader.length + 40)
            h.emit(into: &bytes, at: EthernetHeader.length)
            bytes.write(tcp, at: EthernetHeader.length + 20)
            let eth = EthernetHeader(destination: EthernetView.source(b), source: EthernetView.destination(b), etherType: .ipv4)
            eth.emit(into: &bytes, at: 0)
            kernel.trace(self, port, .netfilter, "REJECT: tcp reset to \(v.source) out of bridge port \(port.name)")
            devQueueXmit(port, Packet(bytes: bytes))
            return
        }
        kernel.trace(self, route.device, .netfilter, "REJECT: tcp reset to \(v.source)")
        ipSendLocal(h, payload: tcp, route: route)
    }
}
