// NAT: net/netfilter/nf_nat_core.c, nf_nat_proto.c, nf_nat_masquerade.c. The first packet of
// a flow walks the nat table (DNAT at PREROUTING/OUTPUT, SNAT at POSTROUTING/INPUT); the
// binding a target asks for (or none: a "null binding") is stored in the conntrack entry as
// its new reply tuple, and every later packet of the flow, in both directions, is rewritten
// from it without looking at the rules again.
// Guarantees: addresses, ports, ICMP ids and every checksum are rewritten as the kernel
// does; a source port is kept unless another flow holds the resulting tuple, in which case
// the next free one in the same class is taken; ICMP errors about a NATed flow are
// translated inside and out.
// Leaves out: NAT helpers (FTP...), --random-fully, persistence across ranges.

import SimCore
import Wire

/// A NAT binding a target asks for (Kernel: struct nf_nat_range2).
public enum NATRequest: Sendable, Equatable {
    /// SNAT --to-source ADDR[-ADDR][:PORT[-PORT]]
    case snat(addresses: ClosedRange<UInt32>, ports: ClosedRange<UInt16>?, random: Bool, persistent: Bool)
    /// DNAT --to-destination ADDR[-ADDR][:PORT[-PORT]]
    case dnat(addresses: ClosedRange<UInt32>, ports: ClosedRange<UInt16>?, random: Bool, persistent: Bool)
    /// MASQUERADE [--to-ports PORT[-PORT]]: the out device's primary address.
    case masquerade(ports: ClosedRange<UInt16>?, random: Bool)
    /// REDIRECT [--to-ports PORT[-PORT]]: the in device's primary address (or 127.0.0.1 locally).
    case redirect(ports: ClosedRange<UInt16>?, random: Bool)
}

enum NATManip { case src, dst }

extension NetNamespace {
    /// Kernel: the nat table's hook registration (nf_nat_ipv4_ops), made when a nat chain
    /// first appears. `chain` runs the nat table's chain for a hook (nft_do_chain). It does not
    /// start connection tracking (a NAT target does): without it the chains see no packet.
    public func enableNAT(chain: @escaping (inout Packet, NFHookState) -> NFVerdict) {
        natChain = chain
        guard !natEnabled else { return }
        natEnabled = true
        for (hook, prio) in [(NFHook.preRouting, NFPriority.natDst), (.localOut, NFPriority.natDst),
                             (.postRouting, NFPriority.natSrc), (.localIn, NFPriority.natSrc)] {
            registerHook(NFHookOps(hook: hook, priority: prio, name: "nat") { [unowned(unsafe) self] p, s in
                self.natHook(&p, s)
            })
        }
    }

    /// Kernel: nf_nat_ipv4_fn() / nf_nat_inet_fn().
    func natHook(_ p: inout Packet, _ s: NFHookState) -> NFVerdict {
        guard let ct = p.ct, let info = p.ctInfo else { return .accept }
        let manip: NATManip = (s.hook == .preRouting || s.hook == .localOut) ? .dst : .src
        switch info {
        case .related, .relatedReply:
            return natICMPReplyTranslation(&p, ct: ct, info: info, hook: s.hook)
        case .new:
            let done = manip == .src ? ct.natInitialized.src : ct.natInitialized.dst
            if !done {
                if let chain = natChain {
                    let v = chain(&p, s)
                    if v != .accept { return v }
                }
                if !(manip == .src ? ct.natInitialized.src : ct.natInitialized.dst) {
                    // Kernel: nf_nat_alloc_null_binding(): no rule bound it, keep it as it is
                    // (but still claim a free tuple, so that flows do not collide).
                    natAllocNullBinding(ct, manip: manip, hook: s.hook)
                }
            }
        default:
            break
        }
        natPacket(&p, ct: ct, reply: info.isReply, manip: manip)
        // Kernel: nf_nat_ipv4_local_fn(): route again only when this direction's destination
        // is not the address the other direction answers from (it was translated).
        if manip == .dst && s.hook == .localOut {
            let here = info.isReply ? ct.reply : ct.original, there = info.isReply ? ct.original : ct.reply
            if here.dst != there.src { p.needsReroute = true }
        }
        return .accept
    }

