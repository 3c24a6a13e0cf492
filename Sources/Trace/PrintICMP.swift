// PrintICMP: tcpdump 4.99.3's print-icmp.c: "ICMP <what>, length <ICMP length>", with the
// texts icmp_print() builds for each type and code; with -v the checksum is checked and an
// error's quoted packet is printed after "\n\t" by the IP printer (so "IP (tos ...)\n    ..."),
// with the capture's printer state (a quoted TCP segment gets its conversation's relative
// sequence numbers, as tcpdump's one hash table gives them).
// Guarantees: the texts of every type Linux sends (echo, all unreachable codes, time
// exceeded, parameter problem, redirect, source quench) are tcpdump's, checked against
// `tcpdump -r -n [-v]` of captures from Linux 6.18 (see TraceTests).
// Leaves out: names for addresses and ports (-n is assumed), router advertisement bodies,
// the objects of RFC 4884 extensions (only their header line).

import Wire

enum ICMPPrinter {
    static let truncated = " [|icmp]"

    static func print(_ b: [UInt8], at o: Int, end: Int, ip: IPv4Header, options: PrintOptions = PrintOptions(),
                      state: PrinterState = PrinterState()) -> String {
        // icmp_print()'s length is the IP payload length from the header, not what was captured.
        let plen = Int(ip.totalLength) - ip.headerLength
        let avail = end - o
        guard avail >= 2 else { return truncated }
        let type = b[o], code = b[o + 1]
        func u16(_ k: Int) -> UInt16? { avail >= k + 2 ? b.u16(at: o + k) : nil }
        func u32(_ k: Int) -> UInt32? { avail >= k + 4 ? b.u32(at: o + k) : nil }
        func addr(_ k: Int) -> String? { avail >= k + 4 ? "\(IPv4Address(bytes: b, at: o + k))" : nil }
        // The quoted IP header starts at byte 8; its destination at 8 + 16.
        let quotedDst: String? = addr(24)

        var text: String
        switch type {
        case 0, 8:
            guard let id = u16(4), let seq = u16(6) else { return truncated }
            text = "echo \(type == 8 ? "request" : "reply"), id \(id), seq \(seq)"
        case 3:
            guard let dst = quotedDst else { return truncated }
            switch code {
            case 0: text = "net \(dst) unreachable"
            case 1: text = "host \(dst) unreachable"
            case 2:
                guard avail >= 8 + 10 else { return truncated }
                text = "\(dst) protocol \(b[o + 8 + 9]) unreachable"
            case 3:
                guard avail >= 8 + 10 else { return truncated }
                let hlen = Int(b[o + 8] & 0x0f) * 4
                let proto = b[o + 8 + 9]
                guard let dport = u16(8 + hlen + 2) else { return truncated }
                switch proto {
                case 6: text = "\(dst) tcp port \(dport) unreachable"
                case 17: text = "\(dst) udp port \(dport) unreachable"
                default: text = "\(dst) protocol \(proto) port \(dport) unreachable"
                }
            case 4:
                guard let mtu = u16(6) else { return truncated }
                text = mtu != 0 ? "\(dst) unreachable - need to frag (mtu \(mtu))" : "\(dst) unreachable - need to frag"
            case 5: text = "\(dst) unreachable - source route failed"
            case 6: text = "net \(dst) unreachable - unknown"
            case 7: text = "host \(dst) unreachable - unknown"
            case 8: text = "\(dst) unreachable - source host isolated"
            case 9: text = "net \(dst) unreachable - admin prohibited"
            case 10: text = "host \(dst) unreachable - admin prohibited"
            case 11: text = "net \(dst) unreachable - tos prohibited"
            case 12: text = "host \(dst) unreachable - tos prohibited"
            case 13: text = "host \(dst) unreachable - admin prohibited filter"
            case 14: text = "host \(dst) unreachable - host precedence violation"
            case 15: text = "host \(dst) unreachable - precedence cutoff"
            default: text = "\(dst) unreachable - #\(code)"
            }
        case 5:
            guard let dst = quotedDst, let gw = addr(4) else { return truncated }
            switch code {
            case 0: text = "redirect \(dst) to net \(gw)"
            case 1: text = "redirect \(dst) to host \(gw)"
            case 2: text = "redirect-tos \(dst) to net \(gw)"
            case 3: text = "redirect-tos \(dst) to host \(gw)"
            default: text = "redirect-#\(code) \(dst) to \(gw)"
            }
        case 11:
            guard quotedDst != nil else { return truncated }
            switch code {
            case 0: text = "time exceeded in-transit"
            case 1: text = "ip reassembly time exceeded"
            default: text = "time exceeded-#\(code)"
            }
        case 12:
            if code != 0 {
                text = "parameter problem - code \(code)"
            } else {
                guard avail >= 5 else { return truncated }
                text = "parameter problem - octet \(b[o + 4])"
            }
        case 18:
            guard let mask = u32(12) else { return truncated }
            text = "address mask is 0x" + hex(mask, width: 8)
        case 13:
            guard let id = u16(4), let seq = u16(6) else { return truncated }
            text = "time stamp query id \(id) seq \(seq)"
        case 14:
            guard let id = u16(4), let seq = u16(6), let org = u32(8), let recv = u32(12), let xmit = u32(16) else { return truncated }
            text = "time stamp reply id \(id) seq \(seq): org \(tstamp(org)), recv \(tstamp(recv)), xmit \(tstamp(xmit))"
        case 4: text = "source quench"
        case 10: text = "router solicitation"
        case 15: text = "information request"
        case 16: text = "information reply"
        case 17: text = "address mask request"
        default: text = "type-#\(type)"
        }
        var out = "ICMP \(text), length \(plen)"
        guard options.verbose > 0 else { return out }

        let fragmented = ip.moreFragments
        if !fragmented && avail >= plen && plen >= 0 {
            let sum = InternetChecksum.sum(b, o..<(o + plen))
            if sum != 0xffff {
                let field = b.u16(at: o + 2)
                out += " (wrong icmp cksum \(String(field, radix: 16)) (->\(String(shouldBe(field, computed: ~UInt16(truncatingIfNeeded: sum)), radix: 16)))!)"
            }
        }
        // The quoted packet of an error (ICMP_ERRTYPE).
        if [3, 4, 5, 11, 12].contains(type) {
            guard avail >= 8 + 20 else { return out + "\n\t" + truncatedIP(options) }
            out += "\n\t" + (options.linkHeader ? "" : "IP ") + IPPrinter.print(b, at: o + 8, options: options, state: state)
        }
        // RFC 4884 extensions: only when the region after 128 bytes of quote checksums to 0.
        if [3, 11, 12].contains(type) && plen > 136 && avail >= 8 {
            let extStart = o + 8 + 128
            if avail >= 6, b[o + 5] == 0, extStart + (plen - 136) <= end {
                if InternetChecksum.sum(b, extStart..<(extStart + plen - 136)) != 0xffff { return out }
            }
            guard extStart < end else { return out }
            let version = b[extStart] >> 4
            out += "\n\tICMP Multi-Part extension v\(version)"
            if version != 2 { return out + " packet not supported" }
        }
        return out
    }

