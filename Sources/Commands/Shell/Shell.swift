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
        guard args.count >= 2, args[0] == "-c" else {
            // An interactive shell or a script file: there is nothing to read.
            ctx.eprintln(shell == "bash" ? "bash: only `bash -c 'COMMAND LINE'` is modelled" : "sh: only `sh -c 'COMMAND LINE'` is modelled")
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

    /// The shell's printf for the common cases: %s, %d, %%, and \\n \\t \\r \\\\ escapes.
    static func printf(_ fmt: String, _ args: [String]) -> String {
        var out = ""
        var next = args.makeIterator()
        let chars = Array(fmt)
        var k = 0
        while k < chars.count {
            let c = chars[k]
            if c == "\\", k + 1 < chars.count {
                switch chars[k + 1] {
                case "n": out += "\n"
                case "t": out += "\t"
                case "r": out += "\r"
                default: out.append(chars[k + 1])
                }
                k += 2
            } else if c == "%", k + 1 < chars.count {
                switch chars[k + 1] {
                case "s", "d": out += next.next() ?? ""
                case "%": out += "%"
                default: out.append(chars[k + 1])
                }
                k += 2
            } else {
                out.append(c)
                k += 1
            }
        }
        return out
    }

    /// Programs this shell knows, for error hints.
    public static let programs = ["ip", "brctl", "bridge", "ping", "traceroute", "tcpdump", "sysctl", "route", "iptables", "iptables-save",
                                   "iptables-restore", "xtables-monitor", "dmesg", "conntrack", "nc", "telnet", "etcdctl", "flanneld", "cat", "sh", "bash", "sleep", "echo", "printf",
                                   "true", "false"]
}