    /// Kernel: nf_nat_setup_info(), called by the SNAT/DNAT/MASQUERADE/REDIRECT targets.
    public func natSetup(_ p: inout Packet, _ state: NFHookState, _ request: NATRequest) -> NFVerdict {
        guard let ct = p.ct, p.ctInfo == .new else { return .accept }
        let manip: NATManip
        var addrs: ClosedRange<UInt32>
        var ports: ClosedRange<UInt16>?
        switch request {
        case let .snat(a, pr, _, _):
            manip = .src; addrs = a; ports = pr
        case let .dnat(a, pr, _, _):
            manip = .dst; addrs = a; ports = pr
        case let .masquerade(pr, _):
            // Kernel: nf_nat_masquerade_ipv4(): the out device's address towards the next hop.
            guard let out = state.outDevice else { return .drop("MASQUERADE without an out device") }
            let nh = (try? routeOutput(to: ct.original.dst, oif: out))?.nextHop ?? ct.original.dst
            guard let a = selectSourceAddress(dev: out, dst: nh, scope: .universe) else {
                return .drop("MASQUERADE: \(out.name) has no address")
            }
            manip = .src; addrs = a.raw...a.raw; ports = pr
        case let .redirect(pr, _):
            // Kernel: nf_nat_redirect_ipv4(): the in device's primary address, 127.0.0.1 locally.
            let a: IPv4Address
            if state.hook == .localOut {
                a = IPv4Address(127, 0, 0, 1)
            } else {
                guard let dev = state.inDevice, let first = dev.primaryAddress?.local else { return .drop("REDIRECT: no address") }
                a = first
            }
            manip = .dst; addrs = a.raw...a.raw; ports = pr
        }
        var target = ct.original
        if manip == .src { target.src = IPv4Address(raw: addrs.lowerBound) } else { target.dst = IPv4Address(raw: addrs.lowerBound) }
        if let pr = ports, ct.original.proto == .tcp || ct.original.proto == .udp {
            if manip == .src { target.srcPort = pr.lowerBound } else { target.dstPort = pr.lowerBound }
        }
        guard let unique = natUniqueTuple(target, manip: manip, ports: ports, except: ct) else {
            return .drop("no free tuple for NAT")
        }
        natBind(ct, to: unique, manip: manip)
        kernel.trace(self, state.outDevice ?? state.inDevice, .netfilter, "\(manip == .src ? "SNAT" : "DNAT") \(ct.original.src):\(ct.original.srcPort) -> \(ct.original.dst):\(ct.original.dstPort) as \(unique.src):\(unique.srcPort) -> \(unique.dst):\(unique.dstPort)")
        return .accept
    }

    private func natAllocNullBinding(_ ct: ConntrackEntry, manip: NATManip, hook: NFHook) {
        let target = ct.tuples[1].inverted
        if let unique = natUniqueTuple(target, manip: manip, ports: nil, except: ct), unique != target {
            natBind(ct, to: unique, manip: manip)
        } else {
            if manip == .src { ct.natInitialized.src = true } else { ct.natInitialized.dst = true }
        }
    }

    private func natBind(_ ct: ConntrackEntry, to t: CTTuple, manip: NATManip) {
        let changed = t != ct.tuples[1].inverted
        ct.tuples[1] = t.inverted
        if manip == .src {
            ct.natInitialized.src = true
            if changed { ct.srcNAT = true }
        } else {
            ct.natInitialized.dst = true
            if changed { ct.dstNAT = true }
        }
    }

