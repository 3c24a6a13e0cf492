// Redirections and `sh -c` as bash and dash run them. Observed on Linux 6.18 (bash 5.2,
// dash 0.5.12) inside a namespace:
//   echo 1 > /proc/sys/net/ipv4/ip_forward        -> the shell's namespace forwards
//   echo 1 > /proc/sys/net/ipv4/nonexistent       -> bash: line 1: ...: No such file or directory (1)
//                                                    sh: 1: cannot create ...: Directory nonexistent (2)
//   echo abc > /proc/sys/net/ipv4/ip_forward      -> bash: line 1: echo: write error: Invalid argument (1)
//                                                    sh: 1: echo: echo: I/O error (1)
//   cat < /nonexist                               -> sh: 1: cannot open /nonexist: No such file (2)
//   sh -c 'echo "x'                               -> sh: 1: Syntax error: Unterminated quoted string (2)
//   bash -c 'echo "x'                             -> bash: -c: line 1: unexpected EOF while looking for matching `"' (2)
// At a prompt bash leaves out "line 1: ".

import XCTest
@testable import Commands

final class ShellRedirectionTests: XCTestCase {
    func testParseRedirections() throws {
        let p = try ShellWords.parse("iptables-save -t nat > /tmp/nat.v4 2>&1")
        XCTAssertEqual(p.pipeline, [["iptables-save", "-t", "nat"]])
        XCTAssertEqual(p.redirections, [[Redirection(kind: .output(fd: 1, append: false), path: "/tmp/nat.v4"),
                                         Redirection(kind: .errorToOutput, path: "")]])
        let q = try ShellWords.parse("cat</tmp/a|iptables-restore 2>>/tmp/log &")
        XCTAssertEqual(q.pipeline, [["cat"], ["iptables-restore"]])
        XCTAssertEqual(q.redirections, [[Redirection(kind: .input, path: "/tmp/a")],
                                        [Redirection(kind: .output(fd: 2, append: true), path: "/tmp/log")]])
        XCTAssertTrue(q.background)
        // A digit is a descriptor only as a word of its own; quoted, `>` is a plain character.
        let r = try ShellWords.parse("echo a2>f '>' \"2\">g &>h")
        XCTAssertEqual(r.pipeline, [["echo", "a2", ">", "2"]])
        XCTAssertEqual(r.redirections, [[Redirection(kind: .output(fd: 1, append: false), path: "f"),
                                         Redirection(kind: .output(fd: 1, append: false), path: "g"),
                                         Redirection(kind: .both(append: false), path: "h")]])
        XCTAssertThrowsError(try ShellWords.parse("echo >")) {
            XCTAssertEqual(($0 as? ShellSyntaxError)?.message, "syntax error near unexpected token `newline'")
        }
        XCTAssertThrowsError(try ShellWords.parse("echo > | cat")) {
            XCTAssertEqual(($0 as? ShellSyntaxError)?.message, "syntax error near unexpected token `|'")
        }
    }

