// BridgeCommand: iproute2's `bridge` (6.1) for `fdb` (show, add, append, replace, del) and
// `link` (show). Entries are printed as print_fdb() prints them: address, dev (unless one was
// named), dst/port/vni/via for vxlan devices, the flags, then the state ("permanent",
// "static", "stale" or nothing for a reachable entry) after a space.
// Errors and exit statuses are bridge's: its own messages, "RTNETLINK answers: ..." or the
// kernel's extack, and 255 for every failure (bridge returns -1 from main).

import NetKernel
import Wire

enum BridgeCommand {
    static func run(_ args: [String], _ ctx: ToolContext) -> ShellOutcome {
        var args = ArraySlice(args)
        var opts = Options()
        while let a = args.first, a.hasPrefix("-"), a.count > 1 {
            // -s adds the FDB entries' ages, -d the ports' flags; -c (color) changes nothing.
            let o = a.drop(while: { $0 == "-" })
            if IPCommand.matches(String(o), "statistics") { opts.stats = true }
            if IPCommand.matches(String(o), "details") { opts.details = true }
            args = args.dropFirst()
        }
        guard let obj = args.first else {
            ctx.eprintln("Usage: bridge [ OPTIONS ] OBJECT { COMMAND | help }")
            return .finished(255)
        }
        let rest = Array(args.dropFirst())
        do {
            if IPCommand.matches(obj, "fdb") { return try fdb(rest, ctx, opts) }
            if IPCommand.matches(obj, "link") { return try link(rest, ctx, opts) }
        } catch let f as ToolFailure {
            ctx.eprintln(f.message)
            if f.extraNewline { ctx.eprintln("") }
            return .finished(f.status)
        } catch let e as KernelError {
            ctx.eprintln(IPCommand.rtnetlinkMessage(e))
            return .finished(255)
        } catch {
            ctx.eprintln("\(error)")
            return .finished(255)
        }
        ctx.eprintln("Object \"\(obj)\" is unknown, try \"bridge help\".")
        return .finished(255)
    }

    struct Options {
        var stats = false
        var details = false
    }

    // MARK: - bridge fdb

    static func fdb(_ args: [String], _ ctx: ToolContext, _ opts: Options) throws -> ShellOutcome {
        guard let cmd = args.first else { return try fdbShow([], ctx, opts) }
        let rest = Array(args.dropFirst())
        if IPCommand.matches(cmd, "add") { return try fdbModify(rest, ctx, .add) }
        if IPCommand.matches(cmd, "append") { return try fdbModify(rest, ctx, .append) }
        if IPCommand.matches(cmd, "replace") { return try fdbModify(rest, ctx, .replace) }
        if IPCommand.matches(cmd, "delete") { return try fdbModify(rest, ctx, nil) }
        if IPCommand.matches(cmd, "show") || IPCommand.matches(cmd, "lst") || IPCommand.matches(cmd, "list") {
            return try fdbShow(rest, ctx, opts)
        }
        if IPCommand.matches(cmd, "flush") { return try fdbFlush(rest, ctx) }
        throw ToolFailure(message: "Command \"\(cmd)\" is unknown, try \"bridge fdb help\".", status: 255)
    }

