// IPFragment: IPv4 fragmentation (net/ipv4/ip_output.c, ip_do_fragment()'s slow path) and
// reassembly (net/ipv4/ip_fragment.c, ip_defrag()), for local delivery and for conntrack's
// defragmentation (nf_defrag_ipv4) at PREROUTING and OUTPUT.
// Guarantees: a fragment carries the original header (options without the copied bit
// turned into NOPs, as ip_options_fragment() does), a payload that is a multiple of 8 bytes
// except in the last, the same id, MF on all but the last; fragments leave in order.
// Reassembly queues are keyed by source, destination, id, protocol and user; a queue
// completes when every byte up to the end of the last fragment is there; an overlap (not an
// exact duplicate) drops the queue; after net.ipv4.ipfrag_time (30 s) a queue that holds its
// first fragment answers with ICMP "fragment reassembly time exceeded" (a conntrack queue
// only for a local packet) and is dropped. A reassembled packet keeps its largest fragment
// size (frag_max_size): forwarded on, it is cut again to that size.
// Leaves out: ipfrag_high_thresh memory limits, ipfrag_max_dist, ECN combination.

import SimCore
import Wire

/// Kernel: enum ip_defrag_users (the two users modelled).
enum IPDefragUser: UInt8 {
    case localDeliver = 0
    case conntrackIn = 1
}

/// Kernel: struct ipq, one datagram being reassembled.
final class IPFragQueue {
    /// Received pieces sorted by offset: bytes [offset, offset + data.count) of the payload.
    var pieces: [(offset: Int, data: [UInt8])] = []
    /// The fragment at offset 0 (its header and link header start the datagram).
    var first: Packet?
    var firstDevice: NetDevice?
    /// The payload length, known for sure once the last fragment (no MF) arrived.
    var length = 0
    var lastIn = false
    var received = 0
    /// The largest fragment (IP total length), and the largest with DF set.
    var maxSize = 0
    var maxDFSize = 0
    var timer: EventID?
}

/// The reassembly queues of a namespace (Kernel: net->ipv4.fqdir).
final class IPFragQueues {
    struct Key: Hashable {
        let source: IPv4Address
        let destination: IPv4Address
        let id: UInt16
        let proto: UInt8
        let user: UInt8
    }
    var queues: [Key: IPFragQueue] = [:]
    /// net.ipv4.ipfrag_time's default.
    static let timeout = SimTime.seconds(30)
}

extension NetNamespace {
    /// Kernel: ip_do_fragment() (slow path): the fragments of `p` for a path MTU of `mtu`.
    func ipFragment(_ p: Packet, mtu: Int) -> [Packet] {
        let o = p.network, b = p.bytes
        let ihl = IPv4View.headerLength(b, at: o)
        let total = IPv4View.totalLength(b, at: o)
        let flags = b.u16(at: o + 6)
        let baseOffset = Int(flags & 0x1fff) * 8
        let originalMF = flags & IPv4Header.flagMF != 0
        let room = (mtu - ihl) & ~7
        guard room > 0 else { return [] }
        var header = Array(b[o..<(o + ihl)])
        var out: [Packet] = []
        var pos = 0
        let payload = total - ihl
        while pos < payload {
            let len = min(room, payload - pos)
            let last = pos + len >= payload
            var bytes = Array(b[0..<o])
            bytes.reserveCapacity(o + ihl + len)
            bytes += header
            bytes += b[(o + ihl + pos)..<(o + ihl + pos + len)]
            var fo = UInt16((baseOffset + pos) / 8) | (flags & IPv4Header.flagDF)
            if !last || originalMF { fo |= IPv4Header.flagMF }
            bytes.setU16(UInt16(ihl + len), at: o + 2)
            bytes.setU16(fo, at: o + 6)
            bytes.setU16(0, at: o + 10)
            bytes.setU16(InternetChecksum.checksum(bytes, o..<(o + ihl)), at: o + 10)
            var f = Packet(bytes: bytes, network: o)
            f.mark = p.mark
            f.hops = p.hops
            out.append(f)
            if pos == 0 && ihl > IPv4Header.minimumLength {
                // Kernel: ip_options_fragment(): later fragments keep only copied options.
                var i = IPv4Header.minimumLength
                while i < ihl {
                    let t = header[i]
                    if t == 0 { break }
                    if t == 1 { i += 1; continue }
                    let l = i + 1 < ihl ? max(2, Int(header[i + 1])) : 1
                    if t & 0x80 == 0 { for k in i..<min(ihl, i + l) { header[k] = 1 } }
                    i += l
                }
            }
            pos += len
        }
        kernel.trace(self, nil, .route, "fragmented \(total) bytes into \(out.count) for mtu \(mtu)")
        return out
    }

