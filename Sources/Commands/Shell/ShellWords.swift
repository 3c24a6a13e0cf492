// ShellWords: the part of a POSIX shell a scenario step needs: words with quotes and
// backslashes, a trailing `&`, `|` between commands, and the redirections `<`, `>`, `>>`,
// `2>`, `2>>`, `2>&1` and `&>` (what tutorials type: `iptables-save > rules.v4`,
// `echo 1 > /proc/sys/net/ipv4/ip_forward`).
// Guarantees: malformed quoting is an error, never a guess; messages are bash's.

public struct ShellSyntaxError: Error, CustomStringConvertible {
    public let message: String
    public var description: String { message }
}

/// One parsed step: the commands of a pipeline, and whether it runs in the background.
public struct CommandLineText: Equatable {
    public var pipeline: [[String]]
    public var background: Bool
    /// Each command's redirections, in the order typed (bash applies them left to right).
    public var redirections: [[Redirection]] = []
}

/// A redirection of one command's standard input, output or error.
public struct Redirection: Equatable {
    public enum Kind: Equatable {
        /// `< FILE`
        case input
        /// `> FILE`, `>> FILE` (`append`), `2> FILE`; `&> FILE` sends both outputs.
        case output(fd: Int, append: Bool)
        /// `&> FILE`
        case both(append: Bool)
        /// `2>&1`
        case errorToOutput
    }
    public var kind: Kind
    public var path: String
}

public enum ShellWords {
    public static func parse(_ line: String) throws -> CommandLineText {
        let it = Array(line.unicodeScalars)
        var words: [String] = []
        var pipeline: [[String]] = []
        var cur = String.UnicodeScalarView()
        var inWord = false
        var quote: Unicode.Scalar? = nil
        var i = 0
        var background = false
        var redirections: [[Redirection]] = []
        var pending: [Redirection] = []
        /// A redirection whose file name is the next word.
        var awaiting: Redirection.Kind?
        var curQuoted = false
        func endWord() throws {
            if inWord {
                if let k = awaiting {
                    pending.append(Redirection(kind: k, path: String(cur)))
                    awaiting = nil
                } else {
                    words.append(String(cur))
                }
            }
            cur = String.UnicodeScalarView()
            inWord = false
            curQuoted = false
        }
        func unexpected(_ token: String) -> ShellSyntaxError {
            ShellSyntaxError(message: "syntax error near unexpected token `\(token)'")
        }
        while i < it.count {
            let c = it[i]
            if let q = quote {
                if c == q {
                    quote = nil
                } else if q == "\"" && c == "\\" && i + 1 < it.count && "\"\\$`".unicodeScalars.contains(it[i + 1]) {
                    i += 1
                    cur.append(it[i])
                } else {
                    cur.append(c)
                }
                i += 1
                continue
            }
            switch c {
            case " ", "\t":
                try endWord()
            case "'", "\"":
                quote = c
                inWord = true
                curQuoted = true
            case "\\":
                guard i + 1 < it.count else { throw ShellSyntaxError(message: "trailing backslash") }
                i += 1
                cur.append(it[i])
                inWord = true
            case "#" where !inWord:
                // A comment runs to the end of the line.
                i = it.count
                continue
            case "|":
                if awaiting != nil && !inWord { throw unexpected("|") }
                try endWord()
                guard !words.isEmpty else { throw unexpected("|") }
                pipeline.append(words)
                redirections.append(pending)
                words = []
                pending = []
            case "&" where i + 1 < it.count && it[i + 1] == ">" && !inWord:
                // `&> FILE` / `&>> FILE`: both outputs.
                if awaiting != nil { throw unexpected("&>") }
                let append = i + 2 < it.count && it[i + 2] == ">"
                awaiting = .both(append: append)
                i += append ? 3 : 2
                continue
            case "&":
                if awaiting != nil && !inWord { throw unexpected("&") }
                try endWord()
                // Only a final & is supported (no && lists).
                let rest = it[(i + 1)...].filter { $0 != " " && $0 != "\t" }
                guard rest.isEmpty || rest.first == "#" else {
                    throw ShellSyntaxError(message: "only a trailing `&' is supported")
                }
                background = true
                i = it.count
                continue
            case ";":
                throw ShellSyntaxError(message: "one command per step: split `;' into separate steps")
            case ">", "<":
                // A lone digit just before `>` names the descriptor (`2>`), unless quoted.
                var fd = c == "<" ? 0 : 1
                if inWord && !curQuoted && cur.count == 1, let d = cur.first, d == "1" || d == "2" {
                    fd = d == "1" ? 1 : 2
                    cur = String.UnicodeScalarView()
                    inWord = false
                }
                try endWord()
                if awaiting != nil { throw unexpected(String(c)) }
                var n = i + 1
                if c == ">" && n < it.count && it[n] == "&" {
                    // `2>&1` (and `>&2`, which is not modelled).
                    guard n + 1 < it.count, it[n + 1] == "1", fd == 2 else {
                        throw ShellSyntaxError(message: "only the duplication 2>&1 is supported")
                    }
                    pending.append(Redirection(kind: .errorToOutput, path: ""))
                    i = n + 2
                    continue
                }
                let append = c == ">" && n < it.count && it[n] == ">"
                if append { n += 1 }
                awaiting = c == "<" ? .input : .output(fd: fd, append: append)
                i = n
                continue
            default:
                cur.append(c)
                inWord = true
            }
            i += 1
        }
        if let q = quote { throw ShellSyntaxError(message: "unexpected EOF while looking for matching `\(q)'") }
        if awaiting != nil && !inWord { throw unexpected("newline") }
        try endWord()
        if words.isEmpty {
            if !pipeline.isEmpty { throw ShellSyntaxError(message: "syntax error: `|' at the end of the line") }
            if !pending.isEmpty { throw ShellSyntaxError(message: "a redirection needs a command") }
        } else {
            pipeline.append(words)
            redirections.append(pending)
        }
        return CommandLineText(pipeline: pipeline, background: background, redirections: redirections)
    }
}
