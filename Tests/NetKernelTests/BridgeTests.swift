import XCTest
import SimCore
import Wire
@testable import NetKernel

final class BridgeTests: XCTestCase {
    func testBroadcastIsFloodedThenUnicastFollowsLearnedPorts() throws {
        let lab = try Lab(containers: 3)
        let p2 = lab.tap(lab.host.device(named: "veth2")!)
        let p3 = lab.tap(lab.host.device(named: "veth3")!)
        try lab.ping(from: 1, to: lab.address(2))
        try lab.run(for: .seconds(1))
        // veth2 (the target) sees request, reply, echo request and echo reply.
        XCTAssertEqual(p2.arp.map(\.operation), [.request, .reply])
        XCTAssertEqual(p2.icmp.map(\.type), [.echoRequest, .echoReply])
        // veth3 only sees the flooded broadcast.
        XCTAssertEqual(p3.frames.count, 1)
        XCTAssertEqual(EthernetView.destination(p3.frames[0].1), .broadcast)
        XCTAssertEqual(lab.bridge.fdb.checkInvariants(), [])
    }

    func testSourcesAreLearnedOnTheirPorts() throws {
        let lab = try Lab(containers: 3)
        let mac1 = lab.containers[0].device(named: "eth0")!.mac
        let mac2 = lab.containers[1].device(named: "eth0")!.mac
        let mac3 = lab.containers[2].device(named: "eth0")!.mac
        XCTAssertNil(lab.bridge.fdb.find(mac1))
        try lab.ping(from: 1, to: lab.address(2))
        try lab.run(for: .seconds(1))
        XCTAssertEqual(lab.bridge.fdb.find(mac1)?.port?.device.name, "veth1")
        XCTAssertEqual(lab.bridge.fdb.find(mac2)?.port?.device.name, "veth2")
        XCTAssertNil(lab.bridge.fdb.find(mac3), "c3 never sent a frame")
        XCTAssertFalse(lab.bridge.fdb.find(mac1)!.isPermanent)
    }

    func testUnknownUnicastIsFlooded() throws {
        let lab = try Lab(containers: 3)
        // A frame from c1 to a MAC nobody has: the bridge floods it to veth2 and veth3.
        let p2 = lab.tap(lab.host.device(named: "veth2")!)
        let p3 = lab.tap(lab.host.device(named: "veth3")!)
        let eth0 = lab.containers[0].device(named: "eth0")!
        let frame = EthernetHeader(destination: MACAddress("02:00:00:00:99:99")!, source: eth0.mac, etherType: .ipv4).frame(payload: Array(repeating: 0, count: 46))
        lab.containers[0].devQueueXmit(eth0, Packet(bytes: frame))
        try lab.run(for: .milliseconds(1))
        XCTAssertEqual(p2.frames.count, 1)
        XCTAssertEqual(p3.frames.count, 1)
    }

    func testDynamicEntriesAgeOutAfterAgeingTime() throws {
        let lab = try Lab(containers: 2)
        let mac1 = lab.containers[0].device(named: "eth0")!.mac
        try lab.ping(from: 1, to: lab.address(2))
        try lab.run(for: .seconds(1))
        XCTAssertNotNil(lab.bridge.fdb.find(mac1))
        // The re-probe at ~5 s refreshes c1's entry (c1 answers it); it then lives 300 s more.
        try lab.run(for: .seconds(299))
        XCTAssertNotNil(lab.bridge.fdb.find(mac1))
        // The gc work is a timer of up to 300 s: the wheel may run it up to 16.4 s late (4096
        // jiffies at HZ=250), as on Linux.
        try lab.run(for: .seconds(25))
        XCTAssertNil(lab.bridge.fdb.find(mac1), "aged out after ageing_time without traffic")
        // Local entries never age.
        XCTAssertNotNil(lab.bridge.fdb.find(lab.host.device(named: "veth1")!.mac))
        XCTAssertEqual(lab.bridge.fdb.checkInvariants(), [])
    }

    func testBridgeTakesLowestPortMACUnlessSet() throws {
        let lab = try Lab(containers: 3)
        let lowest = (1...3).map { lab.host.device(named: "veth\($0)")!.mac }.min()!
        XCTAssertEqual(lab.bridge.mac, lowest)
        var c = LinkChange()
        c.address = MACAddress("02:00:00:00:00:aa")!
        try lab.host.apply(.linkSet(lab.bridge, c))
        try lab.host.apply(.linkDelete(lab.host.device(named: "veth1")!))
        XCTAssertEqual(lab.bridge.mac, MACAddress("02:00:00:00:00:aa")!)
    }

    func testCarrierFollowsForwardingPorts() throws {
        let lab = try Lab(containers: 1)
        XCTAssertTrue(lab.bridge.carrier)
        XCTAssertEqual(lab.bridge.operState, .up)
        lab.containers[0].setUp(lab.containers[0].device(named: "eth0")!, false)
        XCTAssertFalse(lab.bridge.carrier)
        XCTAssertEqual(lab.bridge.operState, .down)
        XCTAssertEqual(lab.bridge.ports[0].state, .disabled)
    }

    func testFramesNeverGoBackOutTheirIngressPort() throws {
        let lab = try Lab(containers: 2)
        let p1 = lab.tap(lab.host.device(named: "veth1")!)
        let eth0 = lab.containers[0].device(named: "eth0")!
        let frame = EthernetHeader(destination: .broadcast, source: eth0.mac, etherType: EtherType(rawValue: 0x88b5)).frame(payload: Array(repeating: 0, count: 46))
        lab.containers[0].devQueueXmit(eth0, Packet(bytes: frame))
        try lab.run(for: .milliseconds(1))
        // veth1 received it (incoming) once and never transmitted it back.
        XCTAssertEqual(p1.frames.count, 1)
    }

    func testBridgeLoopIsBoundedByTheEventBudget() throws {
        // Two bridges joined by two veth pairs: a loop; a broadcast circulates forever.
        let k = Kernel(clock: EventQueue(budget: 20_000), seed: 3)
        let ns = k.addMachine("host").root!
        for b in ["brA", "brB"] {
            try ns.apply(.linkAdd(name: b, kind: .bridge, address: nil, mtu: nil))
            ns.setUp(ns.device(named: b)!, true)
        }
        for i in 0..<2 {
            try ns.apply(.linkAdd(name: "a\(i)", kind: .veth(peerName: "b\(i)", peerNamespace: nil, peerAddress: nil), address: nil, mtu: nil))
            try ns.apply(.bridgeAddPort(bridge: ns.device(named: "brA")!, port: ns.device(named: "a\(i)")!))
            try ns.apply(.bridgeAddPort(bridge: ns.device(named: "brB")!, port: ns.device(named: "b\(i)")!))
            ns.setUp(ns.device(named: "a\(i)")!, true)
            ns.setUp(ns.device(named: "b\(i)")!, true)
        }
        try ns.addAddress(IPv4Prefix("10.0.0.1/24")!, broadcast: nil, scope: nil, label: nil, to: ns.device(named: "brA")!)
        let s = ns.openRawSocket(proto: .icmp)
        try s.send(to: IPv4Address(10, 0, 0, 2), payload: ICMPv4Packet.echo(request: true, identifier: 1, sequence: 1, payload: []).bytes)
        XCTAssertThrowsError(try k.clock.run(until: .seconds(10))) { e in
            XCTAssertEqual(e as? RunError, .budgetExceeded(budget: 20_000, at: (e as? RunError).map { if case let .budgetExceeded(_, t) = $0 { return t }; return .zero }!))
        }
    }
}
