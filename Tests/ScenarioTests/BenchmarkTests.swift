// The benchmark workloads at tiny sizes: each builds, runs and does all its work (every
// connection answered and closed, every datagram through the chain, every ping answered).
// The simulated work per unit is deterministic, so its linearity is checked exactly here;
// times and memory are the machine's and only the benchmark itself reports them.

import XCTest
import Scenario

final class BenchmarkTests: XCTestCase {
    func testRoutedConnectionsAllCompleteAndCostTheSamePerConnection() throws {
        let small = try Benchmark.routed(hosts: 4, connections: 1)
        let large = try Benchmark.routed(hosts: 10, connections: 3)
        for r in [small, large] {
            XCTAssertTrue(r.complete, "\(r.name): \(r.answered) answered, \(r.closed) closed, \(r.errors) errors, \(r.leftover) left")
        }
        XCTAssertEqual(large.connections, 30)
        // Ten segments per connection (handshake, request, its ACK, answer, FIN, ACK, FIN,
        // ACK), each received four times: host veth end, router, router's other veth end, host.
        XCTAssertEqual(small.traffic.frames, 40 * small.connections)
        XCTAssertEqual(large.traffic.frames, 40 * large.connections)
        XCTAssertEqual(small.traffic.events * large.connections, large.traffic.events * small.connections)
    }

    func testRoutedRoundsUpToAnEvenNumberOfHosts() throws {
        let r = try Benchmark.routed(hosts: 3, connections: 1)
        XCTAssertEqual(r.hosts, 4)
        XCTAssertTrue(r.complete)
    }

    func testEveryDatagramCrossesTheWholeChain() throws {
        for n in [0, 1, 10] {
            let r = try Benchmark.netfilterChain(rules: n, packets: 50)
            XCTAssertEqual(r.received, 50, "\(n) rules")
            XCTAssertEqual(r.accepted, n == 0 ? 0 : 50, "\(n) rules")
            XCTAssertTrue(r.complete)
        }
    }

    func testConntrackHoldsOneEntryPerFlowAndLooksThemUp() throws {
        let rs = try Benchmark.conntrack(sizes: [20, 120], probes: 30)
        XCTAssertEqual(rs.map(\.entries), [20, 120])
        XCTAssertEqual(rs.map(\.tableCount), [20, 120])
        XCTAssertEqual(rs.map(\.newFlows), [20, 100])
        for r in rs { XCTAssertTrue(r.complete, "\(r.entries): \(r.received) received") }
        // Lookups hit existing flows: no entry is added by them.
        XCTAssertEqual(rs[0].lookup.frames, 30)
    }

    func testOverlayPingsAreAllAnsweredAtTheSameCostPerPing() throws {
        let a = try Benchmark.overlay(containers: 2), b = try Benchmark.overlay(containers: 5)
        XCTAssertTrue(a.complete, "\(a.answered) of \(a.pings)")
        XCTAssertTrue(b.complete, "\(b.answered) of \(b.pings)")
        XCTAssertEqual(b.pings, 10)
        XCTAssertEqual(a.traffic.frames * b.pings, b.traffic.frames * a.pings)
        XCTAssertEqual(a.traffic.events * b.pings, b.traffic.events * a.pings)
    }

    func testBridgeWorkloadRuns() throws {
        let m = try Benchmark.measure(Benchmark.bridgeScenario(3))
        XCTAssertGreaterThan(m.frames, 0)
        XCTAssertGreaterThanOrEqual(m.events, m.frames)
    }
}
