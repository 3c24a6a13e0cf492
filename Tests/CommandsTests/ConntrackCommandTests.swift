// ConntrackCommandTests: conntrack-tools 1.4.7 over a namespace's table, against texts
// recorded on Linux 6.18 (`ip netns exec NS conntrack ...`) after one ping and one refused
// TCP connection from 10.9.0.1 to 10.9.0.2.

import XCTest
import SimCore
@testable import Commands

final class ConntrackCommandTests: XCTestCase {

    private let tryHelp = "Try `conntrack -h' or 'conntrack --help' for more information."

    /// ct_a (10.9.0.1) pings ct_b (10.9.0.2) once with conntrack running in ct_a; the ICMP
    /// id is 7950 so that the texts are the recorded ones.
    private func lab() -> Lab {
        let lab = Lab()
        lab.run("""
            ip netns add ct_a
            ip netns add ct_b
            ct_a> ip link add va type veth peer name vb
            ct_a> ip link set vb netns ct_b
            ct_a> ip addr add 10.9.0.1/24 dev va
            ct_a> ip link set va up
            ct_b> ip addr add 10.9.0.2/24 dev vb
            ct_b> ip link set vb up
            ct_a> iptables -A INPUT -m conntrack --ctstate INVALID -j DROP
            """)
        // A refused connection leaves no entry (the reset closes it at once).
        _ = lab.exec("ct_a> nc -z -w 1 10.9.0.2 22")
        _ = lab.exec("ct_a> ping -c 1 10.9.0.2")
        try! lab.kernel.clock.run(until: lab.kernel.clock.now + .milliseconds(500))
        return lab
    }

    private func icmpLine(_ lab: Lab) -> String {
        let e = lab.machine.namespace(named: "ct_a")!.conntrack.entries(now: lab.machine.jiffiesNow).first!
        return "icmp     1 29 src=10.9.0.1 dst=10.9.0.2 type=8 code=0 id=\(e.original.srcPort) src=10.9.0.2 dst=10.9.0.1 type=0 code=0 id=\(e.original.srcPort) mark=0 use=1"
    }

    /// Filters of the original and reply tuples and of the protocol; -D prints what it
    /// deletes and fails when it found nothing.
    func testFiltersAndDelete() {
        let lab = lab()
        let icmp = icmpLine(lab)
        let shown = { (n: Int) in "conntrack v1.4.7 (conntrack-tools): \(n) flow entries have been shown." }
        // observed on Linux 6.18: the same lines (the ICMP id aside).
        lab.check("ct_a> conntrack -L -p tcp --dport 22", stderr: shown(0))
        lab.check("ct_a> conntrack -L -s 10.9.0.1 -d 10.9.0.2", icmp, stderr: shown(1))
        lab.check("ct_a> conntrack -L --src 10.9.0.2", stderr: shown(0))
        lab.check("ct_a> conntrack -L -r 10.9.0.2", icmp, stderr: shown(1))
        lab.check("ct_a> conntrack -L -f ipv4", icmp, stderr: shown(1))
        lab.check("ct_a> conntrack -L -n", stderr: shown(0))
        lab.check("ct_a> conntrack -L -p ICMP", icmp, stderr: shown(1))
        lab.check("ct_a> conntrack -L -p 1 --icmp-type 8", icmp, stderr: shown(1))
        lab.check("ct_a> conntrack -L conntrack", icmp, stderr: shown(1))
        lab.check("ct_a> conntrack -L expect", stderr: "conntrack v1.4.7 (conntrack-tools): 0 expectations have been shown.")
        lab.check("ct_a> conntrack -C", "1")
        lab.check("ct_a> conntrack -D -p tcp --dport 22", status: 1,
                  stderr: "conntrack v1.4.7 (conntrack-tools): 0 flow entries have been deleted.")
        lab.check("ct_a> conntrack -D -s 10.9.0.1", icmp,
                  stderr: "conntrack v1.4.7 (conntrack-tools): 1 flow entries have been deleted.")
        lab.check("ct_a> conntrack -L", stderr: shown(0))
    }

    /// conntrack's messages for bad input (status 2), and its usage text without arguments.
    func testBadInput() {
        let lab = lab()
        // observed on Linux 6.18, each: the message, then the hint.
        let cases: [(String, String)] = [
            ("-L -p foo", "`foo' unsupported protocol"),
            ("-L -p 300", "`300' unsupported protocol"),
            ("-L -s foo", "Invalid IP address `foo'"),
            ("-L --dport 22", "unknown option `--dport'"),
            ("-L -p udp --state ESTABLISHED", "unknown option `--state'"),
            ("-L -p tcp --state FOO", "unknown TCP state `FOO'"),
            ("-L -o bogus", "Bad parameter `bogus'"),
            ("-L -o ,", "Bad parameter `,'"),
            ("-L -u FOO", "Bad parameter `FOO'"),
            ("-L -f foo", "`foo' unsupported protocol"),
            ("-L -x", "unknown option `-x'"),
            ("-L foo", "unknown type `foo'"),
            ("-X", "unknown option `-X'"),
            ("--bogus", "unknown option `--bogus'"),
            ("-L -F", "Invalid commands combination"),
            ("-L -h", "Invalid commands combination"),
            ("-L -e NEW", "Illegal option `--event-mask' with this command"),
            ("-L -s", "option `-s' requires an argument"),
        ]
        for (args, message) in cases {
            lab.check("ct_a> conntrack \(args)", status: 2, stderr: "conntrack v1.4.7 (conntrack-tools): \(message)\n\(tryHelp)")
        }
        let usage = lab.exec("ct_a> conntrack")
        XCTAssertEqual(usage.status, 0)
        XCTAssertEqual(usage.out.utf8.count, 1976)
        XCTAssertTrue(usage.out.hasPrefix("Command line interface for the connection tracking system. Version 1.4.7\nUsage: conntrack [commands] [options]\n\nCommands:\n  -L [table] [options]\t\tList conntrack or expectation table\n"))
        XCTAssertTrue(usage.out.hasSuffix("  --mask-dst ip\t\t\tDestination mask address\n\n"))
    }

