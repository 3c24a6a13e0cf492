import XCTest
import SimCore
@testable import NetKernel

/// A Packet is a value: netfilter's references live in a shared box that is copied on write.
final class PacketTests: XCTestCase {
    func testNetfilterReferencesAreCopiedOnWrite() {
        let kernel = Kernel(clock: EventQueue(), seed: 1)
        let dev: NetDevice = kernel.addMachine("host").root.loopback
        var a = Packet(bytes: [0, 1, 2])
        XCTAssertNil(a.nfBridge)
        a.nfBridge = BridgeNFInfo(physIn: dev)
        var b = a
        b.nfBridge?.physOut = dev
        XCTAssertNil(a.nfBridge?.physOut, "changing a copy changed the original")
        XCTAssertTrue(b.nfBridge?.physOut === dev)
        XCTAssertTrue(a.nfBridge?.physIn === dev)
        b.nfBridge = nil
        XCTAssertNil(b.nfBridge)
        XCTAssertNotNil(a.nfBridge)
        a.ct = nil
        XCTAssertNotNil(a.nfBridge, "clearing ct cleared the bridge record")
    }
}

/// Conntrack's defrag comes and goes with conntrack (nf_defrag_ipv4 follows nf_ct_netns_get/put).
final class ConntrackDefragHookTests: XCTestCase {
    func testDefragHooksFollowConntrack() {
        let kernel = Kernel(clock: EventQueue(), seed: 1)
        let ns = kernel.addMachine("host").root!
        func defragHooks() -> Int { ns.nfHooks.entries.reduce(0) { $0 + $1.filter { $0.name == "defrag" }.count } }
        ns.syncConntrack(needed: true)
        XCTAssertEqual(defragHooks(), 2)  // PREROUTING and OUTPUT
        ns.syncConntrack(needed: false)
        XCTAssertEqual(defragHooks(), 0)
        ns.syncConntrack(needed: true)
        XCTAssertEqual(defragHooks(), 2)
    }
}
