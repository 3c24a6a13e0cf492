// RouteCommand: net-tools' route: the main table as /proc/net/route shows it (`route -n`,
// `route -e`), and `route add|del` through the SIOCADDRT/SIOCDELRT ioctls, with net-tools'
// column layout, flags and messages.

import NetKernel
import Wire

enum RouteCommand {
    static let usage = """
    Usage: inet_route [-vF] del {-host|-net} Target[/prefix] [gw Gw] [metric M] [[dev] If]
           inet_route [-vF] add {-host|-net} Target[/prefix] [gw Gw] [metric M]
                                  [netmask N] [mss Mss] [window W] [irtt I]
                                  [mod] [dyn] [reinstate] [[dev] If]
           inet_route [-vF] add {-host|-net} Target[/prefix] [metric M] reject
           inet_route [-FC] flush      NOT supported
    """

    static let generalUsage = """
    Usage: route [-nNvee] [-FC] [<AF>]           List kernel routing tables
           route [-v] [-FC] {add|del|flush} ...  Modify routing table for AF.

           route {-h|--help} [<AF>]              Detailed usage syntax for specified AF.
           route {-V|--version}                  Display version/author and exit.

            -v, --verbose            be verbose
            -n, --numeric            don't resolve names
            -e, --extend             display other/more information
            -F, --fib                display Forwarding Information Base (default)
            -C, --cache              display routing cache instead of FIB

      <AF>=Use -4, -6, '-A <af>' or '--<af>'; default: inet
      List of possible address families (which support routing):
        inet (DARPA Internet) inet6 (IPv6) ax25 (AMPR AX.25) 
        netrom (AMPR NET/ROM) rose (AMPR ROSE) ipx (Novell IPX) 
        ddp (Appletalk DDP) x25 (CCITT X.25) 
    """

    static func run(_ args: [String], _ ctx: ToolContext) -> ShellOutcome {
        var numeric = false
        var extend = 0
        var rest: [String] = []
        for a in args {
            if a.hasPrefix("-") && !["-net", "-host"].contains(a) && rest.isEmpty {
                for c in a.dropFirst() {
                    switch c {
                    case "n", "N": numeric = true
                    case "e": extend += 1
                    case "v", "F", "4": break
                    default:
                        ctx.out.stdout(generalUsage + "\n")
                        return .finished(3)
                    }
                }
            } else {
                rest.append(a)
            }
        }
        guard let cmd = rest.first else { return show(ctx, numeric: numeric, extend: extend) }
        switch cmd {
        case "add", "del", "delete": return modify(Array(rest.dropFirst()), ctx, add: cmd == "add")
        default:
            ctx.out.stdout(generalUsage + "\n")
            return .finished(3)
        }
    }

    static func col(_ s: String, _ w: Int) -> String { CFormat.padRight(s, w) }

    /// Kernel: fib_route_seq_show() (/proc/net/route) as net-tools' rprint_fib() formats it.
    static func show(_ ctx: ToolContext, numeric: Bool, extend: Int) -> ShellOutcome {
        ctx.println("Kernel IP routing table")
        var header = "Destination     Gateway         Genmask         Flags Metric Ref    Use Iface"
        if extend >= 2 { header += "    MSS   Window irtt" }
        ctx.println(header)
        for r in IPRoute.dumpOrder(ctx.namespace.fib.routes(in: RouteTable.main)) {
            // Kernel: fib_flag_trans() gives RTF_REJECT to unreachable and prohibit only; a
            // blackhole route shows as a plain up route without a device (Linux 6.18).
            let reject = r.type == .unreachable || r.type == .prohibit
            guard r.type == .unicast || r.type == .blackhole || reject else { continue }
            var flags = reject ? "!" : "U"
            if r.gateway != nil { flags += "G" }
            if r.destination.length == 32 { flags += "H" }
            let dst = (!numeric && r.destination.length == 0) ? "default" : "\(r.destination.address)"
            let gw = reject ? "-" : "\(r.gateway ?? .any)"
            let iface = reject ? "-" : (r.device?.name ?? "*")
            var line = col(dst, 15) + " " + col(gw, 15) + " " + col("\(r.destination.netmask)", 15) + " "
                + col(flags, 5) + " " + col(String(r.metric), 6) + " " + col(reject ? "-" : "0", 2) + " "
                + CFormat.padLeft("0", 7) + " "
            if extend >= 2 {
                line += col(iface, 8) + " " + col(reject ? "-" : "0", 5) + " " + col(reject ? "-" : "0", 6) + " " + (reject ? "-" : "0")
            } else {
                line += iface
            }
            ctx.println(line)
        }
        return .finished(0)
    }

