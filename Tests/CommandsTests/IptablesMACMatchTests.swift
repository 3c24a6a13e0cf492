// IptablesMACMatchTests: -m mac as iptables 1.8.9 (nf_tables) parses, lists and saves it, the
// hooks xt_mac allows, and the match on received frames, against texts recorded on Linux 6.18
// (prot column: names instead of 1.8.9's numbers, see IptablesTests.swift).

import XCTest
import SimCore
@testable import Commands

final class IptablesMACMatchTests: XCTestCase {

    private let tryHelp = "Try `iptables -h' or 'iptables --help' for more information."

    func testMACSource() {
        let lab = Lab()
        lab.run("""
            ip netns add nf_a
            ip netns add nf_b
            nf_a> ip link add va type veth peer name vb
            nf_a> ip link set vb netns nf_b
            nf_a> ip addr add 10.9.0.1/24 dev va
            nf_a> ip link set va address 02:00:00:00:00:01
            nf_a> ip link set va up
            nf_b> ip addr add 10.9.0.2/24 dev vb
            nf_b> ip link set vb up
            nf_b> iptables -A INPUT -m mac --mac-source 02:00:00:00:00:02
            nf_b> iptables -A INPUT -m mac ! --mac-source 02:00:00:00:00:02
            nf_b> iptables -A INPUT -p icmp -m mac --mac-source 02:00:00:00:00:01 -j DROP
            """)
        _ = lab.exec("nf_a> ping -c 1 -W 1 10.9.0.2")
        try! lab.kernel.clock.run(until: lab.kernel.clock.now + .seconds(2))
        // observed on Linux 6.18: the same texts and statuses.
        lab.check("nf_b> iptables -nvL INPUT", """
            Chain INPUT (policy ACCEPT 0 packets, 0 bytes)
             pkts bytes target     prot opt in     out     source               destination        \u{20}
                0     0            all  --  *      *       0.0.0.0/0            0.0.0.0/0            MAC 02:00:00:00:00:02
                1    84            all  --  *      *       0.0.0.0/0            0.0.0.0/0            MAC ! 02:00:00:00:00:02
                1    84 DROP       icmp --  *      *       0.0.0.0/0            0.0.0.0/0            MAC 02:00:00:00:00:01
            """)
        lab.check("nf_b> iptables -S INPUT", """
            -P INPUT ACCEPT
            -A INPUT -m mac --mac-source 02:00:00:00:00:02
            -A INPUT -m mac ! --mac-source 02:00:00:00:00:02
            -A INPUT -p icmp -m mac --mac-source 02:00:00:00:00:01 -j DROP
            """)
        lab.check("nf_b> iptables -A INPUT -m mac --mac-source 00:11:22:33:44 -j ACCEPT", status: 2,
                  stderr: "iptables v1.8.9 (nf_tables): Invalid MAC address specified.\n\(tryHelp)")
        lab.check("nf_b> iptables -A INPUT -m mac -j ACCEPT", status: 2,
                  stderr: "iptables v1.8.9 (nf_tables): mac: option \"--mac-source\" must be specified\n\n\(tryHelp)")
        lab.check("nf_b> iptables -A OUTPUT -m mac --mac-source 00:11:22:33:44:55 -j ACCEPT", status: 4,
                  stderr: "iptables v1.8.9 (nf_tables):  RULE_APPEND failed (Invalid argument): rule in chain OUTPUT")
        lab.run("""
            nf_b> iptables -N M
            nf_b> iptables -A M -m mac --mac-source 00:11:22:33:44:55 -j ACCEPT
            nf_b> iptables -A FORWARD -j M
            nf_b> iptables -t nat -A PREROUTING -m mac --mac-source 00:11:22:33:44:55 -j ACCEPT
            """)
        lab.check("nf_b> iptables -A OUTPUT -j M", status: 4,
                  stderr: "iptables v1.8.9 (nf_tables):  RULE_APPEND failed (Invalid argument): rule in chain OUTPUT")
        lab.check("nf_b> iptables -t nat -A POSTROUTING -m mac --mac-source 00:11:22:33:44:55 -j ACCEPT", status: 4,
                  stderr: "iptables v1.8.9 (nf_tables):  RULE_APPEND failed (Invalid argument): rule in chain POSTROUTING")
    }
}
