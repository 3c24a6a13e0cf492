// VXLANTests: the vxlan device through the kernel's request interface: configuration and
// MTU, encapsulation as bytes, decapsulation and learning, ageing, static entries, the FDB
// request rules, the shared socket, proxy ARP, and a device moved out of its namespace.
//
// Observed on Linux 6.18 (6.18.44) in namespaces joined by a veth pair or a bridge: the outer
// packet of `ping` over `vxlan0` (id 42 dstport 4789 remote ... dev eth0) has TTL 64, no DF, a
// UDP checksum, the IANA port, the VXLAN flags 0x08; the same inner flow uses one source port
// both ways on one kernel, and all ARP frames share one; the MTU is 1450 over a 1500 device
// (an explicit larger one is cut to it), 1500 without `dev`; `ip link set vxlan0 mtu 1451`
// answers EINVAL; learned entries are "self" without a state word and go after 300 s.

import XCTest
import SimCore
import Wire
@testable import NetKernel

/// Two machines on one LAN segment (192.168.1.11 and .12 on eth0), each with vxlan0.
struct VXLANLab {
    let kernel: Kernel
    let a: Machine, b: Machine
    var nsA: NetNamespace { a.root }
    var nsB: NetNamespace { b.root }
    let vxA: VXLANDevice, vxB: VXLANDevice
    static let ipA = IPv4Address(192, 168, 1, 11), ipB = IPv4Address(192, 168, 1, 12)

    init(seed: UInt64 = 5, learning: Bool = true, remote: Bool = true) throws {
        kernel = Kernel(clock: EventQueue(), seed: seed)
        a = kernel.addMachine("node1")
        b = kernel.addMachine("node2")
        let seg = kernel.addSegment("lan")
        var devs: [VXLANDevice] = []
        for (m, ip, peer, inner) in [(a, VXLANLab.ipA, VXLANLab.ipB, 1), (b, VXLANLab.ipB, VXLANLab.ipA, 2)] {
            let ns = m.root!
            let eth = try ns.addNIC(name: "eth0", segment: seg)
            try ns.apply(.addressAdd(eth, IPv4Prefix(address: ip, length: 24), broadcast: nil, scope: nil, label: nil))
            ns.setUp(eth, true)
            ns.setUp(ns.loopback, true)
            var cfg = VXLANConfig(vni: 42, dstPort: 4789, remote: remote ? peer : nil, lowerDevice: eth, learning: learning)
            cfg.ageing = 0
            try ns.apply(.linkAdd(name: "vxlan0", kind: .vxlan(cfg), address: nil, mtu: nil))
            let vx = ns.device(named: "vxlan0") as! VXLANDevice
            try ns.apply(.addressAdd(vx, IPv4Prefix(address: IPv4Address(10, 10, 0, UInt8(inner)), length: 24),
                                     broadcast: nil, scope: nil, label: nil))
            var up = LinkChange()
            up.up = true
            try ns.apply(.linkSet(vx, up))
            devs.append(vx)
        }
        vxA = devs[0]
        vxB = devs[1]
    }

    func ping(from ns: NetNamespace, to dst: IPv4Address, seq: UInt16 = 1) throws {
        let s = ns.openRawSocket(proto: .icmp)
        try s.send(to: dst, payload: ICMPv4Packet.echo(request: true, identifier: 7, sequence: seq, payload: Array(repeating: 0, count: 56)).bytes)
        s.close()
    }

    func run(for d: SimTime) throws { try kernel.clock.run(until: kernel.clock.now + d) }

    func tap(_ dev: NetDevice) -> FrameLog {
        let log = FrameLog()
        dev.addTap(PacketTap(promiscuous: false) { t, bytes, _ in log.frames.append((t, bytes)) })
        return log
    }
}

final class VXLANDeviceTests: XCTestCase {
    // MARK: - Configuration

