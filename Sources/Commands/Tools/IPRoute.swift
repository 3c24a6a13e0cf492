// IPRoute: `ip route show|flush|add|del|change|replace|append|prepend|get` over a namespace's
// FIB, printed as iproute2's print_route() prints it (tokens each followed by a space; proto
// omitted for "boot", scope for "global", and any field a SELECTOR pinned; types other than
// unicast named first). Leaves out: save/restore, multipath, metrics (mtu, rtt...), IPv6.

import NetKernel
import Wire

enum IPRoute {
    static func run(_ args: [String], _ ctx: ToolContext, _ opts: IPOptions) throws -> ShellOutcome {
        guard let cmd = args.first else { return try show([], ctx, opts) }
        let rest = Array(args.dropFirst())
        if IPCommand.matches(cmd, "show") || IPCommand.matches(cmd, "list") || IPCommand.matches(cmd, "lst") {
            return try show(rest, ctx, opts)
        }
        if IPCommand.matches(cmd, "add") { return try modify(rest, ctx, .add, opts) }
        if IPCommand.matches(cmd, "delete") { return try modify(rest, ctx, .delete, opts) }
        if IPCommand.matches(cmd, "replace") { return try modify(rest, ctx, .replace, opts) }
        if IPCommand.matches(cmd, "append") { return try modify(rest, ctx, .append, opts) }
        if IPCommand.matches(cmd, "change") || cmd == "chg" { return try modify(rest, ctx, .change, opts) }
        if IPCommand.matches(cmd, "prepend") { return try modify(rest, ctx, .prepend, opts) }
        if IPCommand.matches(cmd, "get") { return try get(rest, ctx, opts) }
        if IPCommand.matches(cmd, "flush") { return try flush(rest, ctx, opts) }
        throw ToolFailure(message: "Command \"\(cmd)\" is unknown, try \"ip route help\".", status: 255)
    }

    static func tableID(_ s: String) throws -> UInt32? {
        switch s {
        case "main": return RouteTable.main
        case "local": return RouteTable.local
        case "default": return RouteTable.defaultTable
        case "all": return nil
        default:
            guard let n = UInt32(s) else { throw IPCommand.invarg("\"table\" value is invalid", s) }
            return n
        }
    }

    static func tableName(_ id: UInt32) -> String {
        switch id {
        case RouteTable.main: return "main"
        case RouteTable.local: return "local"
        case RouteTable.defaultTable: return "default"
        default: return String(id)
        }
    }

    /// Dump order of the fib trie: by destination, longer prefix first, then metric.
    static func dumpOrder(_ routes: [Route]) -> [Route] {
        routes.enumerated().sorted { a, b in
            let x = a.element, y = b.element
            if x.destination.address != y.destination.address { return x.destination.address < y.destination.address }
            if x.destination.length != y.destination.length { return x.destination.length > y.destination.length }
            if x.metric != y.metric { return x.metric < y.metric }
            return a.offset < b.offset
        }.map(\.element)
    }

    static func format(_ r: Route, showTable: Bool, filterDev: Bool) -> String {
        var sel = Selector()
        if filterDev { sel.device = r.device }
        return format(r, showTable: showTable, selector: sel)
    }

    /// Kernel of print_route(): a field the selector pinned to one value is left out.
    static func format(_ r: Route, showTable: Bool, selector f: Selector, details: Bool = false) -> String {
        var s = ""
        // -d: the type, protocol and scope even where they are the defaults.
        if r.type != .unicast || details { s += r.type.rawValue + " " }
        s += (r.destination.length == 0 ? "default" : (r.destination.length == 32 ? "\(r.destination.address)" : "\(r.destination)")) + " "
        if let g = r.gateway, f.via == nil { s += "via \(g) " }
        if let d = r.device, f.device == nil { s += "dev \(d.name) " }
        if showTable && r.table != RouteTable.main { s += "table \(tableName(r.table)) " }
        if (r.proto != .boot || details) && f.proto == nil { s += "proto \(r.proto.name) " }
        if (r.scope != .universe || details) && f.scope == nil { s += "scope \(r.scope.name) " }
        if let src = r.preferredSource, f.source == nil { s += "src \(src) " }
        if r.metric != 0 && f.metric == nil { s += "metric \(r.metric) " }
        if r.onlink { s += "onlink " }
        if r.isLinkDown { s += "linkdown " }
        return s
    }

    /// iproute2's route filter (SELECTOR of `ip route show|flush`); nil fields match anything.
    struct Selector {
        var table: UInt32? = RouteTable.main
        var device: NetDevice?
        var via: IPv4Address?
        var source: IPv4Address?
        var metric: UInt32?
        var proto: RouteProtocol?
        var scope: UInt8?
        var type: RouteType?
        /// `root P`: routes inside P; `match P`: routes containing P; `exact P` (or a bare
        /// prefix): both.
        var root: IPv4Prefix?
        var match: IPv4Prefix?

