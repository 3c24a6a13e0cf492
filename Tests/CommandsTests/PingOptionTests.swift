// PingOptionTests: iputils ping's -I, -t, -s, -b, -D, -4, 0.0.0.0 and its usage errors.
// Every expected text was observed on Linux 6.18 / iputils 20221126 on 2026-11-23, running the
// same commands in two namespaces of their own joined by a veth pair (10.0.0.1/24 on v0,
// 10.0.0.2/24 on v1). Round-trip times differ from run to run, so lines carrying them are
// compared up to "time=".

import XCTest
import SimCore
@testable import Commands

final class PingOptionTests: XCTestCase {
    private func lab() -> Lab {
        let lab = Lab()
        lab.run("""
            ip netns add ct_a
            ip netns add ct_b
            ct_a> ip link add v0 type veth peer name v1 netns ct_b
            ct_a> ip link set v0 up
            ct_a> ip link set lo up
            ct_a> ip addr add 10.0.0.1/24 brd + dev v0
            ct_b> ip link set v1 up
            ct_b> ip addr add 10.0.0.2/24 dev v1
            """)
        return lab
    }

    /// Compares a finished run with a recording (texts without their final newline).
    private func check(_ lab: Lab, _ line: String, _ out: String = "", status: Int32, stderr: String = "",
                       file: StaticString = #filePath, ln: UInt = #line) {
        let r = lab.runToEnd(line, tick: .milliseconds(100))
        XCTAssertEqual(r.out, out.isEmpty ? "" : out + "\n", "stdout of `\(line)`", file: file, line: ln)
        XCTAssertEqual(r.err, stderr.isEmpty ? "" : stderr + "\n", "stderr of `\(line)`", file: file, line: ln)
        XCTAssertEqual(r.status, status, "exit status of `\(line)`", file: file, line: ln)
    }

    private func lines(_ s: String) -> [String] {
        s.split(separator: "\n", omittingEmptySubsequences: false).map { l in
            l.range(of: " time=").map { String(l[..<$0.lowerBound]) } ?? String(l)
        }
    }

    /// observed on Linux 6.18: -I names the source (and the device) in the header; a device
    /// that does not own the source draws a warning.
    func testInterface() {
        let lab = lab()
        var r = lab.runToEnd("ct_a> ping -c 1 -I v0 10.0.0.2", tick: .milliseconds(100))
        XCTAssertEqual(lines(r.out).prefix(2), ["PING 10.0.0.2 (10.0.0.2) from 10.0.0.1 v0: 56(84) bytes of data.",
                                                "64 bytes from 10.0.0.2: icmp_seq=1 ttl=64"])
        XCTAssertEqual(r.status, 0)
        r = lab.runToEnd("ct_a> ping -c 1 -I 10.0.0.1 10.0.0.2", tick: .milliseconds(100))
        XCTAssertEqual(lines(r.out).first, "PING 10.0.0.2 (10.0.0.2) from 10.0.0.1 : 56(84) bytes of data.")
        XCTAssertEqual(r.status, 0)
        check(lab, "ct_a> ping -c 1 -W 1 -I lo 10.0.0.2", """
            PING 10.0.0.2 (10.0.0.2) from 10.0.0.1 lo: 56(84) bytes of data.

            --- 10.0.0.2 ping statistics ---
            1 packets transmitted, 0 received, 100% packet loss, time 0ms

            """, status: 1, stderr: "ping: Warning: source address might be selected on device other than: lo")
        check(lab, "ct_a> ping -c 1 -I nosuch 10.0.0.2", status: 2, stderr: "ping: SO_BINDTODEVICE nosuch: No such device")
        check(lab, "ct_a> ping -c 1 -I 10.9.9.9 10.0.0.2", status: 2, stderr: "ping: bind: Cannot assign requested address")
    }