    /// fdb_modify(): `bridge fdb add|append|replace|del ADDR dev DEV [dst IP] [port P] [vni N]
    /// [via DEV] [self] [master] [router] [use] [extern_learn] [sticky] [local|permanent|
    /// static|temp|dynamic]`; `mode` nil is del.
    static func fdbModify(_ args: [String], _ ctx: ToolContext, _ mode: FDBAddMode?) throws -> ShellOutcome {
        var devName: String?
        var addr: String?
        var dst: IPv4Address?
        var port: UInt16?
        var vni: UInt32?
        var via: NetDevice?
        var vlan: UInt16?
        var flags: NTFFlags = []
        var state: NUDState = .noARP
        var it = args.makeIterator()
        func invarg(_ msg: String, _ arg: String) -> ToolFailure {
            ToolFailure(message: "Error: argument \"\(arg)\" is wrong: \(msg)", status: 255, extraNewline: true)
        }
        while let a = it.next() {
            switch a {
            case "dev": devName = try IPCommand.next(&it)
            case "dst":
                let v = try IPCommand.next(&it)
                if dst != nil { throw IPCommand.duparg2("dst", v) }
                guard let ip = IPv4Address(v) else {
                    throw ToolFailure(message: "Error: any valid address is expected rather than \"\(v)\".", status: 1)
                }
                dst = ip
            case "port":
                let v = try IPCommand.next(&it)
                guard let n = IPCommand.strtoul0(v), n <= 0xffff else { throw invarg("invalid port", v) }
                port = UInt16(n)
            case "vni":
                let v = try IPCommand.next(&it)
                guard let n = IPCommand.strtoul0(v), n >> 24 == 0 else { throw invarg("invalid VNI", v) }
                vni = UInt32(n)
            case "via":
                let v = try IPCommand.next(&it)
                guard let d = ctx.namespace.device(named: v) else {
                    throw ToolFailure(message: "Cannot find device \"\(v)\"", status: 255)
                }
                via = d
            case "self": flags.insert(.self)
            case "router": flags.insert(.router)
            default:
                if IPCommand.matches(a, "master") { flags.insert(.master) }
                else if IPCommand.matches(a, "router") { flags.insert(.router) }
                else if IPCommand.matches(a, "local") || IPCommand.matches(a, "permanent") { state.insert(.permanent) }
                else if IPCommand.matches(a, "temp") || IPCommand.matches(a, "static") { state.insert(.reachable) }
                else if IPCommand.matches(a, "dynamic") { state.insert(.reachable); state.remove(.noARP) }
                else if IPCommand.matches(a, "use") { flags.insert(.use) }
                else if IPCommand.matches(a, "extern_learn") { flags.insert(.extLearned) }
                else if IPCommand.matches(a, "sticky") { flags.insert(.sticky) }
                else if IPCommand.matches(a, "vlan") {
                    let v = try IPCommand.next(&it)
                    guard let n = IPCommand.strtoul0(v), n < 4096 else { throw invarg("invalid VLAN", v) }
                    vlan = UInt16(n)
                } else if a == "nhid" || a == "src_vni" {
                    throw ToolFailure(message: "bridge fdb: \"\(a)\" is not modelled by swnetsim", status: 255)
                } else {
                    var word = a
                    if a == "to" { word = try IPCommand.next(&it) }
                    if addr != nil { throw IPCommand.duparg2("to", word) }
                    addr = word
                }
            }
        }
        guard let name = devName, let text = addr else {
            throw ToolFailure(message: "Device and address are required arguments.", status: 255)
        }
        // Assume self, and permanent.
        if !flags.contains(.self) && !flags.contains(.master) { flags.insert(.self) }
        if state.isDisjoint(with: [.permanent, .reachable]) { state.insert(.permanent) }
        guard let mac = MACAddress(text) else {
            throw ToolFailure(message: "Invalid mac address \(text)", status: 255)
        }
        guard let dev = ctx.namespace.device(named: name) else {
            throw ToolFailure(message: "Cannot find device \"\(name)\"", status: 255)
        }
        var r = FDBRequest(mac: mac, dst: dst, port: port, vni: vni, via: via, flags: flags, state: state)
        r.vlan = vlan
        if let m = mode {
            try ctx.namespace.apply(.fdbAdd(dev, r, mode: m))
        } else {
            try ctx.namespace.apply(.fdbDelete(dev, r))
        }
        return .finished(0)
    }