        func accepts(_ r: Route) -> Bool {
            if let d = device, r.device !== d { return false }
            if let v = via, r.gateway != v { return false }
            if let s = source, r.preferredSource != s { return false }
            if let m = metric, r.metric != m { return false }
            if let p = proto, r.proto != p { return false }
            if let s = scope, r.scope.rawValue != s { return false }
            if let t = type, r.type != t { return false }
            if let p = root, r.destination.length < p.length || !p.contains(r.destination.address) { return false }
            if let p = match, r.destination.length > p.length || !r.destination.contains(p.address) { return false }
            return true
        }
    }

    static func parseScope(_ v: String) -> UInt8? {
        switch v {
        case "global", "universe": return RouteScope.universe.rawValue
        case "site": return RouteScope.site.rawValue
        case "link": return RouteScope.link.rawValue
        case "host": return RouteScope.host.rawValue
        case "nowhere": return RouteScope.nowhere.rawValue
        default: return IPCommand.strtoul0(v).flatMap { $0 <= 255 ? UInt8($0) : nil }
        }
    }

    /// iproute2's rtnl_rtprot_a2n(): a name of rt_protos or a number up to 255.
    static func parseProto(_ v: String) -> RouteProtocol? {
        if let n = RouteProtocol.names.first(where: { $0.1 == v }) { return RouteProtocol(rawValue: n.0) }
        return IPCommand.strtoul0(v).flatMap { $0 <= 255 ? RouteProtocol(rawValue: UInt8($0)) : nil }
    }

    static let typeNames: [String: RouteType] = [
        "unicast": .unicast, "local": .local, "broadcast": .broadcast, "anycast": .anycast,
        "multicast": .multicast, "blackhole": .blackhole, "unreachable": .unreachable,
        "prohibit": .prohibit, "throw": .throwRoute,
    ]

    /// Parses a SELECTOR as iproute2's iproute_list_flush_or_save() does.
    static func selector(_ args: [String], _ ctx: ToolContext, _ opts: IPOptions) throws -> Selector {
        var f = Selector()
        func prefix(_ v: String) throws -> IPv4Prefix {
            if v == "default" || v == "all" || v == "any" { return IPv4Prefix(address: .any, length: 0) }
            guard let p = IPv4Prefix(v) ?? IPv4Address(v).map({ IPv4Prefix(address: $0, length: 32) }) else {
                throw badAddress(v, inet: opts.family4, prefix: true)
            }
            return p
        }
        func address(_ v: String) throws -> IPv4Address {
            guard let a = IPv4Address(v) else { throw badAddress(v, inet: opts.family4, prefix: true) }
            return a
        }
        var it = args.makeIterator()
        while let a = it.next() {
            switch a {
            case "table":
                let v = try IPCommand.next(&it)
                do { f.table = try tableID(v) } catch { throw IPCommand.invarg("table id value is invalid", v) }
                if f.table == 0 { f.table = nil }
            case "dev", "oif": f.device = try IPCommand.device(try IPCommand.next(&it), ctx)
            case "via": f.via = try address(try IPCommand.next(&it))
            case "src": f.source = try address(try IPCommand.next(&it))
            case "metric", "priority", "preference":
                let v = try IPCommand.next(&it)
                guard let m = IPCommand.strtoul0(v), m <= UInt32.max else { throw IPCommand.invarg("\"metric\" value is invalid", v) }
                f.metric = UInt32(m)
            case "protocol", "proto":
                let v = try IPCommand.next(&it)
                guard let p = parseProto(v) else { throw IPCommand.invarg("invalid \"protocol\"", v) }
                f.proto = p
            case "scope":
                let v = try IPCommand.next(&it)
                guard let sc = parseScope(v) else { throw IPCommand.invarg("invalid \"scope\"", v) }
                f.scope = sc
            case "type":
                let v = try IPCommand.next(&it)
                guard let t = typeNames[v] else { throw IPCommand.invarg("node type value is invalid", v) }
                f.type = t
            case "cache", "cached", "cloned": break
            case "root": f.root = try prefix(try IPCommand.next(&it))
            case "match": f.match = try prefix(try IPCommand.next(&it))
            case "exact":
                let p = try prefix(try IPCommand.next(&it))
                f.root = p
                f.match = p
            case "to": fallthrough
            default:
                let p = try prefix(a == "to" ? try IPCommand.next(&it) : a)
                f.root = p
                f.match = p
            }
        }
        return f
    }

    /// Table ids in the order the kernel dumps them (the fib table hash, by id modulo 256).
    static func dumpTables(_ fib: FIB, _ table: UInt32?) -> [UInt32] {
        if let t = table { return [t] }
        return fib.tables.map(\.id).sorted { ($0 & 255, $0) < ($1 & 255, $1) }
    }

