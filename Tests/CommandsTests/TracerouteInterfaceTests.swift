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
    func testBoundDevice() {
        let lab = Lab()
        lab.vethPair("ct_a", "ct_b", "10.0.1.2/24", "10.0.1.1/24")
        var r = lab.runToEnd("ct_a> traceroute -n -q 1 -i v0 10.0.1.1", tick: .milliseconds(100))
        XCTAssertTrue(r.out.hasPrefix("traceroute to 10.0.1.1 (10.0.1.1), 30 hops max, 60 byte packets\n 1  10.0.1.1  "), r.out)
        XCTAssertEqual(r.status, 0)
        r = lab.runToEnd("ct_a> traceroute -n -q 1 -i nosuch 10.0.1.1", tick: .milliseconds(100))
        XCTAssertEqual(r.out + r.err, "traceroute to 10.0.1.1 (10.0.1.1), 30 hops max, 60 byte packets\nsetsockopt SO_BINDTODEVICE: No such device\n")
        XCTAssertEqual(r.status, 1)
    }
}
