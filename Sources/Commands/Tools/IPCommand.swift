// IPCommand: iproute2's `ip` for the objects the labs use: link, address, neighbour, netns
// (route comes with the routing layer). Parses in iproute2's own shape (objects and keywords
// by prefix where iproute2 uses matches(), exact where it uses strcmp()) and words errors
// and exit codes as iproute2 6.1 does.

import SimCore
import NetKernel
import Wire

/// An iproute2-style failure: message on stderr, exit status.
struct ToolFailure: Error {
    let message: String
    let status: Int32
    /// iproute2's invarg() prints an empty line after the message.
    var extraNewline = false
}

struct IPOptions {
    var brief = false
    var oneline = false
    var stats = false
    /// How many times -s was given (-s -s adds the error breakdowns).
    var statsLevel = 0
    var details = false
    var family4 = false
}

enum IPCommand {
    /// iproute2's matches(): `arg` is a non-empty prefix of `keyword`.
    static func matches(_ arg: String, _ keyword: String) -> Bool {
        !arg.isEmpty && keyword.hasPrefix(arg)
    }

    static func run(_ args: [String], _ ctx: ToolContext) -> ShellOutcome {
        do {
            return try dispatch(args, ctx)
        } catch let f as ToolFailure {
            ctx.eprintln(f.message)
            if f.extraNewline { ctx.eprintln("") }
            return .finished(f.status)
        } catch let e as KernelError {
            ctx.eprintln(rtnetlinkMessage(e))
            return .finished(2)
        } catch {
            ctx.eprintln("\(error)")
            return .finished(1)
        }
    }

    /// "RTNETLINK answers: File exists", or the kernel's extack text as "Error: ...".
    static func rtnetlinkMessage(_ e: KernelError) -> String {
        // iproute2 ends the extended-ack text with a period when the kernel did not.
        if let x = e.extack { return "Error: \(x)" + (x.hasSuffix(".") ? "" : ".") }
        return "RTNETLINK answers: \(e.errno.message)"
    }

    static func dispatch(_ all: [String], _ ctx: ToolContext) throws -> ShellOutcome {
        var args = ArraySlice(all)
        var opts = IPOptions()
        var ctx = ctx
        while let a = args.first, a.hasPrefix("-"), a.count > 1 {
            args = args.dropFirst()
            var o = String(a.dropFirst())
            if o.hasPrefix("-") { o = String(o.dropFirst()) }
            switch o {
            case "n", "netns":
                guard let name = args.first else { throw ToolFailure(message: "No netns name specified", status: 255) }
                args = args.dropFirst()
                guard let ns = ctx.machine.namespace(named: name) else {
                    throw ToolFailure(message: "Cannot open network namespace \"\(name)\": No such file or directory", status: 255)
                }
                ctx = ctx.with(namespace: ns)
            case "4": opts.family4 = true
            case "s", "stats", "statistics": opts.stats = true; opts.statsLevel += 1
            case "d", "details": opts.details = true
            case "o", "oneline": opts.oneline = true
            case "br", "brief": opts.brief = true
            case "c", "color", "color=never", "color=auto": break
            default:
                if matches(o, "brief") { opts.brief = true; continue }
                if matches(o, "oneline") { opts.oneline = true; continue }
                if matches(o, "statistics") { opts.stats = true; opts.statsLevel += 1; continue }
                if matches(o, "details") { opts.details = true; continue }
                throw ToolFailure(message: "Option \"\(a)\" is unknown, try \"ip -help\".", status: 255)
            }
        }
        guard let obj = args.first else {
            throw ToolFailure(message: usage, status: 255)
        }
        let rest = Array(args.dropFirst())
        // Object table order decides abbreviations, as in ip.c.
        let objects = ["address", "addrlabel", "maddress", "route", "rule", "neighbor", "neighbour", "ntable",
                       "link", "l2tp", "fou", "ila", "macsec", "tunnel", "tuntap", "token", "tcpmetrics",
                       "monitor", "xfrm", "mroute", "mrule", "netns", "netconf", "vrf", "sr", "nexthop",
                       "mptcp", "ioam", "stats", "help"]
        guard let o = objects.first(where: { matches(obj, $0) }) else {
            throw ToolFailure(message: "Object \"\(obj)\" is unknown, try \"ip help\".", status: 1)
        }
        switch o {
        case "link": return try IPLink.run(rest, ctx, opts)
        case "address": return try IPAddress.run(rest, ctx, opts)
        case "neighbor", "neighbour": return try IPNeigh.run(rest, ctx, opts)
        case "netns": return try IPNetns.run(rest, ctx, opts)
        case "route": return try IPRoute.run(rest, ctx, opts)
        case "tuntap": return try IPTuntap.run(rest, ctx, opts)
        default:
            throw ToolFailure(message: "ip \(o): not modelled by swnetsim", status: 1)
        }
    }

