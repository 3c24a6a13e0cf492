// PrintIGMP: tcpdump's print-igmp.c for the version 3 reports Linux sends.

import Wire

enum IGMPPrinter {
    static func print(_ b: [UInt8], at o: Int, end: Int, options: PrintOptions) -> String {
        guard end - o >= 8 else { return "[|igmp]" }
        switch IGMPType(rawValue: b[o]) {
        case .v3Report:
            guard let (r, _) = try? IGMPv3Report.parse(b, at: o, end: end) else { return "igmp v3 report [|igmp]" }
            var s = "igmp v3 report, \(r.records.count) group record(s)"
            if options.verbose > 0 {
                let kinds = [1: "is_in", 2: "is_ex", 3: "to_in", 4: "to_ex", 5: "allow", 6: "block"]
                for g in r.records {
                    s += " [gaddr \(g.group) \(kinds[Int(g.type)] ?? "[v3-type-\(g.type)]")"
                    // -v counts the sources, -vv lists them.
                    s += options.verbose == 1 ? ", \(g.sources.count) source(s)]" : " { " + g.sources.map { "\($0) " }.joined() + "}]"
                }
            }
            return s
        case .v2Report:
            return "igmp v2 report \(IPv4Address(bytes: b, at: o + 4))"
        case .v2Leave:
            return "igmp leave \(IPv4Address(bytes: b, at: o + 4))"
        case .membershipQuery:
            return end - o >= 12 ? "igmp query v3" : "igmp query v2"
        default:
            return "igmp-\(b[o])"
        }
    }
}
