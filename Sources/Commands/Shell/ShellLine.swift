// ShellLine: one parsed command line run as bash runs it: the commands of a pipeline left to
// right (each earlier one to completion, its output the next one's input), each with its
// redirections opened first from the shell's namespace. Serves a scenario step and
// `sh -c` / `bash -c`.
// Guarantees: a file a redirection cannot open prints bash's message and skips that command
// (status 1); a refused write to a redirected file fails the writer as bash reports it.
// Leaves out: job control, `&&`/`||`/`;` lists, here-documents, variables.

import NetKernel

/// An earlier command of a pipeline that does not finish at once (only echo-like commands
/// can feed a pipe here).
public struct PipelineError: Error {
    public let command: String
}

/// Which shell runs the line, for the words of its messages.
public enum ShellDialect {
    /// bash at a prompt (a scenario step).
    case interactive
    /// `bash -c`.
    case bashC
    /// `sh -c`: dash, Debian's /bin/sh.
    case dash

    private var bashPrefix: String { self == .bashC ? "bash: line 1: " : "bash: " }

    /// A redirection's file could not be opened: the message and the command's status.
    func cannotOpen(_ e: RedirectionError) -> (String, Int32) {
        guard self == .dash else { return ("\(bashPrefix)\(e.path): \(e.errno.message)", 1) }
        // dash's errmsg(): ENOENT reads "No such file" on open, "Directory nonexistent" on create.
        let why = e.errno == .ENOENT ? (e.input ? "No such file" : "Directory nonexistent") : e.errno.message
        return ("sh: 1: cannot \(e.input ? "open" : "create") \(e.path): \(why)", 2)
    }

    /// A write to a redirected file failed.
    func writeError(_ program: String, _ e: Errno) -> String {
        guard ["echo", "printf"].contains(program) else { return "\(program): write error: \(e.message)" }
        // dash's builtins flush through its output layer, which reports EIO.
        return self == .dash ? "sh: 1: \(program): \(program): I/O error" : "\(bashPrefix)\(program): write error: \(e.message)"
    }

    /// A line that does not parse.
    func syntaxError(_ e: ShellSyntaxError) -> String {
        switch self {
        case .interactive: return "bash: \(e.message)"
        case .bashC: return "bash: -c: line 1: \(e.message)"
        case .dash: return e.message.hasPrefix("unexpected EOF while looking for matching")
            ? "sh: 1: Syntax error: Unterminated quoted string" : "sh: 1: Syntax error: \(e.message)"
        }
    }
}

public enum ShellLine {
    /// Runs `line` with `ctx`'s machine, namespace, output and input, as `dialect` would.
    public static func run(_ line: CommandLineText, _ ctx: ToolContext, dialect: ShellDialect = .interactive) throws -> ShellOutcome {
        guard let argv = line.pipeline.last else { return .finished(0) }
        var input = ctx.input
        for (k, earlier) in line.pipeline.dropLast().enumerated() {
            let sink = BufferSink()
            let pctx = ctx.with(out: sink)
            pctx.input = input
            guard let (rctx, _) = redirect(line, k, pctx, dialect) else {
                input = .pipe([])
                continue
            }
            guard case .finished = Shell.run(earlier, rctx) else {
                throw PipelineError(command: earlier.joined(separator: " "))
            }
            ctx.out.stderr(sink.errorText)
            input = .pipe(Array(sink.stdoutText.utf8))
        }
        let last = ctx.with(out: ctx.out)
        last.input = input
        guard let (rctx, redirected) = redirect(line, line.pipeline.count - 1, last, dialect) else {
            return .finished(dialect == .dash ? 2 : 1)
        }
        let outcome = Shell.run(argv, rctx)
        if case .finished = outcome, let e = redirected?.writeError {
            ctx.out.stderr(dialect.writeError(argv[0], e) + "\n")
            return .finished(1)
        }
        return outcome
    }

    /// Command `k`'s context after its redirections; nil (after bash's message) when a file
    /// cannot be opened.
    private static func redirect(_ line: CommandLineText, _ k: Int, _ ctx: ToolContext,
                                 _ dialect: ShellDialect) -> (ToolContext, RedirectedSink?)? {
        guard k < line.redirections.count, !line.redirections[k].isEmpty else { return (ctx, nil) }
        do {
            let r = try RedirectedSink.apply(line.redirections[k], base: ctx.out, userland: ctx.userland,
                                             machine: ctx.machine, namespace: ctx.namespace)
            let c = ctx.with(out: r.sink)
            c.input = r.input ?? ctx.input
            return (c, r.sink)
        } catch let e as RedirectionError {
            ctx.out.stderr(dialect.cannotOpen(e).0 + "\n")
            return nil
        } catch {
            return nil
        }
    }
}