    static let usage = """
    Usage: ip [ OPTIONS ] OBJECT { COMMAND | help }
           ip [ -force ] -batch filename
    where  OBJECT := { address | addrlabel | fou | help | ila | ioam | l2tp | link |
                       macsec | maddress | monitor | mptcp | mroute | mrule |
                       neighbor | neighbour | netconf | netns | nexthop | ntable |
                       ntbl | route | rule | sr | tap | tcpmetrics |
                       token | tunnel | tuntap | vrf | xfrm }
           OPTIONS := { -V[ersion] | -s[tatistics] | -d[etails] | -r[esolve] |
                        -h[uman-readable] | -iec | -j[son] | -p[retty] |
                        -f[amily] { inet | inet6 | mpls | bridge | link } |
                        -4 | -6 | -M | -B | -0 |
                        -l[oops] { maximum-addr-flush-attempts } | -br[ief] |
                        -o[neline] | -t[imestamp] | -ts[hort] | -b[atch] [filename] |
                        -rc[vbuf] [size] | -n[etns] name | -N[umeric] | -a[ll] |
                        -c[olor]}
    """

    // MARK: - Shared argument helpers

    static func device(_ name: String, _ ctx: ToolContext) throws -> NetDevice {
        guard let d = ctx.namespace.device(named: name) else {
            throw ToolFailure(message: "Cannot find device \"\(name)\"", status: 1)
        }
        return d
    }

    /// iproute2's invarg(). Some of its messages end in "\n" themselves (`Invalid "mtu" value\n`),
    /// which prints an empty line after them; `extraNewline: false` for those that do not.
    static func invarg(_ msg: String, _ arg: String, extraNewline: Bool = true) -> ToolFailure {
        ToolFailure(message: "Error: argument \"\(arg)\" is wrong: \(msg)", status: 255, extraNewline: extraNewline)
    }

    /// iproute2's check_ifname(): at most 15 bytes, not empty, no '/' and no white space
    /// (check_altifname() drops the length limit, which the kernel then enforces).
    static func validIfname(_ n: String, alt: Bool) -> Bool {
        !n.isEmpty && (alt || n.utf8.count < 16) && !n.contains("/") && !n.contains(where: { $0.isWhitespace })
    }

    static func duparg2(_ key: String, _ arg: String) -> ToolFailure {
        ToolFailure(message: "Error: either \"\(key)\" is duplicate, or \"\(arg)\" is a garbage.", status: 255)
    }

    static let incomplete = ToolFailure(message: "Command line is not complete. Try option \"help\"", status: 255)

    static func next(_ it: inout IndexingIterator<[String]>) throws -> String {
        guard let v = it.next() else { throw incomplete }
        return v
    }

    /// strtoul(s, &end, 0) that must consume the whole word: "0x" hex, a leading 0 octal,
    /// else decimal (iproute2's get_u32(..., 0) and friends).
    static func strtoul0(_ s: String) -> UInt64? {
        guard !s.isEmpty else { return nil }
        if s.hasPrefix("0x") || s.hasPrefix("0X") { return UInt64(s.dropFirst(2), radix: 16) }
        if s.hasPrefix("0") && s.count > 1 { return UInt64(s.dropFirst(), radix: 8) }
        return UInt64(s, radix: 10)
    }

    static func lladdr(_ s: String) throws -> MACAddress {
        guard let m = MACAddress(s) else {
            let bad = s.split(separator: ":", omittingEmptySubsequences: false).first { UInt8($0, radix: 16) == nil || $0.count > 2 }
            throw ToolFailure(message: "\"\(bad.map(String.init) ?? s)\" is invalid lladdr.", status: 1)
        }
        return m
    }
}

// MARK: - ip link

enum IPLink {
    static func run(_ args: [String], _ ctx: ToolContext, _ opts: IPOptions) throws -> ShellOutcome {
        guard let cmd = args.first else { return try showChecked([], ctx, opts) }
        let rest = Array(args.dropFirst())
        if IPCommand.matches(cmd, "add") { return try add(rest, ctx) }
        if IPCommand.matches(cmd, "set") || IPCommand.matches(cmd, "change") { return try set(rest, ctx) }
        if IPCommand.matches(cmd, "delete") { return try delete(rest, ctx) }
        if IPCommand.matches(cmd, "show") || IPCommand.matches(cmd, "list") || IPCommand.matches(cmd, "lst") {
            return try showChecked(rest, ctx, opts)
        }
        throw ToolFailure(message: "Command \"\(cmd)\" is unknown, try \"ip link help\".", status: 255)
    }

