// Runner: replays a scenario on the virtual clock: each step is typed on its machine, its
// output goes to the transcript, long-running tools (ping, tcpdump) run as processes, and
// `sleep` lets time pass. At the end, what still runs is interrupted as Ctrl-C would.
// Guarantees: the same scenario and seed give byte-identical transcripts and captures; a
// step whose exit status differs from the expected one stops the run with a located error.

import SimCore
import Wire
import NetKernel
import Commands
import Trace

/// The transcript: everything the terminal shows, in order.
final class Transcript: OutputSink {
    private(set) var text = ""
    private var stepErrors = ""
    func stdout(_ t: String) { text += t }
    func stderr(_ t: String) { text += t; stepErrors += t }
    /// stderr written since the last call.
    func takeStepErrors() -> String {
        defer { stepErrors = "" }
        return stepErrors
    }
}

/// Records kernel tracepoints for the event log.
final class EventRecorder: KernelObserver {
    var events: [KernelEvent] = []
    func record(_ event: KernelEvent) { events.append(event) }
}

public struct RunResult {
    public var scenario: Scenario
    public var transcript: String
    public var captures: [Capture]
    public var events: [KernelEvent]?
    public var eventsProcessed: Int
    public var virtualEnd: SimTime

    /// The files a run produces, by name, as they go into --out and golden/.
    public func textFiles() -> [(name: String, text: String)] {
        var files = [("transcript.txt", transcript)]
        for c in captures { files.append(("\(c.name).txt", c.text)) }
        if let ev = events { files.append(("events.txt", ev.map { $0.description + "\n" }.joined())) }
        return files
    }

    /// Writes every file of the run into `dir`.
    public func write(to dir: String) throws {
        for (name, text) in textFiles() { try OutputFolder.writeText(text, to: dir + "/" + name) }
        for c in captures { try c.writePcap(to: dir + "/" + c.name + ".pcap") }
    }
}

public final class Runner {
    public let scenario: Scenario
    public let kernel: Kernel
    private let transcript = Transcript()
    private var processes: [SimProcess] = []
    private var captures: [Capture] = []
    private var recorder: EventRecorder?
    /// The scenario's shared user-space state (etcd's key space, files on the machines).
    public let userland = Userland()
    /// The longest a foreground command may run, in virtual time.
    public var foregroundLimit = SimTime.seconds(24 * 3600)

    public init(_ scenario: Scenario, recordEvents: Bool = false) {
        self.scenario = scenario
        let clock = EventQueue(start: .zero, budget: scenario.eventBudget)
        kernel = Kernel(clock: clock, seed: scenario.seed)
        for m in scenario.machines { kernel.addMachine(m) }
        if recordEvents {
            let r = EventRecorder()
            recorder = r
            kernel.observer = r
        }
    }

    public func run() throws -> RunResult {
        try buildNetworks()
        for step in scenario.steps {
            try runStep(step)
        }
        // The lab is over: Ctrl-C what still runs, in the order it was started.
        for p in processes where !p.isFinished { p.interrupt() }
        for c in captures where !c.stopped { stopCapture(c) }
        return RunResult(scenario: scenario, transcript: transcript.text, captures: captures,
                         events: recorder?.events, eventsProcessed: kernel.clock.processed, virtualEnd: kernel.clock.now)
    }

    /// The underlay as the machines boot with it: NICs plugged in, configured and up, lo up.
    private func buildNetworks() throws {
        var booted = Set<String>()
        for net in scenario.networks {
            let seg = kernel.addSegment(net.name)
            for a in net.attachments {
                guard let m = kernel.machine(named: a.machine) else { continue }
                let ns = m.root!
                func bad(_ msg: String) -> ScenarioError { ScenarioError(file: scenario.path, line: a.line, message: msg) }
                let nic: EthernetDevice
                do {
                    nic = try ns.addNIC(name: a.device, segment: seg)
                } catch {
                    throw bad("cannot add \(a.device) to \(a.machine): \(error)")
                }
                if let text = a.address {
                    guard let p = IPv4Prefix(text, defaultLength: 32), text.contains("/") else {
                        throw bad("`\(text)` is not an address with a prefix length (like 192.168.1.11/24)")
                    }
                    try ns.addAddress(p, broadcast: p.length < 31 ? p.broadcast : nil, scope: nil, label: nil, to: nic)
                }
                ns.setUp(nic, true)
                if let g = a.gateway {
                    guard let gw = IPv4Address(g) else { throw bad("`\(g)` is not an IPv4 address") }
                    var r = Route(destination: IPv4Prefix(address: .any, length: 0), device: nic)
                    r.gateway = gw
                    do { try ns.addRoute(r) } catch { throw bad("default route via \(g): \(error)") }
                }
                if booted.insert(a.machine).inserted { ns.setUp(ns.loopback, true) }
            }
        }
    }

    private func fail(_ step: Step, _ message: String, hint: String? = nil) -> ScenarioError {
        ScenarioError(file: scenario.path, step: step, message: message, hint: hint)
    }