    /// fdb_show(): `[dev|brport DEV] [br BRDEV] [dynamic]`; other words are ignored, as there.
    static func fdbShow(_ args: [String], _ ctx: ToolContext, _ opts: Options) throws -> ShellOutcome {
        let ns = ctx.namespace
        var devName: String?
        var brName: String?
        var dynamicOnly = false
        var it = args.makeIterator()
        while let a = it.next() {
            switch a {
            case "dev", "brport": devName = try IPCommand.next(&it)
            case "br": brName = try IPCommand.next(&it)
            case "dynamic": dynamicOnly = true
            default:
                if IPCommand.matches(a, "help") { throw ToolFailure(message: fdbUsage, status: 255) }
            }
        }
        var bridge: NetDevice?
        if let b = brName {
            guard let d = ns.device(named: b) else {
                throw ToolFailure(message: "Cannot find bridge device \"\(b)\"", status: 255)
            }
            bridge = d
        }
        var filter: NetDevice?
        if let n = devName {
            guard let d = ns.device(named: n) else { throw ToolFailure(message: "Cannot find device \"\(n)\"", status: 255) }
            filter = d
        }
        fdbDump(ctx, dev: filter, bridge: bridge, dynamicOnly: dynamicOnly, stats: opts.stats)
        return .finished(0)
    }

    /// fdb_flush(): `bridge fdb flush dev DEV [self] [master] [[no]permanent|[no]static|
    /// [no]dynamic]` as RTM_DELNEIGH with NLM_F_BULK. Without self or master, self: a bridge
    /// flushes its whole table (br_fdb_delete_bulk()), `master` on a port that port's entries;
    /// other devices have no bulk delete (EOPNOTSUPP). Observed on Linux 6.18: with no state
    /// word every entry goes, local ones included.
    static func fdbFlush(_ args: [String], _ ctx: ToolContext) throws -> ShellOutcome {
        var devName: String?
        var flags: NTFFlags = []
        var want: [(FDBEntry) -> Bool] = []
        var it = args.makeIterator()
        while let a = it.next() {
            switch a {
            case "dev": devName = try IPCommand.next(&it)
            case "self": flags.insert(.self)
            case "master": flags.insert(.master)
            case "permanent": want.append { $0.isLocal }
            case "nopermanent": want.append { !$0.isLocal }
            case "static": want.append { $0.isStatic && !$0.isLocal }
            case "nostatic": want.append { !($0.isStatic && !$0.isLocal) }
            case "dynamic": want.append { !$0.isStatic }
            case "nodynamic": want.append { $0.isStatic }
            default:
                throw ToolFailure(message: "bridge fdb flush: \"\(a)\" is not modelled by swnetsim", status: 255)
            }
        }
        guard let name = devName else { throw ToolFailure(message: "Device is a required argument.", status: 255) }
        guard let dev = ctx.namespace.device(named: name) else {
            throw ToolFailure(message: "Cannot find bridge device \"\(name)\"", status: 255)
        }
        if flags.isEmpty { flags = .self }
        let br: BridgeDevice
        var port: BridgePort?
        if flags.contains(.master), let m = dev.master, let p = m.port(for: dev) {
            br = m
            port = p
        } else if flags.contains(.self), let b = dev as? BridgeDevice {
            br = b
        } else {
            throw KernelError(.ENOTSUP)
        }
        try ctx.namespace.apply(.fdbFlush(br, port: port, where: { e in
            (port == nil || e.port === port) && want.allSatisfy { $0(e) }
        }))
        return .finished(0)
    }