    /// The device-level attributes iplink_parse() accepts, shared by add, set and a veth peer.
    struct Parsed {
        var dev: String?
        var change = LinkChange()
        var type: String?
        var typeArgs: [String] = []
    }

    static func parse(_ args: [String], _ ctx: ToolContext, forAdd: Bool) throws -> Parsed {
        var p = Parsed()
        var it = args.makeIterator()
        while let a = it.next() {
            switch a {
            case "up": p.change.up = true
            case "down": p.change.up = false
            case "name":
                let n = try IPCommand.next(&it)
                guard IPCommand.validIfname(n, alt: false) else {
                    throw IPCommand.invarg("\"name\" not a valid ifname", n, extraNewline: false)
                }
                if forAdd { p.dev = n } else { p.change.name = n }
            case "mtu":
                let v = try IPCommand.next(&it)
                guard let m = Int(v), m >= 0 else { throw IPCommand.invarg("Invalid \"mtu\" value", v) }
                p.change.mtu = m
            case "netns":
                let v = try IPCommand.next(&it)
                guard let ns = ctx.machine.namespace(named: v) else { throw IPCommand.invarg("Invalid \"netns\" value", v) }
                p.change.namespace = ns
            case "master":
                let v = try IPCommand.next(&it)
                guard let m = ctx.namespace.device(named: v) else { throw IPCommand.invarg("Device does not exist", v) }
                p.change.master = .set(m)
            case "nomaster": p.change.master = LinkChange.Master.none
            case "promisc": p.change.promisc = try onOff("promisc", try IPCommand.next(&it))
            case "arp": p.change.arp = try onOff("arp", try IPCommand.next(&it))
            case "multicast": p.change.multicast = try onOff("multicast", try IPCommand.next(&it))
            case "allmulticast": p.change.allMulticast = try onOff("allmulticast", try IPCommand.next(&it))
            default:
                if IPCommand.matches(a, "address") {
                    p.change.address = try IPCommand.lladdr(try IPCommand.next(&it))
                } else if IPCommand.matches(a, "txqueuelen") || a == "qlen" || IPCommand.matches(a, "txqlen") {
                    let v = try IPCommand.next(&it)
                    guard let q = Int(v), q >= 0 else { throw IPCommand.invarg("Invalid \"txqueuelen\" value", v) }
                    p.change.txQueueLen = q
                } else if IPCommand.matches(a, "type") {
                    p.type = try IPCommand.next(&it)
                    while let x = it.next() { p.typeArgs.append(x) }
                } else if IPCommand.matches(a, "help") {
                    throw ToolFailure(message: "Usage: ip link add [link DEV | parentdev NAME] [ name ] NAME", status: 255)
                } else {
                    var name = a
                    if a == "dev" { name = try IPCommand.next(&it) }
                    if p.dev != nil { throw IPCommand.duparg2("dev", name) }
                    guard IPCommand.validIfname(name, alt: true) else {
                        throw IPCommand.invarg("\"dev\" not a valid ifname", name, extraNewline: false)
                    }
                    p.dev = name
                }
            }
        }
        return p
    }

    static func onOff(_ key: String, _ v: String) throws -> Bool {
        switch v {
        case "on": return true
        case "off": return false
        // Observed on Linux 6.18: parse_on_off()'s failure ends iplink_parse() with exit status 1.
        default: throw ToolFailure(message: "Error: argument of \"\(key)\" must be \"on\" or \"off\", not \"\(v)\"", status: 1)
        }
    }