    static func show(_ args: [String], _ ctx: ToolContext, _ opts: IPOptions = IPOptions()) throws -> ShellOutcome {
        let f = try selector(args, ctx, opts)
        let fib = ctx.namespace.fib
        if let t = f.table, !fib.hasTable(t) {
            throw ToolFailure(message: "Error: ipv4: FIB table does not exist.\nDump terminated", status: 2)
        }
        for id in dumpTables(fib, f.table) {
            for r in dumpOrder(fib.routes(in: id)) where f.accepts(r) {
                ctx.println(format(r, showTable: f.table == nil, selector: f, details: opts.details))
            }
        }
        return .finished(0)
    }

    /// `ip route flush SELECTOR`: every route the selector shows is deleted.
    static func flush(_ args: [String], _ ctx: ToolContext, _ opts: IPOptions) throws -> ShellOutcome {
        guard !args.isEmpty else { throw ToolFailure(message: "\"ip route flush\" requires arguments.", status: 1) }
        if args.contains("cache") || args.contains("cached") || args.contains("cloned") { return .finished(0) }
        let f = try selector(args, ctx, opts)
        let fib = ctx.namespace.fib
        if let t = f.table, !fib.hasTable(t) {
            throw ToolFailure(message: "Error: ipv4: FIB table does not exist.\nFlush terminated", status: 2)
        }
        fib.flush(table: f.table) { f.accepts($0) }
        return .finished(0)
    }

    enum Mode { case add, delete, replace, append, change, prepend }

    /// iproute2's get_addr()/get_prefix() failure: the family is "inet" once -4 was given or an
    /// address or prefix other than "default" was parsed (rtm_family is set from it), else "any valid".
    static func badAddress(_ s: String, inet: Bool, prefix: Bool = false) -> ToolFailure {
        ToolFailure(message: "Error: \(inet ? "inet" : "any valid") \(prefix ? "prefix" : "address") is expected rather than \"\(s)\".", status: 1)
    }

    static func modify(_ args: [String], _ ctx: ToolContext, _ mode: Mode, _ opts: IPOptions = IPOptions()) throws -> ShellOutcome {
        var inet = opts.family4
        var type: RouteType = .unicast
        var dst: IPv4Prefix?
        var gw: IPv4Address?
        var devName: String?
        var metric: UInt32?
        var src: IPv4Address?
        var proto: RouteProtocol = .boot
        var protoGiven = false
        var tableGiven = false
        var scope: RouteScope?
        var table = RouteTable.main
        var onlink = false
        var it = args.makeIterator()
        while let a = it.next() {
            switch a {
            case "via":
                let v = try IPCommand.next(&it)
                guard let g = IPv4Address(v) else { throw badAddress(v, inet: inet) }
                gw = g
                inet = true
            case "dev", "oif": devName = try IPCommand.next(&it)
            case "metric", "priority", "preference":
                let v = try IPCommand.next(&it)
                guard let m = IPCommand.strtoul0(v), m <= UInt32.max else { throw IPCommand.invarg("\"metric\" value is invalid", v) }
                metric = UInt32(m)
            case "src":
                let v = try IPCommand.next(&it)
                guard let s = IPv4Address(v) else { throw badAddress(v, inet: inet) }
                src = s
                inet = true
            case "proto", "protocol":
                let v = try IPCommand.next(&it)
                guard let p = parseProto(v) else { throw IPCommand.invarg("\"protocol\" value is invalid", v) }
                proto = p
                protoGiven = true
            case "scope":
                let v = try IPCommand.next(&it)
                switch v {
                case "global", "universe": scope = .universe
                case "link": scope = .link
                case "host": scope = .host
                default: throw IPCommand.invarg("invalid \"scope\" value", v)
                }
            case "table":
                guard let t = try tableID(try IPCommand.next(&it)) else { throw IPCommand.invarg("\"table\" value is invalid", "all") }
                table = t == 0 ? RouteTable.main : t  // RT_TABLE_UNSPEC: the kernel uses main
                tableGiven = true
            case "onlink": onlink = true
            case "unicast": type = .unicast
            case "blackhole": type = .blackhole
            case "unreachable": type = .unreachable
            case "prohibit": type = .prohibit
            case "local": type = .local
            case "broadcast": type = .broadcast
            case "throw": type = .throwRoute
            case "to":
                let v = try IPCommand.next(&it)
                dst = try parseDestination(v, inet: inet)
                if v != "default" && v != "all" && v != "any" { inet = true }
            default:
                if dst != nil { throw IPCommand.duparg2("to", a) }
                dst = try parseDestination(a, inet: inet)
                if a != "default" && a != "all" && a != "any" { inet = true }
            }
        }
        guard let d = dst else {
            throw ToolFailure(message: "Error: either \"to\" is duplicate, or \"\" is a garbage.", status: 255)
        }
        // iproute2: local, broadcast and anycast routes go to the local table unless told.
        if !tableGiven && (type == .local || type == .broadcast || type == .anycast) { table = RouteTable.local }
        if d.address != d.network {
            throw ToolFailure(message: "Error: Invalid prefix for given prefix length.", status: 2)
        }
        let ns = ctx.namespace
        var dev: NetDevice?
        if let n = devName { dev = try IPCommand.device(n, ctx) }
        if mode == .delete {
            // iproute2 leaves protocol and scope unset for a delete unless they are given.
            try ns.fib.delete(destination: d, table: table, device: dev, gateway: gw, metric: metric,
                              type: type == .unicast ? nil : type, proto: protoGiven ? proto : nil, scope: scope)
            return .finished(0)
        }
        var r = Route(destination: d, device: dev)
        r.type = type
        r.table = table
        r.gateway = gw
        r.metric = metric ?? 0
        r.preferredSource = src
        r.proto = proto
        r.onlink = onlink
        // iproute2 picks the scope: link for a device route, host for local, global otherwise.
        r.scope = scope ?? (type == .local ? .host : (type == .unicast && gw == nil ? .link : .universe))
        let how: RouteAddMode
        switch mode {
        case .replace: how = .replace
        case .append: how = .append
        case .change: how = .change
        case .prepend: how = .prepend
        case .add, .delete: how = .add
        }
        try ns.addRoute(r, mode: how)
        return .finished(0)
    }