    func testMTUFollowsTheLowerDevice() throws {
        let k = Kernel(clock: EventQueue(), seed: 1)
        let ns = k.addMachine("h").root!
        let seg = k.addSegment("lan")
        let eth = try ns.addNIC(name: "eth0", segment: seg)
        try ns.apply(.linkAdd(name: "v1", kind: .vxlan(VXLANConfig(vni: 1, lowerDevice: eth)), address: nil, mtu: nil))
        XCTAssertEqual(ns.device(named: "v1")?.mtu, 1450)
        // No lower device: ether_setup()'s 1500.
        try ns.apply(.linkAdd(name: "v2", kind: .vxlan(VXLANConfig(vni: 2)), address: nil, mtu: nil))
        XCTAssertEqual(ns.device(named: "v2")?.mtu, 1500)
        // An explicit MTU above the lower device's limit is cut to it.
        try ns.apply(.linkAdd(name: "v3", kind: .vxlan(VXLANConfig(vni: 3, lowerDevice: eth)), address: nil, mtu: 1500))
        XCTAssertEqual(ns.device(named: "v3")?.mtu, 1450)
        let v3 = ns.device(named: "v3")!
        var c = LinkChange()
        c.mtu = 1451
        XCTAssertThrowsError(try ns.apply(.linkSet(v3, c))) { XCTAssertEqual($0 as? KernelError, KernelError(.EINVAL)) }
        c.mtu = 1400
        try ns.apply(.linkSet(v3, c))
        XCTAssertEqual(v3.mtu, 1400)
        // Defaults the kernel fills in, and the all-zeros entry only with a remote.
        let v1 = ns.device(named: "v1") as! VXLANDevice
        XCTAssertEqual(v1.dstPort, 8472)
        XCTAssertEqual(v1.config.ageing, 300)
        XCTAssertEqual(v1.fdb.count, 0)
        XCTAssertEqual(v1.addrAssignType, .random)
        XCTAssertTrue(v1.carrier)
    }

    func testCreationErrors() throws {
        let k = Kernel(clock: EventQueue(), seed: 1)
        let ns = k.addMachine("h").root!
        try ns.apply(.linkAdd(name: "v1", kind: .vxlan(VXLANConfig(vni: 7, dstPort: 4789)), address: nil, mtu: nil))
        func fails(_ cfg: VXLANConfig, mtu: Int? = nil, _ expected: KernelError) {
            XCTAssertThrowsError(try ns.apply(.linkAdd(name: "v9", kind: .vxlan(cfg), address: nil, mtu: mtu))) {
                XCTAssertEqual($0 as? KernelError, expected)
            }
            XCTAssertNil(ns.device(named: "v9"), "a failed creation changes nothing")
        }
        fails(VXLANConfig(vni: 7, dstPort: 4789), KernelError(.EEXIST, "A VXLAN device with the specified VNI already exists"))
        fails(VXLANConfig(vni: 1 << 24), KernelError(.ERANGE, "VXLAN ID must be lower than 16777216"))
        fails(VXLANConfig(vni: 8, remote: IPv4Address(239, 1, 1, 1)),
              KernelError(.EINVAL, "Local interface required for multicast remote destination"))
        fails(VXLANConfig(vni: 8), mtu: 65536, KernelError(.EINVAL, "MTU must be between 68 and 65535"))
        var range = VXLANConfig(vni: 8)
        range.sourcePortLow = 100
        range.sourcePortHigh = 50
        fails(range, KernelError(.EINVAL, "Invalid source port range"))
        // The same VNI on another port is another device.
        try ns.apply(.linkAdd(name: "v2", kind: .vxlan(VXLANConfig(vni: 7, dstPort: 8472)), address: nil, mtu: nil))
    }