    static func add(_ args: [String], _ ctx: ToolContext) throws -> ShellOutcome {
        let p = try parse(args, ctx, forAdd: true)
        guard let type = p.type else {
            throw ToolFailure(message: "Not enough information: \"type\" argument is required", status: 1)
        }
        let ns = p.change.namespace ?? ctx.namespace
        // Without a name the kernel picks "<kind>%d" (rtnl_create_link()); a veth's peer, made
        // first, takes the lower number (observed on Linux 6.18: `ip link add type veth` with
        // veth0 taken makes veth1 (peer) and veth2).
        let name = p.dev ?? ns.allocateName("\(type)%d", skipping: type == "veth" ? 1 : 0)
        let kind: LinkKind
        var bridgeOptions: [IPLinkBridge.Option] = []
        switch type {
        case "veth":
            var peerName: String?
            var peerNS: NetNamespace?
            var peerAddr: MACAddress?
            if let first = p.typeArgs.first {
                guard first == "peer" else {
                    throw ToolFailure(message: "Error: argument \"\(first)\" is wrong: unknown option", status: 255)
                }
                let peer = try parse(Array(p.typeArgs.dropFirst()), ctx, forAdd: true)
                peerName = peer.dev
                peerNS = peer.change.namespace
                peerAddr = peer.change.address
            }
            // veth_newlink(): the peer is made in the caller's namespace unless it names its own,
            // even when `netns` sends the new device elsewhere (observed on Linux 6.18: `ip link
            // add veth5 netns c1 type veth peer name veth6` leaves veth6 here).
            kind = .veth(peerName: peerName, peerNamespace: peerNS ?? ctx.namespace, peerAddress: peerAddr)
        case "bridge":
            kind = .bridge
            bridgeOptions = try IPLinkBridge.parse(p.typeArgs)
        case "vxlan":
            // vxlan_validate(): no options at all is the kernel's refusal, not iproute2's.
            guard !p.typeArgs.isEmpty else {
                throw KernelError(.EINVAL, "Required attributes not provided to perform the operation")
            }
            let (cfg, warnings) = try IPLinkVXLAN.parse(p.typeArgs, ctx)
            for w in warnings { ctx.eprintln(w) }
            kind = .vxlan(cfg)
        default:
            throw ToolFailure(message: "Error: Unknown device type.", status: 2)
        }
        try ns.apply(.linkAdd(name: name, kind: kind, address: p.change.address, mtu: p.change.mtu))
        if let br = ns.device(named: name) as? BridgeDevice { IPLinkBridge.apply(bridgeOptions, to: br) }
        if let dev = ns.device(named: name), p.change.up == true { ns.setUp(dev, true) }
        return .finished(0)
    }

    static func set(_ args: [String], _ ctx: ToolContext) throws -> ShellOutcome {
        let p = try parse(args, ctx, forAdd: false)
        guard let name = p.dev else {
            throw ToolFailure(message: "Not enough information: \"dev\" argument is required.", status: 255)
        }
        let dev = try IPCommand.device(name, ctx)
        if p.change.namespace != nil && dev.isLoopback {
            throw ToolFailure(message: "Error: The interface netns is immutable.", status: 2)
        }
        var bridgeOptions: [IPLinkBridge.Option] = []
        if p.type == "bridge", dev is BridgeDevice { bridgeOptions = try IPLinkBridge.parse(p.typeArgs) }
        if p.type == "vxlan" && !p.typeArgs.isEmpty {
            throw ToolFailure(message: "ip link set ... type vxlan: changing a vxlan device's options (vxlan_changelink()) is not modelled by swnetsim", status: 1)
        }
        if let ns = p.change.namespace, ns !== ctx.namespace, ns.device(named: p.change.name ?? dev.name) != nil {
            throw ToolFailure(message: "Error: An interface with the same name exists in the target netns.", status: 2)
        }
        if case let .set(m)? = p.change.master, !(m is BridgeDevice) {
            // do_set_master() releases the old master before the new one refuses.
            if dev.master != nil {
                var c = LinkChange()
                c.master = LinkChange.Master.none
                try ctx.namespace.apply(.linkSet(dev, c))
            }
            throw KernelError(.ENOTSUP)
        }
        try ctx.namespace.apply(.linkSet(dev, p.change))
        if let br = dev as? BridgeDevice { IPLinkBridge.apply(bridgeOptions, to: br) }
        return .finished(0)
    }

    static func delete(_ args: [String], _ ctx: ToolContext) throws -> ShellOutcome {
        let p = try parse(args, ctx, forAdd: false)
        guard let name = p.dev else {
            throw ToolFailure(message: "Not enough information: \"dev\" argument is required.", status: 255)
        }
        let dev = try IPCommand.device(name, ctx)
        try ctx.namespace.apply(.linkDelete(dev))
        return .finished(0)
    }

    /// `ip link show [dev] NAME [up] [master BR] [type KIND]`.
    static func showChecked(_ args: [String], _ ctx: ToolContext, _ opts: IPOptions) throws -> ShellOutcome {
        var filter = ShowFilter()
        var it = args.makeIterator()
        while let a = it.next() {
            switch a {
            case "up": filter.up = true
            case "master":
                let v = try IPCommand.next(&it)
                // Observed on Linux 6.18: iplink_filter_req()'s invarg, with its empty line.
                guard let m = ctx.namespace.device(named: v) else { throw IPCommand.invarg("Device does not exist", v) }
                filter.master = m
            case "type": filter.type = try IPCommand.next(&it)
            case "dev":
                let v = try IPCommand.next(&it)
                filter.dev = v
            default:
                if filter.dev != nil { throw IPCommand.duparg2("dev", a) }
                filter.dev = a
            }
        }
        if let d = filter.dev, ctx.namespace.device(named: d) == nil {
            throw ToolFailure(message: "Device \"\(d)\" does not exist.", status: 1)
        }
        return show(ctx.namespace.devices.filter { filter.accepts($0) }, ctx, opts)
    }

