// TcpdumpArgs: tcpdump 4.99's command line (-i -n -e -v -p -c -w -l -q -s and a filter
// expression); the capture itself lives in the Trace module.

import NetKernel

enum TcpdumpArgs {
    static func parse(_ args: [String], _ ctx: ToolContext) -> ShellOutcome {
        var r = CaptureRequest(namespace: ctx.namespace)
        var filter: [String] = []
        var it = args.makeIterator()
        func fail(_ m: String) -> ShellOutcome { ctx.eprintln("tcpdump: " + m); return .finished(1) }
        while let a = it.next() {
            if a.hasPrefix("-") && a.count > 1 && filter.isEmpty {
                if a == "--" { continue }
                var chars = Array(a.dropFirst())
                while !chars.isEmpty {
                    let f = chars.removeFirst()
                    let inline = String(chars)
                    func value() -> String? { inline.isEmpty ? it.next() : inline }
                    switch f {
                    case "n": r.numeric = true
                    case "e": r.linkHeader = true
                    case "v": r.verbose += 1
                    case "p": r.promiscuous = false
                    case "l", "q", "S", "U", "t": break
                    case "i", "c", "w", "s":
                        chars = []
                        guard let v = value() else { return fail("option requires an argument -- '\(f)'") }
                        switch f {
                        case "i": r.interface = v
                        case "w": r.writeFile = v
                        case "c":
                            guard let n = Int(v), n > 0 else { return fail("invalid packet count \(v)") }
                            r.count = n
                        default: break
                        }
                    default:
                        return fail("invalid option -- '\(f)'")
                    }
                }
            } else {
                filter.append(a)
            }
        }
        if !filter.isEmpty { r.filter = filter.joined(separator: " ") }
        guard let i = r.interface else {
            return fail("capturing on \"any\" (Linux cooked capture) is not modelled; name an interface with -i")
        }
        guard let dev = ctx.namespace.device(named: i) else {
            ctx.eprintln("tcpdump: \(i): No such device exists")
            ctx.eprintln("(No such device exists)")
            return .finished(1)
        }
        guard dev.adminUp else { return fail("\(i): That device is not up") }
        return .capture(r)
    }
}
