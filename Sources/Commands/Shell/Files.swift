// Files: what open() finds at a path for the programs of a scenario: /proc/sys/net (the
// opener's namespace's sysctl keys, as procfs shows them), /dev/null, and the plain files
// the machine's programs wrote (Userland).
// Guarantees: a /proc/sys/net file is the key of the namespace that opens it, so bash's
// `ip netns exec X echo 1 > /proc/sys/net/ipv4/ip_forward` writes the shell's own namespace,
// as on Linux; a write that the key refuses fails the writer with EINVAL.
// Leaves out: directories (any other path can be created), permissions, /proc and /sys
// outside net.

import NetKernel

/// An open file being written: each write() goes through at once.
public final class OpenFile {
    enum Target {
        case plain(String)
        case sysctl(String, NetNamespace)
        case null
    }
    private let target: Target
    private let userland: Userland
    private let machine: Machine
    /// The first write error (the writer reports it when it ends).
    public private(set) var error: Errno?

    init(_ target: Target, userland: Userland, machine: Machine) {
        self.target = target
        self.userland = userland
        self.machine = machine
    }

    public func write(_ text: String) {
        switch target {
        case .plain(let path):
            userland.appendFile(path, text, on: machine)
        case .sysctl(let key, let ns):
            // Kernel: proc_dointvec() parses each write on its own.
            do { try ns.sysctlWrite(key, text) } catch let e as KernelError { error = error ?? e.errno } catch { self.error = self.error ?? .EINVAL }
        case .null:
            break
        }
    }
}

extension Userland {
    /// The sysctl key behind a /proc/sys path ("/proc/sys/net/ipv4/ip_forward" ->
    /// "net.ipv4.ip_forward"); nil for any other path.
    static func sysctlKey(_ path: String) -> String? {
        let prefix = "/proc/sys/"
        guard path.hasPrefix(prefix) else { return nil }
        return String(path.dropFirst(prefix.count)).split(separator: "/").joined(separator: ".")
    }

    /// open(path, O_RDONLY) and read it all, from `ns` on `machine`. Nil: ENOENT.
    public func read(_ path: String, machine: Machine, namespace ns: NetNamespace) -> String? {
        if path == "/dev/null" { return "" }
        if let key = Userland.sysctlKey(path) {
            return (try? ns.sysctlRead(key)).map { $0 + "\n" }
        }
        return file(path, on: machine)
    }

    /// open(path, O_WRONLY|O_CREAT|(append ? O_APPEND : O_TRUNC)) from `ns` on `machine`.
    public func open(forWriting path: String, append: Bool, machine: Machine, namespace ns: NetNamespace) throws -> OpenFile {
        if path == "/dev/null" { return OpenFile(.null, userland: self, machine: machine) }
        if let key = Userland.sysctlKey(path) {
            // procfs has no file to create: an unknown key is ENOENT.
            guard (try? ns.sysctlRead(key)) != nil else { throw KernelError(.ENOENT) }
            return OpenFile(.sysctl(key, ns), userland: self, machine: machine)
        }
        if path.hasPrefix("/proc/") || path.hasPrefix("/sys/") { throw KernelError(.ENOENT) }
        if !append || file(path, on: machine) == nil { writeFile(path, "", on: machine) }
        return OpenFile(.plain(path), userland: self, machine: machine)
    }
}

/// A file a redirection could not open.
public struct RedirectionError: Error {
    public let path: String
    public let errno: Errno
    /// `<` (open) rather than `>` (create).
    public let input: Bool
}

/// A command's standard output and error after its redirections: each descriptor goes to
/// the terminal's stream it started on, or to an open file.
public final class RedirectedSink: OutputSink {
    enum Dest {
        case terminalOut, terminalErr
        case file(OpenFile)
    }
    private let base: OutputSink
    private var fd1 = Dest.terminalOut, fd2 = Dest.terminalErr
    private var files: [OpenFile] = []

    init(base: OutputSink) { self.base = base }

    public func stdout(_ t: String) { send(t, fd1) }
    public func stderr(_ t: String) { send(t, fd2) }

    private func send(_ t: String, _ d: Dest) {
        switch d {
        case .terminalOut: base.stdout(t)
        case .terminalErr: base.stderr(t)
        case .file(let f): f.write(t)
        }
    }

    /// The first write a file refused.
    public var writeError: Errno? { files.lazy.compactMap(\.error).first }

    /// What bash does before it runs a command with `redirections`, left to right: opens the
    /// files from the shell's namespace `ns` and sets standard input and the two outputs.
    /// Returns the new standard input (nil: unchanged); throws for a file it cannot open
    /// (the command does not run).
    public static func apply(_ redirections: [Redirection], base: OutputSink, userland: Userland, machine: Machine,
                             namespace ns: NetNamespace) throws -> (sink: RedirectedSink, input: ToolInput?) {
        let sink = RedirectedSink(base: base)
        var input: ToolInput?
        for r in redirections {
            func cannotOpen(_ e: Errno) -> RedirectionError {
                if case .input = r.kind { return RedirectionError(path: r.path, errno: e, input: true) }
                return RedirectionError(path: r.path, errno: e, input: false)
            }
            switch r.kind {
            case .input:
                guard let text = userland.read(r.path, machine: machine, namespace: ns) else { throw cannotOpen(.ENOENT) }
                input = .pipe(Array(text.utf8))
            case .output(_, let append), .both(let append):
                let f: OpenFile
                do {
                    f = try userland.open(forWriting: r.path, append: append, machine: machine, namespace: ns)
                } catch let e as KernelError {
                    throw cannotOpen(e.errno)
                }
                sink.files.append(f)
                switch r.kind {
                case .both: sink.fd1 = .file(f); sink.fd2 = .file(f)
                case .output(2, _): sink.fd2 = .file(f)
                default: sink.fd1 = .file(f)
                }
            case .errorToOutput:
                sink.fd2 = sink.fd1
            }
        }
        return (sink, input)
    }
}