    func testAPortHeldByAnotherSocketKeepsTheDeviceDown() throws {
        let k = Kernel(clock: EventQueue(), seed: 1)
        let ns = k.addMachine("h").root!
        let s = ns.openUDPSocket()
        try s.bind(port: 4789)
        try ns.apply(.linkAdd(name: "v1", kind: .vxlan(VXLANConfig(vni: 7, dstPort: 4789)), address: nil, mtu: nil))
        let v = ns.device(named: "v1")!
        var up = LinkChange()
        up.up = true
        XCTAssertThrowsError(try ns.apply(.linkSet(v, up))) { XCTAssertEqual($0 as? KernelError, KernelError(.EADDRINUSE)) }
        XCTAssertFalse(v.adminUp)
        s.close()
        try ns.apply(.linkSet(v, up))
        XCTAssertTrue(v.adminUp)
        // Two devices on one port share the socket; it goes with the last one.
        try ns.apply(.linkAdd(name: "v2", kind: .vxlan(VXLANConfig(vni: 8, dstPort: 4789)), address: nil, mtu: nil))
        let v2 = ns.device(named: "v2")!
        try ns.apply(.linkSet(v2, up))
        XCTAssertEqual(ns.udpSockets.filter { $0.localPort == 4789 }.count, 1)
        var down = LinkChange()
        down.up = false
        try ns.apply(.linkSet(v, down))
        XCTAssertEqual(ns.udpSockets.filter { $0.localPort == 4789 }.count, 1)
        try ns.apply(.linkSet(v2, down))
        XCTAssertEqual(ns.udpSockets.filter { $0.localPort == 4789 }.count, 0)
        // Deleting a device that is up releases its share of the socket too.
        try ns.apply(.linkSet(v2, up))
        try ns.apply(.linkDelete(v2))
        XCTAssertEqual(ns.udpSockets.filter { $0.localPort == 4789 }.count, 0)
    }

    // MARK: - Encapsulation as bytes

    func testEncapsulatedFrameBytes() throws {
        let lab = try VXLANLab()
        let outer = lab.tap(lab.nsA.device(named: "eth0")!)
        let inner = lab.tap(lab.vxA)
        try lab.ping(from: lab.nsA, to: IPv4Address(10, 10, 0, 2))
        try lab.run(for: .milliseconds(10))
        // On vxlan0: the ARP request, the reply, the echo request, the echo reply.
        XCTAssertEqual(inner.frames.count, 4)
        let vxlanFrames = outer.frames.map(\.1).filter { EthernetView.etherType($0) == .ipv4 }
        XCTAssertEqual(vxlanFrames.count, 4)
        let f = vxlanFrames[0]
        let request = inner.frames[0].1
        // Outer Ethernet to node2's NIC.
        XCTAssertEqual(EthernetView.destination(f), lab.nsB.device(named: "eth0")!.mac)
        XCTAssertEqual(EthernetView.source(f), lab.nsA.device(named: "eth0")!.mac)
        // Outer IPv4: TTL 64, no DF, UDP, 20 + 8 + 8 + inner bytes.
        let (ip, ok) = try IPv4Header.parse(f, at: 14)
        XCTAssertTrue(ok)
        XCTAssertEqual(ip.ttl, 64)
        XCTAssertFalse(ip.dontFragment)
        XCTAssertEqual(ip.proto, .udp)
        XCTAssertEqual(ip.source, VXLANLab.ipA)
        XCTAssertEqual(ip.destination, VXLANLab.ipB)
        XCTAssertEqual(Int(ip.totalLength), 20 + 8 + 8 + request.count)
        // Outer UDP: the hashed source port in 32768-60999, the IANA port, a full checksum (a
        // NIC without offload computes it in software before the taps see it).
        let udp = try UDPHeader.parse(f, at: 34)
        XCTAssertEqual(udp.destinationPort, 4789)
        XCTAssertTrue((32768..<60999).contains(udp.sourcePort))
        XCTAssertEqual(udp.sourcePort, lab.vxA.flowKey.sourcePort(frame: request, min: 32768, max: 60999))
        XCTAssertEqual(Int(udp.length), 8 + 8 + request.count)
        XCTAssertEqual(UDPView.verifyChecksum(f, at: 34, length: Int(udp.length), source: ip.source, destination: ip.destination), .valid)
        // VXLAN: I flag, VNI 42, then the very frame vxlan0 saw.
        XCTAssertEqual(Array(f[42..<50]), [0x08, 0, 0, 0, 0, 0, 0x2a, 0])
        XCTAssertEqual(Array(f[50...]), request)
        // The echo request and reply travel with one port (one flow, both directions, one
        // machine's key would hash alike); all ARP frames share another.
        let echo = inner.frames[2].1
        XCTAssertEqual(lab.vxA.flowKey.hash(frame: echo), lab.vxA.flowKey.hash(frame: inner.frames[3].1))
        XCTAssertEqual(lab.vxA.flowKey.hash(frame: request), lab.vxA.flowKey.hash(frame: inner.frames[1].1))
        XCTAssertNotEqual(lab.vxA.flowKey.hash(frame: request), lab.vxA.flowKey.hash(frame: echo))
    }