    static func show(_ devs: [NetDevice], _ ctx: ToolContext, _ opts: IPOptions) -> ShellOutcome {
        for d in devs {
            if opts.brief {
                // A device without a hardware address (tun) has no address column.
                let mac = d.linkTypeName == "none" ? "" : "\(d.mac) "
                ctx.println(IPFormat.brief(d) + mac + "<\(IPFormat.flags(d, viewer: ctx.namespace))> ")
            } else if opts.oneline {
                // -o puts a backslash where each newline would be, the -d lines' too.
                let extra = opts.details ? IPFormat.details(d, viewer: ctx.namespace) ?? "" : ""
                ctx.println(IPFormat.headerLine(d, mode: true) + "\\" + IPFormat.linkLayerLine(d)
                            + extra.split(separator: "\n", omittingEmptySubsequences: false).joined(separator: "\\"))
            } else {
                ctx.println(IPFormat.headerLine(d, mode: true))
                let extra = opts.details ? IPFormat.details(d, viewer: ctx.namespace) ?? "" : ""
                ctx.println(IPFormat.linkLayerLine(d) + extra)
                if opts.statsLevel > 0 { IPFormat.linkStats(d, errors: opts.statsLevel > 1).forEach(ctx.println) }
            }
        }
        return .finished(0)
    }

    struct ShowFilter {
        var dev: String?
        var up = false
        var master: NetDevice?
        var type: String?
        func accepts(_ d: NetDevice) -> Bool {
            if let n = dev, d.name != n { return false }
            if up && !d.adminUp { return false }
            if let m = master, d.master !== m { return false }
            if let t = type, d.kind != t { return false }
            return true
        }
    }
}

// MARK: - ip address

enum IPAddress {
    static func run(_ args: [String], _ ctx: ToolContext, _ opts: IPOptions) throws -> ShellOutcome {
        guard let cmd = args.first else { return try show([], ctx, opts) }
        let rest = Array(args.dropFirst())
        if IPCommand.matches(cmd, "add") { return try modify(rest, ctx, add: true) }
        if IPCommand.matches(cmd, "delete") { return try modify(rest, ctx, add: false) }
        if IPCommand.matches(cmd, "flush") { return try flush(rest, ctx) }
        if IPCommand.matches(cmd, "show") || IPCommand.matches(cmd, "list") || IPCommand.matches(cmd, "lst") {
            return try show(rest, ctx, opts)
        }
        throw ToolFailure(message: "Command \"\(cmd)\" is unknown, try \"ip address help\".", status: 255)
    }

    static func modify(_ args: [String], _ ctx: ToolContext, add: Bool) throws -> ShellOutcome {
        var prefix: IPv4Prefix?
        var devName: String?
        var broadcast: String?
        var label: String?
        var scope: RouteScope?
        var it = args.makeIterator()
        while let a = it.next() {
            switch a {
            case "dev": devName = try IPCommand.next(&it)
            case "brd", "broadcast": broadcast = try IPCommand.next(&it)
            case "label": label = try IPCommand.next(&it)
            case "scope":
                let v = try IPCommand.next(&it)
                switch v {
                case "global", "universe": scope = .universe
                case "link": scope = .link
                case "host": scope = .host
                case "site": scope = .site
                default: throw IPCommand.invarg("invalid scope value.", v, extraNewline: false)
                }
            case "local":
                let v = try IPCommand.next(&it)
                prefix = try parsePrefix(v)
            default:
                if IPCommand.matches(a, "broadcast") { broadcast = try IPCommand.next(&it); continue }
                if prefix != nil { throw IPCommand.duparg2("local", a) }
                prefix = try parsePrefix(a)
            }
        }
        guard let name = devName else {
            throw ToolFailure(message: "Not enough information: \"dev\" argument is required.", status: 1)
        }
        let dev = try IPCommand.device(name, ctx)
        guard let p = prefix else { throw KernelError(.ENOTSUP) }
        if add {
            var brd: IPv4Address?
            if let b = broadcast {
                if b == "+" { brd = p.broadcast }
                else if b == "-" { brd = p.network }
                else {
                    guard let x = IPv4Address(b) else { throw IPCommand.invarg("invalid broadcast address", b) }
                    brd = x
                }
            }
            do {
                try ctx.namespace.apply(.addressAdd(dev, p, broadcast: brd, scope: scope, label: label))
            } catch let e as KernelError where e.errno == .EEXIST {
                throw ToolFailure(message: "Error: ipv4: Address already assigned.", status: 2)
            }
        } else {
            do {
                try ctx.namespace.apply(.addressDelete(dev, p))
            } catch let e as KernelError where e.errno == .EADDRNOTAVAIL {
                throw ToolFailure(message: "Error: ipv4: Address not found.", status: 2)
            }
        }
        return .finished(0)
    }

