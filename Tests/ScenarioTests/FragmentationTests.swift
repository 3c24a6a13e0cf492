import XCTest
@testable import Scenario

/// IPv4 fragmentation and reassembly end to end. Observed on Linux 6.18 (tcpdump 4.99.3,
/// iputils 20221126) with two namespaces joined by a veth, MTU 1500:
///   ping -c 1 -s 4000      -> request and reply each in three fragments (1500, 1500, 1068
///                             bytes: offsets 0, 1480, 2960, MF on the first two), "4008 bytes from"
///   ping -c 1 -s 2000 -M dont -> two fragments each way (1500 and 548)
///   3000 bytes by nc -u    -> "UDP, length 3000", then two "ip-proto-17" fragments (1500, 68)
///   ping -c 1 -M do -s 1473 -> "ping: local error: message too long, mtu=1500", +1 errors, 1.01 s
/// and through a router whose outgoing link has MTU 1400 (with MASQUERADE, so conntrack
/// reassembles first): `ping -s 3000` leaves on that link as 1396 + 1396 + 276 bytes (offsets
/// 0, 1376, 2752), the answer too, and a DF packet of 1500 bytes gets "Frag needed and DF set
/// (mtu = 1400)".
final class FragmentationTests: XCTestCase {
    static let pair = """
    seed: 4
    steps:
      - ip netns add a
      - ip link add veth0 type veth peer name eth0 netns a
      - ip addr add 10.0.0.1/24 dev veth0
      - ip link set veth0 up
      - ip netns exec a ip addr add 10.0.0.2/24 dev eth0
      - ip netns exec a ip link set eth0 up
      - ip netns exec a nc -u -l 9999 &
      - tcpdump -i veth0 -n -v ip &
    """

    func run(_ extra: String) throws -> RunResult {
        try Runner(try ScenarioLoader.parse(FragmentationTests.pair + "\n" + extra, path: "frag.yaml")).run()
    }