    func testSipHashReferenceVector() {
        // SipHash-2-4 reference (Aumasson and Bernstein): key 00..0f, message 00..0e.
        let k0: UInt64 = 0x0706_0504_0302_0100, k1: UInt64 = 0x0f0e_0d0c_0b0a_0908
        XCTAssertEqual(FlowHashKey.siphash24(Array(0..<15), length: 15, k0: k0, k1: k1), 0xa129_ca61_49be_45e5)
        XCTAssertEqual(FlowHashKey.siphash24([], length: 0, k0: k0, k1: k1), 0x726f_db47_dd0e_0e31)
    }

    func testDFTTLAndTOSOptions() throws {
        let lab = try VXLANLab()
        var cfg = lab.vxA.config
        cfg.df = .inherit
        cfg.ttl = 10
        cfg.tos = 1
        cfg.udpChecksum = false
        cfg.vni = 43
        try lab.nsA.apply(.linkAdd(name: "vx2", kind: .vxlan(cfg), address: nil, mtu: nil))
        let vx2 = lab.nsA.device(named: "vx2") as! VXLANDevice
        let outer = lab.tap(lab.nsA.device(named: "eth0")!)
        // An inner IPv4 packet with DF and TOS 0x10.
        var frame = [UInt8](repeating: 0, count: 14 + 20)
        EthernetHeader(destination: MACAddress(raw: 0x0242_0000_0001), source: vx2.mac, etherType: .ipv4).emit(into: &frame)
        var h = IPv4Header(totalLength: 20, dontFragment: true, ttl: 33, proto: IPProtocol(rawValue: 253),
                           source: IPv4Address(10, 9, 0, 1), destination: IPv4Address(10, 9, 0, 2), tos: 0x10)
        h.emit(into: &frame, at: 14)
        vx2.startXmit(Packet(bytes: frame))
        try lab.run(for: .milliseconds(5))
        let f = outer.frames.map(\.1).first { EthernetView.etherType($0) == .ipv4 }!
        let (ip, _) = try IPv4Header.parse(f, at: 14)
        XCTAssertTrue(ip.dontFragment)
        XCTAssertEqual(ip.ttl, 10)
        XCTAssertEqual(ip.tos, 0x10)
        XCTAssertEqual(UDPView.checksum(f, at: 34), 0)
        XCTAssertEqual(VXLANView.vni(f, at: 42), 43)
    }

    // MARK: - Decapsulation, learning, ageing

