// Cat: GNU cat for the files the machine's programs wrote (flanneld's subnet.env,
// `iptables-save -f` files, redirected output) and /proc/sys/net (the keys of the namespace
// cat runs in). Messages as coreutils prints them. Without a file it copies its input.
// Leaves out: every other file nobody wrote in the scenario (/etc, the rest of /proc), options.

import NetKernel

enum Cat {
    static func run(_ args: [String], _ ctx: ToolContext) -> ShellOutcome {
        var status: Int32 = 0
        if args.isEmpty || args == ["-"] {
            if case .pipe(let bytes)? = ctx.input { ctx.out.stdout(String(decoding: bytes, as: UTF8.self)) }
            return .finished(0)
        }
        for path in args {
            if let text = ctx.userland.read(path, machine: ctx.machine, namespace: ctx.namespace) {
                ctx.out.stdout(text)
            } else {
                ctx.eprintln("cat: \(path): No such file or directory")
                status = 1
            }
        }
        return .finished(status)
    }
}
