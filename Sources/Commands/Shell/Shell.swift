// Shell: runs one command line the way a root shell on the machine would: `sudo` is accepted
// and dropped, `ip netns exec NS` switches namespace, and each program name maps to its tool.

import SimCore
import NetKernel

public enum Shell {
    /// Runs `argv` (one command of a pipeline). `execName` makes an unknown program fail the way
    /// `ip netns exec` reports it instead of the way bash does.
    public static func run(_ argv: [String], _ ctx: ToolContext, execName: Bool = false) -> ShellOutcome {
        var args = ArraySlice(argv)
        while let first = args.first, first == "sudo" {
            args = args.dropFirst()
            while let o = args.first, o.hasPrefix("-") { args = args.dropFirst() }
        }
        guard let prog = args.first else { return .finished(0) }
        let rest = Array(args.dropFirst())
        let base = prog.split(separator: "/").last.map(String.init) ?? prog
        switch base {
        case "ip": return IPCommand.run(rest, ctx)
        case "brctl": return Brctl.run(rest, ctx)
        case "bridge": return BridgeCommand.run(rest, ctx)
        case "ping": return Ping.start(rest, ctx)
        case "traceroute": return Traceroute.start(rest, ctx)
        case "tcpdump": return TcpdumpArgs.parse(rest, ctx)
        case "sysctl": return SysctlCommand.run(rest, ctx)
        case "route": return RouteCommand.run(rest, ctx)
        case "conntrack": return ConntrackCommand.run(rest, ctx)
        case "nc", "netcat", "nc.openbsd": return Netcat.start(rest, ctx)
        case "telnet": return Telnet.start(rest, ctx)
        case "iptables", "iptables-nft": return Iptables.run(rest, ctx)
        case "iptables-save", "iptables-nft-save": return IptablesSave.run(rest, ctx)
        case "iptables-restore", "iptables-nft-restore": return IptablesRestore.run(rest, ctx)
        case "dmesg": return Dmesg.run(rest, ctx)
        case "xtables-monitor": return XtablesMonitor.start(rest, ctx)
        case "etcdctl": return Etcdctl.run(rest, ctx)
        case "flanneld": return Flanneld.start(rest, ctx)
        case "cat": return Cat.run(rest, ctx)
        case "sh", "bash", "dash": return runDashC(base, rest, ctx)
        case "sleep":
            guard rest.count == 1, let t = SimTime.parseSeconds(rest[0]) else {
                ctx.eprintln("sleep: invalid time interval '\(rest.first ?? "")'")
                return .finished(1)
            }
            return .sleep(t)
        case "true", ":": return .finished(0)
        case "false": return .finished(1)
        case "echo":
            var words = rest
            var newline = true
            if words.first == "-n" { newline = false; words.removeFirst() }
            ctx.out.stdout(words.joined(separator: " ") + (newline ? "\n" : ""))
            return .finished(0)
        case "printf":
            guard let fmt = rest.first else {
                ctx.eprintln("printf: usage: printf [-v var] format [arguments]")
                return .finished(2)
            }
            ctx.out.stdout(Shell.printf(fmt, Array(rest.dropFirst())))
            return .finished(0)
        default:
            if execName {
                ctx.eprintln("exec of \"\(prog)\" failed: No such file or directory")
                return .finished(1)
            }
            ctx.eprintln("bash: \(prog): command not found")
            return .finished(127)
        }
    }

    /// `sh -c 'LINE'` / `bash -c 'LINE'`: a shell in the current namespace runs one line
    /// (redirections opened there: `ip netns exec X sh -c "echo 1 > /proc/sys/..."`).
    static func runDashC(_ shell: String, _ args: [String], _ ctx: ToolContext) -> ShellOutcome {
        let dialect: ShellDialect = shell == "bash" ? .bashC : .dash
        let bash = shell == "bash"
        if args == ["-c"] {
            ctx.eprintln(bash ? "bash: -c: option requires an argument" : "sh: 0: -c requires an argument")
            return .finished(2)
        }
        guard args.count >= 2, args[0] == "-c" else {
            if let script = args.first, !script.hasPrefix("-"),
               ctx.userland.read(script, machine: ctx.machine, namespace: ctx.namespace) == nil {
                ctx.eprintln(bash ? "bash: \(script): No such file or directory" : "sh: 0: cannot open \(script): No such file")
                return .finished(bash ? 127 : 2)
            }
            // A script or commands on standard input: not modelled (a step is one line).
            ctx.eprintln(bash ? "bash: only `bash -c 'COMMAND LINE'` is modelled" : "sh: only `sh -c 'COMMAND LINE'` is modelled")
            return .finished(2)
        }
        let parsed: CommandLineText
        do {
            parsed = try ShellWords.parse(args[1])
        } catch let e as ShellSyntaxError {
            ctx.eprintln(dialect.syntaxError(e))
            return .finished(2)
        } catch {
            return .finished(2)
        }
        do {
            return try ShellLine.run(parsed, ctx, dialect: dialect)
        } catch {
            ctx.eprintln("\(shell): a pipeline can only start with a command that finishes at once (echo, printf)")
            return .finished(2)
        }
    }

