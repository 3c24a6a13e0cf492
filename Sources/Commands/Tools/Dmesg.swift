// Dmesg: util-linux 2.38 dmesg over the machine's kernel log (NetKernel's KernelLog): each
// record as "[%5lu.%06lu] text" with the time since boot (the virtual clock; the machine
// boots at time zero), and the options a lab uses: -c/--read-clear, -C/--clear,
// -t/--notime, -T/--ctime (wall time from the scenario's start), -x/--decode
// ("kern  :warn  : "), -l/--level LIST, -k/--kernel.
// Guarantees: records print in the order they were logged; -l filters by level name.
// Leaves out: -w (follow), -H, colours, the facility of userspace records (all are kern).

import NetKernel
import SimCore

enum Dmesg {
    static let levels = ["emerg", "alert", "crit", "err", "warn", "notice", "info", "debug"]

    static func run(_ args: [String], _ ctx: ToolContext) -> ShellOutcome {
        var clearAfter = false, clearOnly = false, noTime = false, ctime = false, decode = false
        var only: Set<Int>?
        var i = 0
        while i < args.count {
            let a = args[i].hasPrefix("--level=") ? "--level" : args[i]
            switch a {
            case "-c", "--read-clear": clearAfter = true
            case "-C", "--clear": clearOnly = true
            case "-t", "--notime": noTime = true
            case "-T", "--ctime": ctime = true
            case "-x", "--decode": decode = true
            case "-k", "--kernel", "-H", "--human", "-P", "--nopager", "-L", "--color": break
            case "-l", "--level":
                var list = ""
                if args[i].hasPrefix("--level=") {
                    list = String(args[i].dropFirst(8))
                } else {
                    i += 1
                    guard i < args.count else {
                        ctx.eprintln("dmesg: option requires an argument -- 'l'")
                        ctx.eprintln("Try 'dmesg --help' for more information.")
                        return .finished(1)
                    }
                    list = args[i]
                }
                var set = Set<Int>()
                for name in list.split(separator: ",") {
                    guard let l = levels.firstIndex(of: String(name)) else {
                        ctx.eprintln("dmesg: unknown level '\(name)'")
                        return .finished(1)
                    }
                    set.insert(l)
                }
                only = set
            default:
                if a.hasPrefix("--") {
                    ctx.eprintln("dmesg: unrecognized option '\(a)'")
                } else if a.hasPrefix("-") {
                    ctx.eprintln("dmesg: invalid option -- '\(a.dropFirst().prefix(1))'")
                } else {
                    ctx.eprintln("dmesg: bad usage")
                }
                ctx.eprintln("Try 'dmesg --help' for more information.")
                return .finished(1)
            }
            i += 1
        }
        let log = ctx.machine.kernelLog
        if clearOnly {
            log.clear()
            return .finished(0)
        }
        var out = ""
        for r in log.records where only?.contains(r.level) ?? true {
            if decode { out += IptablesFormat.pad("kern", 6) + ":" + IptablesFormat.pad(levels[r.level], 6) + ": " }
            if ctime {
                let wall = (ctx.epoch + r.time).ns / 1_000_000_000
                var d = IptablesFormat.ctime(wall)
                d.removeLast()
                out += "[\(d)] "
            } else if !noTime {
                let us = r.time.ns / 1000
                out += "[" + IptablesFormat.lpad("\(us / 1_000_000)", 5) + "." + zeros(us % 1_000_000) + "] "
            }
            out += r.text + "\n"
        }
        ctx.out.stdout(out)
        if clearAfter { log.clear() }
        return .finished(0)
    }

    static func zeros(_ v: Int64) -> String {
        let s = String(v)
        return String(repeating: "0", count: max(0, 6 - s.count)) + s
    }
}