    /// What ip_print() shows of a quoted header too short to parse.
    static func truncatedIP(_ options: PrintOptions) -> String {
        (options.linkHeader ? "" : "IP ") + " [|ip]"
    }

    /// tcpdump's in_cksum_shouldbe(): the field value that would have made the sum verify.
    static func shouldBe(_ field: UInt16, computed: UInt16) -> UInt16 {
        var s = UInt32(field) + UInt32(computed)
        s = (s & 0xffff) + (s >> 16)
        s = (s & 0xffff) + (s >> 16)
        return UInt16(truncatingIfNeeded: s)
    }

    static func hex(_ v: UInt32, width: Int) -> String {
        let s = String(v, radix: 16)
        return String(repeating: "0", count: max(0, width - s.count)) + s
    }

    /// icmp_tstamp_print(): milliseconds since midnight UTC as HH:MM:SS.mmm.
    static func tstamp(_ t: UInt32) -> String {
        let msec = t % 1000
        var sec = t / 1000
        var min = sec / 60
        sec -= min * 60
        let hrs = min / 60
        min -= hrs * 60
        func p(_ v: UInt32, _ w: Int) -> String { let s = String(v); return String(repeating: "0", count: max(0, w - s.count)) + s }
        return "\(p(hrs, 2)):\(p(min, 2)):\(p(sec, 2)).\(p(msec, 3))"
    }
}