    /// Kernel: get_unique_tuple() / nf_nat_l4proto_unique_tuple(): keep the port if the
    /// resulting reply tuple is free; otherwise try the others of the range (or of the
    /// port's class: below 512, below 1024, else 1024-65535).
    private func natUniqueTuple(_ t: CTTuple, manip: NATManip, ports: ClosedRange<UInt16>?, except ct: ConntrackEntry) -> CTTuple? {
        let now = machine.jiffiesNow
        func free(_ c: CTTuple) -> Bool {
            guard let f = conntrack.find(c.inverted, now: now) else { return true }
            return f.entry === ct
        }
        if ports == nil || (manip == .src ? ports!.contains(t.srcPort) : ports!.contains(t.dstPort)), free(t) { return t }
        guard t.proto == .tcp || t.proto == .udp || t.proto == .icmp else { return free(t) ? t : nil }
        let current = manip == .src ? t.srcPort : t.dstPort
        let range: ClosedRange<UInt16>
        if let p = ports {
            range = p
        } else if t.proto == .icmp {
            range = 0...65535
        } else if current < 512 {
            range = 1...511
        } else if current < 1024 {
            range = 600...1023
        } else {
            range = 1024...65535
        }
        let size = UInt32(range.upperBound - range.lowerBound) + 1
        // Start from a seeded offset, as the kernel starts from a hashed one.
        let off = UInt32(machine.random(below: UInt64(size)))
        for i in 0..<min(size, 128 * 1024) {
            var c = t
            let port = range.lowerBound &+ UInt16(truncatingIfNeeded: (off + i) % size)
            if manip == .src { c.srcPort = port } else { c.dstPort = port }
            if free(c) { return c }
        }
        return nil
    }

    /// Kernel: nf_nat_packet() -> nf_nat_manip_pkt(): when the flow has this hook's kind of
    /// NAT for the packet's direction (SNAT shows as a destination change on replies), the
    /// packet takes the inverse of the other direction's tuple.
    func natPacket(_ p: inout Packet, ct: ConntrackEntry, reply: Bool, manip: NATManip) {
        guard natStatusBit(ct, manip: manip, reply: reply) else { return }
        NATRewrite.apply(&p.bytes, ip: p.network, to: ct.tuples[reply ? 0 : 1].inverted, source: manip == .src)
    }

    /// Kernel: the IPS_SRC_NAT/IPS_DST_NAT bit for a manip, inverted for replies.
    private func natStatusBit(_ ct: ConntrackEntry, manip: NATManip, reply: Bool) -> Bool {
        (manip == .src) != reply ? ct.srcNAT : ct.dstNAT
    }

    /// Kernel: nf_nat_icmp_reply_translation(): an ICMP error about a NATed flow gets its
    /// quoted packet changed back (the opposite manip, with the other direction's tuple) and
    /// its outer header changed like the flow's packets in the error's own direction.
    private func natICMPReplyTranslation(_ p: inout Packet, ct: ConntrackEntry, info: CTInfo, hook: NFHook) -> NFVerdict {
        let manip: NATManip = (hook == .preRouting || hook == .localOut) ? .dst : .src
        let reply = info == .relatedReply
        guard natStatusBit(ct, manip: manip, reply: reply) else { return .accept }
        let o = p.network
        let inner = o + IPv4View.headerLength(p.bytes, at: o) + 8
        guard p.bytes.count >= inner + 20 else { return .accept }
        let other = ct.tuples[reply ? 0 : 1]
        NATRewrite.apply(&p.bytes, ip: inner, to: other, source: manip == .dst, quoted: true)
        NATRewrite.fixICMPChecksum(&p.bytes, ip: o)
        let target = other.inverted
        if manip == .src {
            IPv4View.setSource(&p.bytes, at: o, target.src)
        } else {
            IPv4View.setDestination(&p.bytes, at: o, target.dst)
        }
        return .accept
    }
}

