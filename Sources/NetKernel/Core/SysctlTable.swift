// SysctlTable: the /proc/sys/net keys of a namespace, by their real names, over the fields
// the stack reads. One table serves `sysctl` reads, writes and -a listings.
// Guarantees: values parse as proc_dointvec does (decimal, surrounding blanks allowed) and
// print as /proc prints them (vectors tab-separated); writing net.ipv4.ip_forward or
// conf.all.forwarding changes every device's forwarding, as devinet_sysctl_forward() does.

import SimCore

extension NetNamespace {
    /// Every key, sorted as `sysctl -a` lists them.
    public var sysctlKeys: [String] {
        var keys = SysctlTable.global.filter { !$0.rootOnly || isRoot }.map(\.name)
        for scope in ["all", "default"] + devices.map(\.name) {
            keys += SysctlTable.conf.map { "net.ipv4.conf.\(scope).\($0.name)" }
        }
        // Kernel: arp_init() registers neigh.default once, in init_net only.
        for scope in (isRoot ? ["default"] : []) + devices.map(\.name) {
            keys += SysctlTable.neigh.map { "net.ipv4.neigh.\(scope).\($0.name)" }
        }
        return keys.sorted()
    }

    /// Reads a key ("net.ipv4.ip_forward" or "net/ipv4/ip_forward"). ENOENT if unknown.
    public func sysctlRead(_ key: String) throws -> String {
        try sysctlAccess(key, write: nil)
    }

    /// Writes a key. ENOENT if unknown, EINVAL if the value does not parse.
    public func sysctlWrite(_ key: String, _ value: String) throws {
        _ = try sysctlAccess(key, write: value)
    }

    private func sysctlAccess(_ rawKey: String, write value: String?) throws -> String {
        let key = rawKey.replacingSlashes
        let parts = key.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        if let e = SysctlTable.global.first(where: { $0.name == key }), !e.rootOnly || isRoot {
            if let v = value { try e.set(self, v) }
            return e.get(self)
        }
        if parts.count == 5, parts[0] == "net", parts[1] == "ipv4", parts[2] == "conf",
           let e = SysctlTable.conf.first(where: { $0.name == parts[4] }) {
            let scope = parts[3]
            switch scope {
            case "all":
                if let v = value {
                    if e.name == "forwarding" { setForwardingEverywhere(try SysctlTable.int(v)) } else { try e.set(&ipv4.allConf, v) }
                }
                return e.get(ipv4.allConf)
            case "default":
                if let v = value {
                    try e.set(&ipv4.defaultConf, v)
                    // Kernel: devinet_copy_dflt_conf(): every device that never had the key
                    // written gets the new default too (forwarding has its own handler).
                    if e.name != "forwarding", let bit = SysctlTable.conf.firstIndex(where: { $0.name == e.name }) {
                        for d in devices where d.ipv4Conf.writtenKeys & (1 << bit) == 0 {
                            try e.set(&d.ipv4Conf, v)
                        }
                    }
                }
                return e.get(ipv4.defaultConf)
            default:
                guard let dev = device(named: scope) else { throw KernelError(.ENOENT) }
                if let v = value {
                    try e.set(&dev.ipv4Conf, v)
                    if let bit = SysctlTable.conf.firstIndex(where: { $0.name == e.name }) { dev.ipv4Conf.writtenKeys |= 1 << bit }
                }
                return e.get(dev.ipv4Conf)
            }
        }
        if parts.count == 5, parts[0] == "net", parts[1] == "ipv4", parts[2] == "neigh",
           let e = SysctlTable.neigh.first(where: { $0.name == parts[4] }) {
            if parts[3] == "default" {
                guard isRoot else { throw KernelError(.ENOENT) }
                if let v = value { try e.setDefault(&ipv4.neighDefault, v) }
                return e.getDefault(ipv4.neighDefault)
            }
            guard let dev = device(named: parts[3]) else { throw KernelError(.ENOENT) }
            if let v = value { try e.setParms(&dev.neighParms, v) }
            return e.getParms(dev.neighParms)
        }
        throw KernelError(.ENOENT)
    }

    /// Kernel: devinet_sysctl_forward() -> inet_forward_change(): a new value of ip_forward
    /// (which is conf.all.forwarding) goes to conf.default and every device; writing the value
    /// it already has changes nothing.
    func setForwardingEverywhere(_ value: Int) {
        guard value != ipv4.allConf.forwardingValue else { return }
        ipv4.forwarding = value != 0
        ipv4.allConf.forwardingValue = value
        ipv4.defaultConf.forwardingValue = value
        for d in devices { d.ipv4Conf.forwardingValue = value }
    }
}

