// IPTuntap: iproute2's `ip tuntap add|del|show` (ip/iptuntap.c) over the TUN driver. `add`
// opens /dev/net/tun with IFF_TUN_EXCL, makes the device persistent and closes it; `del`
// attaches and clears persistence; `show` lists tun and tap devices as "NAME: tun[ persist]".
// Leaves out: multi_queue, pi, vnet_hdr, user/group owners.

import NetKernel

enum IPTuntap {
    static func run(_ args: [String], _ ctx: ToolContext, _ opts: IPOptions) throws -> ShellOutcome {
        guard let cmd = args.first else { return show(ctx) }
        let rest = Array(args.dropFirst())
        if IPCommand.matches(cmd, "add") { return try change(rest, ctx, add: true) }
        if IPCommand.matches(cmd, "delete") { return try change(rest, ctx, add: false) }
        if IPCommand.matches(cmd, "show") || IPCommand.matches(cmd, "list") || IPCommand.matches(cmd, "lst") {
            return show(ctx)
        }
        if IPCommand.matches(cmd, "help") { throw ToolFailure(message: usage, status: 255) }
        throw ToolFailure(message: "Command \"\(cmd)\" is unknown, try \"ip tuntap help\".", status: 1)
    }

    static let usage = """
    Usage: ip tuntap { add | del | show | list | lst | help } [ dev PHYS_DEV ]
              [ mode { tun | tap } ] [ user USER ] [ group GROUP ]
              [ one_queue ] [ pi ] [ vnet_hdr ] [ multi_queue ] [ name NAME ]

    Where: USER  := { STRING | NUMBER }
           GROUP := { STRING | NUMBER }
    """

    /// parse_args() then tap_add_ioctl() / tap_del_ioctl().
    static func change(_ args: [String], _ ctx: ToolContext, add: Bool) throws -> ShellOutcome {
        var name: String?
        var mode: String?
        var i = 0
        func next() throws -> String {
            i += 1
            guard i < args.count else { throw ToolFailure(message: "Command line is not complete. Try option \"help\"", status: 255) }
            return args[i]
        }
        while i < args.count {
            let a = args[i]
            if a == "mode" {
                let m = try next()
                switch m {
                case "tun": mode = "tun"
                case "tap": mode = "tap"
                default: throw ToolFailure(message: "Unknown tunnel mode \"\(m)\"", status: 255)
                }
            } else if a == "dev" || IPCommand.matches(a, "name") {
                name = try next()
            } else if ["one_queue", "pi", "vnet_hdr", "multi_queue"].contains(a) {
                // Flags of the descriptor, not of the device this model keeps.
            } else if a == "user" || a == "group" {
                _ = try next()
            } else if IPCommand.matches(a, "help") {
                throw ToolFailure(message: usage, status: 255)
            } else {
                name = a
            }
            i += 1
        }
        guard let m = mode else { throw ToolFailure(message: "You failed to specify a tunnel mode", status: 1) }
        let tap = m == "tap"
        let ns = ctx.namespace
        do {
            if add {
                // IFF_TUN_EXCL: a name already taken is EBUSY, whatever holds it.
                if ns.device(named: name ?? "") != nil { throw KernelError(.EBUSY) }
                try ns.addPersistentTun(name: name ?? "\(m)%d", tap: tap)
            } else {
                try ns.deletePersistentTun(name: name ?? "\(m)%d", tap: tap)
            }
        } catch let e as KernelError {
            throw ToolFailure(message: "ioctl(TUNSETIFF): \(e.errno.message)", status: 1)
        }
        return .finished(0)
    }

    /// do_show(): every tun device of the namespace, in ifindex order.
    static func show(_ ctx: ToolContext) -> ShellOutcome {
        for dev in ctx.namespace.devices {
            guard let tun = dev as? TunDevice else { continue }
            ctx.println("\(tun.name): \(tun.isTap ? "tap" : "tun")" + (tun.persistent ? " persist" : ""))
        }
        return .finished(0)
    }
}
