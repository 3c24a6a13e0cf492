// Lab: drives the simulated tools the way the recordings drove the real ones, so that a test
// reads like the transcript it was recorded from.
//
// The real runs happened on Linux 6.18 with iproute2 6.1 and bridge-utils 1.7, in namespaces
// created with `ip netns add` inside a private mount namespace whose /run/netns was a fresh
// tmpfs (so `ip netns list` shows the normal newest-first order), with IPv6 disabled in every
// namespace. Here the machine's root namespace plays the shell the commands were typed in and
// never holds a device of the lab: every command runs behind `ip netns exec NS`, as there.
//
// Conventions of the expected texts: a multi-line literal holds the output without its final
// newline; `\t` is a TAB; a space at the end of a line is written `\u{20}` so that it cannot be
// lost; `<mac:NAME>` stands for the random MAC device NAME had when `noteRandomMAC` was called
// (the real and the simulated kernel draw different ones).
//
// The recordings and the scripts that made them are in .recordings/ (README.md there).
// LAB_SHOW_KNOWN=1 prints what the simulator says where a check is a known difference.

import XCTest
import SimCore
import NetKernel
@testable import Commands

/// Keeps stdout and stderr apart (BufferSink interleaves them).
final class SplitSink: OutputSink {
    var out = ""
    var err = ""
    func stdout(_ t: String) { out += t }
    func stderr(_ t: String) { err += t }
}

final class Lab {
    let kernel: Kernel
    let machine: Machine
    let sink = SplitSink()
    let ctx: ToolContext
    private var notedMACs: [(placeholder: String, mac: String)] = []

    init(seed: UInt64 = 1) {
        kernel = Kernel(clock: EventQueue(), seed: seed)
        machine = kernel.addMachine("host")
        ctx = ToolContext(kernel: kernel, machine: machine, namespace: machine.root, out: sink, epoch: .zero)
    }

    /// "ct_host> ip link show" -> argv behind `ip netns exec ct_host`; a line without a
    /// namespace runs in the shell's own namespace (only `ip netns ...` is used that way).
    static func argv(_ line: String) -> [String] {
        var text = line.trimmingCharacters(in: .whitespaces)
        var prefix: [String] = []
        if let first = text.split(separator: " ").first, first.hasSuffix(">") {
            prefix = ["ip", "netns", "exec", String(first.dropLast())]
            text = String(text.dropFirst(first.count))
        }
        let words = try! ShellWords.parse(text).pipeline.first ?? []
        return prefix + words
    }

    /// Runs one command line; returns stdout, stderr and the exit status.
    func exec(_ line: String) -> (out: String, err: String, status: Int32) {
        sink.out = ""
        sink.err = ""
        let outcome = Shell.run(Lab.argv(line), ctx)
        var status: Int32 = -1
        var pause = SimTime.milliseconds(10)  // a few milliseconds pass between typed commands
        switch outcome {
        case let .finished(s): status = s
        case let .sleep(t): status = 0; pause = t
        default: break
        }
        try! kernel.clock.run(until: kernel.clock.now + pause)
        return (sink.out, sink.err, status)
    }

    /// Runs a command line to its end, following a process on the virtual clock in steps of
    /// `tick` for at most `limit`; the status is -1 for a process still running then.
    func runToEnd(_ line: String, limit: SimTime = .seconds(60), tick: SimTime = .milliseconds(10))
        -> (out: String, err: String, status: Int32) {
        sink.out = ""
        sink.err = ""
        var status: Int32 = -1
        switch Shell.run(Lab.argv(line), ctx) {
        case let .finished(s): status = s
        case let .process(p):
            let t0 = kernel.clock.now
            while !p.isFinished && kernel.clock.now < t0 + limit {
                try! kernel.clock.run(until: kernel.clock.now + tick)
            }
            status = p.isFinished ? p.exitStatus : -1
        default: break
        }
        return (sink.out, sink.err, status)
    }

    /// Namespaces `a` and `b` joined by a veth pair, v0 in `a` and v1 in `b`, both up with
    /// the given addresses (what the single-link recordings used).
    func vethPair(_ a: String, _ b: String, _ addressA: String, _ addressB: String) {
        run("""
            ip netns add \(a)
            ip netns add \(b)
            \(a)> ip link add v0 type veth peer name v1 netns \(b)
            \(a)> ip link set v0 up
            \(a)> ip addr add \(addressA) dev v0
            \(b)> ip link set v1 up
            \(b)> ip addr add \(addressB) dev v1
            """)
    }

    /// Runs command lines (one per line) that must succeed silently.
    func run(_ lines: String, file: StaticString = #filePath, line: UInt = #line) {
        for l in lines.split(separator: "\n") where !l.trimmingCharacters(in: .whitespaces).isEmpty {
            let r = exec(String(l))
            XCTAssertEqual(r.status, 0, "exit status of `\(l)`", file: file, line: line)
            XCTAssertEqual(r.out + r.err, "", "output of `\(l)`", file: file, line: line)
        }
    }

    /// Runs one command line and compares its stdout, stderr and exit status with a recording.
    /// `knownDifference`: the simulated kernel is known to behave differently here (the comment
    /// above the call says how); the check then fails only once the outputs agree, so that the
    /// marker is removed when the kernel model is fixed.
    func check(_ cmd: String, _ stdout: String = "", status: Int32 = 0, stderr: String = "",
               knownDifference: Bool = false, file: StaticString = #filePath, line: UInt = #line) {
        let r = exec(cmd)
        if knownDifference {
            let same = r.out == expand(stdout) && r.err == expand(stderr)
                && r.status == status
            if ProcessInfo.processInfo.environment["LAB_SHOW_KNOWN"] != nil { print("KNOWN `\(cmd)`:\n\(r.out)\(r.err)[\(r.status)]") }
            XCTAssertFalse(same, "`\(cmd)` now behaves as on Linux: drop its knownDifference marker",
                           file: file, line: line)
            return
        }
        compare(r.out, expand(stdout), "stdout of `\(cmd)`", file: file, line: line)
        compare(r.err, expand(stderr), "stderr of `\(cmd)`", file: file, line: line)
        XCTAssertEqual(r.status, status, "exit status of `\(cmd)`", file: file, line: line)
    }

    /// Fails with the first line that differs, both versions shown with visible ends of line.
    private func compare(_ actual: String, _ expected: String, _ what: String, file: StaticString, line: UInt) {
        guard actual != expected else { return }
        let a = actual.split(separator: "\n", omittingEmptySubsequences: false)
        let e = expected.split(separator: "\n", omittingEmptySubsequences: false)
        let i = (0..<min(a.count, e.count)).first { a[$0] != e[$0] } ?? min(a.count, e.count)
        func show(_ l: [Substring]) -> String { i < l.count ? "\"\(l[i])\"" : "(no line)" }
        XCTFail("\(what): line \(i + 1) differs\n  simulated: \(show(a))\n  real:      \(show(e))\n"
                + "--- simulated:\n\(actual)--- real:\n\(expected)", file: file, line: line)
    }

    /// Remembers the (random) MAC that device `dev` of namespace `ns` has now as `<mac:dev>`.
    func noteRandomMAC(_ ns: String, _ dev: String) {
        guard let d = machine.namespace(named: ns)?.device(named: dev) else {
            XCTFail("no device \(dev) in \(ns)")
            return
        }
        notedMACs.append(("<mac:\(dev)>", d.mac.description))
    }

    private func expand(_ text: String) -> String {
        guard !text.isEmpty else { return "" }
        var t = text
        for (p, m) in notedMACs { t = t.replacingOccurrences(of: p, with: m) }
        return t + "\n"
    }
}
