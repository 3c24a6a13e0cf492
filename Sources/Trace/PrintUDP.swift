// PrintUDP: tcpdump 4.99.3's print-udp.c. Writes the addresses with their ports itself
// ("10.0.1.2.46078 > 10.0.2.2.33434: UDP, length 32"); with -vv it checks the checksum
// ("[udp sum ok] ", "[bad udp cksum 0x173d -> 0xbcfc!] ", "[no cksum] "; -v alone shows none,
// as tcpdump does for IPv4); VXLAN (4789) and OTV (8472, flannel's VXLAN port) are decoded
// with the encapsulated frame on the next line, printed as any frame is.
// Guarantees: for datagrams on ports tcpdump has no decoder for, the text is tcpdump's, down
// to "bad length" and truncation; checked against `tcpdump -r -n [-v|-vv]` (see TraceTests).
// Leaves out: the other decoders tcpdump picks by port (53 DNS, 67/68 BOOTP, 69 TFTP, 123 NTP,
// 161 SNMP, 500 ISAKMP, 514 syslog, 520 RIP, 1812 RADIUS, 2049 NFS, 5353 mDNS, 6081 Geneve,
// 7000-7009 RX, 49152 as a source port, ...): those datagrams print as plain
// "UDP, length N", which is not what tcpdump shows for them. Port names (-n is assumed).

import Wire

enum UDPPrinter {
    /// Ports tcpdump 4.99.3 hands to a decoder, in the order udp_print() tests them; only
    /// VXLAN and OTV are decoded here.
    enum Decoder { case vxlan, otv, other, none }

    static func decoder(sport: UInt16, dport: UInt16) -> Decoder {
        func either(_ p: UInt16) -> Bool { sport == p || dport == p }
        // Everything udp_print() tests before OTV and VXLAN, then those two.
        let before: [UInt16] = [53, 5353, 525, 69, 68, 67, 520, 654, 500, 4500, 7500, 8500, 161, 162, 123,
                                88, 750, 1701, 2103, 2104, 521, 546, 547, 5359, 6696, 6697, 8231, 496,
                                1645, 1812, 1646, 1813, 1700, 3799, 921, 646, 698, 3503, 701, 1589, 6343,
                                12222, 5060, 514]
        if before.contains(where: either) || dport == 3456 || (7000...7009).contains(sport) || (7000...7009).contains(dport)
            || dport == 4567 || dport == 1985 || sport == 49152 || [3784, 4784, 6784, 3785].contains(dport)
            || dport == 12223 || sport == 12223 {
            return .other
        }
        if either(8472) { return .otv }
        if either(4789) { return .vxlan }
        if [6081, 4342, 4790, 17754, 6635, 319, 320, 30490].contains(where: either) { return .other }
        return .none
    }

    static func print(_ b: [UInt8], at o: Int, end: Int, ip: IPv4Header, options: PrintOptions,
                      state: PrinterState = PrinterState()) -> String {
        let avail = end - o
        // udp_print()'s length: the IP payload length from the header.
        var length = Int(ip.totalLength) - ip.headerLength
        let fragmented = ip.moreFragments
        guard avail >= 4 else { return "\(ip.source) > \(ip.destination):  [|udp]" }
        let sport = b.u16(at: o), dport = b.u16(at: o + 2)
        let addrs = "\(ip.source).\(sport) > \(ip.destination).\(dport): "
        if length < UDPHeader.headerLength { return addrs + "truncated-udp \(length)" }
        guard avail >= 6 else { return addrs + " [|udp]" }
        var ulen = Int(b.u16(at: o + 4))
        if ulen < UDPHeader.headerLength { return addrs + "truncated-udplength \(ulen)" }
        ulen -= UDPHeader.headerLength
        length -= UDPHeader.headerLength
        if ulen < length { length = ulen }
        guard avail >= UDPHeader.headerLength else { return addrs + " [|udp]" }

        var out = addrs
        if options.verbose > 1 && !fragmented {
            let field = b.u16(at: o + 6)
            if field == 0 {
                out += "[no cksum] "
            } else if avail >= UDPHeader.headerLength + length {
                let n = UDPHeader.headerLength + length
                let pseudo = IPv4Header.pseudoHeaderSum(source: ip.source, destination: ip.destination, proto: .udp, length: n)
                let sum = InternetChecksum.sum(b, o..<(o + n), initial: pseudo)
                if sum != 0xffff {
                    let should = ICMPPrinter.shouldBe(field, computed: ~UInt16(truncatingIfNeeded: sum))
                    out += "[bad udp cksum 0x\(hex4(field)) -> 0x\(hex4(should))!] "
                } else {
                    out += "[udp sum ok] "
                }
            }
        }
        let payload = o + UDPHeader.headerLength
        switch decoder(sport: sport, dport: dport) {
        case .vxlan:
            return out + encapsulated("VXLAN", b, at: payload, length: length, end: end, options: options, state: state) { f, vni in
                ", flags [\(f & 0x08 != 0 ? "I" : "invalid")] (0x\(hex2(f))), vni \(vni)"
            }
        case .otv:
            return out + encapsulated("OTV", b, at: payload, length: length, end: end, options: options, state: state) { f, instance in
                ", flags [\(f & 0x08 != 0 ? "I" : ".")] (0x\(hex2(f))), overlay \(b.count >= payload + 4 ? Int(b.u32(at: payload) & 0xffffff) : 0), instance \(instance)"
            }
        case .other, .none:
            if ulen > length && !fragmented { return out + "UDP, bad length \(ulen) > \(length)" }
            return out + "UDP, length \(ulen)"
        }
    }

    /// vxlan_print() / otv_print(): an 8-byte header, then the Ethernet frame it carries,
    /// printed on its own line as tcpdump's ether_print() prints any frame.
    static func encapsulated(_ name: String, _ b: [UInt8], at p: Int, length: Int, end: Int, options: PrintOptions,
                             state: PrinterState, header: (UInt8, Int) -> String) -> String {
        guard length >= 8 else {
            return name == "OTV" ? "OTV, [length \(length) < 8] (invalid)" : "VXLAN (invalid)"
        }
        guard end - p >= 8 else { return name + " [|\(name.lowercased())]" }
        let flags = VXLANView.flags(b, at: p)
        let id = Int(VXLANView.vni(b, at: p))
        let inner = Array(b[(p + 8)..<min(end, p + length)])
        return name + header(flags, id) + "\n" + PacketPrinter.ethernet(inner, options: options, state: state)
    }

    static func hex4(_ v: UInt16) -> String {
        let s = String(v, radix: 16)
        return String(repeating: "0", count: 4 - s.count) + s
    }

    static func hex2(_ v: UInt8) -> String {
        let s = String(v, radix: 16)
        return s.count < 2 ? "0" + s : s
    }
}
