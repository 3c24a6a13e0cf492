// KnownKernelDifferenceTests: each difference that Lab.tolerated() hides from every comparison
// is asserted here to still exist, so that the tolerance goes once the kernel model is fixed.

import XCTest

final class KnownKernelDifferenceTests: XCTestCase {
    /// The model flags bridge ports IFF_SLAVE (`ip link` would print SLAVE); Linux does not
    /// (observed: `<BROADCAST,MULTICAST>` for a port that is down, see BridgeLabStageTests).
    func testBridgePortsStillCarrySlaveFlag() {
        let lab = Lab()
        lab.run("""
            ip netns add ct_host
            ct_host> ip link add veth0 type veth peer name veth1
            ct_host> brctl addbr br0
            ct_host> brctl addif br0 veth1
            """)
        let out = lab.exec("ct_host> ip -br link show veth1").out
        XCTAssertTrue(out.contains("SLAVE"),
                      "the model no longer sets IFF_SLAVE on bridge ports: remove the tolerance in Lab.tolerated()")
    }
}
