import XCTest
import SimCore
import Wire
@testable import NetKernel

/// The NUD state machine against what Linux 6.18 was seen doing (docs/fidelity.md):
/// INCOMPLETE -> REACHABLE on a solicited reply; a request makes the target's entry STALE;
/// first use -> DELAY; 5.0-5.26 s later -> PROBE with a unicast request; a reply -> REACHABLE.
final class NeighbourTests: XCTestCase {
    func testRequesterAndTargetStates() throws {
        let lab = try Lab(containers: 2)
        try lab.ping(from: 1, to: lab.address(2))
        try lab.run(for: .milliseconds(1))
        let c1 = lab.containers[0], c2 = lab.containers[1]
        let n12 = c1.neighbours.lookup(lab.address(2), c1.device(named: "eth0")!)!
        let n21 = c2.neighbours.lookup(lab.address(1), c2.device(named: "eth0")!)!
        XCTAssertEqual(n12.state, .reachable)
        // Created STALE from the request, made DELAY by sending the echo reply.
        XCTAssertEqual(n21.state, .delay)
        XCTAssertEqual(c1.neighbours.checkInvariants(), [])
        XCTAssertEqual(c2.neighbours.checkInvariants(), [])
    }

    func testDelayBecomesProbeWithAUnicastRequestAfterFiveSeconds() throws {
        let lab = try Lab(containers: 2)
        let veth2 = lab.tap(lab.host.device(named: "veth2")!)
        let start = lab.kernel.clock.now
        try lab.ping(from: 1, to: lab.address(2))
        try lab.run(for: .seconds(7))
        let probes = veth2.frames.filter { EthernetView.etherType($0.1) == .arp && EthernetView.source($0.1) == lab.containers[1].device(named: "eth0")!.mac && ((try? ARPPacket.parse($0.1, at: 14))?.operation == .request) }
        XCTAssertEqual(probes.count, 1)
        let (t, frame) = probes[0]
        let after = t - start
        XCTAssertGreaterThanOrEqual(after, .seconds(5))
        XCTAssertLessThanOrEqual(after, .milliseconds(5_260))
        // Unicast to the cached address, target hardware address zero.
        XCTAssertEqual(EthernetView.destination(frame), lab.containers[0].device(named: "eth0")!.mac)
        XCTAssertEqual(try ARPPacket.parse(frame, at: 14).targetMAC, .zero)
        let n21 = lab.containers[1].neighbours.lookup(lab.address(1), lab.containers[1].device(named: "eth0")!)!
        XCTAssertEqual(n21.state, .reachable)
    }

    func testReachableGoesStaleWithinBaseReachableTimeBounds() throws {
        let lab = try Lab(containers: 2)
        try lab.ping(from: 1, to: lab.address(2))
        try lab.run(for: .seconds(14))
        let dev = lab.containers[0].device(named: "eth0")!
        let n = lab.containers[0].neighbours.lookup(lab.address(2), dev)!
        XCTAssertEqual(n.state, .reachable, "reachable_time is at least base/2 = 15 s")
        try lab.run(for: .seconds(33))
        XCTAssertEqual(n.state, .stale, "and below 3/2 base = 45 s (plus timer slack)")
    }

    func testUnansweredAddressFailsAfterThreeBroadcastsAndReportsHostUnreachable() throws {
        let lab = try Lab(containers: 1)
        let veth1 = lab.tap(lab.host.device(named: "veth1")!)
        let c1 = lab.containers[0]
        let s = c1.openRawSocket(proto: .icmp)
        s.recvErr = true
        var errors: [SocketError] = []
        s.onError = { errors.append($0) }
        let start = lab.kernel.clock.now
        for seq in 1...2 {
            try s.send(to: IPv4Address(172, 18, 0, 99), payload: ICMPv4Packet.echo(request: true, identifier: 9, sequence: UInt16(seq), payload: []).bytes)
        }
        try lab.run(for: .seconds(5))
        let requests = veth1.frames.filter { EthernetView.destination($0.1) == .broadcast }
        XCTAssertEqual(requests.count, 3)
        let gaps = zip(requests.dropFirst(), requests).map { ($0.0 - $1.0) }
        for g in gaps {
            XCTAssertGreaterThanOrEqual(g, .seconds(1))
            XCTAssertLessThanOrEqual(g, .milliseconds(1_040))
        }
        // Both queued packets fail together with "host unreachable" from our own address.
        XCTAssertEqual(errors.count, 2)
        XCTAssertEqual(errors.map(\.type), [3, 3])
        XCTAssertEqual(errors.map(\.code), [1, 1])
        XCTAssertEqual(errors.first?.offender, lab.address(1))
        let n = c1.neighbours.lookup(IPv4Address(172, 18, 0, 99), c1.device(named: "eth0")!)!
        XCTAssertEqual(n.state, .failed)
        XCTAssertGreaterThan(lab.kernel.clock.now - start, .seconds(3))
    }

    func testRequestDoesNotCreateEntriesOnBystanders() throws {
        let lab = try Lab(containers: 3)
        try lab.ping(from: 1, to: lab.address(2))
        try lab.run(for: .milliseconds(5))
        XCTAssertEqual(lab.containers[2].neighbours.count, 0)
        // The host has only the NOARP entry for 224.0.0.22 its IGMP reports went to.
        XCTAssertEqual(lab.host.neighbours.entries.filter { $0.state != .noARP }.count, 0)
    }
}