    func testReceiversLearnTheInnerSourceBehindTheOuterAddress() throws {
        let lab = try VXLANLab()
        let received = lab.tap(lab.vxB)
        try lab.ping(from: lab.nsA, to: IPv4Address(10, 10, 0, 2))
        try lab.run(for: .milliseconds(10))
        XCTAssertEqual(received.frames.count, 4)
        let e = try XCTUnwrap(lab.vxB.fdb.find(lab.vxA.mac))
        XCTAssertEqual(e.remotes, [VXLANRemote(ip: VXLANLab.ipA, port: 4789, vni: 42, ifindex: 0)])
        XCTAssertEqual(e.state, .reachable)
        XCTAssertEqual(e.flags, .self)
        XCTAssertNotNil(lab.vxA.fdb.find(lab.vxB.mac))
        // Newest first: the learned entry before the default one.
        XCTAssertEqual(lab.vxB.fdb.entries.map(\.mac), [lab.vxA.mac, .zero])
        XCTAssertEqual(lab.vxA.fdb.checkInvariants(), [])
        XCTAssertEqual(lab.vxB.fdb.checkInvariants(), [])
    }

    func testLearnedEntriesAgeOutAfter300Seconds() throws {
        let lab = try VXLANLab()
        try lab.nsB.apply(.fdbAdd(lab.vxB, FDBRequest(mac: MACAddress(raw: 0x0200_0000_0099), dst: IPv4Address(192, 168, 1, 99)), mode: .add))
        try lab.ping(from: lab.nsA, to: IPv4Address(10, 10, 0, 2))
        try lab.run(for: .seconds(290))
        XCTAssertNotNil(lab.vxB.fdb.find(lab.vxA.mac))
        try lab.run(for: .seconds(20))
        XCTAssertNil(lab.vxB.fdb.find(lab.vxA.mac), "learned entries go after 300 s without traffic")
        XCTAssertNotNil(lab.vxB.fdb.find(.zero), "the default entry stays")
        XCTAssertNotNil(lab.vxB.fdb.find(MACAddress(raw: 0x0200_0000_0099)), "static entries stay")
        // Going down flushes learned entries at once.
        try lab.ping(from: lab.nsA, to: IPv4Address(10, 10, 0, 2), seq: 2)
        try lab.run(for: .milliseconds(10))
        XCTAssertNotNil(lab.vxB.fdb.find(lab.vxA.mac))
        lab.nsB.setUp(lab.vxB, false)
        XCTAssertNil(lab.vxB.fdb.find(lab.vxA.mac))
        XCTAssertEqual(lab.vxB.fdb.count, 2)
    }

    func testNoLearningKeepsTheTableStatic() throws {
        let lab = try VXLANLab(learning: false)
        try lab.ping(from: lab.nsA, to: IPv4Address(10, 10, 0, 2))
        try lab.run(for: .milliseconds(10))
        XCTAssertEqual(lab.vxB.fdb.count, 1)
        XCTAssertEqual(lab.vxA.fdb.count, 1)
    }

    func testStaticEntriesDoNotMigrate() throws {
        let lab = try VXLANLab()
        // node2 believes node1's vxlan MAC lives at .99: frames from it are dropped.
        try lab.nsB.apply(.fdbAdd(lab.vxB, FDBRequest(mac: lab.vxA.mac, dst: IPv4Address(192, 168, 1, 99)), mode: .add))
        let received = lab.tap(lab.vxB)
        try lab.ping(from: lab.nsA, to: IPv4Address(10, 10, 0, 2))
        try lab.run(for: .milliseconds(10))
        XCTAssertEqual(received.frames.count, 0)
        XCTAssertEqual(lab.vxB.fdb.find(lab.vxA.mac)?.remotes.first?.ip, IPv4Address(192, 168, 1, 99))
    }

    func testWithoutAnEntryNothingIsSent() throws {
        let lab = try VXLANLab(remote: false)
        let outer = lab.tap(lab.nsA.device(named: "eth0")!)
        try lab.ping(from: lab.nsA, to: IPv4Address(10, 10, 0, 2))
        try lab.run(for: .milliseconds(10))
        XCTAssertEqual(outer.frames.count, 0)
        XCTAssertEqual(lab.vxA.stats.txDropped, 1)
    }

