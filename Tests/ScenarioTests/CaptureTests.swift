import XCTest
@testable import Scenario

/// tcpdump options through a whole run: BPF filters compiled by libpcap, -e, -p, -c.
final class CaptureTests: XCTestCase {
    static let lab = """
    seed: 5
    steps:
      - ip netns add a
      - ip netns add b
      - ip link add br0 type bridge
      - ip link add va type veth peer name eth0 netns a
      - ip link add vb type veth peer name eth0 netns b
      - ip link set va master br0
      - ip link set vb master br0
      - ip link set va up
      - ip link set vb up
      - ip link set br0 up
      - ip netns exec a ip addr add 10.0.0.2/24 dev eth0
      - ip netns exec a ip link set eth0 up
      - ip netns exec b ip addr add 10.0.0.3/24 dev eth0
      - ip netns exec b ip link set eth0 up
      - sleep 2
    """

    func run(_ extra: String) throws -> RunResult {
        let s = try ScenarioLoader.parse(CaptureTests.lab + "\n" + extra, path: "capture.yaml")
        return try Runner(s).run()
    }

    func lines(_ r: RunResult, _ name: String) throws -> [String] {
        let c = try XCTUnwrap(r.captures.first { $0.name == name })
        return c.text.split(separator: "\n").map { String($0.split(separator: " ", maxSplits: 1)[1]) }
    }

    func testFilterExpressionsSelectPackets() throws {
        let r = try run("""
          - run: tcpdump -i br0 -n icmp
            capture: icmp
          - run: tcpdump -i br0 -n arp and src host 10.0.0.2
            capture: arp
          - ip netns exec a ping -c 1 10.0.0.3
        """)
        XCTAssertEqual(try lines(r, "icmp"), [
            "IP 10.0.0.2 > 10.0.0.3: ICMP echo request, id \(try pingID(r)), seq 1, length 64",
            "IP 10.0.0.3 > 10.0.0.2: ICMP echo reply, id \(try pingID(r)), seq 1, length 64",
        ])
        XCTAssertEqual(try lines(r, "arp"), ["ARP, Request who-has 10.0.0.3 tell 10.0.0.2, length 28"])
        XCTAssertTrue(r.transcript.contains("2 packets captured\n2 packets received by filter\n0 packets dropped by kernel\n"))
        XCTAssertTrue(r.transcript.contains("1 packet captured\n1 packet received by filter\n"))
    }

    func pingID(_ r: RunResult) throws -> String {
        let c = try XCTUnwrap(r.captures.first)
        let t = c.text
        let range = try XCTUnwrap(t.range(of: "id "))
        return String(t[range.upperBound...].prefix { $0.isNumber })
    }

    func testLinkHeaderAndNonPromiscuousCapture() throws {
        let r = try run("""
          - run: tcpdump -i br0 -n -e -p
            capture: nopromisc
          - ip netns exec a ping -c 1 10.0.0.3
        """)
        // Without promiscuous mode br0 sees only the broadcast request, not the forwarded
        // unicast reply and echo packets (a real observer effect).
        let l = try lines(r, "nopromisc")
        XCTAssertEqual(l.count, 1)
        XCTAssertTrue(l[0].hasSuffix("> ff:ff:ff:ff:ff:ff, ethertype ARP (0x0806), length 42: Request who-has 10.0.0.3 tell 10.0.0.2, length 28"), l[0])
    }

    func testCountStopsTheCapture() throws {
        let r = try run("""
          - tcpdump -i br0 -n -c 2 &
          - ip netns exec a ping -c 2 10.0.0.3
        """)
        XCTAssertEqual(r.captures[0].records.count, 2)
    }

    func testBadFilterIsLibpcapsError() {
        XCTAssertThrowsError(try run("  - tcpdump -i br0 -n 'port nonsense'\n")) { e in
            XCTAssertEqual((e as? ScenarioError)?.message, "tcpdump: unknown port 'nonsense' (exit status 1)")
        }
    }
}
