// Sysctl: procps-ng's sysctl over a namespace's /proc/sys/net keys: reading, `-w KEY=VALUE`
// (or a bare KEY=VALUE), -n, -q, -a, and its messages.

import NetKernel

enum SysctlCommand {
    static func run(_ args: [String], _ ctx: ToolContext) -> ShellOutcome {
        var valuesOnly = false, quiet = false, writeMode = false, all = false
        var pattern: String?
        var items: [String] = []
        var it = args.makeIterator()
        while let a = it.next() {
            switch a {
            case "-n", "--values": valuesOnly = true
            case "-q", "--quiet": quiet = true
            case "-w", "--write": writeMode = true
            case "-a", "-A", "-X", "--all": all = true
            case "-p", "--load", "--system": return .finished(0) // no sysctl.conf lines in a namespace
            case "--pattern": pattern = it.next()
            case "-e", "--ignore", "-N", "--names": break
            default:
                if a.hasPrefix("-") && a.count > 1 {
                    ctx.eprintln("sysctl: invalid option -- '\(a.dropFirst().prefix(1))'")
                    return .finished(1)
                }
                items.append(a)
            }
        }
        let ns = ctx.namespace
        if all || (items.isEmpty && pattern != nil) {
            for k in ns.sysctlKeys where pattern.map({ k.contains($0) }) ?? true {
                if let v = try? ns.sysctlRead(k) { ctx.println(valuesOnly ? v : "\(k) = \(v)") }
            }
            return .finished(0)
        }
        var status: Int32 = 0
        for item in items {
            if let eq = item.firstIndex(of: "=") {
                let key = String(item[..<eq]).trimmingBlanks, value = String(item[item.index(after: eq)...]).trimmingBlanks
                do {
                    try ns.sysctlWrite(key, value)
                    if !quiet { ctx.println(valuesOnly ? value : "\(key.replacingSlashes) = \(value)") }
                } catch let e as KernelError where e.errno == .ENOENT {
                    ctx.eprintln("sysctl: cannot stat /proc/sys/\(key.replacingDots): No such file or directory")
                    status = 1
                } catch {
                    ctx.eprintln("sysctl: setting key \"\(key.replacingSlashes)\": Invalid argument")
                    status = 1
                }
            } else if writeMode {
                ctx.eprintln("sysctl: command line(0): invalid syntax, continuing...")
                status = 1
            } else {
                do {
                    let v = try ns.sysctlRead(item)
                    ctx.println(valuesOnly ? v : "\(item.replacingSlashes) = \(v)")
                } catch {
                    ctx.eprintln("sysctl: cannot stat /proc/sys/\(item.replacingDots): No such file or directory")
                    status = 1
                }
            }
        }
        return .finished(status)
    }
}

extension String {
    var replacingSlashes: String { String(map { $0 == "/" ? "." : $0 }) }
    var replacingDots: String { String(map { $0 == "." ? "/" : $0 }) }
    var trimmingBlanks: String {
        var s = Substring(self)
        while let c = s.first, c == " " || c == "\t" { s = s.dropFirst() }
        while let c = s.last, c == " " || c == "\t" { s = s.dropLast() }
        return String(s)
    }
}
