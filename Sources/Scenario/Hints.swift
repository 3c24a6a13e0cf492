// Hints: a next step for the author when a command fails, drawn from the state the command saw.

import NetKernel
import Commands

enum Hints {
    static func forFailure(step: Step, stderr: String, status: Int32, expected: Int32, ctx: ToolContext) -> String? {
        if stderr.contains("Cannot find device") || stderr.contains("does not exist") {
            let ns = ctx.namespace
            let names = ns.devices.map(\.name).joined(separator: ", ")
            return "devices in \(ns.name.map { "namespace \($0)" } ?? "the root namespace of \(ctx.machine.name)"): \(names)"
        }
        if stderr.contains("Cannot open network namespace") || stderr.contains("Invalid \"netns\" value") {
            let names = ctx.machine.namedNamespaces.map { $0.name ?? "" }
            return names.isEmpty ? "no namespace exists yet: create it with `ip netns add NAME`"
                : "namespaces on \(ctx.machine.name): " + names.joined(separator: ", ")
        }
        if status == 127, stderr.contains("iptables-legacy") {
            // The x_tables backend keeps a rule set of its own beside nf_tables; only nf_tables is modelled.
            return "`iptables` here is iptables-nft, as on current distributions (iptables-legacy and its "
                + "dmesg TRACE lines are not modelled); `xtables-monitor --trace` shows a TRACE rule's trace"
        }
        if status == 127 || stderr.contains("exec of") {
            return "programs swnetsim models: " + Shell.programs.joined(separator: ", ")
        }
        if status != 0 && expected == 0 {
            return "if this failure is part of the lab, add `status: \(status)` to the step"
        }
        if status == 0 {
            return "the step was expected to exit with status \(expected)"
        }
        return nil
    }
}