    static func modify(_ args: [String], _ ctx: ToolContext, add: Bool) -> ShellOutcome {
        func usageFail(_ msg: String? = nil) -> ShellOutcome {
            if let m = msg { ctx.eprintln("route: " + m) }
            ctx.eprintln(usage)
            return .finished(3)
        }
        var isHost: Bool?
        var target: String?
        var netmask: IPv4Address?
        var gw: IPv4Address?
        var metric: UInt32 = 0
        var devName: String?
        var reject = false
        var it = args.makeIterator()
        while let a = it.next() {
            switch a {
            case "-net": isHost = false
            case "-host": isHost = true
            case "gw", "gateway":
                guard let v = it.next(), let g = IPv4Address(v) else { return usageFail() }
                gw = g
            case "netmask":
                guard let v = it.next(), let m = IPv4Address(v) else { return usageFail() }
                netmask = m
            case "metric":
                guard let v = it.next(), let m = UInt32(v) else { return usageFail() }
                metric = m
            case "dev":
                guard let v = it.next() else { return usageFail() }
                devName = v
            case "reject": reject = true
            case "mss", "window", "irtt":
                _ = it.next()
            case "mod", "dyn", "reinstate": break
            default:
                if target == nil { target = a } else if devName == nil { devName = a } else { return usageFail() }
            }
        }
        guard let t = target else { return usageFail() }
        var prefix: IPv4Prefix
        if t == "default" {
            prefix = IPv4Prefix(address: .any, length: 0)
        } else if let p = IPv4Prefix(t, defaultLength: 32) {
            prefix = p
            if let m = netmask {
                let len = m.raw.nonzeroBitCount
                guard IPv4Prefix.mask(len) == m.raw else { return usageFail("bogus netmask \(m)") }
                prefix = IPv4Prefix(address: p.address, length: len)
            } else if !t.contains("/") && isHost == false {
                // A -net target without a mask gets its classful mask, as net-tools guesses.
                let first = p.address.raw >> 24
                prefix = IPv4Prefix(address: p.address, length: first < 128 ? 8 : (first < 192 ? 16 : 24))
            }
            if prefix.address != prefix.network { return usageFail("netmask doesn't match route address") }
        } else {
            if t.contains("/") { return usageFail("netmask doesn't match route address") }
            ctx.eprintln("\(t): Unknown host")
            return .finished(3)
        }
        var dev: NetDevice?
        if let n = devName {
            guard let d = ctx.namespace.device(named: n) else {
                ctx.eprintln("SIOC\(add ? "ADD" : "DEL")RT: No such device")
                return .finished(7)
            }
            dev = d
        }
        let ns = ctx.namespace
        do {
            if add {
                var r = Route(destination: prefix, device: dev)
                r.gateway = gw
                r.metric = metric
                r.type = reject ? .unreachable : .unicast
                r.scope = gw == nil && !reject ? .link : .universe
                r.proto = .boot
                try ns.addRoute(r)
            } else {
                try ns.fib.delete(destination: prefix, table: RouteTable.main, device: dev, gateway: gw,
                                  metric: metric == 0 ? nil : metric, type: reject ? .unreachable : nil)
            }
        } catch let e as KernelError {
            ctx.eprintln("SIOC\(add ? "ADD" : "DEL")RT: \(e.errno.message)")
            return .finished(7)
        } catch {
            return .finished(7)
        }
        return .finished(0)
    }
}
