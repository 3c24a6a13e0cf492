// ToolContext: what a userland tool sees when it runs: the machine and network namespace it
// runs in, its standard output and error, and the clock's wall-time origin.

import SimCore
import NetKernel

/// Where a tool's output goes. Lines keep their final newline.
public protocol OutputSink: AnyObject {
    func stdout(_ text: String)
    func stderr(_ text: String)
}

/// Collects output in order (stdout and stderr interleaved as written).
public final class BufferSink: OutputSink {
    public private(set) var text = ""
    public private(set) var stdoutText = ""
    public private(set) var errorText = ""
    public init() {}
    public func stdout(_ t: String) { text += t; stdoutText += t }
    public func stderr(_ t: String) { text += t; errorText += t }
}

/// A tool's standard input.
public enum ToolInput {
    /// The output of the previous command of a pipeline: all of it at once, then EOF.
    case pipe([UInt8])
    /// Lines a person types into the terminal (the step's `input:`), one a second, echoed by
    /// the terminal as they are typed.
    case typed([String])
}

public final class ToolContext {
    public let kernel: Kernel
    public let machine: Machine
    public var namespace: NetNamespace
    public let out: OutputSink
    /// Standard input; nil is a terminal nobody types into (or /dev/null in the background).
    public var input: ToolInput?
    /// Wall-clock time at virtual time zero (the scenario's start).
    public let epoch: SimTime
    /// The world's user-space state: etcd's key space, the machines' files.
    public let userland: Userland

    public init(kernel: Kernel, machine: Machine, namespace: NetNamespace, out: OutputSink, epoch: SimTime,
                userland: Userland = Userland()) {
        self.kernel = kernel
        self.machine = machine
        self.namespace = namespace
        self.out = out
        self.epoch = epoch
        self.userland = userland
    }

    public var now: SimTime { kernel.clock.now }
    public var wallNow: SimTime { epoch + kernel.clock.now }

    func with(namespace ns: NetNamespace) -> ToolContext {
        let c = ToolContext(kernel: kernel, machine: machine, namespace: ns, out: out, epoch: epoch, userland: userland)
        c.input = input
        return c
    }

    /// The same context writing to `sink`.
    func with(out sink: OutputSink) -> ToolContext {
        let c = ToolContext(kernel: kernel, machine: machine, namespace: namespace, out: sink, epoch: epoch, userland: userland)
        c.input = input
        return c
    }

    func println(_ s: String) { out.stdout(s + "\n") }
    func eprintln(_ s: String) { out.stderr(s + "\n") }
}

/// A tool that keeps running after its command returns (ping, nc, a capture).
public protocol SimProcess: AnyObject {
    var name: String { get }
    var pid: Int32 { get }
    var isFinished: Bool { get }
    var exitStatus: Int32 { get }
    /// SIGINT: stop as the real tool does on Ctrl-C (printing its summary).
    func interrupt()
    /// Whether running in the foreground would ever end on its own.
    var endsOnItsOwn: Bool { get }
    /// Called once when the process finishes.
    var onExit: ((Int32) -> Void)? { get set }
    /// What to tell the author when it does not finish in the foreground.
    var stallHint: String? { get }
}

extension SimProcess {
    public var stallHint: String? { nil }
}

/// A parsed tcpdump invocation; the Trace layer starts the capture.
public struct CaptureRequest {
    public var interface: String?
    public var numeric = false
    public var linkHeader = false
    public var verbose = 0
    public var promiscuous = true
    public var count: Int?
    public var writeFile: String?
    public var filter: String?
    public var namespace: NetNamespace
}

/// What running a command line led to.
public enum ShellOutcome {
    /// It ran to completion with this exit status.
    case finished(Int32)
    /// It started a process that runs on the virtual clock.
    case process(SimProcess)
    /// A capture to start (tcpdump).
    case capture(CaptureRequest)
    /// `sleep`: let the virtual clock run.
    case sleep(SimTime)
}