    /// observed on Linux 6.18: argument checks and what the kernel refuses later.
    func testArguments() {
        let lab = lab()
        check(lab, "ct_a> ping -c abc 10.0.0.2", status: 1, stderr: "ping: invalid argument: 'abc'")
        check(lab, "ct_a> ping -t 256 -c 1 10.0.0.2", status: 1,
                  stderr: "ping: invalid argument: '256': out of range: 0 <= value <= 255")
        check(lab, "ct_a> ping -t 0 -c 1 10.0.0.2", status: 2, stderr: "ping: cannot set unicast time-to-live: Invalid argument")
        check(lab, "ct_a> ping -c 1 -s 65508 10.0.0.2", """
            PING 10.0.0.2 (10.0.0.2) 65508(65536) bytes of data.

            --- 10.0.0.2 ping statistics ---
            1 packets transmitted, 0 received, +1 errors, 100% packet loss, time 0ms

            """, status: 1, stderr: "ping: local error: message too long, mtu=65535")
        check(lab, "ct_a> ping -c 1 -W 1 -s 70000 10.0.0.2", """
            PING 10.0.0.2 (10.0.0.2) 70000(70028) bytes of data.

            --- 10.0.0.2 ping statistics ---
            1 packets transmitted, 0 received, 100% packet loss, time 0ms

            """, status: 1)
        let x = lab.runToEnd("ct_a> ping -x", tick: .milliseconds(100))
        XCTAssertEqual(x.status, 2)
        XCTAssertTrue(x.err.hasPrefix("ping: invalid option -- 'x'\n\nUsage\n  ping [options] <destination>\n"))
        XCTAssertTrue(x.err.hasSuffix("For more details see ping(8).\n"))
        let c = lab.runToEnd("ct_a> ping -c", tick: .milliseconds(100))
        XCTAssertEqual(c.status, 2)
        XCTAssertTrue(c.err.hasPrefix("ping: option requires an argument -- 'c'\n\nUsage\n"))
    }

    /// observed on Linux 6.18: -b to the subnet's broadcast address of an address added
    /// without `brd` goes out to ff:ff:ff:ff:ff:ff (the local table's broadcast route), no ARP.
    func testBroadcastWithoutBrd() {
        let lab = lab()
        lab.run("""
            ct_a> ip addr add 10.1.0.1/24 dev v0
            """)
        check(lab, "ct_a> ping -b -c 1 -W 1 10.1.0.255", """
            PING 10.1.0.255 (10.1.0.255) 56(84) bytes of data.

            --- 10.1.0.255 ping statistics ---
            1 packets transmitted, 0 received, 100% packet loss, time 0ms

            """, status: 1, stderr: "WARNING: pinging broadcast address")
    }

    /// observed on Linux 6.18: 0.0.0.0 is this host (127.0.0.1); -4 is accepted; -D stamps each
    /// reply; -b sends to the broadcast address (nobody answers: icmp_echo_ignore_broadcasts).
    func testAddressesAndStamps() {
        let lab = lab()
        var r = lab.runToEnd("ct_a> ping -c 1 0.0.0.0", tick: .milliseconds(100))
        XCTAssertEqual(lines(r.out).prefix(2), ["PING 0.0.0.0 (127.0.0.1) 56(84) bytes of data.",
                                                "64 bytes from 127.0.0.1: icmp_seq=1 ttl=64"])
        XCTAssertEqual(r.status, 0)
        r = lab.runToEnd("ct_a> ping -4 -c 1 10.0.0.2", tick: .milliseconds(100))
        XCTAssertEqual(r.status, 0)
        r = lab.runToEnd("ct_a> ping -D -c 1 10.0.0.2", tick: .milliseconds(100))
        let reply = lines(r.out)[1]
        XCTAssertNotNil(reply.range(of: #"^\[[0-9]+\.[0-9]{6}\] 64 bytes from 10\.0\.0\.2: icmp_seq=1 ttl=64$"#,
                                    options: .regularExpression), reply)
        check(lab, "ct_a> ping -b -c 1 -W 1 10.0.0.255", """
            PING 10.0.0.255 (10.0.0.255) 56(84) bytes of data.

            --- 10.0.0.255 ping statistics ---
            1 packets transmitted, 0 received, 100% packet loss, time 0ms

            """, status: 1, stderr: "WARNING: pinging broadcast address")
    }
}
