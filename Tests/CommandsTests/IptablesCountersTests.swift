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
}
