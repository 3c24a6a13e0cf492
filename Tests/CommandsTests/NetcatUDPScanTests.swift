// NetcatUDPScanTests: `nc -zu`, OpenBSD netcat's udptest(): four one-byte writes, the last
// one's result decides.
// Observed on Linux 6.18 / netcat-openbsd 1.219 on 2026-11-23, two namespaces joined by a veth
// pair (10.0.0.1/24 and 10.0.0.2/24): `nc -zv -u 10.0.0.2 53` with nothing on port 53 prints
// nothing and exits 1 (the port unreachable is back before the last write); with `nc -lu 53`
// listening there it prints "Connection to 10.0.0.2 53 port [udp/domain] succeeded!" and
// exits 0.

import XCTest
import SimCore
@testable import Commands

final class NetcatUDPScanTests: XCTestCase {
    private func run(_ lab: Lab, _ line: String) -> (out: String, err: String, status: Int32) {
        lab.sink.out = ""
        lab.sink.err = ""
        var status: Int32 = -1
        switch Shell.run(Lab.argv(line), lab.ctx) {
        case let .finished(s): status = s
        case let .process(p):
            let t0 = lab.kernel.clock.now
            while !p.isFinished && lab.kernel.clock.now < t0 + .seconds(10) {
                try! lab.kernel.clock.run(until: lab.kernel.clock.now + .milliseconds(10))
            }
            status = p.isFinished ? p.exitStatus : -1
        default: break
        }
        return (lab.sink.out, lab.sink.err, status)
    }

    func testClosedAndOpenUDPPort() {
        let lab = Lab()
        lab.run("""
            ip netns add ct_a
            ip netns add ct_b
            ct_a> ip link add v0 type veth peer name v1 netns ct_b
            ct_a> ip link set v0 up
            ct_a> ip addr add 10.0.0.1/24 dev v0
            ct_b> ip link set v1 up
            ct_b> ip addr add 10.0.0.2/24 dev v1
            """)
        var r = run(lab, "ct_a> nc -zv -u 10.0.0.2 53")
        XCTAssertEqual(r.out + r.err, "")
        XCTAssertEqual(r.status, 1)
        guard case let .process(listener) = Shell.run(Lab.argv("ct_b> nc -lu 53"), lab.ctx) else { return XCTFail("no listener") }
        defer { listener.interrupt() }
        try! lab.kernel.clock.run(until: lab.kernel.clock.now + .milliseconds(10))
        r = run(lab, "ct_a> nc -zv -u 10.0.0.2 53")
        XCTAssertEqual(r.err, "Connection to 10.0.0.2 53 port [udp/domain] succeeded!\n")
        XCTAssertEqual(r.status, 0)
    }
}