enum SysctlTable {
    struct Global {
        let name: String
        let get: (NetNamespace) -> String
        let set: (NetNamespace, String) throws -> Void
        /// Only init_net has the key (net.netfilter.nf_log_all_netns).
        var rootOnly = false
    }
    struct Conf {
        let name: String
        let get: (IPv4DeviceConfig) -> String
        let set: (inout IPv4DeviceConfig, String) throws -> Void
    }
    struct Neigh {
        let name: String
        let getDefault: (NeighbourDefaults) -> String
        let setDefault: (inout NeighbourDefaults, String) throws -> Void
        let getParms: (NeighbourParms) -> String
        let setParms: (inout NeighbourParms, String) throws -> Void
    }

    /// Kernel: proc_get_long() for proc_dointvec(): blanks, an optional "-", a number in C's
    /// base 0 (0x hex, a leading 0 octal) that fits an int and ends at a blank or the end;
    /// "+1" and "1x" are EINVAL. What follows the one number is ignored.
    static func int(_ s: String) throws -> Int { try ints(s, count: 1)[0] }

    /// Kernel: __do_proc_dointvec(): up to `count` numbers; the first must parse, reading
    /// stops at one that does not.
    static func ints(_ s: String, count: Int) throws -> [Int] {
        var out: [Int] = []
        for word in s.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" }).prefix(count) {
            guard let v = cInt(word) else { break }
            out.append(v)
        }
        guard !out.isEmpty else { throw KernelError(.EINVAL) }
        return out
    }

    private static func cInt(_ word: Substring) -> Int? {
        var w = word
        let negative = w.first == "-"
        if negative { w = w.dropFirst() }
        guard let first = w.first, first.isASCII, first.isNumber else { return nil }
        let magnitude: UInt64?
        if w.hasPrefix("0x") || w.hasPrefix("0X") {
            magnitude = UInt64(w.dropFirst(2), radix: 16)
        } else if w.hasPrefix("0") && w.count > 1 {
            magnitude = UInt64(w.dropFirst(), radix: 8)
        } else {
            magnitude = UInt64(w, radix: 10)
        }
        guard let m = magnitude, m <= UInt64(Int32.max) + (negative ? 1 : 0) else { return nil }
        return negative ? -Int(m) : Int(m)
    }

    /// Kernel: proc_dointvec_minmax(): out of range is EINVAL.
    static func int(_ s: String, in range: ClosedRange<Int>) throws -> Int {
        let v = try int(s)
        guard range.contains(v) else { throw KernelError(.EINVAL) }
        return v
    }

    /// Kernel: proc_dointvec_ms_jiffies(): milliseconds kept in jiffies (HZ 250), rounded up,
    /// so 5 reads back as 8.
    static func msJiffies(_ n: Int) -> Int { (n + 3) / 4 * 4 }

    static func bool(_ s: String) throws -> Bool { try int(s) != 0 }

    /// net.bridge.* (br_netfilter) and net.netfilter.nf_log_all_netns: Netfilter/Tables.swift.
    static func bridgeNF(_ name: String, _ kp: WritableKeyPath<BridgeNFSysctls, Bool>) -> Global {
        Global(name: "net.bridge." + name, get: { ($0.xtables?.bridgeNF ?? BridgeNFSysctls())[keyPath: kp] ? "1" : "0" },
               set: { ns, v in ns.netfilter.bridgeNF[keyPath: kp] = try bool(v) })
    }

    static let global: [Global] = SysctlTable.tcpGlobals + SysctlTable.icmpGlobals + [
        bridgeNF("bridge-nf-call-arptables", \.callARPTables),
        bridgeNF("bridge-nf-call-ip6tables", \.callIP6Tables),
        bridgeNF("bridge-nf-call-iptables", \.callIPTables),
        bridgeNF("bridge-nf-filter-pppoe-tagged", \.filterPPPoETagged),
        bridgeNF("bridge-nf-filter-vlan-tagged", \.filterVLANTagged),
        bridgeNF("bridge-nf-pass-vlan-input-dev", \.passVLANInputDev),
        Global(name: "net.netfilter.nf_log_all_netns", get: { $0.xtables?.logAllNetns == true ? "1" : "0" },
               set: { ns, v in ns.netfilter.logAllNetns = try bool(v) }, rootOnly: true),
        Global(name: "net.ipv4.ip_forward", get: { String($0.ipv4.allConf.forwardingValue) },
               set: { ns, v in ns.setForwardingEverywhere(try int(v)) }),
        Global(name: "net.ipv4.ip_default_ttl", get: { String($0.ipv4.defaultTTL) }, set: { ns, v in
            let n = try int(v)
            guard (1...255).contains(n) else { throw KernelError(.EINVAL) }
            ns.ipv4.defaultTTL = UInt8(n)
        }),
        Global(name: "net.ipv4.icmp_echo_ignore_all", get: { $0.ipv4.icmpEchoIgnoreAll ? "1" : "0" },
               set: { ns, v in ns.ipv4.icmpEchoIgnoreAll = try int(v, in: 0...1) != 0 }),
        Global(name: "net.ipv4.icmp_echo_ignore_broadcasts", get: { $0.ipv4.icmpEchoIgnoreBroadcasts ? "1" : "0" },
               set: { ns, v in ns.ipv4.icmpEchoIgnoreBroadcasts = try int(v, in: 0...1) != 0 }),
        Global(name: "net.ipv4.icmp_ratelimit", get: { String($0.ipv4.icmpRateLimitMS) },
               set: { ns, v in ns.ipv4.icmpRateLimitMS = msJiffies(try int(v, in: 0...Int(Int32.max))) }),
        Global(name: "net.ipv4.ip_local_port_range", get: { "\($0.ipv4.ipLocalPortRange.0)\t\($0.ipv4.ipLocalPortRange.1)" },
               set: { ns, v in
                   let r = try ints(v, count: 2)
                   guard r.count == 2, r[0] <= r[1], r[0] >= 1, r[1] <= 65535 else { throw KernelError(.EINVAL) }
                   ns.ipv4.ipLocalPortRange = (r[0], r[1])
               }),
    ]

    static func confInt(_ name: String, _ kp: WritableKeyPath<IPv4DeviceConfig, Int>) -> Conf {
        Conf(name: name, get: { String($0[keyPath: kp]) }, set: { c, v in c[keyPath: kp] = try int(v) })
    }

    static let conf: [Conf] = [
        // conf.all.forwarding is written through ip_forward's path (Sysctl access below).
        confInt("forwarding", \.forwardingValue),
        confInt("rp_filter", \.rpFilter),
        confInt("arp_ignore", \.arpIgnore),
        confInt("arp_announce", \.arpAnnounce),
        confInt("arp_accept", \.arpAccept),
        confInt("promote_secondaries", \.promoteSecondaries),
        confInt("accept_local", \.acceptLocalValue),
        confInt("send_redirects", \.sendRedirectsValue),
        confInt("proxy_arp", \.proxyARPValue),
    ]

    static func ms(_ t: SimTime) -> String { String(t.ns / 1_000_000) }
    static func secs(_ t: SimTime) -> String { String(t.ns / 1_000_000_000) }

    static func neighTime(_ name: String, ms useMS: Bool,
                          _ d: WritableKeyPath<NeighbourDefaults, SimTime>,
                          _ p: WritableKeyPath<NeighbourParms, SimTime>) -> Neigh {
        let get: (SimTime) -> String = useMS ? ms : secs
        let parse: (String) throws -> SimTime = { v in
            let n = try int(v)
            guard n >= 0 else { throw KernelError(.EINVAL) }
            return useMS ? .milliseconds(Int64(msJiffies(n))) : .seconds(Int64(n))
        }
        return Neigh(name: name, getDefault: { get($0[keyPath: d]) }, setDefault: { $0[keyPath: d] = try parse($1) },
                     getParms: { get($0[keyPath: p]) }, setParms: { $0[keyPath: p] = try parse($1) })
    }

    static func neighCount(_ name: String, _ d: WritableKeyPath<NeighbourDefaults, Int>,
                           _ p: WritableKeyPath<NeighbourParms, Int>) -> Neigh {
        // Kernel: NEIGH_SYSCTL_ZERO_INTMAX_ENTRY: 0 to INT_MAX.
        Neigh(name: name, getDefault: { String($0[keyPath: d]) }, setDefault: { $0[keyPath: d] = try int($1, in: 0...Int(Int32.max)) },
              getParms: { String($0[keyPath: p]) }, setParms: { $0[keyPath: p] = try int($1, in: 0...Int(Int32.max)) })
    }

    static let neigh: [Neigh] = [
        neighTime("base_reachable_time_ms", ms: true, \.baseReachableTime, \.baseReachableTime),
        neighTime("retrans_time_ms", ms: true, \.retransTime, \.retransTime),
        neighTime("delay_first_probe_time", ms: false, \.delayFirstProbeTime, \.delayProbeTime),
        neighTime("locktime", ms: false, \.locktime, \.locktime),
        neighCount("ucast_solicit", \.ucastSolicit, \.ucastProbes),
        neighCount("mcast_solicit", \.mcastSolicit, \.mcastProbes),
        neighCount("mcast_resolicit", \.mcastResolicit, \.mcastReprobes),
        neighCount("app_solicit", \.appSolicit, \.appProbes),
        neighCount("unres_qlen_bytes", \.unresQlenBytes, \.unresQlenBytes),
    ]
}

extension String {
    var replacingSlashes: String { String(map { $0 == "/" ? "." : $0 }) }
    var trimmingBlanks: String {
        var s = Substring(self)
        while let c = s.first, c == " " || c == "\t" || c == "\n" { s = s.dropFirst() }
        while let c = s.last, c == " " || c == "\t" || c == "\n" { s = s.dropLast() }
        return String(s)
    }
}
