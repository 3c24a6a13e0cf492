// Brctl: bridge-utils 1.7's brctl (addbr, delbr, addif, delif, show, showmacs, setageing,
// stp, hairpin), with its tab-separated output and its messages.

import NetKernel
import Wire

enum Brctl {
    static func run(_ args: [String], _ ctx: ToolContext) -> ShellOutcome {
        guard let cmd = args.first else {
            ctx.out.stdout(usage)
            return .finished(1)
        }
        let rest = Array(args.dropFirst())
        let ns = ctx.namespace
        func fail(_ m: String) -> ShellOutcome { ctx.eprintln(m); return .finished(1) }
        func bridge(_ name: String) -> BridgeDevice? { ns.device(named: name) as? BridgeDevice }
        let needs: [String: Int] = ["addbr": 1, "delbr": 1, "addif": 2, "delif": 2, "showmacs": 1, "showstp": 1,
                                    "setageing": 2, "stp": 2, "hairpin": 3]
        if let n = needs[cmd], rest.count < n {
            // brctl.c: the command's own line of the usage table, "Usage: brctl NAME HELP".
            ctx.out.stdout("Incorrect number of arguments for command\n")
            ctx.out.stdout("Usage: brctl \(cmd) \(help(for: cmd) ?? "")\n")
            return .finished(1)
        }
        switch cmd {
        case "addbr":
            // SIOCBRADDBR copies IFNAMSIZ bytes and the kernel ends the name at the 16th:
            // observed on Linux 6.18, `brctl addbr 0123456789abcdef` makes 0123456789abcde.
            let name = ifnamsiz(rest[0])
            if ns.device(named: name) != nil {
                return fail("device \(name) already exists; can't create bridge with the same name")
            }
            do {
                try ns.apply(.linkAdd(name: name, kind: .bridge, address: nil, mtu: nil))
            } catch {
                return fail("add bridge failed: \((error as? KernelError)?.errno.message ?? "\(error)")")
            }
        case "delbr":
            let name = ifnamsiz(rest[0])
            guard let dev = ns.device(named: name) else { return fail("bridge \(name) doesn't exist; can't delete it") }
            // SIOCBRDELBR on a device that is not a bridge: EPERM.
            guard let br = dev as? BridgeDevice else { return fail("can't delete bridge \(name): Operation not permitted") }
            if br.adminUp { return fail("bridge \(name) is still up; can't delete it") }
            try? ns.apply(.bridgeDelete(name: name))
        case "addif", "delif":
            let brName = rest[0]
            for port in rest.dropFirst() {
                guard let br = bridge(brName) else { return fail("bridge \(brName) does not exist!") }
                guard let dev = ns.device(named: port) else { return fail("interface \(port) does not exist!") }
                if cmd == "addif" {
                    if dev.master != nil {
                        return fail("device \(port) is already a member of a bridge; can't add it to bridge \(brName).")
                    }
                    do {
                        try ns.apply(.bridgeAddPort(bridge: br, port: dev))
                    } catch let e as KernelError {
                        if e.errno == .ELOOP { return fail("device \(port) is a bridge device itself; can't add a bridge device to a bridge device.") }
                        return fail("can't add \(port) to bridge \(brName): \(e.errno.message)")
                    } catch {
                        return fail("\(error)")
                    }
                } else {
                    guard dev.master === br else { return fail("device \(port) is not a port of \(brName)") }
                    try? ns.apply(.bridgeDeletePort(bridge: br, port: dev))
                }
            }
        case "show":
            // br_cmd_show(): each named bridge in turn; the header comes with the first bridge
            // shown, and a name that is not one is reported where it stands (exit status 1).
            var headerShown = false
            func show(_ br: BridgeDevice) {
                if !headerShown { ctx.println("bridge name\tbridge id\t\tSTP enabled\tinterfaces") }
                headerShown = true
                let ports = br.ports.map { $0.device.name }.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
                ctx.println("\(br.name)\t\t\(br.bridgeID)\t\(br.stpEnabled ? "yes" : "no")\t\t\(ports.first ?? "")")
                for p in ports.dropFirst() { ctx.println("\t\t\t\t\t\t\t\(p)") }
            }
            if rest.isEmpty {
                let bridges = ns.devices.compactMap { $0 as? BridgeDevice }
                for br in bridges.sorted(by: { $0.name.utf8.lexicographicallyPrecedes($1.name.utf8) }) { show(br) }
                return .finished(0)
            }
            var errors = 0
            for n in rest {
                guard let d = ns.device(named: n) else { ctx.eprintln("bridge \(n) does not exist!"); errors += 1; continue }
                guard let b = d as? BridgeDevice else { ctx.eprintln("device \(n) is not a bridge!"); errors += 1; continue }
                show(b)
            }
            return .finished(errors > 0 ? 1 : 0)
        case "showmacs":
            // Observed on Linux 6.18: a device that is not a bridge has no brforward file.
            guard let d = ns.device(named: rest[0]) else { return fail("read of forward table failed: No such device") }
            guard let br = d as? BridgeDevice else { return fail("read of forward table failed: Operation not supported") }
            ctx.println("port no\tmac addr\t\tis local?\tageing timer")
            let m = ctx.machine
            let now = m.jiffiesNow
            for e in br.fdb.entries.sorted(by: { $0.mac < $1.mac }) {
                guard let p = e.port else { continue }
                let age = e.isStatic ? 0 : max(0, now - e.updated) * (1_000_000_000 / m.kernel.config.hz) / 10_000_000
                let timer = CFormat.padLeft(String(age / 100), 4) + "." + (age % 100 < 10 ? "0" : "") + String(age % 100)
                ctx.println(CFormat.padLeft(String(p.portNumber), 3) + "\t\(e.mac)\t\(e.isLocal ? "yes" : "no")\t\t\(timer)")
            }
        case "showstp":
            // Only the failure is modelled: the STP timers are not.
            guard bridge(rest[0]) != nil else { return fail("bridge \(rest[0]) does not exist!") }
            return fail("brctl showstp: not modelled by swnetsim")
        // Observed on Linux 6.18 (bridge-utils 1.7): these write /sys/class/net/BR/bridge/...,
        // so a missing bridge is ENODEV in the command's own words.
        case "setageing":
            guard let t = Double(rest[1]), t >= 0 else { return fail("bad ageing time value") }
            guard let br = bridge(rest[0]) else { return fail("set ageing time failed: No such device") }
            br.setAgeingTime(.init(ns: Int64(t * 1_000_000_000)))
        case "stp":
            let on: Bool
            switch rest[1] {
            case "on", "yes", "1": on = true
            case "off", "no", "0": on = false
            default: return fail("expect on/off for argument")
            }
            guard let br = bridge(rest[0]) else { return fail("set stp status failed: No such device") }
            br.stpEnabled = on
        case "hairpin":
            let on: Bool
            switch rest[2] {
            case "on", "yes", "1": on = true
            case "off", "no", "0": on = false
            default: return fail("expect on/off for argument")
            }
            // brport/hairpin_mode of a device that is no port of that bridge: ENOENT.
            guard let br = bridge(rest[0]), let dev = ns.device(named: rest[1]), let p = br.port(for: dev) else {
                return fail("can't set \(rest[1]) to hairpin on bridge \(rest[0]): No such file or directory")
            }
            p.hairpin = on
        default:
            ctx.eprintln("never heard of command [\(cmd)]")
            ctx.out.stdout(usage)
            return .finished(1)
        }
        return .finished(0)
    }

