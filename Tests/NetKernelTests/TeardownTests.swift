// A world that is dropped is freed: namespaces joined by veths, and the two ends of a veth,
// do not keep each other alive (a benchmark or a test suite builds many worlds in one process).

import XCTest
import SimCore
import Wire
@testable import NetKernel

final class TeardownTests: XCTestCase {
    func testADroppedKernelFreesItsNamespacesAndDevices() throws {
        weak var kernel: Kernel?
        weak var container: NetNamespace?
        weak var hostEnd: NetDevice?
        weak var eth0: NetDevice?
        do {
            let lab = try Lab(containers: 2)
            try lab.ping(from: 1, to: lab.address(2))
            try lab.run(for: .seconds(1))
            kernel = lab.kernel
            container = lab.containers[0]
            hostEnd = lab.host.device(named: "veth1")
            eth0 = lab.containers[0].device(named: "eth0")
            XCTAssertNotNil(hostEnd)
            XCTAssertEqual(lab.host.peerIDs.map(\.id), [0, 1])
        }
        XCTAssertNil(kernel)
        XCTAssertNil(container)
        XCTAssertNil(hostEnd)
        XCTAssertNil(eth0)
    }
}