    static func parsePrefix(_ s: String) throws -> IPv4Prefix {
        guard let p = IPv4Prefix(s) else {
            throw ToolFailure(message: "Error: any valid prefix is expected rather than \"\(s)\".", status: 1)
        }
        return p
    }

    static func flush(_ args: [String], _ ctx: ToolContext) throws -> ShellOutcome {
        var devName: String?
        var it = args.makeIterator()
        while let a = it.next() {
            devName = a == "dev" ? try IPCommand.next(&it) : a
        }
        guard let n = devName else {
            throw ToolFailure(message: "Flush requires arguments.", status: 1)
        }
        let dev = try IPCommand.device(n, ctx)
        try ctx.namespace.apply(.addressFlush(dev))
        return .finished(0)
    }

    static func show(_ args: [String], _ ctx: ToolContext, _ opts: IPOptions) throws -> ShellOutcome {
        var devName: String?
        var up = false
        var label: String?
        var it = args.makeIterator()
        while let a = it.next() {
            switch a {
            case "dev": devName = try IPCommand.next(&it)
            case "up": up = true
            case "label": label = try IPCommand.next(&it)
            default:
                if devName != nil { throw IPCommand.duparg2("dev", a) }
                devName = a
            }
        }
        if let d = devName, ctx.namespace.device(named: d) == nil {
            throw ToolFailure(message: "Device \"\(d)\" does not exist.", status: 1)
        }
        for d in ctx.namespace.devices {
            if let n = devName, d.name != n { continue }
            if up && !d.adminUp { continue }
            // `label PATTERN` (fnmatch) selects addresses and leaves out the link lines.
            let addresses = d.addresses.filter { a in label.map { IPFormat.fnmatch($0, a.label) } ?? true }
            if opts.brief {
                ctx.println(IPFormat.brief(d) + addresses.map { "\($0.local)/\($0.prefixLength) " }.joined())
                continue
            }
            if label != nil {
                for a in addresses {
                    let l = IPFormat.addressLines(a)
                    if opts.oneline { ctx.println("\(d.ifindex): \(d.name)" + l[0] + "\\" + l[1]) }
                    else { l.forEach(ctx.println) }
                }
                continue
            }
            if opts.oneline {
                for a in d.addresses {
                    let l = IPFormat.addressLines(a)
                    ctx.println("\(d.ifindex): \(d.name)" + l[0] + "\\" + l[1])
                }
                continue
            }
            if opts.family4 {
                guard !d.addresses.isEmpty else { continue }
                ctx.println(IPFormat.headerLine(d, mode: false) + IPFormat.linkNetns(d))
            } else {
                ctx.println(IPFormat.headerLine(d, mode: false))
                ctx.println(IPFormat.linkLayerLine(d))
            }
            for a in d.addresses { IPFormat.addressLines(a).forEach(ctx.println) }
        }
        return .finished(0)
    }
}

// MARK: - ip neigh

enum IPNeigh {
    static func run(_ args: [String], _ ctx: ToolContext, _ opts: IPOptions) throws -> ShellOutcome {
        guard let cmd = args.first else { return try show([], ctx, opts) }
        let rest = Array(args.dropFirst())
        if IPCommand.matches(cmd, "show") || IPCommand.matches(cmd, "list") || IPCommand.matches(cmd, "lst") {
            return try show(rest, ctx, opts)
        }
        if IPCommand.matches(cmd, "add") { return try modify(rest, ctx, mode: .add) }
        if IPCommand.matches(cmd, "replace") { return try modify(rest, ctx, mode: .replace) }
        if IPCommand.matches(cmd, "change") { return try modify(rest, ctx, mode: .change) }
        if IPCommand.matches(cmd, "delete") { return try modify(rest, ctx, mode: .delete) }
        if IPCommand.matches(cmd, "flush") { return try flush(rest, ctx, stats: opts.stats) }
        if cmd == "get" { return try get(rest, ctx) }
        throw ToolFailure(message: "Command \"\(cmd)\" is unknown, try \"ip neigh help\".", status: 255)
    }

