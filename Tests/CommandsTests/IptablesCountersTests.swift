// IptablesCountersTests: counters as iptables 1.8.9 (nf_tables) zeroes, restores and lists
// them, against texts recorded on Linux 6.18 in a fresh namespace (`ip netns exec NS ...`),
// rules fed to iptables-restore through a pipe (`printf ... | iptables-restore -c`).
// As in IptablesTests, the prot column of -n listings carries names where 1.8.9 printed
// numbers.

import XCTest
@testable import Commands

final class IptablesCountersTests: XCTestCase {

    /// Runs `iptables-restore ARGS` in nf_t with `rules` on its standard input.
    private func restore(_ lab: Lab, _ args: String, _ rules: String, status: Int32 = 0) {
        lab.ctx.input = .pipe(Array(rules.utf8))
        defer { lab.ctx.input = nil }
        lab.check("nf_t> iptables-restore \(args)", status: status)
    }

    /// iptables-restore reads a pipe: `printf ... | iptables-restore -c` sets the counters,
    /// which -L -v prints with K/M/G suffixes and -x in full.
    func testRestoreFromPipeKeepsCountersAndListsThemScaled() {
        let lab = Lab()
        lab.run("ip netns add nf_t")
        restore(lab, "-c", """
            *filter
            :INPUT ACCEPT [123456789:98765432109]
            :FORWARD DROP [5:300]
            :OUTPUT ACCEPT [0:0]
            :mychain - [0:0]
            [999:1000] -A INPUT -s 10.0.0.1/32 -j ACCEPT
            [12345:1234567] -A INPUT -p tcp -m tcp --dport 22 -j mychain
            [99999999:99999999999] -A INPUT -p udp -j DROP
            [1000000000000:5000000000000] -A mychain -j RETURN
            COMMIT

            """)
        // observed on Linux 6.18: the same lines.
        lab.check("nf_t> iptables -L INPUT -v", """
            Chain INPUT (policy ACCEPT 123M packets, 99G bytes)
             pkts bytes target     prot opt in     out     source               destination        \u{20}
              999  1000 ACCEPT     all  --  any    any     10.0.0.1             anywhere           \u{20}
            12345 1235K mychain    tcp  --  any    any     anywhere             anywhere             tcp dpt:ssh
             100M  100G DROP       udp  --  any    any     anywhere             anywhere           \u{20}
            """)
        lab.check("nf_t> iptables -L mychain -v -n -x --line-numbers", """
            Chain mychain (1 references)
            num      pkts      bytes target     prot opt in     out     source               destination        \u{20}
            1    1000000000000 5000000000000 RETURN     all  --  *      *       0.0.0.0/0            0.0.0.0/0          \u{20}
            """)
        // Without -c the counters of the input are ignored, and the table is replaced.
        restore(lab, "", """
            *filter
            :INPUT ACCEPT [7:8]
            [1:2] -A INPUT -s 10.0.0.9/32 -j ACCEPT
            COMMIT

            """)
        lab.check("nf_t> iptables -S -v", """
            -P INPUT ACCEPT -c 0 0
            -P FORWARD ACCEPT -c 0 0
            -P OUTPUT ACCEPT -c 0 0
            -A INPUT -s 10.0.0.9/32 -c 0 0 -j ACCEPT
            """)
    }

    /// -Z with -v names each chain it zeroes: the chains that exist, by name after the
    /// built-in ones; -Z CHAIN N fails for a chain that does not exist with the message of
    /// a delete, and ignores a rule number past the end.
    func testZeroVerboseAndZeroRuleNumber() {
        let lab = Lab()
        lab.run("ip netns add nf_t")
        // observed on Linux 6.18: "iptables: Bad rule (does a matching rule exist in that chain?)." (status 1)
        lab.check("nf_t> iptables -Z FORWARD 1 -v", status: 1,
                  stderr: "iptables: Bad rule (does a matching rule exist in that chain?).")
        lab.check("nf_t> iptables -Z FORWARD -v", status: 1, stderr: "iptables: No chain/target/match by that name.")
        lab.run("""
            nf_t> iptables -A INPUT -j ACCEPT
            nf_t> iptables -N zz
            nf_t> iptables -N aa
            """)
        // observed on Linux 6.18: FORWARD and OUTPUT do not exist yet, so only these three.
        lab.check("nf_t> iptables -Z -v", """
            Zeroing chain `INPUT'
            Zeroing chain `aa'
            Zeroing chain `zz'
            """)
        lab.check("nf_t> iptables -Z zz -v", "Zeroing chain `zz'")
        // observed on Linux 6.18: silent, status 0 (the chain exists, rule 1 does not).
        lab.check("nf_t> iptables -Z zz 1")
        lab.check("nf_t> iptables -Z INPUT 7 -v")
    }

