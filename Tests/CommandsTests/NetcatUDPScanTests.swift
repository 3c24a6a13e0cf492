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
    func testClosedAndOpenUDPPort() {
        let lab = Lab()
        lab.vethPair("ct_a", "ct_b", "10.0.0.1/24", "10.0.0.2/24")
        var r = lab.runToEnd("ct_a> nc -zv -u 10.0.0.2 53")
        XCTAssertEqual(r.out + r.err, "")
        XCTAssertEqual(r.status, 1)
        guard case let .process(listener) = Shell.run(Lab.argv("ct_b> nc -lu 53"), lab.ctx) else { return XCTFail("no listener") }
        defer { listener.interrupt() }
        try! lab.kernel.clock.run(until: lab.kernel.clock.now + .milliseconds(10))
        r = lab.runToEnd("ct_a> nc -zv -u 10.0.0.2 53")
        XCTAssertEqual(r.err, "Connection to 10.0.0.2 53 port [udp/domain] succeeded!\n")
        XCTAssertEqual(r.status, 0)
    }
}

/// nc's destination ports and setup errors. Observed on Linux 6.18 / netcat-openbsd 1.219 on
/// 2026-11-23 (same two namespaces, nothing listening on 10.0.0.2).
final class NetcatPortListTests: XCTestCase {
    func testPortsAndErrors() {
        let lab = Lab()
        lab.vethPair("ct_a", "ct_b", "10.0.0.1/24", "10.0.0.2/24")
        let refused = { (p: Int) in "nc: connect to 10.0.0.2 port \(p) (tcp) failed: Connection refused\n" }
        var r = lab.runToEnd("ct_a> nc -zv 10.0.0.2 8081-8079")
        XCTAssertEqual(r.err, refused(8079) + refused(8080) + refused(8081))
        XCTAssertEqual(r.status, 1)
        r = lab.runToEnd("ct_a> nc -zv 10.0.0.2 http")
        XCTAssertEqual(r.err, refused(80))
        r = lab.runToEnd("ct_a> nc -zv 10.0.0.2 0")
        XCTAssertEqual(r.err, "nc: port number too small: 0\n")
        XCTAssertEqual(r.status, 1)
        r = lab.runToEnd("ct_a> nc -zv -s 10.9.9.9 10.0.0.2 8080")
        XCTAssertEqual(r.err, "nc: bind failed: Cannot assign requested address\n")
        XCTAssertEqual(r.status, 1)
        r = lab.runToEnd("ct_a> nc")
        XCTAssertEqual(r.err, Netcat.usage + "\n")
        XCTAssertEqual(r.status, 1)
        r = lab.runToEnd("ct_a> nc -x")
        XCTAssertEqual(r.err, "nc: option requires an argument -- 'x'\n" + Netcat.usage + "\n")
    }
}