    /// Kernel: rtnl_fdb_dump(): per device in ifindex order, a port's bridge entries, then the
    /// device's own table: a vxlan device's FDB (vxlan_fdb_dump()), a bridge's own addresses
    /// and the entries of no port, or the unicast then multicast lists (ndo_dflt_fdb_dump()).
    static func fdbDump(_ ctx: ToolContext, dev filter: NetDevice?, bridge: NetDevice?, dynamicOnly: Bool,
                        stats: Bool = false) {
        let showDev = filter == nil
        let m = ctx.machine
        let now = m.jiffiesNow, hz = m.kernel.config.hz
        func line(_ mac: MACAddress, _ d: NetDevice, _ flag: String, permanent: Bool) {
            if dynamicOnly && permanent { return }
            ctx.println("\(mac) " + (showDev ? "dev \(d.name) " : "") + flag + (permanent ? "permanent" : ""))
        }
        /// A bridge entry (br_fdb_fill_info()): with -s its NDA_CACHEINFO ages, "used U/V ".
        func bridgeLine(_ e: FDBEntry, _ d: NetDevice, _ br: BridgeDevice) {
            let state = e.nudState(now: now, hold: m.toJiffies(br.ageingTime))
            if dynamicOnly && state.contains(.permanent) { return }
            var s = "\(e.mac) " + (showDev ? "dev \(d.name) " : "")
            if stats { s += "used \((now - e.used) / hz)/\((now - e.updated) / hz) " }
            ctx.println(s + "master \(br.name) " + fdbState(state))
        }
        for d in ctx.namespace.devices where !d.isLoopback {
            if let f = filter, f !== d { continue }
            // rtnl_fdb_dump() with a `br` filter: a device that is neither that device nor a
            // bridge port, or whose master is not it while it is no bridge itself, is skipped
            // (observed on Linux 6.18: `bridge fdb show br veth0` lists nothing).
            if let b = bridge {
                if d !== b && d.master == nil { continue }
                if d.master !== b && !(d is BridgeDevice) { continue }
            }
            if let br = d.master, let p = br.port(for: d) {
                for e in br.fdb.entries where e.port === p { bridgeLine(e, d, br) }
            }
            if let vx = d as? VXLANDevice {
                for l in vxlanLines(vx, viewer: ctx.namespace, showDevice: showDev, dynamicOnly: dynamicOnly,
                                    stats: stats ? (now, hz) : nil) { ctx.println(l) }
                continue
            }
            for m in d.unicastAddresses { line(m, d, "self ", permanent: true) }
            for m in d.multicastAddresses { line(m, d, "self ", permanent: true) }
            if let br = d as? BridgeDevice {
                for e in br.fdb.entries where e.port == nil && !e.mac.isZero { bridgeLine(e, d, br) }
            }
        }
    }

    /// One line per remote of each entry, newest entry first (vxlan_fdb_info() read by
    /// print_fdb()).
    static func vxlanLines(_ vx: VXLANDevice, viewer: NetNamespace, showDevice: Bool, dynamicOnly: Bool,
                           stats: (now: Int64, hz: Int64)? = nil) -> [String] {
        var out: [String] = []
        let linkNet = vx.linkNetNamespace
        for f in vx.fdb.entries {
            // print_fdb()'s `dynamic` filter drops NUD_PERMANENT entries only.
            if dynamicOnly && f.state.contains(.permanent) { continue }
            for r in f.remotes {
                var s = "\(f.mac) "
                if showDevice { s += "dev \(vx.name) " }
                s += "dst \(r.ip) "
                if r.port != 0 && r.port != vx.dstPort { s += "port \(r.port) " }
                if r.vni != vx.vni { s += "vni \(r.vni) " }
                if r.ifindex != 0 {
                    if linkNet != nil {
                        s += "via ifindex \(r.ifindex) "
                    } else {
                        s += "via \(viewer.device(index: r.ifindex)?.name ?? "if\(r.ifindex)") "
                    }
                }
                if let l = linkNet { s += "link-netnsid \(vx.namespace.peerID(for: l)) " }
                if let (now, hz) = stats { s += "used \((now - f.used) / hz)/\((now - f.updated) / hz) " }
                s += fdbFlags(f.flags)
                s += fdbState(f.state)
                out.append(s)
            }
        }
        return out
    }

    /// fdb_print_flags().
    static func fdbFlags(_ f: NTFFlags) -> String {
        var s = ""
        if f.contains(.self) { s += "self " }
        if f.contains(.router) { s += "router " }
        if f.contains(.extLearned) { s += "extern_learn " }
        if f.contains(.offloaded) { s += "offload " }
        if f.contains(.master) { s += "master " }
        if f.contains(.sticky) { s += "sticky " }
        return s
    }