    // MARK: - FDB requests

    func testFDBRequestRules() throws {
        let lab = try VXLANLab()
        let ns = lab.nsA, vx = lab.vxA
        let m = MACAddress(raw: 0x0200_0000_0005)
        let ip1 = IPv4Address(10, 9, 9, 9), ip2 = IPv4Address(10, 9, 9, 8)
        try ns.apply(.fdbAdd(vx, FDBRequest(mac: m, dst: ip1), mode: .add))
        XCTAssertThrowsError(try ns.apply(.fdbAdd(vx, FDBRequest(mac: m, dst: ip1), mode: .add))) {
            XCTAssertEqual($0 as? KernelError, KernelError(.EEXIST))
        }
        // No destination, or neither permanent nor reachable: EINVAL.
        XCTAssertThrowsError(try ns.apply(.fdbAdd(vx, FDBRequest(mac: m), mode: .replace)))
        XCTAssertThrowsError(try ns.apply(.fdbAdd(vx, FDBRequest(mac: m, dst: ip1, state: .noARP), mode: .replace)))
        // Append adds remotes to the default entry only; replace changes a unicast one.
        try ns.apply(.fdbAdd(vx, FDBRequest(mac: m, dst: ip2), mode: .append))
        XCTAssertEqual(vx.fdb.find(m)?.remotes.map(\.ip), [ip1])
        try ns.apply(.fdbAdd(vx, FDBRequest(mac: .zero, dst: ip2), mode: .append))
        XCTAssertEqual(vx.fdb.find(.zero)?.remotes.map(\.ip), [VXLANLab.ipB, ip2])
        XCTAssertThrowsError(try ns.apply(.fdbAdd(vx, FDBRequest(mac: .zero, dst: ip2), mode: .replace))) {
            XCTAssertEqual($0 as? KernelError, KernelError(.ENOTSUP, "Cannot replace non-unicast fdb entries"))
        }
        try ns.apply(.fdbAdd(vx, FDBRequest(mac: m, dst: ip2, port: 1234, vni: 77), mode: .replace))
        XCTAssertEqual(vx.fdb.find(m)?.remotes, [VXLANRemote(ip: ip2, port: 1234, vni: 77, ifindex: 0)])
        // Delete one remote of several, then an entry; an unknown address is ENOENT.
        try ns.apply(.fdbDelete(vx, FDBRequest(mac: .zero, dst: ip2)))
        XCTAssertEqual(vx.fdb.find(.zero)?.remotes.map(\.ip), [VXLANLab.ipB])
        try ns.apply(.fdbDelete(vx, FDBRequest(mac: m)))
        XCTAssertNil(vx.fdb.find(m))
        XCTAssertThrowsError(try ns.apply(.fdbDelete(vx, FDBRequest(mac: m)))) { XCTAssertEqual($0 as? KernelError, KernelError(.ENOENT)) }
        // Non-vxlan devices: loopback refuses, a NIC keeps the address on its unicast list.
        XCTAssertThrowsError(try ns.apply(.fdbAdd(ns.loopback, FDBRequest(mac: m, dst: ip1), mode: .add))) {
            XCTAssertEqual($0 as? KernelError, KernelError(.EINVAL, "FDB add only supported for Ethernet devices"))
        }
        let eth = ns.device(named: "eth0")!
        try ns.apply(.fdbAdd(eth, FDBRequest(mac: m, dst: ip1), mode: .add))
        XCTAssertEqual(eth.unicastAddresses, [m])
        XCTAssertThrowsError(try ns.apply(.fdbAdd(eth, FDBRequest(mac: m, flags: .master), mode: .add))) {
            XCTAssertEqual($0 as? KernelError, KernelError(.ENOTSUP))
        }
        XCTAssertEqual(vx.fdb.checkInvariants(), [])
    }