    /// bash's printf builtin: the format is reused while arguments remain (at least once);
    /// conversions %s %b %c %d %i %u %x %X %o %% with flags (-0 +space#), width and precision;
    /// escapes \\n \\t \\r \\a \\\\ \\" \\' and \\NNN (octal).
    static func printf(_ fmt: String, _ args: [String]) -> String {
        let chars = Array(fmt)
        var out = ""
        var ai = 0
        func nextArg() -> String? {
            defer { ai += 1 }
            return ai < args.count ? args[ai] : nil
        }
        func escapes(_ c: [Character], _ k: inout Int, into out: inout String) {
            let e = c[k + 1]
            k += 2
            switch e {
            case "n": out += "\n"
            case "t": out += "\t"
            case "r": out += "\r"
            case "a": out += "\u{07}"
            case "\\", "\"", "'": out.append(e)
            case "0"..."7":
                var v = Int(String(e))!, n = 1
                while n < 3, k < c.count, let d = Int(String(c[k])), d < 8 { v = v * 8 + d; k += 1; n += 1 }
                out.append(Character(Unicode.Scalar(UInt8(v & 0xff))))
            default: out += "\\"; out.append(e)
            }
        }
        func pad(_ body: String, _ flags: Set<Character>, _ width: Int?, numeric: Bool) -> String {
            guard let w = width, body.count < w else { return body }
            let fill = w - body.count
            if flags.contains("-") { return body + String(repeating: " ", count: fill) }
            if numeric && flags.contains("0") {
                let sign = body.first.map { "+- ".contains($0) } == true ? String(body.first!) : ""
                return sign + String(repeating: "0", count: fill) + body.dropFirst(sign.count)
            }
            return String(repeating: " ", count: fill) + body
        }
        repeat {
            let start = ai
            var k = 0
            while k < chars.count {
                let c = chars[k]
                if c == "\\", k + 1 < chars.count {
                    escapes(chars, &k, into: &out)
                    continue
                }
                guard c == "%", k + 1 < chars.count else { out.append(c); k += 1; continue }
                k += 1
                if chars[k] == "%" { out += "%"; k += 1; continue }
                var flags = Set<Character>()
                while k < chars.count, "-0+ #".contains(chars[k]) { flags.insert(chars[k]); k += 1 }
                var width: Int?, precision: Int?
                while k < chars.count, let d = chars[k].wholeNumberValue { width = (width ?? 0) * 10 + d; k += 1 }
                if k < chars.count, chars[k] == "." {
                    k += 1
                    precision = 0
                    while k < chars.count, let d = chars[k].wholeNumberValue { precision = precision! * 10 + d; k += 1 }
                }
                guard k < chars.count else { break }
                let conv = chars[k]
                k += 1
                switch conv {
                case "s", "b":
                    var v = nextArg() ?? ""
                    if conv == "b" {
                        let vc = Array(v)
                        var e = "", j = 0
                        while j < vc.count {
                            if vc[j] == "\\", j + 1 < vc.count { escapes(vc, &j, into: &e) } else { e.append(vc[j]); j += 1 }
                        }
                        v = e
                    }
                    if let p = precision { v = String(v.prefix(p)) }
                    out += pad(v, flags, width, numeric: false)
                case "c":
                    out += pad(String((nextArg() ?? "").prefix(1)), flags, width, numeric: false)
                case "d", "i", "u", "x", "X", "o":
                    let text = nextArg() ?? "0"
                    let n = Int(String(text.filter { $0 != " " })) ?? 0
                    var body: String
                    switch conv {
                    case "x": body = String(UInt(bitPattern: n), radix: 16)
                    case "X": body = String(UInt(bitPattern: n), radix: 16).uppercased()
                    case "o": body = String(UInt(bitPattern: n), radix: 8)
                    case "u": body = String(UInt(bitPattern: n))
                    default: body = String(abs(n))
                    }
                    if let p = precision, body.count < p { body = String(repeating: "0", count: p - body.count) + body }
                    if conv == "d" || conv == "i" {
                        body = (n < 0 ? "-" : flags.contains("+") ? "+" : flags.contains(" ") ? " " : "") + body
                    }
                    out += pad(body, precision == nil ? flags : flags.subtracting(["0"]), width, numeric: true)
                default:
                    out.append("%"); out.append(conv)
                }
            }
            // Reused only while it consumed arguments and some remain.
            if ai == start { break }
        } while ai < args.count
        return out
    }

    /// Programs this shell knows, for error hints.
    public static let programs = ["ip", "brctl", "bridge", "ping", "traceroute", "tcpdump", "sysctl", "route", "iptables", "iptables-save",
                                   "iptables-restore", "xtables-monitor", "dmesg", "conntrack", "nc", "telnet", "etcdctl", "flanneld", "cat", "sh", "bash", "sleep", "echo", "printf",
                                   "true", "false"]
}
