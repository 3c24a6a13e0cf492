// TracerouteInterfaceTests: traceroute -i (SO_BINDTODEVICE on the probe sockets).
// Observed on Linux 6.18 / traceroute 2.1.2 on 2026-11-23, two namespaces joined by a veth
// pair (10.0.1.2/24 on v0, 10.0.1.1/24 on v1):
//   traceroute -n -q 1 -i v0 10.0.1.1      -> " 1  10.0.1.1  0.486 ms", exit 0
//   traceroute -n -q 1 -i nosuch 10.0.1.1  -> the header, then
//                                             "setsockopt SO_BINDTODEVICE: No such device", exit 1

import XCTest
import SimCore
@testable import Commands

final class TracerouteInterfaceTests: XCTestCase {
    private func run(_ lab: Lab, _ line: String) -> (out: String, err: String, status: Int32) {
        lab.sink.out = ""
        lab.sink.err = ""
        var status: Int32 = -1
        switch Shell.run(Lab.argv(line), lab.ctx) {
        case let .finished(s): status = s
        case let .process(p):
            let t0 = lab.kernel.clock.now
            while !p.isFinished && lab.kernel.clock.now < t0 + .seconds(60) {
                try! lab.kernel.clock.run(until: lab.kernel.clock.now + .milliseconds(100))
            }
            status = p.isFinished ? p.exitStatus : -1
        default: break
        }
        return (lab.sink.out, lab.sink.err, status)
    }

    func testBoundDevice() {
        let lab = Lab()
        lab.run("""
            ip netns add ct_a
            ip netns add ct_b
            ct_a> ip link add v0 type veth peer name v1 netns ct_b
            ct_a> ip link set v0 up
            ct_a> ip addr add 10.0.1.2/24 dev v0
            ct_b> ip link set v1 up
            ct_b> ip addr add 10.0.1.1/24 dev v1
            """)
        var r = run(lab, "ct_a> traceroute -n -q 1 -i v0 10.0.1.1")
        XCTAssertTrue(r.out.hasPrefix("traceroute to 10.0.1.1 (10.0.1.1), 30 hops max, 60 byte packets\n 1  10.0.1.1  "), r.out)
        XCTAssertEqual(r.status, 0)
        r = run(lab, "ct_a> traceroute -n -q 1 -i nosuch 10.0.1.1")
        XCTAssertEqual(r.out + r.err, "traceroute to 10.0.1.1 (10.0.1.1), 30 hops max, 60 byte packets\nsetsockopt SO_BINDTODEVICE: No such device\n")
        XCTAssertEqual(r.status, 1)
    }
}