    /// A name as an ioctl's struct ifreq carries it: at most IFNAMSIZ - 1 bytes.
    static func ifnamsiz(_ n: String) -> String {
        n.utf8.count <= 15 ? n : String(decoding: n.utf8.prefix(15), as: UTF8.self)
    }

    /// The help text of one command as the usage table has it ("<bridge>\t\tadd bridge").
    static func help(for cmd: String) -> String? {
        for line in usage.split(separator: "\n") where line.hasPrefix("\t") {
            let fields = line.dropFirst().split(separator: "\t", maxSplits: 1, omittingEmptySubsequences: false)
            if fields.count == 2, String(fields[0].filter { $0 != " " }) == cmd { return String(fields[1]) }
        }
        return nil
    }

    static let usage = """
    Usage: brctl [commands]
    commands:
    \taddbr     \t<bridge>\t\tadd bridge
    \tdelbr     \t<bridge>\t\tdelete bridge
    \taddif     \t<bridge> <device>\tadd interface to bridge
    \tdelif     \t<bridge> <device>\tdelete interface from bridge
    \thairpin   \t<bridge> <port> {on|off}\tturn hairpin on/off
    \tsetageing \t<bridge> <time>\t\tset ageing time
    \tsetbridgeprio\t<bridge> <prio>\t\tset bridge priority
    \tsetfd     \t<bridge> <time>\t\tset bridge forward delay
    \tsethello  \t<bridge> <time>\t\tset hello time
    \tsetmaxage \t<bridge> <time>\t\tset max message age
    \tsetpathcost\t<bridge> <port> <cost>\tset path cost
    \tsetportprio\t<bridge> <port> <prio>\tset port priority
    \tshow      \t[ <bridge> ]\t\tshow a list of bridges
    \tshowmacs  \t<bridge>\t\tshow a list of mac addrs
    \tshowstp   \t<bridge>\t\tshow bridge stp info
    \tstp       \t<bridge> {on|off}\tturn stp on/off

    """
}