    func testSeveralRemotesGetOneCopyEachFirstOneLast() throws {
        let lab = try VXLANLab()
        try lab.nsA.apply(.fdbAdd(lab.vxA, FDBRequest(mac: .zero, dst: IPv4Address(192, 168, 1, 13)), mode: .append))
        try lab.nsA.apply(.fdbAdd(lab.vxA, FDBRequest(mac: .zero, dst: IPv4Address(192, 168, 1, 14)), mode: .append))
        var order: [IPv4Address] = []
        lab.nsA.device(named: "eth0")!.addTap(PacketTap(promiscuous: false) { _, b, dir in
            guard dir == .outgoing, EthernetView.etherType(b) == .arp, let arp = try? ARPPacket.parse(b, at: 14) else { return }
            order.append(arp.targetIP)
        })
        try lab.ping(from: lab.nsA, to: IPv4Address(10, 10, 0, 2))
        try lab.run(for: .milliseconds(1))
        // Each remote needs its own underlay ARP first: .13, .14, then .12 (the original).
        XCTAssertEqual(Array(order.prefix(3)), [IPv4Address(192, 168, 1, 13), IPv4Address(192, 168, 1, 14), VXLANLab.ipB])
    }

    // MARK: - Proxy ARP and a device moved into another namespace (Docker's overlay)

    func testMovedDeviceKeepsItsSocketAndRoutesInTheLinkNamespace() throws {
        let k = Kernel(clock: EventQueue(), seed: 3)
        let seg = k.addSegment("lan")
        var vx: [VXLANDevice] = []
        var overlays: [NetNamespace] = []
        for (i, m) in [k.addMachine("n1"), k.addMachine("n2")].enumerated() {
            let root = m.root!
            let eth = try root.addNIC(name: "eth0", segment: seg)
            try root.apply(.addressAdd(eth, IPv4Prefix(address: IPv4Address(192, 168, 1, UInt8(11 + i)), length: 24), broadcast: nil, scope: nil, label: nil))
            root.setUp(eth, true)
            var cfg = VXLANConfig(vni: 256, dstPort: 4789)
            cfg.proxy = true
            try root.apply(.linkAdd(name: "vx-000100", kind: .vxlan(cfg), address: nil, mtu: 1450))
            let ov = try m.addNamespace("ov")
            let dev = root.device(named: "vx-000100") as! VXLANDevice
            var move = LinkChange()
            move.namespace = ov
            move.name = "vxlan0"
            try root.apply(.linkSet(dev, move))
            try ov.apply(.addressAdd(dev, IPv4Prefix(address: IPv4Address(10, 0, 0, UInt8(2 + i)), length: 24), broadcast: nil, scope: nil, label: nil))
            var up = LinkChange()
            up.up = true
            try ov.apply(.linkSet(dev, up))
            XCTAssertTrue(dev.linkNamespace === root)
            XCTAssertTrue(dev.linkNetNamespace === root)
            XCTAssertEqual(root.udpSockets.filter { $0.localPort == 4789 }.count, 1, "the socket lives where the device was made")
            XCTAssertEqual(ov.udpSockets.count, 0)
            vx.append(dev)
            overlays.append(ov)
        }
        // Docker's control plane: the peer's IP -> MAC on vxlan0, its MAC -> the peer's host.
        for (i, ov) in overlays.enumerated() {
            let other = 1 - i
            try ov.apply(.neighbourSet(vx[i], IPv4Address(10, 0, 0, UInt8(2 + other)), lladdr: vx[other].mac, state: .permanent, mode: .add))
            try ov.apply(.fdbAdd(vx[i], FDBRequest(mac: vx[other].mac, dst: IPv4Address(192, 168, 1, UInt8(11 + other))), mode: .add))
        }
        let wire = FrameLog()
        k.machines[0].root.device(named: "eth0")!.addTap(PacketTap(promiscuous: false) { t, b, _ in wire.frames.append((t, b)) })
        let s = overlays[0].openRawSocket(proto: .icmp)
        try s.send(to: IPv4Address(10, 0, 0, 3), payload: ICMPv4Packet.echo(request: true, identifier: 1, sequence: 1, payload: []).bytes)
        try k.clock.run(until: k.clock.now + .milliseconds(10))
        // The ARP request for 10.0.0.3 was answered by vxlan0 itself (proxy): on the wire only
        // the underlay ARP and the two encapsulated echo packets.
        let vxlanOnWire = wire.frames.filter { EthernetView.etherType($0.1) == .ipv4 }.map { VXLANView.vni($0.1, at: 42) }
        XCTAssertEqual(vxlanOnWire, [256, 256])
        let innerTypes = wire.frames.filter { EthernetView.etherType($0.1) == .ipv4 }.map { EthernetView.etherType(Array($0.1[50...])) }
        XCTAssertEqual(innerTypes, [.ipv4, .ipv4])
        XCTAssertEqual(overlays[0].neighbours.lookup(IPv4Address(10, 0, 0, 3), vx[0])?.state, .permanent)
    }
}

