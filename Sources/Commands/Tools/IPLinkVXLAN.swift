// IPLinkVXLAN: the options of `ip link add NAME type vxlan ...` as iproute2 6.1's
// vxlan_parse_opt() reads them (ip/iplink_vxlan.c): keywords by prefix in its order, numbers
// as strtoul(..., 0) reads them, its messages (invarg(), duparg2(), "vxlan: ..." lines) and
// the warning printed when `dstport` is left out; and the `vxlan` part of `ip -d link show`
// (vxlan_print_opt()).

import NetKernel
import Wire

enum IPLinkVXLAN {
    /// The IFLA_VXLAN_* attributes parsed so far, to refuse a repeated one as check_duparg() does.
    private struct Seen {
        var keys = Set<String>()
        mutating func check(_ attr: String, key: String, _ arg: String) throws {
            if !keys.insert(attr).inserted { throw IPCommand.duparg2(key, arg) }
        }
    }

    /// vxlan_parse_opt(): the configuration, and what iproute2 prints on stderr before sending
    /// the request (the dstport warning).
    static func parse(_ args: [String], _ ctx: ToolContext) throws -> (VXLANConfig, warnings: [String]) {
        var cfg = VXLANConfig(vni: 0)
        var seen = Seen()
        var remoteGiven = false, groupGiven = false
        var it = args.makeIterator()
        func invarg(_ msg: String, _ arg: String) -> ToolFailure {
            ToolFailure(message: "Error: argument \"\(arg)\" is wrong: \(msg)", status: 255)
        }
        func address(_ s: String, family4: Bool) throws -> IPv4Address {
            guard let a = IPv4Address(s) else {
                throw ToolFailure(message: "Error: \(family4 ? "inet" : "any valid") address is expected rather than \"\(s)\".", status: 1)
            }
            return a
        }
        func m(_ a: String, _ k: String) -> Bool { IPCommand.matches(a, k) }
        while let a = it.next() {
            if m(a, "id") || m(a, "vni") {
                let v = try IPCommand.next(&it)
                try seen.check("id", key: "id", v)
                guard let n = IPCommand.strtoul0(v), n <= 0xffff_ffff, n < 1 << 24 else { throw invarg("invalid id", v) }
                cfg.vni = UInt32(n)
            } else if m(a, "group") {
                if remoteGiven { throw ToolFailure(message: "vxlan: both group and remote cannot be specified", status: 1) }
                let v = try IPCommand.next(&it)
                try seen.check("group", key: "group", v)
                let ip = try address(v, family4: cfg.local != nil)
                guard ip.isMulticast else { throw invarg("invalid group address", v) }
                cfg.remote = ip
                groupGiven = true
            } else if m(a, "remote") {
                if groupGiven { throw ToolFailure(message: "vxlan: both group and remote cannot be specified", status: 1) }
                let v = try IPCommand.next(&it)
                try seen.check("group", key: "remote", v)
                let ip = try address(v, family4: cfg.local != nil)
                guard !ip.isMulticast else { throw invarg("invalid remote address", v) }
                cfg.remote = ip
                remoteGiven = true
            } else if m(a, "local") {
                let v = try IPCommand.next(&it)
                try seen.check("local", key: "local", v)
                let ip = try address(v, family4: cfg.remote != nil)
                guard !ip.isMulticast else { throw invarg("invalid local address", v) }
                cfg.local = ip
            } else if m(a, "dev") {
                let v = try IPCommand.next(&it)
                try seen.check("dev", key: "dev", v)
                guard let d = ctx.namespace.device(named: v) else {
                    throw ToolFailure(message: "Cannot find device \"\(v)\"", status: 255)
                }
                cfg.lowerDevice = d
            } else if m(a, "ttl") || m(a, "hoplimit") {
                let v = try IPCommand.next(&it)
                try seen.check("ttl", key: "ttl", v)
                if v == "inherit" {
                    cfg.ttlInherit = true
                } else if v == "auto" {
                    cfg.ttl = 0
                } else {
                    guard let n = IPCommand.strtoul0(v), n <= UInt64(UInt32.max) else { throw invarg("invalid TTL", v) }
                    guard n <= 255 else { throw invarg("TTL must be <= 255", v) }
                    cfg.ttl = UInt8(n)
                }
            } else if m(a, "tos") || m(a, "dsfield") {
                let v = try IPCommand.next(&it)
                try seen.check("tos", key: "tos", v)
                if v == "inherit" {
                    cfg.tos = 1
                } else {
                    // rtnl_dsfield_a2n(): a hexadecimal number (names from rt_dsfield aside).
                    let hex = v.hasPrefix("0x") || v.hasPrefix("0X") ? String(v.dropFirst(2)) : v
                    guard let n = UInt8(hex, radix: 16) else { throw invarg("bad TOS value", v) }
                    cfg.tos = n
                }
            } else if m(a, "df") {
                let v = try IPCommand.next(&it)
                try seen.check("df", key: "df", v)
                switch v {
                case "unset": cfg.df = .unset
                case "set": cfg.df = .set
                case "inherit": cfg.df = .inherit
                default: throw invarg("DF must be 'unset', 'set' or 'inherit'", v)
                }
            } else if m(a, "label") || m(a, "flowlabel") {
                throw ToolFailure(message: "vxlan: \"\(a)\" (IPv6 underlays) is not modelled by swnetsim", status: 1)
            } else if m(a, "ageing") {
                let v = try IPCommand.next(&it)
                try seen.check("ageing", key: "ageing", v)
                if v == "none" {
                    cfg.ageing = 0
                } else {
                    guard let n = IPCommand.strtoul0(v), n <= UInt64(UInt32.max) else { throw invarg("ageing timer", v) }
                    cfg.ageing = UInt32(n)
                }
            } else if m(a, "maxaddress") {
                let v = try IPCommand.next(&it)
                try seen.check("maxaddress", key: "maxaddress", v)
                if v == "unlimited" {
                    cfg.maxAddresses = 0
                } else {
                    guard let n = IPCommand.strtoul0(v), n <= UInt64(UInt32.max) else { throw invarg("max addresses", v) }
                    cfg.maxAddresses = UInt32(n)
                }
            } else if m(a, "port") || m(a, "srcport") {
                let lo = try IPCommand.next(&it)
                try seen.check("srcport", key: "srcport", lo)
                guard let l = IPCommand.strtoul0(lo), l <= 0xffff else { throw invarg("min port", lo) }
                let hi = try IPCommand.next(&it)
                guard let h = IPCommand.strtoul0(hi), h <= 0xffff else { throw invarg("max port", hi) }
                cfg.sourcePortLow = UInt16(l)
                cfg.sourcePortHigh = UInt16(h)
            } else if m(a, "dstport") {
                let v = try IPCommand.next(&it)
                try seen.check("dstport", key: "dstport", v)
                guard let n = IPCommand.strtoul0(v), n <= 0xffff else { throw invarg("dst port", v) }
                cfg.dstPort = UInt16(n)
            } else if m(a, "nolearning") {
                try seen.check("learning", key: a, a)
                cfg.learning = false
            } else if m(a, "learning") {
                try seen.check("learning", key: a, a)
                cfg.learning = true
            } else if m(a, "noproxy") {
                try seen.check("proxy", key: a, a); cfg.proxy = false
            } else if m(a, "proxy") {
                try seen.check("proxy", key: a, a); cfg.proxy = true
            } else if m(a, "norsc") {
                try seen.check("rsc", key: a, a); cfg.rsc = false
            } else if m(a, "rsc") {
                try seen.check("rsc", key: a, a); cfg.rsc = true
            } else if m(a, "nol2miss") {
                try seen.check("l2miss", key: a, a); cfg.l2miss = false
            } else if m(a, "l2miss") {
                try seen.check("l2miss", key: a, a); cfg.l2miss = true
            } else if m(a, "nol3miss") {
                try seen.check("l3miss", key: a, a); cfg.l3miss = false
            } else if m(a, "l3miss") {
                try seen.check("l3miss", key: a, a); cfg.l3miss = true
            } else if m(a, "udpcsum") {
                try seen.check("udpcsum", key: a, a); cfg.udpChecksum = true
            } else if m(a, "noudpcsum") {
                try seen.check("udpcsum", key: a, a); cfg.udpChecksum = false
            } else if m(a, "udp6zerocsumtx") || m(a, "noudp6zerocsumtx") {
                try seen.check("udp6zerocsumtx", key: a, a)  // IPv6 underlays only
            } else if m(a, "udp6zerocsumrx") || m(a, "noudp6zerocsumrx") {
                try seen.check("udp6zerocsumrx", key: a, a)
            } else if m(a, "remcsumtx") || m(a, "noremcsumtx") || m(a, "remcsumrx") || m(a, "noremcsumrx")
                        || m(a, "external") || m(a, "noexternal") || m(a, "gbp") || m(a, "gpe")
                        || a == "vnifilter" || a == "novnifilter" {
                throw ToolFailure(message: "vxlan: \"\(a)\" is not modelled by swnetsim", status: 1)
            } else if m(a, "help") {
                throw ToolFailure(message: usage, status: 1)
            } else {
                throw ToolFailure(message: "vxlan: unknown command \"\(a)\"?\n" + usage, status: 1)
            }
        }
        if !seen.keys.contains("id") {
            throw ToolFailure(message: "vxlan: missing virtual network identifier", status: 1)
        }
        if groupGiven && cfg.lowerDevice == nil {
            throw ToolFailure(message: "vxlan: 'group' requires 'dev' to be specified", status: 1)
        }
        var warnings: [String] = []
        if !seen.keys.contains("dstport") {
            warnings = ["vxlan: destination port not specified", "Will use Linux kernel default (non-standard value)",
                        "Use 'dstport 4789' to get the IANA assigned value", "Use 'dstport 0' to get default and quiet this message"]
        }
        return (cfg, warnings)
    }

