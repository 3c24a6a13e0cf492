// IptablesRangeMatchTests: -m iprange and -m length as iptables 1.8.9 (nf_tables) parses,
// lists and saves them and as the kernel matches them, against texts recorded on Linux 6.18
// (prot column: names instead of 1.8.9's numbers, see IptablesTests.swift).

import XCTest
import SimCore
@testable import Commands

final class IptablesRangeMatchTests: XCTestCase {

    private let tryHelp = "Try `iptables -h' or 'iptables --help' for more information."

    func testParseListAndSave() {
        let lab = Lab()
        lab.run("""
            ip netns add nf_t
            nf_t> iptables -A INPUT -m iprange --src-range 10.0.0.1-10.0.0.9 -j ACCEPT
            nf_t> iptables -A INPUT -m iprange ! --src-range 10.0.0.1-10.0.0.9 --dst-range 192.168.0.0-192.168.0.255 -j ACCEPT
            nf_t> iptables -A INPUT -m iprange --src-range 10.0.0.5 -j ACCEPT
            nf_t> iptables -A INPUT -m iprange --dst-range 10.1-10.2 -j ACCEPT
            nf_t> iptables -A INPUT -m length --length 100:200 -j ACCEPT
            nf_t> iptables -A INPUT -m length ! --length 1500 -j ACCEPT
            nf_t> iptables -A INPUT -m length --length :100 -j ACCEPT
            nf_t> iptables -A INPUT -m length --length 100: -j ACCEPT
            """)
        // observed on Linux 6.18: the warning on stderr, the rule added.
        lab.check("nf_t> iptables -A INPUT -m iprange --src-range 10.0.0.9-10.0.0.1 -j ACCEPT",
                  stderr: "xt_iprange: range 10.0.0.9-10.0.0.1 is reversed and will never match")
        lab.check("nf_t> iptables -L INPUT", """
            Chain INPUT (policy ACCEPT)
            target     prot opt source               destination        \u{20}
            ACCEPT     all  --  anywhere             anywhere             source IP range 10.0.0.1-10.0.0.9
            ACCEPT     all  --  anywhere             anywhere             source IP range ! 10.0.0.1-10.0.0.9 destination IP range 192.168.0.0-192.168.0.255
            ACCEPT     all  --  anywhere             anywhere             source IP range 10.0.0.5-10.0.0.5
            ACCEPT     all  --  anywhere             anywhere             destination IP range 10.1.0.0-10.2.0.0
            ACCEPT     all  --  anywhere             anywhere             length 100:200
            ACCEPT     all  --  anywhere             anywhere             length !1500
            ACCEPT     all  --  anywhere             anywhere             length 0:100
            ACCEPT     all  --  anywhere             anywhere             length 100:65535
            ACCEPT     all  --  anywhere             anywhere             source IP range 10.0.0.9-10.0.0.1
            """)
        lab.check("nf_t> iptables -S INPUT", """
            -P INPUT ACCEPT
            -A INPUT -m iprange --src-range 10.0.0.1-10.0.0.9 -j ACCEPT
            -A INPUT -m iprange ! --src-range 10.0.0.1-10.0.0.9 --dst-range 192.168.0.0-192.168.0.255 -j ACCEPT
            -A INPUT -m iprange --src-range 10.0.0.5-10.0.0.5 -j ACCEPT
            -A INPUT -m iprange --dst-range 10.1.0.0-10.2.0.0 -j ACCEPT
            -A INPUT -m length --length 100:200 -j ACCEPT
            -A INPUT -m length ! --length 1500 -j ACCEPT
            -A INPUT -m length --length 0:100 -j ACCEPT
            -A INPUT -m length --length 100:65535 -j ACCEPT
            -A INPUT -m iprange --src-range 10.0.0.9-10.0.0.1 -j ACCEPT
            """)
        lab.run("""
            nf_t> iptables -D INPUT -m iprange --src-range 10.0.0.1-10.0.0.9 -j ACCEPT
            nf_t> iptables -C INPUT -m length --length 100:200 -j ACCEPT
            """)
        // observed on Linux 6.18, each: the message, then the hint (status 2).
        let cases: [(String, String)] = [
            ("-m iprange --src-range foo", "iprange: Bad value for \"--src-range\" option: \"foo\""),
            ("-m iprange --src-range 10.0.0.1-foo", "iprange: Bad value for \"--src-range\" option: \"foo\""),
            ("-m iprange --src-range 10.0.0.0/24", "iprange: Bad value for \"--src-range\" option: \"10.0.0.0/24\""),
            ("-m iprange --dst-range 10.0.0.1-10.0.0.2-10.0.0.3", "iprange: Bad value for \"--dst-range\" option: \"10.0.0.2-10.0.0.3\""),
            ("-m iprange", "iprange match: You must specify `--src-range' or `--dst-range'"),
            ("-m iprange --src-range 1.1.1.1-2.2.2.2 --src-range 3.3.3.3-4.4.4.4", "iprange: option \"--src-range\" can only be used once.\n"),
            ("-m length --length 70000", "length: bad value for option \"--length\" near \"70000\", or out of range (0-65535).\n"),
            ("-m length --length 100:x", "length: bad value for option \"--length\" near \"x\", or out of range (0-65535).\n"),
            ("-m length --length 1:2:3", "length: Too many components for option \"--length\" (max: 2)\n"),
            ("-m length", "length: option \"--length\" must be specified\n"),
        ]
        for (match, message) in cases {
            lab.check("nf_t> iptables -A INPUT \(match) -j ACCEPT", status: 2,
                      stderr: "iptables v1.8.9 (nf_tables): \(message)\n\(tryHelp)")
        }
    }

    /// A ping (84 bytes) meets length and iprange rules.
    func testMatching() {
        let lab = Lab()
        lab.run("""
            ip netns add nf_a
            ip netns add nf_b
            nf_a> ip link add va type veth peer name vb
            nf_a> ip link set vb netns nf_b
            nf_a> ip addr add 10.9.0.1/24 dev va
            nf_a> ip link set va up
            nf_b> ip addr add 10.9.0.2/24 dev vb
            nf_b> ip link set vb up
            nf_b> iptables -A INPUT -m length --length 84 -p icmp
            nf_b> iptables -A INPUT -m length ! --length 0:83 -p icmp
            nf_b> iptables -A INPUT -m iprange --src-range 10.9.0.0-10.9.0.0
            nf_b> iptables -A INPUT -m iprange --src-range 10.9.0.1-10.9.0.1 --dst-range 10.9.0.2-10.9.0.3 -p icmp -j DROP
            """)
        _ = lab.exec("nf_a> ping -c 1 -W 1 10.9.0.2")
        try! lab.kernel.clock.run(until: lab.kernel.clock.now + .seconds(2))
        // observed on Linux 6.18: the same counters.
        lab.check("nf_b> iptables -nvL INPUT", """
            Chain INPUT (policy ACCEPT 0 packets, 0 bytes)
             pkts bytes target     prot opt in     out     source               destination        \u{20}
                1    84            icmp --  *      *       0.0.0.0/0            0.0.0.0/0            length 84
                1    84            icmp --  *      *       0.0.0.0/0            0.0.0.0/0            length !0:83
                0     0            all  --  *      *       0.0.0.0/0            0.0.0.0/0            source IP range 10.9.0.0-10.9.0.0
                1    84 DROP       icmp --  *      *       0.0.0.0/0            0.0.0.0/0            source IP range 10.9.0.1-10.9.0.1 destination IP range 10.9.0.2-10.9.0.3
            """)
    }
}