    /// Kernel: ip_defrag(): queues fragment `p`; returns the whole datagram once complete
    /// (with frag_max_size set), nil while it waits or when the fragment was dropped.
    func ipDefrag(_ p: Packet, dev: NetDevice?, user: IPDefragUser) -> Packet? {
        let o = p.network, b = p.bytes
        let ihl = IPv4View.headerLength(b, at: o)
        let total = IPv4View.totalLength(b, at: o)
        let flags = b.u16(at: o + 6)
        let offset = Int(flags & 0x1fff) * 8
        let more = flags & IPv4Header.flagMF != 0
        var end = offset + total - ihl
        let key = IPFragQueues.Key(source: IPv4View.source(b, at: o), destination: IPv4View.destination(b, at: o),
                                   id: b.u16(at: o + 4), proto: b[o + 9], user: user.rawValue)
        let st = inetState.frags
        let q: IPFragQueue
        if let existing = st.queues[key] {
            q = existing
        } else {
            q = IPFragQueue()
            st.queues[key] = q
            // Kernel: inet_frag_find() arms the queue's timer (net.ipv4.ipfrag_time).
            let expires = machine.jiffiesNow + machine.toJiffies(IPFragQueues.timeout)
            q.timer = machine.addTimer(expires: expires) { [weak self, weak q] in
                guard let self, let q else { return }
                self.ipFragExpire(key, q, user: user)
            }
        }
        func discard(_ why: String) -> Packet? {
            kernel.trace(self, dev, .drop, "fragment queue dropped: \(why) (\(DropReason.dupFrag.rawValue))")
            ipFragKill(key, q)
            return nil
        }
        if !more {
            // The last fragment: its end is the datagram's length.
            if end < q.length || (q.lastIn && end != q.length) { return discard("inconsistent last fragment") }
            q.lastIn = true
            q.length = end
        } else {
            end &= ~7
            if end > q.length {
                if q.lastIn { return discard("fragment beyond the end") }
                q.length = end
            }
        }
        if end == offset { return discard("empty fragment") }
        let data = Array(b[(o + ihl)..<(o + ihl + end - offset)])
        var at = q.pieces.count
        for (i, piece) in q.pieces.enumerated() {
            let pe = piece.offset + piece.data.count
            if piece.offset == offset && pe == end {
                kernel.trace(self, dev, .drop, "duplicate fragment (\(DropReason.dupFrag.rawValue))")
                return nil
            }
            if offset < pe && piece.offset < end { return discard("overlapping fragments") }
            if piece.offset > offset { at = i; break }
        }
        q.pieces.insert((offset, data), at: at)
        q.received += data.count
        q.maxSize = max(q.maxSize, total)
        if flags & IPv4Header.flagDF != 0 { q.maxDFSize = max(q.maxDFSize, total) }
        if offset == 0 {
            q.first = p
            q.firstDevice = dev
        }
        guard q.lastIn, q.first != nil, q.received == q.length else { return nil }
        return ipFragReassemble(key, q)
    }

    /// Kernel: ip_frag_reasm(): the first fragment's link and IP headers, then every payload.
    private func ipFragReassemble(_ key: IPFragQueues.Key, _ q: IPFragQueue) -> Packet? {
        guard let head = q.first else { return nil }
        ipFragKill(key, q)
        let o = head.network
        let ihl = IPv4View.headerLength(head.bytes, at: o)
        guard ihl + q.length <= 0xffff else {
            kernel.trace(self, q.firstDevice, .drop, "reassembled datagram over 65535 bytes (\(DropReason.pktTooBig.rawValue))")
            return nil
        }
        var bytes = Array(head.bytes[0..<(o + ihl)])
        bytes.reserveCapacity(o + ihl + q.length)
        for piece in q.pieces { bytes += piece.data }
        bytes.setU16(UInt16(ihl + q.length), at: o + 2)
        // DF again only when every fragment had it (IPSKB_FRAG_PMTU).
        bytes.setU16(q.maxDFSize == q.maxSize ? IPv4Header.flagDF : 0, at: o + 6)
        bytes.setU16(0, at: o + 10)
        bytes.setU16(InternetChecksum.checksum(bytes, o..<(o + ihl)), at: o + 10)
        var p = head
        p.bytes = bytes
        p.fragMaxSize = q.maxSize
        kernel.trace(self, q.firstDevice, .deliver, "reassembled \(ihl + q.length) bytes from \(q.pieces.count) fragments")
        return p
    }

    private func ipFragKill(_ key: IPFragQueues.Key, _ q: IPFragQueue) {
        if let t = q.timer { kernel.clock.cancel(t) }
        q.timer = nil
        if inetState.frags.queues[key] === q { inetState.frags.queues[key] = nil }
    }

    /// Kernel: ip_expire().
    private func ipFragExpire(_ key: IPFragQueues.Key, _ q: IPFragQueue, user: IPDefragUser) {
        guard inetState.frags.queues[key] === q else { return }
        q.timer = nil
        ipFragKill(key, q)
        kernel.trace(self, q.firstDevice, .drop, "fragment reassembly timed out (\(DropReason.fragReasmTimeout.rawValue))")
        guard let head = q.first else { return }
        // Only an end host answers (RFC 792); conntrack's queues of forwarded packets do not.
        if user == .conntrackIn && !isLocalAddress(key.destination) { return }
        icmpSendError(head, type: .timeExceeded, code: 1, inDevice: q.firstDevice)
    }

    /// Kernel: ipv4_conntrack_defrag(), registered by nf_defrag_ipv4 when conntrack starts:
    /// a fragment waits in the queue (stolen) until its datagram is whole.
    func registerConntrackDefrag() {
        for hook in [NFHook.preRouting, .localOut] {
            registerHook(NFHookOps(hook: hook, priority: NFPriority.conntrackDefrag, name: "defrag") { [unowned(unsafe) self] p, s in
                // Kernel: ip_is_fragment(): MF or an offset.
                guard p.bytes.u16(at: p.network + 6) & 0x3fff != 0 else { return .accept }
                guard let whole = self.ipDefrag(p, dev: s.inDevice, user: .conntrackIn) else { return .stolen }
                p = whole
                return .accept
            })
        }
    }
}