    /// explain(): what iproute2 prints for `help` and after an unknown word.
    static let usage = """
        Usage: ... vxlan id VNI
        \t\t[ { group | remote } IP_ADDRESS ]
        \t\t[ local ADDR ]
        \t\t[ ttl TTL ]
        \t\t[ tos TOS ]
        \t\t[ df DF ]
        \t\t[ flowlabel LABEL ]
        \t\t[ dev PHYS_DEV ]
        \t\t[ dstport PORT ]
        \t\t[ srcport MIN MAX ]
        \t\t[ [no]learning ]
        \t\t[ [no]proxy ]
        \t\t[ [no]rsc ]
        \t\t[ [no]l2miss ]
        \t\t[ [no]l3miss ]
        \t\t[ ageing SECONDS ]
        \t\t[ maxaddress NUMBER ]
        \t\t[ [no]udpcsum ]
        \t\t[ [no]udp6zerocsumtx ]
        \t\t[ [no]udp6zerocsumrx ]
        \t\t[ [no]remcsumtx ] [ [no]remcsumrx ]
        \t\t[ [no]external ] [ gbp ] [ gpe ]
        \t\t[ [no]vnifilter ]

        Where:\tVNI\t:= 0-16777215
        \tADDR\t:= { IP_ADDRESS | any }
        \tTOS\t:= { NUMBER | inherit }
        \tTTL\t:= { 1..255 | auto | inherit }
        \tDF\t:= { unset | set | inherit }
        \tLABEL := 0-1048575
        """