    private func runStep(_ step: Step) throws {
        let machineName = step.machine ?? scenario.machines[0]
        guard let machine = kernel.machine(named: machineName) else { return }
        let prompt = scenario.machines.count > 1 ? "\(machineName)$ " : "$ "
        transcript.stdout(prompt + step.text + "\n")
        if scenario.stepDelay > .zero { try advance(step, until: kernel.clock.now + scenario.stepDelay) }
        _ = transcript.takeStepErrors()
        let parsed: CommandLineText
        do {
            parsed = try ShellWords.parse(step.text)
        } catch {
            throw fail(step, "\(error)")
        }
        guard !parsed.pipeline.isEmpty else { return }
        let background = parsed.background || step.background
        let ctx = ToolContext(kernel: kernel, machine: machine, namespace: machine.root, out: transcript, epoch: scenario.start, userland: userland)
        if let lines = step.input { ctx.input = .typed(lines) }
        let outcome: ShellOutcome
        do {
            outcome = try ShellLine.run(parsed, ctx)
        } catch let e as PipelineError {
            throw fail(step, "`\(e.command)` cannot start a pipeline",
                       hint: "only commands that finish at once (echo, printf) can feed a pipe")
        }
        switch outcome {
        case .finished(let status):
            try check(step, status: status, ctx: ctx)
        case .sleep(let t):
            try advance(step, until: kernel.clock.now + t)
        case .process(let p):
            if background {
                processes.append(p)
                return
            }
            guard p.endsOnItsOwn else {
                p.interrupt()
                throw fail(step, "\(p.name) would run forever in the foreground",
                           hint: "give it a count (ping -c N) or a deadline (-w N), or run it in the background with a trailing &")
            }
            let deadline = kernel.clock.now + foregroundLimit
            do {
                _ = try kernel.clock.run(while: { !p.isFinished }, deadline: deadline)
            } catch let RunError.budgetExceeded(budget, at) {
                throw budgetError(step, budget: budget, at: at)
            }
            if !p.isFinished {
                p.interrupt()
                throw fail(step, "\(p.name) did not finish within \(foregroundLimit.seconds / 3600) hours of virtual time",
                           hint: p.stallHint)
            }
            try check(step, status: p.exitStatus, ctx: ctx)
        case .capture(let req):
            try startCapture(req, step: step, machine: machine)
        }
    }

    private func check(_ step: Step, status: Int32, ctx: ToolContext) throws {
        let err = transcript.takeStepErrors()
        guard status != step.expectStatus else { return }
        var message = err.trimmedLine
        if message.isEmpty { message = "exited with status \(status)" } else { message += " (exit status \(status))" }
        throw fail(step, message, hint: Hints.forFailure(step: step, stderr: err, status: status, expected: step.expectStatus, ctx: ctx))
    }

    private func advance(_ step: Step, until t: SimTime) throws {
        do {
            try kernel.clock.run(until: t)
        } catch let RunError.budgetExceeded(budget, at) {
            throw budgetError(step, budget: budget, at: at)
        }
    }

    private func budgetError(_ step: Step, budget: Int, at: SimTime) -> ScenarioError {
        fail(step, "the simulation stopped after \(budget) events at \(at) of virtual time, which looks like a loop or a broadcast storm",
             hint: "check for a bridge loop or a routing loop; if the load is intended, raise `budget:` in the scenario")
    }

    // MARK: - Captures

    private func startCapture(_ req: CaptureRequest, step: Step, machine: Machine) throws {
        guard let iface = req.interface, let dev = req.namespace.device(named: iface) else { return }
        var filter: CaptureFilter?
        if let expr = req.filter {
            do {
                filter = try CaptureFilter(expr, linkType: LinkType.of(dev))
            } catch {
                transcript.stderr("tcpdump: \(error)\n")
                try check(step, status: 1, ctx: ToolContext(kernel: kernel, machine: machine, namespace: req.namespace, out: transcript, epoch: scenario.start, userland: userland))
                return
            }
        }
        var name = step.captureName ?? req.writeFile.map(Runner.stem) ?? iface
        if step.captureName == nil && scenario.machines.count > 1 { name = "\(machine.name)-\(name)" }
        if captures.contains(where: { $0.name == name }) {
            var k = 2
            while captures.contains(where: { $0.name == "\(name)-\(k)" }) { k += 1 }
            name = "\(name)-\(k)"
        }
        var opts = PrintOptions(linkHeader: req.linkHeader, verbose: req.verbose)
        opts.verbose = req.verbose
        let c = Capture(name: name, device: dev, promiscuous: req.promiscuous, filter: filter, options: opts,
                        limit: req.count, epoch: scenario.start)
        let banner = req.writeFile != nil && req.verbose == 0 ? ["tcpdump: " + c.startBanner.last!] : c.startBanner
        for l in banner { transcript.stderr(l + "\n") }
        _ = transcript.takeStepErrors()
        c.onLimitReached = { [weak self, weak c] in
            guard let self, let c else { return }
            for l in c.summary { self.transcript.stderr(l + "\n") }
        }
        captures.append(c)
    }

    private func stopCapture(_ c: Capture) {
        c.stop()
        for l in c.summary { transcript.stderr(l + "\n") }
    }

    static func stem(_ file: String) -> String {
        var f = file.split(separator: "/").last.map(String.init) ?? file
        for ext in [".pcap", ".pcapng", ".cap"] where f.hasSuffix(ext) { f = String(f.dropLast(ext.count)) }
        return f
    }
}