final class FlowHashTests: XCTestCase {
    /// The word form of SipHash used per packet equals the byte form on the flow-key layout.
    func testWordFormMatchesByteForm() {
        var rng = SplitMix64(seed: 9)
        for _ in 0..<200 {
            let k0 = rng.next(), k1 = rng.next()
            let w = (0..<6).map { _ in rng.next() }
            var bytes: [UInt8] = []
            for x in w { for j in 0..<8 { bytes.append(UInt8(truncatingIfNeeded: x >> (8 * UInt64(j)))) } }
            for words in [5, 6] {
                XCTAssertEqual(FlowHashKey.siphash24(w[0], w[1], w[2], w[3], w[4], w[5], words: words, k0: k0, k1: k1),
                               FlowHashKey.siphash24(bytes, length: words * 8, k0: k0, k1: k1))
            }
        }
    }

    /// Ports and addresses swap into one order, so both directions hash alike; the ports of a
    /// fragment are not read.
    func testFlowKeysAreSymmetric() throws {
        // The machine holds its kernel unowned: keep the kernel alive for the whole test.
        let kernel = Kernel(clock: EventQueue(), seed: 1)
        defer { withExtendedLifetime(kernel) {} }
        let key = FlowHashKey(machine: kernel.addMachine("m"))
        func udp(_ s: IPv4Address, _ sp: UInt16, _ d: IPv4Address, _ dp: UInt16, frag: Bool = false) -> [UInt8] {
            var f = [UInt8](repeating: 0, count: 14 + 20 + 8)
            EthernetHeader(destination: .broadcast, source: .zero, etherType: .ipv4).emit(into: &f)
            var h = IPv4Header(totalLength: 28, proto: .udp, source: s, destination: d)
            if frag { h.flagsAndOffset = IPv4Header.flagMF }
            h.emit(into: &f, at: 14)
            f.setU16(sp, at: 34)
            f.setU16(dp, at: 36)
            return f
        }
        let a = IPv4Address(10, 0, 0, 1), b = IPv4Address(10, 0, 0, 2)
        XCTAssertEqual(key.hash(frame: udp(a, 1000, b, 2000)), key.hash(frame: udp(b, 2000, a, 1000)))
        XCTAssertNotEqual(key.hash(frame: udp(a, 1000, b, 2000)), key.hash(frame: udp(a, 1001, b, 2000)))
        XCTAssertEqual(key.hash(frame: udp(a, 1000, b, 2000, frag: true)), key.hash(frame: udp(a, 1001, b, 2000, frag: true)))
        let p = key.sourcePort(frame: udp(a, 1, b, 2), min: 32768, max: 60999)
        XCTAssertTrue((32768..<60999).contains(p))
    }
}