    func testProcSysThroughRedirectionsAndShC() {
        let lab = Lab()
        lab.run("ip netns add sh_a")
        lab.check("sh_a> cat /proc/sys/net/ipv4/ip_forward", "0")
        // The redirection belongs to the shell inside the namespace.
        lab.check("sh_a> sh -c \"echo 1 > /proc/sys/net/ipv4/ip_forward\"")
        lab.check("sh_a> sysctl net.ipv4.conf.all.forwarding", "net.ipv4.conf.all.forwarding = 1")
        lab.check("cat /proc/sys/net/ipv4/ip_forward", "0")
        lab.check("sh_a> bash -c \"echo 1 > /proc/sys/net/ipv4/nonexistent\"", status: 1,
                  stderr: "bash: line 1: /proc/sys/net/ipv4/nonexistent: No such file or directory")
        lab.check("sh_a> sh -c \"echo 1 > /proc/sys/net/ipv4/nonexistent\"", status: 2,
                  stderr: "sh: 1: cannot create /proc/sys/net/ipv4/nonexistent: Directory nonexistent")
        lab.check("sh_a> bash -c \"echo abc > /proc/sys/net/ipv4/ip_forward\"", status: 1,
                  stderr: "bash: line 1: echo: write error: Invalid argument")
        lab.check("sh_a> sh -c \"echo abc > /proc/sys/net/ipv4/ip_forward\"", status: 1,
                  stderr: "sh: 1: echo: echo: I/O error")
        lab.check("sh_a> sh -c \"cat < /nonexist\"", status: 2, stderr: "sh: 1: cannot open /nonexist: No such file")
        lab.check("sh_a> sh -c 'echo \"x'", status: 2, stderr: "sh: 1: Syntax error: Unterminated quoted string")
        lab.check("sh_a> bash -c 'echo \"x'", status: 2,
                  stderr: "bash: -c: line 1: unexpected EOF while looking for matching `\"'")
        lab.check("sh_a> cat /proc/sys/net/ipv4/ip_local_port_range", "32768\t60999")
        // Observed with dash 0.5.12 and bash 5.2: a missing command or script.
        lab.check("sh_a> sh -c", status: 2, stderr: "sh: 0: -c requires an argument")
        lab.check("sh_a> bash -c", status: 2, stderr: "bash: -c: option requires an argument")
        lab.check("sh_a> sh nosuch.sh", status: 2, stderr: "sh: 0: cannot open nosuch.sh: No such file")
        lab.check("sh_a> bash nosuch.sh", status: 127, stderr: "bash: nosuch.sh: No such file or directory")
    }

    func testFilesWrittenAndReadBack() {
        let lab = Lab()
        lab.run("""
            ip netns add sh_b
            sh_b> iptables -A INPUT -p tcp --dport 80 -j ACCEPT
            sh_b> sh -c "iptables-save > /tmp/rules.v4"
            sh_b> iptables -F
            sh_b> sh -c "iptables-restore < /tmp/rules.v4"
            sh_b> sh -c "echo one > /tmp/f"
            sh_b> sh -c "echo two >> /tmp/f"
            """)
        lab.check("sh_b> sh -c \"cat /nosuch 2> /tmp/err\"", status: 1)
        lab.check("sh_b> iptables -S INPUT", "-P INPUT ACCEPT\n-A INPUT -p tcp -m tcp --dport 80 -j ACCEPT")
        lab.check("cat /tmp/f", "one\ntwo")
        lab.check("cat /tmp/err", "cat: /nosuch: No such file or directory")
        lab.check("sh_b> sh -c \"cat /nosuch > /dev/null 2>&1\"", status: 1)
    }

    /// bash 5.2's printf builtin, recorded with `bash -c 'printf "$@"' x FORMAT ARGS...`.
    func testPrintfReusesTheFormatAndPads() {
        let cases: [(String, [String], String)] = [
            ("%s\\n", ["a", "b", "c"], "a\nb\nc\n"),
            ("%s %s\\n", ["a", "b", "c"], "a b\nc \n"),
            ("%5s|%-5s|\\n", ["x", "y"], "    x|y    |\n"),
            ("%05d|%x|%X|%o\\n", ["42", "255", "255", "8"], "00042|ff|FF|10\n"),
            ("%+d|% d|%.3d|%-4d|\\n", ["5", "5", "5", "-7"], "+5| 5|005|-7  |\n"),
            ("%.2s\\n", ["abcdef"], "ab\n"),
            ("%c%c\\n", ["hello", "world"], "hw\n"),
            ("%b\\n", ["a\\tb"], "a\tb\n"),
            ("no conversions\\n", ["extra"], "no conversions\n"),
            ("%d%%\\n", ["50"], "50%\n"),
            ("\\101\\102\\n", [], "AB\n"),
            ("%s|%d|\\n", [], "|0|\n"),
            ("%05d\\n", ["-42"], "-0042\n"),
        ]
        for (format, args, expected) in cases {
            XCTAssertEqual(Shell.printf(format, args), expected, "printf '\(format)' \(args)")
        }
    }
}
