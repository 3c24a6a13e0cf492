// Cat: GNU cat for the files the machine's programs wrote (flanneld's subnet.env,
// `iptables-save -f` files). Messages as coreutils prints them.
// Leaves out: every file nobody wrote in the scenario (/etc, /proc), options.

import NetKernel

enum Cat {
    static func run(_ args: [String], _ ctx: ToolContext) -> ShellOutcome {
        var status: Int32 = 0
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
