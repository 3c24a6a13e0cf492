// IptablesRestoreTests: iptables-restore 1.8.9 (nf_tables) reading rules from a pipe, against
// texts recorded on Linux 6.18 in a fresh namespace (`printf ... | iptables-restore ...`).

import XCTest
@testable import Commands

final class IptablesRestoreTests: XCTestCase {

    /// Runs `iptables-restore ARGS` in nf_t with `rules` on its standard input.
    private func restore(_ lab: Lab, _ args: String, _ rules: String, _ stdout: String = "",
                         status: Int32 = 0, stderr: String = "", file: StaticString = #filePath, line: UInt = #line) {
        lab.ctx.input = .pipe(Array(rules.utf8))
        defer { lab.ctx.input = nil }
        lab.check("nf_t> iptables-restore \(args)".trimmingCharacters(in: .whitespaces), stdout, status: status,
                  stderr: stderr, file: file, line: line)
    }

    /// What the kernel refuses is reported as "line N failed: MESSAGE." with the line of the
    /// command, a bad policy included (it is refused when the batch is prepared).
    func testKernelRefusalsNameTheLine() {
        let lab = Lab()
        lab.run("ip netns add nf_t")
        // observed on Linux 6.18: iptables-restore: line 5 failed: No chain/target/match by that name. (status 1)
        restore(lab, "", "*filter\n-A INPUT -j ACCEPT\nCOMMIT\n*nat\n-A FOO -j ACCEPT\nCOMMIT\n", status: 1,
                stderr: "iptables-restore: line 5 failed: No chain/target/match by that name.")
        restore(lab, "", "*filter\n:INPUT FOO [0:0]\nCOMMIT\n", status: 1,
                stderr: "iptables-restore: line 2 failed: Bad policy name.")
        // The filter table of the first input was committed.
        lab.check("nf_t> iptables -S INPUT", """
            -P INPUT ACCEPT
            -A INPUT -j ACCEPT
            """)
    }

    /// -v: the table flush names every chain (then deletes the user chains), each command
    /// prints what it would print with -v; with --noflush nothing is printed, unless a line
    /// has its own -v.
    func testVerboseRestore() {
        let lab = Lab()
        lab.run("""
            ip netns add nf_t
            nf_t> iptables -N zz
            nf_t> iptables -N aa
            nf_t> iptables -A aa -j ACCEPT
            """)
        // observed on Linux 6.18: the same lines.
        restore(lab, "-v", """
            *filter
            # kept
            :mine - [0:0]
            -A INPUT -s 1.1.1.1 -p tcp --dport 22 -j ACCEPT
            -A mine -j RETURN
            -N other
            -I INPUT 1 -j mine
            -D INPUT 2
            -X other
            -F mine
            -Z
            COMMIT
            *nat
            -A POSTROUTING -j MASQUERADE
            COMMIT

            """, """
            # kept
            Flushing chain `INPUT'
            Flushing chain `FORWARD'
            Flushing chain `OUTPUT'
            Flushing chain `aa'
            Flushing chain `zz'
            Deleting chain `aa'
            Deleting chain `zz'
            ACCEPT  tcp opt -- in * out *  1.1.1.1  -> 0.0.0.0/0   tcp dpt:22
            RETURN  all opt -- in * out *  0.0.0.0/0  -> 0.0.0.0/0 \u{20}
            mine  all opt -- in * out *  0.0.0.0/0  -> 0.0.0.0/0 \u{20}
            Deleting chain `other'
            Flushing chain `mine'
            Zeroing chain `INPUT'
            Zeroing chain `mine'
            Flushing chain `PREROUTING'
            Flushing chain `INPUT'
            Flushing chain `OUTPUT'
            Flushing chain `POSTROUTING'
            MASQUERADE  all opt -- in * out *  0.0.0.0/0  -> 0.0.0.0/0 \u{20}
            """)
        restore(lab, "-v --noflush", "*filter\n-A INPUT -j ACCEPT\n-F mine\nCOMMIT\n")
        restore(lab, "--noflush", "*filter\n-A INPUT -j DROP -v\nCOMMIT\n",
                "DROP  all opt -- in * out *  0.0.0.0/0  -> 0.0.0.0/0 \u{20}")
        restore(lab, "-v -T nat", "*filter\n-A INPUT -j ACCEPT\nCOMMIT\n")
    }

    /// Words of a rule line: a closing quote ends the word, a quote left open takes the rest
    /// of the line with its newline, quotes are only double ones.
    func testRuleLineQuoting() {
        let lab = Lab()
        lab.run("ip netns add nf_t")
        let help = "Error occurred at line: 2\nTry `iptables-restore -h' or 'iptables-restore --help' for more information."
        // observed on Linux 6.18, each: "Bad argument `WORD'", the line, the hint (status 2).
        restore(lab, "", "*filter\n-A INPUT -m comment --comment \"x\"y -j ACCEPT\nCOMMIT\n", status: 2,
                stderr: "Bad argument `y'\n" + help)
        restore(lab, "", "*filter\n-A INPUT -m comment --comment a\"b c\"d -j ACCEPT\nCOMMIT\n", status: 2,
                stderr: "Bad argument `d'\n" + help)
        restore(lab, "", "*filter\n-A INPUT -m comment --comment 'single q' -j ACCEPT\nCOMMIT\n", status: 2,
                stderr: "Bad argument `q''\n" + help)
        restore(lab, "", "*filter\n-A INPUT -m comment --comment \"a\\\\\"b\" -j ACCEPT\nCOMMIT\n", status: 2,
                stderr: "Bad argument `b -j ACCEPT\n'\n" + help)
        restore(lab, "", """
            *filter
            -A INPUT -m comment --comment "a\\"b" -j ACCEPT
            -A INPUT -m comment --comment "unterminated -j ACCEPT
            COMMIT

            """)
        lab.check("nf_t> iptables -S INPUT", """
            -P INPUT ACCEPT
            -A INPUT -m comment --comment "a\\"b" -j ACCEPT
            -A INPUT -m comment --comment "unterminated -j ACCEPT
            "
            """)
    }
}
