// ShellWords: the part of a POSIX shell a scenario step needs: words with quotes and
// backslashes, a trailing `&`, and `|` between commands.
// Guarantees: malformed quoting is an error, never a guess.

public struct ShellSyntaxError: Error, CustomStringConvertible {
    public let message: String
    public var description: String { message }
}

/// One parsed step: the commands of a pipeline, and whether it runs in the background.
public struct CommandLineText: Equatable {
    public var pipeline: [[String]]
    public var background: Bool
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
        func endWord() {
            if inWord { words.append(String(cur)) }
            cur = String.UnicodeScalarView()
            inWord = false
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
                endWord()
            case "'", "\"":
                quote = c
                inWord = true
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
                endWord()
                guard !words.isEmpty else { throw ShellSyntaxError(message: "syntax error near unexpected token `|'") }
                pipeline.append(words)
                words = []
            case "&":
                endWord()
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
                throw ShellSyntaxError(message: "redirections are not supported")
            default:
                cur.append(c)
                inWord = true
            }
            i += 1
        }
        if let q = quote { throw ShellSyntaxError(message: "unexpected EOF while looking for matching `\(q)'") }
        endWord()
        if words.isEmpty {
            if !pipeline.isEmpty { throw ShellSyntaxError(message: "syntax error: `|' at the end of the line") }
        } else {
            pipeline.append(words)
        }
        return CommandLineText(pipeline: pipeline, background: background)
    }
}