    /// state_n2a().
    static func fdbState(_ s: NUDState) -> String {
        if s.contains(.permanent) { return "permanent" }
        if s.contains(.noARP) { return "static" }
        if s.contains(.stale) { return "stale" }
        if s.contains(.reachable) { return "" }
        return "state=0x" + String(s.rawValue, radix: 16)
    }

    static let fdbUsage = """
        Usage: bridge fdb { add | append | del | replace } ADDR dev DEV
                      [ self ] [ master ] [ use ] [ router ] [ extern_learn ]
                      [ sticky ] [ local | static | dynamic ] [ vlan VID ]
                      { [ dst IPADDR ] [ port PORT] [ vni VNI ] | [ nhid NHID ] }
        \t       [ via DEV ] [ src_vni VNI ]
               bridge fdb [ show [ br BRDEV ] [ brport DEV ] [ vlan VID ]
                      [ state STATE ] [ dynamic ] ]
               bridge fdb get [ to ] LLADDR [ br BRDEV ] { brport | dev } DEV
                      [ vlan VID ] [ vni VNI ] [ self ] [ master ] [ dynamic ]
               bridge fdb flush dev DEV [ brport DEV ] [ vlan VID ]
                      [ self ] [ master ] [ [no]permanent | [no]static | [no]dynamic ]
                      [ [no]added_by_user ] [ [no]extern_learn ] [ [no]sticky ]
                      [ [no]offloaded ]
        """

    // MARK: - bridge link

    static func link(_ args: [String], _ ctx: ToolContext, _ opts: Options) throws -> ShellOutcome {
        var rest = args
        if let c = rest.first, IPCommand.matches(c, "set") || IPCommand.matches(c, "change") {
            return try linkSet(Array(rest.dropFirst()), ctx)
        }
        if let c = rest.first, IPCommand.matches(c, "show") || IPCommand.matches(c, "list") { rest.removeFirst() }
        else if let c = rest.first {
            throw ToolFailure(message: "Command \"\(c)\" is unknown, try \"bridge link help\".", status: 255)
        }
        let ns = ctx.namespace
        var dev: NetDevice?
        var it = rest.makeIterator()
        while let a = it.next() {
            switch a {
            case "dev":
                let n = try IPCommand.next(&it)
                guard let d = ns.device(named: n) else { throw ToolFailure(message: "Cannot find device \"\(n)\"", status: 255) }
                dev = d
            default:
                throw IPCommand.duparg2("dev", a)
            }
        }
        for d in ns.devices {
            guard let m = d.master, let p = m.port(for: d) else { continue }
            if let f = dev, f !== d { continue }
            ctx.println("\(d.ifindex): \(nameWithLink(d, ns)): <\(IPFormat.flags(d, viewer: ns))> mtu \(d.mtu) master \(m.name) state \(p.state.name) priority 32 cost \(p.pathCost) ")
            if opts.details { ctx.println(portDetails(p)) }
        }
        return .finished(0)
    }

    /// bridge's print_linkinfo() names IFLA_LINK (a veth's peer ifindex) with ll_index_to_name()
    /// in its own namespace, even when the peer lives in another one. Observed on Linux 6.18:
    /// `3: va@br0:` for a veth whose peer is index 2 in a container, br0 being index 2 here.
    static func nameWithLink(_ d: NetDevice, _ ns: NetNamespace) -> String {
        guard let v = d as? VethDevice, let p = v.peer else { return IPFormat.nameWithLink(d) }
        return "\(d.name)@" + (ns.device(index: p.ifindex)?.name ?? "if\(p.ifindex)")
    }