    /// vxlan_print_opt(): the attributes vxlan_fill_info() sends, as iproute2 6.1 prints them
    /// (each followed by a space). Device indexes are named in the viewer's namespace, as
    /// ll_index_to_name() does ("if2" when it has no such device).
    static func details(_ vx: VXLANDevice, viewer: NetNamespace) -> String {
        let c = vx.config
        var s = "id \(c.vni) "
        if let r = c.remote, !r.isZero { s += (r.isMulticast ? "group " : "remote ") + "\(r) " }
        if let l = c.local, !l.isZero { s += "local \(l) " }
        if vx.lowerIndex != 0 { s += "dev \(viewer.device(index: vx.lowerIndex)?.name ?? "if\(vx.lowerIndex)") " }
        s += "srcport \(c.sourcePortLow) \(c.sourcePortHigh) "
        s += "dstport \(c.dstPort) "
        if !c.learning { s += "nolearning " }
        if c.proxy { s += "proxy " }
        if c.rsc { s += "rsc " }
        if c.l2miss { s += "l2miss " }
        if c.l3miss { s += "l3miss " }
        if c.tos == 1 { s += "tos inherit " } else if c.tos != 0 { s += "tos 0x" + String(c.tos, radix: 16) + " " }
        if c.ttlInherit { s += "ttl inherit " } else { s += c.ttl == 0 ? "ttl auto " : "ttl \(c.ttl) " }
        switch c.df {
        case .set: s += "df set "
        case .inherit: s += "df inherit "
        case .unset: break
        }
        s += "ageing \(c.ageing) "
        if c.maxAddresses != 0 { s += "maxaddr \(c.maxAddresses) " }
        s += (c.udpChecksum ? "" : "no") + "udpcsum "
        s += "noudp6zerocsumtx noudp6zerocsumrx "
        return s
    }
}
