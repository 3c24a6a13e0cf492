// Cat: GNU cat for the files the machine's programs wrote (flanneld's subnet.env,
// `iptables-save -f` files). Messages as coreutils prints them.
// Without a file it copies a pipe's input.
// Leaves out: every file nobody wrote in the scenario (/etc, /proc), options.

import NetKernel

enum Cat {
    static func run(_ args: [String], _ ctx: ToolContext) -> ShellOutcome {
        var status: Int32 = 0
        if args.isEmpty || args == ["-"] {
            if case .pipe(let bytes)? = ctx.input { ctx.out.stdout(String(decoding: bytes, as: UTF8.self)) }
            return .finished(0)
        }
        for path in args {
            if let text = ctx.userland.file(path, on: ctx.machine) ?? ctx.machine.root.netfilter.files[path] {
                ctx.out.stdout(text)
            } else {
                ctx.eprintln("cat: \(path): No such file or directory")
                status = 1
            }
        }
        return .finished(status)
    }
}