    /// print_protinfo() under -d: the port flags; those not modelled at their defaults.
    /// Observed on Linux 6.18 (iproute2 6.1) for a new port:
    /// `    hairpin off guard off root_block off fastleave off learning on flood on mcast_flood on bcast_flood on mcast_router 1 mcast_to_unicast off neigh_suppress off vlan_tunnel off isolated off locked off `.
    static func portDetails(_ p: BridgePort) -> String {
        func o(_ b: Bool) -> String { b ? "on" : "off" }
        return "    hairpin \(o(p.hairpin)) guard off root_block off fastleave off learning \(o(p.learning)) "
            + "flood \(o(p.flood)) mcast_flood \(o(p.mcastFlood)) bcast_flood \(o(p.bcastFlood)) mcast_router 1 "
            + "mcast_to_unicast off neigh_suppress off vlan_tunnel off isolated off locked off "
    }

    /// brlink_modify(): `bridge link set dev DEV [learning|flood|mcast_flood|bcast_flood|
    /// hairpin on|off]` (IFLA_PROTINFO to the port's bridge). The other keywords of its usage
    /// are not modelled.
    static func linkSet(_ args: [String], _ ctx: ToolContext) throws -> ShellOutcome {
        var devName: String?
        var changes: [(WritableKeyPath<BridgePort, Bool>, Bool)] = []
        let keys: [String: WritableKeyPath<BridgePort, Bool>] = [
            "learning": \.learning, "flood": \.flood, "mcast_flood": \.mcastFlood,
            "bcast_flood": \.bcastFlood, "hairpin": \.hairpin,
        ]
        var it = args.makeIterator()
        while let a = it.next() {
            if a == "dev" {
                devName = try IPCommand.next(&it)
            } else if let k = keys[a] {
                let v = try IPCommand.next(&it)
                // parse_on_off(): observed on Linux 6.18, exit status 234 (main returns -EINVAL).
                guard v == "on" || v == "off" else {
                    throw ToolFailure(message: "Error: argument of \"\(a)\" must be one of \"off\", \"on\", not \"\(v)\"", status: 234)
                }
                changes.append((k, v == "on"))
            } else if linkSetKeywords.contains(a) {
                throw ToolFailure(message: "bridge link set: \"\(a)\" is not modelled by swnetsim", status: 255)
            } else {
                throw ToolFailure(message: linkUsage, status: 255)
            }
        }
        guard let name = devName else { throw ToolFailure(message: linkUsage, status: 255) }
        guard let dev = ctx.namespace.device(named: name) else {
            throw ToolFailure(message: "Cannot find bridge device \"\(name)\"", status: 255)
        }
        // Kernel: br_setlink() on a device that is no bridge port: EOPNOTSUPP.
        guard let br = dev.master, var p = br.port(for: dev) else { throw KernelError(.ENOTSUP) }
        for (k, v) in changes { p[keyPath: k] = v }
        return .finished(0)
    }

    static let linkSetKeywords: Set<String> = [
        "cost", "priority", "state", "guard", "fastleave", "root_block", "learning_sync", "mcast_router",
        "mcast_to_unicast", "neigh_suppress", "vlan_tunnel", "isolated", "locked", "hwmode", "backup_port",
        "nobackup_port", "self", "master",
    ]

    static let linkUsage = """
        Usage: bridge link set dev DEV [ cost COST ] [ priority PRIO ] [ state STATE ]
                                       [ guard {on | off} ]
                                       [ hairpin {on | off} ]
                                       [ fastleave {on | off} ]
                                       [ root_block {on | off} ]
                                       [ learning {on | off} ]
                                       [ learning_sync {on | off} ]
                                       [ flood {on | off} ]
                                       [ mcast_router MULTICAST_ROUTER ]
                                       [ mcast_flood {on | off} ]
                                       [ bcast_flood {on | off} ]
                                       [ mcast_to_unicast {on | off} ]
                                       [ neigh_suppress {on | off} ]
                                       [ vlan_tunnel {on | off} ]
                                       [ isolated {on | off} ]
                                       [ locked {on | off} ]
                                       [ hwmode {vepa | veb} ]
                                       [ backup_port DEVICE ] [ nobackup_port ]
                                       [ self ] [ master ]
               bridge link show [dev DEV]
        """
}