    /// -L/-S with -Z zero every chain the listing showed: the built-in chains are created by
    /// it; in a table that does not exist the batch fails after the listing.
    func testListAndZeroCreatesBuiltinChains() {
        let lab = Lab()
        lab.run("ip netns add nf_t")
        // observed on Linux 6.18: the listing, "Zeroing chain `OUTPUT'", then the failure (status 4).
        lab.check("nf_t> iptables -L OUTPUT -Z -v", """
            Chain OUTPUT (policy ACCEPT 0 packets, 0 bytes)
             pkts bytes target     prot opt in     out     source               destination        \u{20}
            Zeroing chain `OUTPUT'
            """, status: 4, stderr: "iptables v1.8.9 (nf_tables):  CHAIN_ZERO failed (No such file or directory): chain OUTPUT")
        lab.check("nf_t> iptables -t nat -S -Z -v", """
            -P PREROUTING ACCEPT -c 0 0
            -P INPUT ACCEPT -c 0 0
            -P OUTPUT ACCEPT -c 0 0
            -P POSTROUTING ACCEPT -c 0 0
            Zeroing chain `PREROUTING'
            Zeroing chain `INPUT'
            Zeroing chain `OUTPUT'
            Zeroing chain `POSTROUTING'
            """, status: 4, stderr: "iptables v1.8.9 (nf_tables):  CHAIN_ZERO failed (No such file or directory): chain PREROUTING")
        lab.run("nf_t> iptables -A INPUT -j ACCEPT")
        lab.check("nf_t> iptables -L FORWARD -Z", """
            Chain FORWARD (policy ACCEPT)
            target     prot opt source               destination        \u{20}
            """)
        // observed on Linux 6.18: FORWARD exists from then on.
        lab.check("nf_t> iptables -Z -v", """
            Zeroing chain `INPUT'
            Zeroing chain `FORWARD'
            """)
        lab.run("nf_t> iptables -N user")
        lab.check("nf_t> iptables -S -Z -v", """
            -P INPUT ACCEPT -c 0 0
            -P FORWARD ACCEPT -c 0 0
            -P OUTPUT ACCEPT -c 0 0
            -N user
            -A INPUT -c 0 0 -j ACCEPT
            Zeroing chain `INPUT'
            Zeroing chain `FORWARD'
            Zeroing chain `OUTPUT'
            Zeroing chain `user'
            """)
        lab.check("nf_t> iptables -Z -v", """
            Zeroing chain `INPUT'
            Zeroing chain `FORWARD'
            Zeroing chain `OUTPUT'
            Zeroing chain `user'
            """)
    }

    /// Rules saved with `>` or -f and restored with `<`, a file name or a pipe, as on Linux 6.18
    /// (the same files: what one writes the other reads).
    func testSaveAndRestoreThroughFilesAndPipes() throws {
        let lab = Lab()
        lab.run("""
            ip netns add nf_t
            nf_t> iptables -N web
            nf_t> iptables -A INPUT -p tcp --dport 80 -m comment --comment "web server" -j web
            """)
        let ns = lab.machine.namespace(named: "nf_t")!
        func shell(_ line: String) throws -> Int32 {
            let ctx = lab.ctx.with(namespace: ns)
            guard case .finished(let s) = try ShellLine.run(try ShellWords.parse(line), ctx) else { return -1 }
            return s
        }
        XCTAssertEqual(try shell("iptables-save > /tmp/r1"), 0)
        lab.run("nf_t> iptables-save -f /tmp/r2")
        XCTAssertEqual(lab.ctx.userland.file("/tmp/r1", on: lab.machine), lab.ctx.userland.file("/tmp/r2", on: lab.machine))
        lab.run("""
            nf_t> iptables -F
            nf_t> iptables -X
            """)
        XCTAssertEqual(try shell("iptables-restore < /tmp/r1"), 0)
        lab.check("nf_t> iptables -S", """
            -P INPUT ACCEPT
            -P FORWARD ACCEPT
            -P OUTPUT ACCEPT
            -N web
            -A INPUT -p tcp -m tcp --dport 80 -m comment --comment "web server" -j web
            """)
        // observed on Linux 6.18: --noflush appends a second copy of each rule.
        XCTAssertEqual(try shell("iptables-save | iptables-restore --noflush"), 0)
        lab.run("nf_t> iptables -F INPUT")
        lab.run("nf_t> iptables-restore -n /tmp/r2")
        lab.check("nf_t> iptables -S INPUT", """
            -P INPUT ACCEPT
            -A INPUT -p tcp -m tcp --dport 80 -m comment --comment "web server" -j web
            """)
    }
}