    /// The capture's lines without timestamps, ids replaced by "N".
    func lines(_ r: RunResult) throws -> [String] {
        let c = try XCTUnwrap(r.captures.first)
        return c.text.split(separator: "\n").map { line -> String in
            var l = String(line)
            if let sp = l.firstIndex(of: " "), l.first?.isNumber == true { l = String(l[l.index(after: sp)...]) }
            return l.replacingOccurrences(of: #"id \d+"#, with: "id N", options: .regularExpression)
        }
    }

    func testPingLargerThanTheMTUIsFragmentedAndReassembled() throws {
        let r = try run("""
          - ping -c 1 -s 4000 10.0.0.2
          - ping -c 1 -s 2000 -M dont 10.0.0.2
          - printf '%3000s' x | nc -u -w 1 10.0.0.2 9999
          - sleep 1
        """)
        XCTAssertTrue(r.transcript.contains("4008 bytes from 10.0.0.2: icmp_seq=1 ttl=64"), r.transcript)
        XCTAssertTrue(r.transcript.contains("2008 bytes from 10.0.0.2: icmp_seq=1 ttl=64"), r.transcript)
        func frag(_ off: Int, _ more: Bool, _ proto: String, _ len: Int) -> String {
            "IP (tos 0x0, ttl 64, id N, offset \(off), flags [\(more ? "+" : "none")], proto \(proto), length \(len))"
        }
        let got = try lines(r).map {
            $0.replacingOccurrences(of: #"10\.0\.0\.1\.\d+ >"#, with: "10.0.0.1.PORT >", options: .regularExpression)
        }
        XCTAssertEqual(got, [
            frag(0, true, "ICMP (1)", 1500), "    10.0.0.1 > 10.0.0.2: ICMP echo request, id N, seq 1, length 1480",
            frag(1480, true, "ICMP (1)", 1500), "    10.0.0.1 > 10.0.0.2: ip-proto-1",
            frag(2960, false, "ICMP (1)", 1068), "    10.0.0.1 > 10.0.0.2: ip-proto-1",
            frag(0, true, "ICMP (1)", 1500), "    10.0.0.2 > 10.0.0.1: ICMP echo reply, id N, seq 1, length 1480",
            frag(1480, true, "ICMP (1)", 1500), "    10.0.0.2 > 10.0.0.1: ip-proto-1",
            frag(2960, false, "ICMP (1)", 1068), "    10.0.0.2 > 10.0.0.1: ip-proto-1",
            frag(0, true, "ICMP (1)", 1500), "    10.0.0.1 > 10.0.0.2: ICMP echo request, id N, seq 1, length 1480",
            frag(1480, false, "ICMP (1)", 548), "    10.0.0.1 > 10.0.0.2: ip-proto-1",
            frag(0, true, "ICMP (1)", 1500), "    10.0.0.2 > 10.0.0.1: ICMP echo reply, id N, seq 1, length 1480",
            frag(1480, false, "ICMP (1)", 548), "    10.0.0.2 > 10.0.0.1: ip-proto-1",
            frag(0, true, "UDP (17)", 1500), "    10.0.0.1.PORT > 10.0.0.2.9999: UDP, length 3000",
            frag(1480, true, "UDP (17)", 1500), "    10.0.0.1 > 10.0.0.2: ip-proto-17",
            frag(2960, false, "UDP (17)", 68), "    10.0.0.1 > 10.0.0.2: ip-proto-17",
        ])
        // The server got the whole datagram.
        XCTAssertTrue(r.transcript.contains(String(repeating: " ", count: 2999) + "x"))
    }

    func testDontFragmentTooBigIsALocalError() throws {
        let r = try run("""
          - run: ping -c 2 -M do -s 1473 10.0.0.2
            status: 1
        """)
        XCTAssertTrue(r.transcript.contains("""
            PING 10.0.0.2 (10.0.0.2) 1473(1501) bytes of data.
            ping: local error: message too long, mtu=1500
            ping: local error: message too long, mtu=1500

            --- 10.0.0.2 ping statistics ---
            2 packets transmitted, 0 received, +2 errors, 100% packet loss, time 10
            """), r.transcript)
        XCTAssertTrue(try lines(r).isEmpty)
    }

    func testRouterRefragmentsAfterConntrackReassembly() throws {
        let s = try ScenarioLoader.parse("""
        seed: 3
        steps:
          - ip netns add a
          - ip netns add r
          - ip netns add b
          - ip link add va type veth peer name ra netns r
          - ip link set va netns a
          - ip netns exec r ip link add rb type veth peer name vb netns b
          - ip netns exec a ip addr add 10.0.1.2/24 dev va
          - ip netns exec a ip link set va up
          - ip netns exec a ip route add default via 10.0.1.1
          - ip netns exec r ip addr add 10.0.1.1/24 dev ra
          - ip netns exec r ip addr add 10.0.2.1/24 dev rb
          - ip netns exec r ip link set ra up
          - ip netns exec r ip link set rb mtu 1400
          - ip netns exec r ip link set rb up
          - ip netns exec r sysctl -w net.ipv4.ip_forward=1
          - ip netns exec b ip addr add 10.0.2.2/24 dev vb
          - ip netns exec b ip link set vb mtu 1400
          - ip netns exec b ip link set vb up
          - ip netns exec b ip route add default via 10.0.2.1
          - ip netns exec r iptables -t nat -A POSTROUTING -o rb -j MASQUERADE
          - ip netns exec r tcpdump -i rb -n -v &
          - ip netns exec a ping -c 1 -s 3000 10.0.2.2
          - run: ip netns exec a ping -c 1 -s 1472 10.0.2.2
            status: 1
        """, path: "router.yaml")
        let r = try Runner(s).run()
        XCTAssertTrue(r.transcript.contains("3008 bytes from 10.0.2.2: icmp_seq=1 ttl=63"), r.transcript)
        XCTAssertTrue(r.transcript.contains("From 10.0.1.1 icmp_seq=1 Frag needed and DF set (mtu = 1400)"), r.transcript)
        // Reassembled by conntrack's defrag, the 3028-byte datagram is cut again for rb (MTU
        // 1400): 1396 + 1396 + 276 bytes, and so is the answer.
        func frag(_ ttl: Int, _ off: Int, _ more: Bool, _ len: Int) -> String {
            "IP (tos 0x0, ttl \(ttl), id N, offset \(off), flags [\(more ? "+" : "none")], proto ICMP (1), length \(len))"
        }
        XCTAssertEqual(try lines(r).filter { $0.hasPrefix("IP (") }, [
            frag(63, 0, true, 1396), frag(63, 1376, true, 1396), frag(63, 2752, false, 276),
            frag(64, 0, true, 1396), frag(64, 1376, true, 1396), frag(64, 2752, false, 276),
        ])
    }

    /// A bridge whose namespace runs conntrack (a MASQUERADE rule): br_netfilter's PREROUTING
    /// reassembles the fragments of `ping -s 3000` between two containers, and the bridge sends
    /// them on cut again to the largest original fragment. Observed on Linux 6.18: on the
    /// receiving container's port, 1500 + 1500 + 68 bytes each way, as sent.
    func testBridgeRefragmentsWhatConntrackReassembled() throws {
        let s = try ScenarioLoader.parse("""
        steps:
          - ip link add br0 type bridge
          - ip addr add 172.18.0.1/24 dev br0
          - ip link set br0 up
          - ip netns add c1
          - ip netns add c2
          - ip link add h1 type veth peer name eth0 netns c1
          - ip link add h2 type veth peer name eth0 netns c2
          - ip link set h1 master br0
          - ip link set h2 master br0
          - ip link set h1 up
          - ip link set h2 up
          - ip netns exec c1 ip addr add 172.18.0.2/24 dev eth0
          - ip netns exec c1 ip link set eth0 up
          - ip netns exec c2 ip addr add 172.18.0.3/24 dev eth0
          - ip netns exec c2 ip link set eth0 up
          - iptables -t nat -A POSTROUTING -s 172.18.0.0/24 ! -o br0 -j MASQUERADE
          - tcpdump -i h2 -n -v icmp &
          - ip netns exec c1 ping -c 1 -s 3000 172.18.0.3
        """, path: "bridge.yaml")
        let r = try Runner(s).run()
        let headers = try lines(r).filter { $0.hasPrefix("IP (") }.map {
            $0.replacingOccurrences(of: "tos 0x0, ttl 64, id N, ", with: "")
        }
        let one = ["offset 0, flags [+], proto ICMP (1), length 1500)", "offset 1480, flags [+], proto ICMP (1), length 1500)",
                   "offset 2960, flags [none], proto ICMP (1), length 68)"].map { "IP (" + $0 }
        XCTAssertEqual(headers, one + one)
    }

    /// The last fragment dropped on the way (`-m length --length 548` in the router's FORWARD):
    /// 30 s later the receiver (on the next tick of the timer wheel) answers with "ip
    /// reassembly time exceeded" quoting the first fragment, and ping says nothing. Observed on
    /// Linux 6.18: the same three packets on the sender's link, the ICMP 31 s after the request.
    func testReassemblyTimeout() throws {
        let s = try ScenarioLoader.parse("""
        steps:
          - ip netns add a
          - ip netns add r
          - ip netns add b
          - ip link add va type veth peer name ra netns r
          - ip link set va netns a
          - ip netns exec r ip link add rb type veth peer name vb netns b
          - ip netns exec a ip addr add 10.0.1.2/24 dev va
          - ip netns exec a ip link set va up
          - ip netns exec a ip route add default via 10.0.1.1
          - ip netns exec r ip addr add 10.0.1.1/24 dev ra
          - ip netns exec r ip addr add 10.0.2.1/24 dev rb
          - ip netns exec r ip link set ra up
          - ip netns exec r ip link set rb up
          - ip netns exec r sysctl -w net.ipv4.ip_forward=1
          - ip netns exec b ip addr add 10.0.2.2/24 dev vb
          - ip netns exec b ip link set vb up
          - ip netns exec b ip route add default via 10.0.2.1
          - ip netns exec a ping -c 1 10.0.2.2
          - ip netns exec r iptables -A FORWARD -m length --length 548 -j DROP
          - ip netns exec a tcpdump -i va -n -v icmp &
          - run: ip netns exec a ping -c 1 -W 40 -s 2000 10.0.2.2
            status: 1
        """, path: "timeout.yaml")
        let r = try Runner(s).run()
        XCTAssertEqual(try lines(r).filter { !$0.hasPrefix("IP (") }, [
            "    10.0.1.2 > 10.0.2.2: ICMP echo request, id N, seq 1, length 1480",
            "    10.0.1.2 > 10.0.2.2: ip-proto-1",
            "    10.0.2.2 > 10.0.1.2: ICMP ip reassembly time exceeded, length 556",
            "\tIP (tos 0x0, ttl 63, id N, offset 0, flags [+], proto ICMP (1), length 1500)",
            "    10.0.1.2 > 10.0.2.2: ICMP echo request, id N, seq 1, length 1480",
        ])
        let c = try XCTUnwrap(r.captures.first)
        let stamps = c.text.split(separator: "\n").filter { $0.first?.isNumber == true }.map { String($0.prefix(8)) }
        XCTAssertEqual(stamps.last?.hasPrefix("00:00:3"), true, "the ICMP comes some 30 s later: \(stamps)")
        XCTAssertTrue(r.transcript.contains("1 packets transmitted, 0 received, 100% packet loss"))
    }
}
