// Sysctl: procps-ng's sysctl over a namespace's /proc/sys/net keys: reading, `-w KEY=VALUE`
// (or a bare KEY=VALUE), -n, -q, -a, and its messages.

import NetKernel

enum SysctlCommand {
    /// procps-ng 4.0.2's usage, printed for a bare `sysctl` (stderr, exit 1) and -h (stdout, 0).
    static let usage = """

        Usage:
         sysctl [options] [variable[=value] ...]

        Options:
          -a, --all            display all variables
          -A                   alias of -a
          -X                   alias of -a
              --deprecated     include deprecated parameters to listing
              --dry-run        Print the key and values but do not write
          -b, --binary         print value without new line
          -e, --ignore         ignore unknown variables errors
          -N, --names          print variable names without values
          -n, --values         print only values of the given variable(s)
          -p, --load[=<file>]  read values from file
          -f                   alias of -p
              --system         read values from all system directories
          -r, --pattern <expression>
                               select setting that match expression
          -q, --quiet          do not echo variable set
          -w, --write          enable writing a value to variable
          -o                   does nothing
          -x                   does nothing
          -d                   alias of -h

         -h, --help     display this help and exit
         -V, --version  output version information and exit

        For more details see sysctl(8).
        """

    static func run(_ args: [String], _ ctx: ToolContext) -> ShellOutcome {
        var valuesOnly = false, namesOnly = false, quiet = false, writeMode = false, all = false
        var ignoreUnknown = false, binary = false
        var pattern: String?
        var items: [String] = []
        if args.isEmpty {
            ctx.eprintln(usage)
            return .finished(1)
        }
        var it = args.makeIterator()
        while let a = it.next() {
            switch a {
            case "--values": valuesOnly = true
            case "--names": namesOnly = true
            case "--quiet": quiet = true
            case "--write": writeMode = true
            case "--all": all = true
            case "--ignore": ignoreUnknown = true
            case "--binary": binary = true
            case "--load", "--system": return .finished(0) // no sysctl.conf lines in a namespace
            case "--pattern": pattern = it.next()
            case "--help":
                ctx.out.stdout(usage + "\n")
                return .finished(0)
            default:
                guard a.hasPrefix("-") && a.count > 1 else {
                    items.append(a)
                    continue
                }
                // getopt: short options may be combined (-qw, -aN); -r takes an argument.
                for (i, c) in a.dropFirst().enumerated() {
                    switch c {
                    case "n": valuesOnly = true
                    case "N": namesOnly = true
                    case "q": quiet = true
                    case "w": writeMode = true
                    case "a", "A", "X": all = true
                    case "e": ignoreUnknown = true
                    case "b": binary = true
                    case "o", "x": break
                    case "p", "f": return .finished(0)
                    case "h", "d":
                        ctx.out.stdout(usage + "\n")
                        return .finished(0)
                    case "r":
                        let rest = String(a.dropFirst(i + 2))
                        pattern = rest.isEmpty ? it.next() : rest
                    default:
                        // procps-ng 4.0.2: getopt's complaint, then the usage on stdout, exit 0.
                        ctx.eprintln("sysctl: invalid option -- '\(c)'")
                        ctx.out.stdout(usage + "\n")
                        return .finished(0)
                    }
                    if c == "r" { break }
                }
            }
        }
        if !all && items.isEmpty && pattern == nil {
            ctx.eprintln("sysctl: no variables specified\nTry `sysctl --help' for more information.")
            return .finished(1)
        }
        func show(_ key: String, _ value: String) {
            if namesOnly { ctx.println(key) } else if valuesOnly || binary {
                if binary { ctx.out.stdout(value) } else { ctx.println(value) }
            } else { ctx.println("\(key) = \(value)") }
        }
        let ns = ctx.namespace
        if all || (items.isEmpty && pattern != nil) {
            for k in ns.sysctlKeys where pattern.map({ k.contains($0) }) ?? true {
                if let v = try? ns.sysctlRead(k) { show(k, v) }
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
                    if ignoreUnknown { continue }
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
                    show(item.replacingSlashes, try ns.sysctlRead(item))
                } catch {
                    if ignoreUnknown { continue }
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
