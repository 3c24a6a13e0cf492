// IPRoute: `ip route show|add|del|replace|get` over a namespace's FIB, printed as iproute2's
// print_route() prints it (tokens each followed by a space; proto omitted for "boot", scope
// for "global"; types other than unicast named first).

import NetKernel
import Wire

enum IPRoute {
    static func run(_ args: [String], _ ctx: ToolContext, _ opts: IPOptions) throws -> ShellOutcome {
        guard let cmd = args.first else { return try show([], ctx) }
        let rest = Array(args.dropFirst())
        if IPCommand.matches(cmd, "show") || IPCommand.matches(cmd, "list") || IPCommand.matches(cmd, "lst") {
            return try show(rest, ctx)
        }
        if IPCommand.matches(cmd, "add") { return try modify(rest, ctx, .add, opts) }
        if IPCommand.matches(cmd, "delete") { return try modify(rest, ctx, .delete, opts) }
        if IPCommand.matches(cmd, "replace") { return try modify(rest, ctx, .replace, opts) }
        if IPCommand.matches(cmd, "append") { return try modify(rest, ctx, .append, opts) }
        if IPCommand.matches(cmd, "get") { return try get(rest, ctx) }
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
        var s = ""
        if r.type != .unicast { s += r.type.rawValue + " " }
        s += (r.destination.length == 0 ? "default" : (r.destination.length == 32 ? "\(r.destination.address)" : "\(r.destination)")) + " "
        if let g = r.gateway { s += "via \(g) " }
        if let d = r.device, !filterDev { s += "dev \(d.name) " }
        if showTable && r.table != RouteTable.main { s += "table \(tableName(r.table)) " }
        if r.proto != .boot { s += "proto \(r.proto.name) " }
        if r.scope != .universe { s += "scope \(r.scope.name) " }
        if let src = r.preferredSource { s += "src \(src) " }
        if r.metric != 0 { s += "metric \(r.metric) " }
        if r.onlink { s += "onlink " }
        if r.isLinkDown { s += "linkdown " }
        return s
    }

    static func show(_ args: [String], _ ctx: ToolContext) throws -> ShellOutcome {
        var table: UInt32? = RouteTable.main
        var dev: NetDevice?
        var it = args.makeIterator()
        while let a = it.next() {
            switch a {
            case "table": table = try tableID(try IPCommand.next(&it))
            case "dev": dev = try IPCommand.device(try IPCommand.next(&it), ctx)
            default:
                throw IPCommand.invarg("unsupported filter", a)
            }
        }
        let fib = ctx.namespace.fib
        let ids = table.map { [$0] } ?? fib.tables.map(\.id).sorted { $0 == RouteTable.main ? true : ($1 == RouteTable.main ? false : $0 < $1) }
        for id in ids {
            for r in dumpOrder(fib.routes(in: id)) {
                if let d = dev, r.device !== d { continue }
                ctx.println(format(r, showTable: table == nil, filterDev: dev != nil))
            }
        }
        return .finished(0)
    }

    enum Mode { case add, delete, replace, append }

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
                guard let m = UInt32(v) else { throw IPCommand.invarg("\"metric\" value is invalid", v) }
                metric = m
            case "src":
                let v = try IPCommand.next(&it)
                guard let s = IPv4Address(v) else { throw badAddress(v, inet: inet) }
                src = s
                inet = true
            case "proto", "protocol":
                let v = try IPCommand.next(&it)
                switch v {
                case "kernel": proto = .kernel
                case "boot": proto = .boot
                case "static": proto = .staticRoute
                case "dhcp": proto = .dhcp
                default: throw IPCommand.invarg("\"protocol\" value is invalid", v)
                }
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
                table = t
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
        if d.address != d.network {
            throw ToolFailure(message: "Error: Invalid prefix for given prefix length.", status: 2)
        }
        let ns = ctx.namespace
        var dev: NetDevice?
        if let n = devName { dev = try IPCommand.device(n, ctx) }
        if mode == .delete {
            try ns.fib.delete(destination: d, table: table, device: dev, gateway: gw, metric: metric,
                              type: type == .unicast ? nil : type)
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
        try ns.addRoute(r, mode: mode == .replace ? .replace : (mode == .append ? .append : .add))
        return .finished(0)
    }

    static func parseDestination(_ s: String, inet: Bool = false) throws -> IPv4Prefix {
        if s == "default" || s == "all" || s == "any" { return IPv4Prefix(address: .any, length: 0) }
        guard let p = IPv4Prefix(s) else { throw badAddress(s, inet: inet, prefix: true) }
        return p
    }

    /// `ip route get ADDR`: the route an output lookup finds, as iproute2 prints the result.
    static func get(_ args: [String], _ ctx: ToolContext) throws -> ShellOutcome {
        guard let a = args.first(where: { $0 != "to" }), let dst = IPv4Address(a) else {
            throw ToolFailure(message: "Error: inet prefix is expected rather than \"\(args.first ?? "")\".", status: 1)
        }
        let route: OutputRoute
        do {
            route = try ctx.namespace.routeOutput(to: dst)
        } catch let e as KernelError {
            throw ToolFailure(message: IPCommand.rtnetlinkMessage(e), status: 2)
        }
        var s = ""
        if route.type == .local { s += "local " }
        if route.type == .broadcast { s += "broadcast " }
        s += "\(dst) "
        if route.nextHop != dst { s += "via \(route.nextHop) " }
        s += "dev \(route.device.name) src \(route.source) uid 0 "
        ctx.println(s)
        ctx.println(route.type == .local ? "    cache <local> " : "    cache ")
        return .finished(0)
    }
}