    static func parseState(_ s: String) throws -> NUDState {
        switch s {
        case "permanent": return .permanent
        case "reachable": return .reachable
        case "stale": return .stale
        case "noarp": return .noARP
        case "delay": return .delay
        case "probe": return .probe
        case "failed": return .failed
        case "incomplete": return .incomplete
        case "none": return .none
        case "all": return NUDState(rawValue: 0xff)
        default: throw IPCommand.invarg("nud state is bad", s, extraNewline: false)
        }
    }

    /// The selectors `ip neigh show` and `ip neigh flush` share (iproute2's do_show_or_flush()).
    struct Filter {
        var dev: NetDevice?
        var nud: NUDState?
        var to: IPv4Prefix?

        /// The entries a listing shows: without `nud`, all but NOARP and NONE ones; a flush
        /// leaves PERMANENT and NOARP ones too.
        func accepts(_ n: Neighbour, flush: Bool) -> Bool {
            if let d = dev, n.device !== d { return false }
            if let t = to, !t.contains(n.address) { return false }
            if let s = nud {
                return s.rawValue == 0xff || (s == .none ? n.state == .none : !n.state.isDisjoint(with: s))
            }
            if flush { return n.state != .none && n.state.isDisjoint(with: [.permanent, .noARP]) }
            return n.state != .noARP && n.state != .none
        }
    }

    static func parseFilter(_ args: [String], _ ctx: ToolContext) throws -> Filter {
        var f = Filter()
        var it = args.makeIterator()
        while let a = it.next() {
            switch a {
            case "dev": f.dev = try IPCommand.device(try IPCommand.next(&it), ctx)
            case "nud":
                let s = try parseState(try IPCommand.next(&it))
                f.nud = f.nud.map { $0.union(s) } ?? s
            case "all": continue
            case "to": f.to = try parsePrefix(try IPCommand.next(&it))
            default: f.to = try parsePrefix(a)
            }
        }
        return f
    }

    /// get_prefix() as ipneigh.c words its failure.
    static func parsePrefix(_ s: String) throws -> IPv4Prefix {
        guard let p = IPv4Prefix(s) ?? IPv4Address(s).map({ IPv4Prefix(address: $0, length: 32) }) else {
            throw ToolFailure(message: "Error: any valid prefix is expected rather than \"\(s)\".", status: 1)
        }
        return p
    }

    static func show(_ args: [String], _ ctx: ToolContext, _ opts: IPOptions = IPOptions()) throws -> ShellOutcome {
        let f = try parseFilter(args, ctx)
        let stats = opts.stats ? (now: ctx.machine.jiffiesNow, hz: ctx.machine.kernel.config.hz) : nil
        for n in ctx.namespace.neighbours.entries where f.accepts(n, flush: false) {
            ctx.println(opts.brief ? IPFormat.neighbourBrief(n)
                        : IPFormat.neighbourLine(n, showDevice: f.dev == nil, stats: stats))
        }
        return .finished(0)
    }

    enum Mode { case add, replace, change, delete }

    static func modify(_ args: [String], _ ctx: ToolContext, mode: Mode) throws -> ShellOutcome {
        var addr: IPv4Address?
        var dev: NetDevice?
        var ll: MACAddress?
        var state: NUDState = .permanent
        var it = args.makeIterator()
        while let a = it.next() {
            switch a {
            case "dev": dev = try IPCommand.device(try IPCommand.next(&it), ctx)
            case "lladdr": ll = try IPCommand.lladdr(try IPCommand.next(&it))
            case "nud": state = try parseState(try IPCommand.next(&it))
            case "to": addr = try parseAddr(try IPCommand.next(&it))
            default: addr = try parseAddr(a)
            }
        }
        guard let d = dev, let a = addr else {
            throw ToolFailure(message: "Device and destination are required arguments.", status: 255)
        }
        switch mode {
        case .delete:
            try ctx.namespace.apply(.neighbourDelete(d, a))
        case .add:
            try ctx.namespace.apply(.neighbourSet(d, a, lladdr: ll, state: state, mode: .add))
        case .replace:
            try ctx.namespace.apply(.neighbourSet(d, a, lladdr: ll, state: state, mode: .replace))
        case .change:
            try ctx.namespace.apply(.neighbourSet(d, a, lladdr: ll, state: state, mode: .change))
        }
        return .finished(0)
    }

    static func parseAddr(_ s: String) throws -> IPv4Address {
        guard let a = IPv4Address(s) else {
            throw ToolFailure(message: "Error: any valid address is expected rather than \"\(s)\".", status: 1)
        }
        return a
    }