    /// -n, -g and -j: a binding that changed the address or the port word; an ICMP flow
    /// with any binding has a changed port word (its id against the reply's type and code),
    /// so an SNAT ping shows under -g too; with an address, only the address counts.
    func testNATFilters() {
        let lab = Lab()
        lab.run("""
            ip netns add ct_a
            ip netns add ct_b
            ct_a> ip link add va type veth peer name vb
            ct_a> ip link set vb netns ct_b
            ct_a> ip addr add 10.9.0.1/24 dev va
            ct_a> ip link set va up
            ct_b> ip addr add 10.9.0.2/24 dev vb
            ct_b> ip link set vb up
            ct_a> ip addr add 10.9.0.5/24 dev va
            ct_a> iptables -t nat -A POSTROUTING -p icmp -j SNAT --to-source 10.9.0.5
            """)
        _ = lab.exec("ct_a> ping -c 1 10.9.0.2")
        try! lab.kernel.clock.run(until: lab.kernel.clock.now + .milliseconds(500))
        let e = lab.machine.namespace(named: "ct_a")!.conntrack.entries(now: lab.machine.jiffiesNow).first!
        let icmp = "icmp     1 29 src=10.9.0.1 dst=10.9.0.2 type=8 code=0 id=\(e.original.srcPort) src=10.9.0.2 dst=10.9.0.5 type=0 code=0 id=\(e.original.srcPort) mark=0 use=1"
        let shown = { (n: Int) in "conntrack v1.4.7 (conntrack-tools): \(n) flow entries have been shown." }
        // observed on Linux 6.18: the same lines (the ICMP id aside).
        lab.check("ct_a> conntrack -L -n", icmp, stderr: shown(1))
        lab.check("ct_a> conntrack -L -n 10.9.0.5", icmp, stderr: shown(1))
        lab.check("ct_a> conntrack -L -n 10.9.0.1", stderr: shown(0))
        lab.check("ct_a> conntrack -L -g", icmp, stderr: shown(1))
        lab.check("ct_a> conntrack -L -j 10.9.0.2", stderr: shown(0))
        lab.check("ct_a> conntrack -L -j foo", status: 2, stderr: "conntrack v1.4.7 (conntrack-tools): Invalid IP address `foo'\n\(tryHelp)")
    }

    /// A retransmitted SYN of a connection nobody answers leaves its SYN_SENT timeout
    /// running: 2.2 s after the first SYN (retransmitted at 1 s) 117 s are left.
    func testSynRetransmissionDoesNotRenewTheTimeout() {
        let lab = Lab()
        lab.run("""
            ip netns add ct_a
            ip netns add ct_b
            ct_a> ip link add va type veth peer name vb
            ct_a> ip link set vb netns ct_b
            ct_a> ip addr add 10.9.0.1/24 dev va
            ct_a> ip link set va up
            ct_b> ip addr add 10.9.0.2/24 dev vb
            ct_b> ip link set vb up
            ct_a> iptables -A INPUT -m conntrack --ctstate INVALID -j DROP
            ct_b> iptables -A INPUT -p tcp --dport 7000 -j DROP
            """)
        var client: SimProcess?
        if case .process(let p) = Shell.run(Lab.argv("ct_a> nc 10.9.0.2 7000"), lab.ctx) { client = p }
        try! lab.kernel.clock.run(until: lab.kernel.clock.now + .milliseconds(2200))
        let e = lab.machine.namespace(named: "ct_a")!.conntrack.entries(now: lab.machine.jiffiesNow).first!
        // observed on Linux 6.18: 119 at 0.5 s, 118 at 1.1 s and 1.7 s, 117 at 2.3 s.
        lab.check("ct_a> conntrack -L", """
            tcp      6 117 SYN_SENT src=10.9.0.1 dst=10.9.0.2 sport=\(e.original.srcPort) dport=7000 [UNREPLIED] src=10.9.0.2 dst=10.9.0.1 sport=7000 dport=\(e.original.srcPort) mark=0 use=1
            """, stderr: "conntrack v1.4.7 (conntrack-tools): 1 flow entries have been shown.")
        client?.interrupt()
    }
}