    static func parseDestination(_ s: String, inet: Bool = false) throws -> IPv4Prefix {
        if s == "default" || s == "all" || s == "any" { return IPv4Prefix(address: .any, length: 0) }
        guard let p = IPv4Prefix(s) else { throw badAddress(s, inet: inet, prefix: true) }
        return p
    }

    /// `ip route get ADDR [from ADDR] [oif|dev DEV] [mark N]`: the route an output lookup finds,
    /// as iproute2 prints the kernel's answer.
    static func get(_ args: [String], _ ctx: ToolContext, _ opts: IPOptions = IPOptions()) throws -> ShellOutcome {
        var dst: IPv4Address?
        var from: IPv4Address?
        var oif: NetDevice?
        var mark: UInt32?
        var inet = opts.family4
        func address(_ v: String) throws -> IPv4Address {
            var text = v
            if let slash = v.firstIndex(of: "/") {
                guard let p = IPv4Prefix(v) else { throw badAddress(v, inet: inet, prefix: true) }
                if p.length != 32 {
                    ctx.eprintln("Warning: /\(p.length) as prefix is invalid, only /32 (or none) is supported.")
                }
                text = String(v[..<slash])
            }
            guard let a = IPv4Address(text) else { throw badAddress(v, inet: inet, prefix: true) }
            inet = true
            return a
        }
        var it = args.makeIterator()
        while let a = it.next() {
            switch a {
            case "from": from = try address(try IPCommand.next(&it))
            case "oif", "dev": oif = try IPCommand.device(try IPCommand.next(&it), ctx)
            case "mark":
                let v = try IPCommand.next(&it)
                guard let m = IPCommand.strtoul0(v), m <= UInt32.max else { throw IPCommand.invarg("invalid mark value", v) }
                mark = UInt32(m)
            case "fibmatch", "connected": break
            case "to": dst = try address(try IPCommand.next(&it))
            default: dst = try address(a)
            }
        }
        guard let dst else { throw ToolFailure(message: "need at least a destination address", status: 1) }
        let route: OutputRoute
        do {
            route = try ctx.namespace.routeOutput(to: dst, source: from, oif: oif)
        } catch let e as KernelError {
            throw ToolFailure(message: IPCommand.rtnetlinkMessage(e), status: 2)
        }
        var s = ""
        if opts.details { s += route.type.rawValue + " " } else {
            if route.type == .local { s += "local " }
            if route.type == .broadcast { s += "broadcast " }
        }
        s += "\(dst) "
        if let from { s += "from \(from) " }
        if route.nextHop != dst && route.type != .local { s += "via \(route.nextHop) " }
        s += "dev \(route.device.name) "
        if opts.details, let t = route.route?.table { s += "table \(tableName(t)) " }
        if from == nil { s += "src \(route.source) " }
        if let mark { s += "mark \(mark) " }
        s += "uid 0 "
        ctx.println(s)
        switch route.type {
        case .local: ctx.println("    cache <local> ")
        case .broadcast: ctx.println("    cache <local,brd> ")
        default: ctx.println("    cache ")
        }
        return .finished(0)
    }
}
