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
        for scope in ["default"] + devices.map(\.name) {
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
                if let v = value { try e.set(&ipv4.allConf, v); e.afterAllWrite?(self) }
                return e.get(ipv4.allConf)
            case "default":
                if let v = value { try e.set(&ipv4.defaultConf, v) }
                return e.get(ipv4.defaultConf)
            default:
                guard let dev = device(named: scope) else { throw KernelError(.ENOENT) }
                if let v = value { try e.set(&dev.ipv4Conf, v) }
                return e.get(dev.ipv4Conf)
            }
        }
        if parts.count == 5, parts[0] == "net", parts[1] == "ipv4", parts[2] == "neigh",
           let e = SysctlTable.neigh.first(where: { $0.name == parts[4] }) {
            if parts[3] == "default" {
                if let v = value { try e.setDefault(&ipv4.neighDefault, v) }
                return e.getDefault(ipv4.neighDefault)
            }
            guard let dev = device(named: parts[3]) else { throw KernelError(.ENOENT) }
            if let v = value { try e.setParms(&dev.neighParms, v) }
            return e.getParms(dev.neighParms)
        }
        throw KernelError(.ENOENT)
    }

    /// Kernel: inet_forward_change(): ip_forward and conf.all.forwarding set every device,
    /// conf.default and each other.
    func setForwardingEverywhere(_ on: Bool) {
        ipv4.forwarding = on
        ipv4.allConf.forwarding = on
        ipv4.defaultConf.forwarding = on
        for d in devices { d.ipv4Conf.forwarding = on }
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
        var afterAllWrite: ((NetNamespace) -> Void)? = nil
    }
    struct Neigh {
        let name: String
        let getDefault: (NeighbourDefaults) -> String
        let setDefault: (inout NeighbourDefaults, String) throws -> Void
        let getParms: (NeighbourParms) -> String
        let setParms: (inout NeighbourParms, String) throws -> Void
    }

    /// Kernel: proc_dointvec(): an optional sign, digits, blanks around.
    static func int(_ s: String) throws -> Int {
        let t = s.trimmingBlanks
        guard let v = Int(t) else { throw KernelError(.EINVAL) }
        return v
    }

    static func ints(_ s: String, count: Int) throws -> [Int] {
        let parts = s.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" }).map(String.init)
        guard !parts.isEmpty, parts.count <= count else { throw KernelError(.EINVAL) }
        return try parts.map { try int($0) }
    }

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
        Global(name: "net.ipv4.ip_forward", get: { $0.ipv4.forwarding ? "1" : "0" },
               set: { ns, v in ns.setForwardingEverywhere(try bool(v)) }),
        Global(name: "net.ipv4.ip_default_ttl", get: { String($0.ipv4.defaultTTL) }, set: { ns, v in
            let n = try int(v)
            guard (1...255).contains(n) else { throw KernelError(.EINVAL) }
            ns.ipv4.defaultTTL = UInt8(n)
        }),
        Global(name: "net.ipv4.icmp_echo_ignore_all", get: { $0.ipv4.icmpEchoIgnoreAll ? "1" : "0" },
               set: { ns, v in ns.ipv4.icmpEchoIgnoreAll = try bool(v) }),
        Global(name: "net.ipv4.icmp_echo_ignore_broadcasts", get: { $0.ipv4.icmpEchoIgnoreBroadcasts ? "1" : "0" },
               set: { ns, v in ns.ipv4.icmpEchoIgnoreBroadcasts = try bool(v) }),
        Global(name: "net.ipv4.icmp_ratelimit", get: { String($0.ipv4.icmpRateLimitMS) },
               set: { ns, v in ns.ipv4.icmpRateLimitMS = try int(v) }),
        Global(name: "net.ipv4.ip_local_port_range", get: { "\($0.ipv4.ipLocalPortRange.0)\t\($0.ipv4.ipLocalPortRange.1)" },
               set: { ns, v in
                   let r = try ints(v, count: 2)
                   guard r.count == 2, r[0] <= r[1], r[0] >= 1, r[1] <= 65535 else { throw KernelError(.EINVAL) }
                   ns.ipv4.ipLocalPortRange = (r[0], r[1])
               }),
    ]

    static func confBool(_ name: String, _ kp: WritableKeyPath<IPv4DeviceConfig, Bool>) -> Conf {
        Conf(name: name, get: { $0[keyPath: kp] ? "1" : "0" }, set: { c, v in c[keyPath: kp] = try bool(v) })
    }

    static func confInt(_ name: String, _ kp: WritableKeyPath<IPv4DeviceConfig, Int>) -> Conf {
        Conf(name: name, get: { String($0[keyPath: kp]) }, set: { c, v in c[keyPath: kp] = try int(v) })
    }

    static let conf: [Conf] = [
        Conf(name: "forwarding", get: { $0.forwarding ? "1" : "0" }, set: { c, v in c.forwarding = try bool(v) },
             afterAllWrite: { ns in ns.setForwardingEverywhere(ns.ipv4.allConf.forwarding) }),
        confInt("rp_filter", \.rpFilter),
        confInt("arp_ignore", \.arpIgnore),
        confInt("arp_announce", \.arpAnnounce),
        confInt("arp_accept", \.arpAccept),
        confBool("accept_local", \.acceptLocal),
        confBool("send_redirects", \.sendRedirects),
        confBool("proxy_arp", \.proxyARP),
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
            return useMS ? .milliseconds(Int64(n)) : .seconds(Int64(n))
        }
        return Neigh(name: name, getDefault: { get($0[keyPath: d]) }, setDefault: { $0[keyPath: d] = try parse($1) },
                     getParms: { get($0[keyPath: p]) }, setParms: { $0[keyPath: p] = try parse($1) })
    }

    static func neighCount(_ name: String, _ d: WritableKeyPath<NeighbourDefaults, Int>,
                           _ p: WritableKeyPath<NeighbourParms, Int>) -> Neigh {
        Neigh(name: name, getDefault: { String($0[keyPath: d]) }, setDefault: { $0[keyPath: d] = try int($1) },
              getParms: { String($0[keyPath: p]) }, setParms: { $0[keyPath: p] = try int($1) })
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