    /// `ip neigh get ADDR dev DEV` (RTM_GETNEIGH, neigh_get()): one entry, in any state.
    static func get(_ args: [String], _ ctx: ToolContext) throws -> ShellOutcome {
        var addr: IPv4Address?
        var dev: NetDevice?
        var it = args.makeIterator()
        while let a = it.next() {
            switch a {
            case "dev": dev = try IPCommand.device(try IPCommand.next(&it), ctx)
            case "to": addr = try parseAddr(try IPCommand.next(&it))
            default: addr = try parseAddr(a)
            }
        }
        guard let d = dev, let a = addr else {
            throw ToolFailure(message: "Device and address are required arguments.", status: 1)
        }
        guard let n = ctx.namespace.neighbours.lookup(a, d) else {
            throw KernelError(.ENOENT, "Neighbour entry not found")
        }
        ctx.println(IPFormat.neighbourLine(n, showDevice: true))
        return .finished(0)
    }

    /// `ip neigh flush SELECTORS`: with -s, iproute2 reports its rounds (one is enough here).
    static func flush(_ args: [String], _ ctx: ToolContext, stats: Bool) throws -> ShellOutcome {
        // observed on Linux 6.18 (iproute2 6.1): a bare `ip neigh flush` is refused.
        guard !args.isEmpty else { throw ToolFailure(message: "Flush requires arguments.", status: 1) }
        let f = try parseFilter(args, ctx)
        let doomed = ctx.namespace.neighbours.entries.filter { f.accepts($0, flush: true) }
        for n in doomed { ctx.namespace.neighbours.adminDelete(n) }
        if stats {
            if doomed.isEmpty {
                ctx.println("Nothing to flush.")
            } else {
                ctx.println("\n*** Round 1, deleting \(doomed.count) entries ***")
                ctx.println("*** Flush is complete after 1 round ***")
            }
        }
        return .finished(0)
    }
}

// MARK: - ip netns

enum IPNetns {
    static func run(_ args: [String], _ ctx: ToolContext, _ opts: IPOptions) throws -> ShellOutcome {
        guard let cmd = args.first else { return list(ctx) }
        let rest = Array(args.dropFirst())
        switch cmd {
        case "list", "ls", "show": return list(ctx)
        case "add":
            guard let name = rest.first else { throw ToolFailure(message: "No netns name specified", status: 1) }
            guard valid(name) else { throw ToolFailure(message: "Invalid netns name \"\(name)\"", status: 255) }
            do {
                _ = try ctx.machine.addNamespace(name)
            } catch {
                throw ToolFailure(message: "Cannot create namespace file \"/run/netns/\(name)\": File exists", status: 1)
            }
            return .finished(0)
        case "delete", "del":
            guard let name = rest.first else { throw ToolFailure(message: "No netns name specified", status: 1) }
            do {
                try ctx.machine.deleteNamespace(name)
            } catch {
                throw ToolFailure(message: "Cannot remove namespace file \"/run/netns/\(name)\": No such file or directory", status: 1)
            }
            return .finished(0)
        case "exec":
            guard let name = rest.first else { throw ToolFailure(message: "No netns name specified", status: 1) }
            guard let ns = ctx.machine.namespace(named: name) else {
                throw ToolFailure(message: "Cannot open network namespace \"\(name)\": No such file or directory", status: 255)
            }
            let cmd = Array(rest.dropFirst())
            guard !cmd.isEmpty else { throw ToolFailure(message: "No command specified", status: 1) }
            return Shell.run(cmd, ctx.with(namespace: ns), execName: true)
        case "list-id":
            for (ns, id) in ctx.namespace.peerIDs.sorted(by: { $0.id < $1.id }) {
                ctx.println("nsid \(id) " + (ns.name.map { "(iproute2 netns name: \($0))" } ?? ""))
            }
            return .finished(0)
        default:
            throw ToolFailure(message: "Command \"\(cmd)\" is unknown, try \"ip netns help\".", status: 255)
        }
    }

    static func valid(_ n: String) -> Bool {
        !n.isEmpty && n != "." && n != ".." && !n.contains("/") && n.utf8.count < 256
    }

    /// Newest first, as readdir() lists a tmpfs /run/netns.
    static func list(_ ctx: ToolContext) -> ShellOutcome {
        for ns in ctx.machine.namedNamespaces.reversed() {
            var line = ns.name ?? ""
            if let id = ctx.namespace.existingPeerID(for: ns) { line += " (id: \(id))" }
            ctx.println(line)
        }
        return .finished(0)
    }
}