/// Packet rewriting with checksum updates (Kernel: nf_nat_ipv4_manip_pkt(),
/// l4proto_manip_pkt(), inet_proto_csum_replace4()).
enum NATRewrite {
    /// Rewrites the source (or destination) address and port of the IPv4 packet at `ip` to
    /// those of `t`. A quoted packet (inside an ICMP error) may be truncated; its transport
    /// checksum is left as is, as the kernel does.
    static func apply(_ b: inout [UInt8], ip o: Int, to t: CTTuple, source: Bool, quoted: Bool = false) {
        let ihl = IPv4View.headerLength(b, at: o)
        let l4 = o + ihl
        let proto = IPv4View.proto(b, at: o)
        let oldAddr = source ? IPv4View.source(b, at: o) : IPv4View.destination(b, at: o)
        let newAddr = source ? t.src : t.dst
        let newPort = source ? t.srcPort : t.dstPort
        // Transport checksum: pseudo-header address and the port.
        switch proto {
        case .tcp, .udp:
            let portOff = l4 + (source ? 0 : 2)
            let csumOff = l4 + (proto == .tcp ? 16 : 6)
            guard b.count >= portOff + 2 else { break }
            let oldPort = b.u16(at: portOff)
            if !quoted && b.count >= csumOff + 2 {
                var c = b.u16(at: csumOff)
                // CHECKSUM_PARTIAL (sent through a device with checksum offload): the field is
                // the folded pseudo-header sum; inet_proto_csum_replace4() moves it with the
                // address and a port change leaves it alone (seen on Linux 6.18 behind
                // MASQUERADE: 0x173d for 10.0.1.2 > 10.0.2.2 became 0x183c for 10.0.2.1).
                let l4len = IPv4View.totalLength(b, at: o) - ihl
                let oldSrc = IPv4View.source(b, at: o), oldDst = IPv4View.destination(b, at: o)
                if c != 0 && c == NATRewrite.partialSum(oldSrc, oldDst, proto, l4len) {
                    c = NATRewrite.partialSum(source ? newAddr : oldSrc, source ? oldDst : newAddr, proto, l4len)
                    b.setU16(c, at: csumOff)
                } else if proto == .tcp || c != 0 {
                    c = InternetChecksum.update(c, old: oldAddr.raw, new: newAddr.raw)
                    c = InternetChecksum.update(c, old: oldPort, new: newPort)
                    if proto == .udp && c == 0 { c = 0xffff }
                    b.setU16(c, at: csumOff)
                }
            }
            b.setU16(newPort, at: portOff)
        case .icmp:
            // Echo identifiers are the "port" of ICMP; the ICMP checksum has no pseudo header.
            if source && b.count >= l4 + 8, [0, 8].contains(b[l4]) {
                let oldID = b.u16(at: l4 + 4)
                if !quoted {
                    b.setU16(InternetChecksum.update(b.u16(at: l4 + 2), old: oldID, new: t.srcPort), at: l4 + 2)
                }
                b.setU16(t.srcPort, at: l4 + 4)
            } else if !source && b.count >= l4 + 8, [0, 8].contains(b[l4]), t.srcPort != b.u16(at: l4 + 4) {
                let oldID = b.u16(at: l4 + 4)
                if !quoted {
                    b.setU16(InternetChecksum.update(b.u16(at: l4 + 2), old: oldID, new: t.srcPort), at: l4 + 2)
                }
                b.setU16(t.srcPort, at: l4 + 4)
            }
        default:
            break
        }
        if source { IPv4View.setSource(&b, at: o, newAddr) } else { IPv4View.setDestination(&b, at: o, newAddr) }
    }

    /// The folded pseudo-header sum a CHECKSUM_PARTIAL segment or datagram carries.
    static func partialSum(_ src: IPv4Address, _ dst: IPv4Address, _ proto: IPProtocol, _ length: Int) -> UInt16 {
        var s = IPv4Header.pseudoHeaderSum(source: src, destination: dst, proto: proto, length: length)
        while s >> 16 != 0 { s = (s & 0xffff) &+ (s >> 16) }
        return UInt16(s)
    }

    /// Recomputes the ICMP checksum of the message at `ip` (after its quoted packet changed).
    static func fixICMPChecksum(_ b: inout [UInt8], ip o: Int) {
        let ihl = IPv4View.headerLength(b, at: o)
        let end = min(b.count, o + IPv4View.totalLength(b, at: o))
        let l4 = o + ihl
        guard end >= l4 + 4 else { return }
        b.setU16(0, at: l4 + 2)
        b.setU16(InternetChecksum.checksum(b, l4..<end), at: l4 + 2)
    }
}
