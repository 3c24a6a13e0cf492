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
        var cache = false
        var rest: [String] = []
        var it = args.makeIterator()
        while let a = it.next() {
            if a == "--inet" || a == "--numeric" || a == "--extend" || a == "--verbose" || a == "--fib" {
                if a == "--numeric" { numeric = true }
                if a == "--extend" { extend += 1 }
                continue
            }
            if a.hasPrefix("-") && !["-net", "-host"].contains(a) && rest.isEmpty {
                for (i, c) in a.dropFirst().enumerated() {
                    switch c {
                    case "n", "N": numeric = true
                    case "e": extend += 1
                    case "v", "F", "4": break
                    case "C": cache = true
                    case "A":
                        // -A FAMILY (or -AFAMILY): only inet is modelled.
                        let attached = String(a.dropFirst(i + 2))
                        let family = attached.isEmpty ? (it.next() ?? "") : attached
                        guard family == "inet" else {
                            ctx.out.stdout(generalUsage + "\n")
                            return .finished(3)
                        }
                    case "h":
                        ctx.out.stdout(generalUsage + "\n")
                        return .finished(0)
                    default:
                        // getopt's complaint, then the usage, and net-tools 2.10 exits 0.
                        ctx.eprintln("route: invalid option -- '\(c)'")
                        ctx.out.stdout(generalUsage + "\n")
                        return .finished(0)
                    }
                    if c == "A" { break }
                }
            } else {
                rest.append(a)
            }
        }
        guard let cmd = rest.first else {
            if cache {
                // Linux has had no IPv4 routing cache since 3.6: /proc/net/rt_cache is empty.
                ctx.println("Kernel IP routing cache")
                ctx.println("Source          Destination     Gateway         Flags Metric Ref    Use Iface")
                return .finished(0)
            }
            return show(ctx, numeric: numeric, extend: extend)
        }
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
        if extend == 1 { header = "Destination     Gateway         Genmask         Flags   MSS Window  irtt Iface" }
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
            if extend == 1 {
                // net-tools' -e alone: MSS, window and irtt instead of metric, ref and use.
                let z = reject ? "-" : "0"
                ctx.println(col(dst, 15) + " " + col(gw, 15) + " " + col("\(r.destination.netmask)", 15) + " "
                    + col(flags, 5) + " " + CFormat.padLeft(z, 5) + " " + col(z, 6) + " " + CFormat.padLeft(z, 5) + " " + iface)
                continue
            }
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
        if args.isEmpty {
            // net-tools 2.10: `route add` or `route del` alone prints the usage and exits 0.
            ctx.eprintln(usage)
            return .finished(0)
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
                guard let v = it.next() else { return usageFail() }
                guard let g = IPv4Address(v) else {
                    ctx.eprintln("\(v): Unknown host")
                    return .finished(6)
                }
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
        // Kernel: rtentry_to_fib_config(): a -net target without a mask arrives with mask 0,
        // which its address then fails (bad_mask(): EINVAL) unless it is 0.0.0.0.
        var badMask = false
        if t == "default" {
            prefix = IPv4Prefix(address: .any, length: 0)
        } else if let p = IPv4Prefix(t, defaultLength: 32) {
            prefix = p
            var len: Int? = t.contains("/") ? p.length : nil
            if let m = netmask {
                let n = m.raw.nonzeroBitCount
                guard IPv4Prefix.mask(n) == m.raw else { return usageFail("bogus netmask \(m)") }
                len = n
            }
            if isHost != false {
                // net-tools' inet_setroute(): a host route's mask must be /32 (or /0); it
                // names the host bits of another in hex.
                if let l = len, l != 32, l != 0 {
                    let bits = String((UInt32(1) << UInt32(32 - l)) - 1, radix: 16)
                    return usageFail("netmask " + String(repeating: "0", count: 8 - bits.count) + bits + " doesn't make sense with host route")
                }
                prefix = IPv4Prefix(address: p.address, length: 32)
            } else if let l = len {
                prefix = IPv4Prefix(address: p.address, length: l)
                if prefix.address != prefix.network { return usageFail("netmask doesn't match route address") }
            } else {
                prefix = IPv4Prefix(address: p.address, length: 0)
                badMask = !p.address.isZero
            }
        } else {
            if t.contains("/") { return usageFail("netmask doesn't match route address") }
            // net-tools' route exits E_LOOKUP (6) when a name does not resolve.
            ctx.eprintln("\(t): \(isHost == false ? "Host name lookup failure" : "Unknown host")")
            return .finished(6)
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
            if badMask { throw KernelError(.EINVAL) }
            if add && reject {
                // Kernel: rtentry_to_fib_config(): RTF_REJECT makes an unreachable route of
                // host scope and ignores the gateway and the device.
                var r = Route(destination: prefix, device: nil)
                r.metric = metric
                r.type = .unreachable
                r.scope = .host
                try ns.addRoute(r)
            } else if add {
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
