// Etcdctl: etcdctl 3.4 (etcd's v3 API, Debian 12's etcd-client) against the scenario's one
// etcd key space: `put KEY [VALUE]` (the value from a pipe when only the key is given),
// `get KEY [RANGE_END]` with --prefix, --keys-only, --print-value-only, `del KEY [RANGE_END]`
// with --prefix, and `version`. Output and messages as observed with etcdctl 3.4.23: put
// prints OK, get prints each key then its value, del the number deleted; missing arguments
// exit 128, an unknown command 1 (with cobra's "Did you mean this?" list).
// The client flags (--endpoints, --dial-timeout, --command-timeout, -w simple, TLS files)
// are accepted and not used: every machine reaches the same store.
// Leaves out: txn, watch, lease, member, auth and the other admin commands; other output
// formats than "simple".

import NetKernel

enum Etcdctl {
    /// etcdctl 3.4's commands in the order ctlv3 registers them (cobra suggests in this order).
    static let commands = ["get", "put", "del", "txn", "compaction", "alarm", "defrag", "endpoint",
                           "move-leader", "watch", "version", "lease", "member", "snapshot", "make-mirror",
                           "migrate", "lock", "elect", "auth", "user", "role", "check", "help"]

    static let valueFlags: Set<String> = ["endpoints", "dial-timeout", "command-timeout", "keepalive-time",
                                          "keepalive-timeout", "cacert", "cert", "key", "user", "password",
                                          "discovery-srv", "discovery-srv-name", "write-out", "w",
                                          "consistency", "limit", "order", "rev", "sort-by"]

    static func run(_ args: [String], _ ctx: ToolContext) -> ShellOutcome {
        var positional: [String] = []
        var flags: Set<String> = []
        var i = 0
        while i < args.count {
            let a = args[i]
            i += 1
            guard a.hasPrefix("-"), a.count > 1 else { positional.append(a); continue }
            var name = String(a.drop(while: { $0 == "-" }))
            var value: String?
            if let eq = name.firstIndex(of: "=") {
                value = String(name[name.index(after: eq)...])
                name = String(name[..<eq])
            }
            if valueFlags.contains(name) {
                if value == nil {
                    guard i < args.count else {
                        ctx.eprintln("Error: flag needs an argument: \(a)")
                        return .finished(1)
                    }
                    value = args[i]
                    i += 1
                }
                if name == "w" || name == "write-out", value != "simple" {
                    ctx.eprintln("Error: output format \(value ?? "") is not modelled here; use -w simple")
                    return .finished(1)
                }
                continue
            }
            switch name {
            case "prefix", "keys-only", "print-value-only", "from-key", "debug", "hex", "insecure-transport",
                 "insecure-skip-tls-verify", "insecure-discovery":
                if value == "false" { flags.remove(name) } else { flags.insert(name) }
            default:
                ctx.eprintln("Error: unknown flag: \(a.split(separator: "=").first.map(String.init) ?? a)")
                return .finished(1)
            }
        }
        guard let cmd = positional.first else {
            ctx.eprintln("etcdctl: the usage text is not modelled here; commands: get, put, del, version")
            return .finished(0)
        }
        let rest = Array(positional.dropFirst())
        let store = ctx.userland.etcd
        switch cmd {
        case "put":
            var value: String?
            if rest.count == 2 {
                value = rest[1]
            } else if rest.count == 1, case .pipe(let bytes)? = ctx.input {
                // Kernel-independent detail of etcdctl: the value is all of standard input.
                value = String(decoding: bytes, as: UTF8.self)
                if value?.hasSuffix("\n") == true { value?.removeLast() }
            }
            guard let v = value, rest.count <= 2 else {
                ctx.eprintln("Error: put command needs 1 argument and input from stdin or 2 arguments")
                return .finished(128)
            }
            store.put(rest[0], v)
            ctx.println("OK")
            return .finished(0)
        case "get":
            guard (1...2).contains(rest.count) else {
                ctx.eprintln("Error: get command needs one argument as key and an optional argument as range_end")
                return .finished(128)
            }
            let kvs = store.range(rest[0], rangeEnd: rest.count == 2 ? rest[1] : nil, prefix: flags.contains("prefix"))
            var out = ""
            for kv in kvs {
                if flags.contains("keys-only") {
                    out += kv.key + "\n\n"
                } else if flags.contains("print-value-only") {
                    out += kv.value + "\n"
                } else {
                    out += kv.key + "\n" + kv.value + "\n"
                }
            }
            ctx.out.stdout(out)
            return .finished(0)
        case "del":
            guard (1...2).contains(rest.count) else {
                ctx.eprintln("Error: del command needs one argument as key and an optional argument as range_end")
                return .finished(128)
            }
            var n = 0
            if rest.count == 2 {
                for kv in store.range(rest[0], rangeEnd: rest[1]) { n += store.delete(kv.key) }
            } else {
                n = store.delete(rest[0], prefix: flags.contains("prefix"))
            }
            ctx.println(String(n))
            return .finished(0)
        case "version":
            ctx.println("etcdctl version: 3.4.23")
            ctx.println("API version: 3.4")
            return .finished(0)
        default:
            if commands.contains(cmd) {
                ctx.eprintln("Error: etcdctl \(cmd) is not modelled here; commands: get, put, del, version")
                return .finished(1)
            }
            // cobra: the error (with suggestions) and the usage hint, then etcdctl's own
            // ExitWithError prints the error again.
            var err = "Error: unknown command \"\(cmd)\" for \"etcdctl\"\n"
            let suggestions = commands.filter { $0 != "help" && (levenshtein($0, cmd) <= 2 || $0.hasPrefix(cmd.lowercased())) }
            if !suggestions.isEmpty {
                err += "\nDid you mean this?\n" + suggestions.map { "\t" + $0 + "\n" }.joined() + "\n"
            }
            ctx.out.stderr(err + "Run 'etcdctl --help' for usage.\n" + err)
            return .finished(1)
        }
    }

    /// cobra's ld(): the edit distance its suggestions use.
    static func levenshtein(_ a: String, _ b: String) -> Int {
        let s = Array(a.lowercased()), t = Array(b.lowercased())
        if s.isEmpty { return t.count }
        if t.isEmpty { return s.count }
        var prev = Array(0...t.count)
        for i in 1...s.count {
            var cur = [i] + Array(repeating: 0, count: t.count)
            for j in 1...t.count {
                cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (s[i - 1] == t[j - 1] ? 0 : 1))
            }
            prev = cur
        }
        return prev[t.count]
    }
}
