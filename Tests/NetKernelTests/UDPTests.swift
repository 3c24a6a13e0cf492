// UDP sockets against what Linux 6.18 did in the same lab. Every expected value below was
// observed on Linux 6.18 (6.18.44-fc-v595) with Python sockets inside network namespaces
// tu_a (10.0.1.2/24, default via 10.0.1.1) -- tu_r (10.0.1.1/24 on ra, 10.0.2.1/24 on rb,
// ip_forward 1) -- tu_b (10.0.2.2/24, default via 10.0.2.1), IPv6 off, captures taken with
// `tcpdump -w`. RoutedLab below builds the same lab through the kernel's own requests.

import XCTest
import SimCore
import Wire
@testable import NetKernel

/// The routed lab of the real-kernel checks.
final class RoutedLab {
    let kernel: Kernel
    let machine: Machine
    let a: NetNamespace, r: NetNamespace, b: NetNamespace
    /// Frames seen on a's eth0, r's rb and b's eth0.
    let onA = FrameLog(), onRB = FrameLog(), onB = FrameLog()

    init(seed: UInt64 = 11) throws {
        kernel = Kernel(clock: EventQueue(), seed: seed)
        machine = kernel.addMachine("host")
        a = try machine.addNamespace("tu_a")
        r = try machine.addNamespace("tu_r")
        b = try machine.addNamespace("tu_b")
        try link(a, "eth0", r, "ra")
        try link(b, "eth0", r, "rb")
        try address(a, "eth0", "10.0.1.2/24")
        try address(b, "eth0", "10.0.2.2/24")
        try address(r, "ra", "10.0.1.1/24")
        try address(r, "rb", "10.0.2.1/24")
        for ns in [a, r, b] { ns.setUp(ns.loopback, true) }
        try route(a, "0.0.0.0/0", via: "10.0.1.1")
        try route(b, "0.0.0.0/0", via: "10.0.2.1")
        try r.sysctlWrite("net.ipv4.ip_forward", "1")
        tap(a.device(named: "eth0")!, onA)
        tap(r.device(named: "rb")!, onRB)
        tap(b.device(named: "eth0")!, onB)
    }

    func link(_ n1: NetNamespace, _ d1: String, _ n2: NetNamespace, _ d2: String) throws {
        try n1.apply(.linkAdd(name: d1, kind: .veth(peerName: d2, peerNamespace: n2, peerAddress: nil), address: nil, mtu: nil))
        n1.setUp(n1.device(named: d1)!, true)
        n2.setUp(n2.device(named: d2)!, true)
    }

    func address(_ ns: NetNamespace, _ dev: String, _ prefix: String) throws {
        try ns.apply(.addressAdd(ns.device(named: dev)!, IPv4Prefix(prefix)!, broadcast: nil, scope: nil, label: nil))
    }

    func route(_ ns: NetNamespace, _ dst: String, via gw: String? = nil, type: RouteType = .unicast) throws {
        var rt = Route(destination: IPv4Prefix(dst)!, device: nil)
        rt.type = type
        rt.gateway = gw.flatMap { IPv4Address($0) }
        if type != .unicast { rt.scope = .universe }
        try ns.addRoute(rt)
    }

    func tap(_ dev: NetDevice, _ log: FrameLog) {
        dev.addTap(PacketTap(promiscuous: true) { t, bytes, _ in log.frames.append((t, bytes)) })
    }

    func run(for d: SimTime) throws { try kernel.clock.run(until: kernel.clock.now + d) }

    var now: SimTime { kernel.clock.now }
}

extension FrameLog {
    /// IPv4 packets (offset 14 on) of the frames seen.
    var ip: [[UInt8]] {
        frames.compactMap { EthernetView.etherType($0.1) == .ipv4 ? Array($0.1[14...]) : nil }
    }

    var udp: [[UInt8]] { ip.filter { IPv4View.proto($0, at: 0) == .udp } }

    /// ICMP messages of the given type and code.
    func icmp(type: UInt8, code: UInt8) -> [[UInt8]] {
        ip.filter { IPv4View.proto($0, at: 0) == .icmp && $0[20] == type && $0[21] == code }
    }
}

final class UDPSocketTests: XCTestCase {
    let a1 = IPv4Address(10, 0, 1, 2), b2 = IPv4Address(10, 0, 2, 2)

    func errno(_ body: () throws -> Void) -> Errno? {
        do { try body(); return nil } catch let e as KernelError { return e.errno } catch { return nil }
    }

    // MARK: - bind

    /// Observed (python in tu_a, one socket each unless said):
    ///   bind 0.0.0.0:5000 ok; again EADDRINUSE; 10.0.1.2:5000 EADDRINUSE; 10.0.1.2:5001 ok;
    ///   127.0.0.1:5001 ok; 0.0.0.0:5001 EADDRINUSE; 10.9.9.9:5002 EADDRNOTAVAIL;
    ///   10.0.1.255:5003 (broadcast) ok; 224.0.0.5:5004 ok; a second bind of one socket EINVAL;
    ///   SO_REUSEADDR on both ok, on the newcomer only EADDRINUSE.
    func testBindErrorsAreLinuxs() throws {
        let lab = try RoutedLab()
        let a = lab.a
        func bind(_ addr: String, _ port: UInt16, reuse: Bool = false) -> Errno? {
            let s = a.openUDPSocket()
            s.reuseAddress = reuse
            return errno { try s.bind(address: IPv4Address(addr)!, port: port) }
        }
        XCTAssertNil(bind("0.0.0.0", 5000))
        XCTAssertEqual(bind("0.0.0.0", 5000), .EADDRINUSE)
        XCTAssertEqual(bind("10.0.1.2", 5000), .EADDRINUSE)
        XCTAssertNil(bind("10.0.1.2", 5001))
        XCTAssertNil(bind("127.0.0.1", 5001))
        XCTAssertEqual(bind("0.0.0.0", 5001), .EADDRINUSE)
        XCTAssertEqual(bind("10.9.9.9", 5002), .EADDRNOTAVAIL)
        XCTAssertNil(bind("10.0.1.255", 5003))
        XCTAssertNil(bind("224.0.0.5", 5004))
        let s = a.openUDPSocket()
        try s.bind(address: .any, port: 5005)
        XCTAssertEqual(errno { try s.bind(address: .any, port: 5006) }, .EINVAL)
        XCTAssertNil(bind("0.0.0.0", 5007, reuse: true))
        XCTAssertNil(bind("0.0.0.0", 5007, reuse: true))
        XCTAssertEqual(bind("0.0.0.0", 5007, reuse: false), .EADDRINUSE)
        // A closed socket frees its port.
        let c = a.openUDPSocket()
        try c.bind(address: .any, port: 5008)
        c.close()
        XCTAssertNil(bind("0.0.0.0", 5008))
    }

    /// Observed: a socket bound to 0.0.0.0:5010 then connected to 10.0.2.2:53 reports
    /// ('10.0.1.2', 5010): connect() gave it the route's source, so afterwards binding
    /// 0.0.0.0:5010 and 10.0.1.2:5010 fail with EADDRINUSE but 127.0.0.1:5010 succeeds.
    func testConnectBindsTheSourceAddress() throws {
        let lab = try RoutedLab()
        let c = lab.a.openUDPSocket()
        try c.bind(address: .any, port: 5010)
        try c.connect(to: b2, port: 53)
        XCTAssertEqual(c.localAddress, a1)
        XCTAssertEqual(c.localPort, 5010)
        for (addr, expected) in [("0.0.0.0", Errno.EADDRINUSE), ("10.0.1.2", .EADDRINUSE)] {
            let s = lab.a.openUDPSocket()
            XCTAssertEqual(errno { try s.bind(address: IPv4Address(addr)!, port: 5010) }, expected, addr)
        }
        XCTAssertNil(errno { try lab.a.openUDPSocket().bind(address: IPv4Address(127, 0, 0, 1), port: 5010) })
        // An unbound socket is bound by connect(): ('10.0.1.2', 41659) on Linux.
        let u = lab.a.openUDPSocket()
        try u.connect(to: b2, port: 53)
        XCTAssertEqual(u.localAddress, a1)
        XCTAssertTrue((32768...60999).contains(u.localPort))
    }

    /// Port 0: udp_lib_get_port() picks a random port of ip_local_port_range (32768-60999 on
    /// Linux: observed 60188, 55007, 41659 ...); the same seed picks the same ports.
    func testEphemeralPortsAreSeededAndInRange() throws {
        func ports(seed: UInt64) throws -> [UInt16] {
            let lab = try RoutedLab(seed: seed)
            return try (0..<50).map { _ in
                let s = lab.a.openUDPSocket()
                try s.bind()
                return s.localPort
            }
        }
        let p = try ports(seed: 3)
        XCTAssertEqual(p, try ports(seed: 3))
        XCTAssertNotEqual(p, try ports(seed: 4))
        XCTAssertEqual(Set(p).count, p.count, "every socket gets its own port")
        XCTAssertTrue(p.allSatisfy { (32768...60999).contains($0) })
        // A narrow range fills up: then EADDRINUSE, as udp_lib_get_port() fails.
        let lab = try RoutedLab()
        lab.a.ipv4.ipLocalPortRange = (40000, 40003)
        var got: [UInt16] = []
        for _ in 0..<4 {
            let s = lab.a.openUDPSocket()
            try s.bind()
            got.append(s.localPort)
        }
        XCTAssertEqual(got.sorted(), [40000, 40001, 40002, 40003])
        XCTAssertEqual(errno { try lab.a.openUDPSocket().bind() }, .EADDRINUSE)
        // An implicit bind that finds no port: EAGAIN (inet_autobind()).
        XCTAssertEqual(errno { try lab.a.openUDPSocket().connect(to: self.b2, port: 9) }, .EAGAIN)
    }

    // MARK: - connect and send errors

    /// Observed in a namespace holding only 10.5.0.1/24 and the routes `unreachable
    /// 10.6.0.0/16`, `prohibit 10.7.0.0/16`, `blackhole 10.8.0.0/16`: connect() and sendto()
    /// fail with ENETUNREACH (192.0.2.1), EHOSTUNREACH (10.6.0.1), EACCES (10.7.0.1), EINVAL
    /// (10.8.0.1); after a failed connect the socket is left bound to ('0.0.0.0', port).
    func testRouteErrors() throws {
        let lab = try RoutedLab()
        let c = try lab.machine.addNamespace("tu_c")
        c.setUp(c.loopback, true)
        try c.apply(.linkAdd(name: "d0", kind: .veth(peerName: "d1", peerNamespace: nil, peerAddress: nil), address: nil, mtu: nil))
        c.setUp(c.device(named: "d0")!, true)
        c.setUp(c.device(named: "d1")!, true)
        try c.apply(.addressAdd(c.device(named: "d0")!, IPv4Prefix("10.5.0.1/24")!, broadcast: nil, scope: nil, label: nil))
        try lab.route(c, "10.6.0.0/16", type: .unreachable)
        try lab.route(c, "10.7.0.0/16", type: .prohibit)
        try lab.route(c, "10.8.0.0/16", type: .blackhole)
        for (dst, e) in [("192.0.2.1", Errno.ENETUNREACH), ("10.6.0.1", .EHOSTUNREACH), ("10.7.0.1", .EACCES), ("10.8.0.1", .EINVAL)] {
            let s = c.openUDPSocket()
            XCTAssertEqual(errno { try s.connect(to: IPv4Address(dst)!, port: 53) }, e, dst)
            XCTAssertEqual(s.localAddress, .any)
            XCTAssertTrue((32768...60999).contains(s.localPort), "connect() bound a port first")
            XCTAssertFalse(s.isConnected)
            XCTAssertEqual(errno { try c.openUDPSocket().send([0x78], to: IPv4Address(dst)!, port: 53) }, e, dst)
        }
        XCTAssertNil(errno { try c.openUDPSocket().connect(to: IPv4Address(10, 5, 0, 9), port: 53) })
    }

    /// Observed in tu_a: connect to 10.0.1.255 and to 255.255.255.255 EACCES (no SO_BROADCAST);
    /// connect to 0.0.0.0 gives the local address 127.0.0.1; send() on an unconnected socket
    /// EDESTADDRREQ; sendto of 65508 bytes EMSGSIZE, of 65507 bytes accepted.
    func testBroadcastPermissionAndSizes() throws {
        let lab = try RoutedLab()
        let a = lab.a
        XCTAssertEqual(errno { try a.openUDPSocket().connect(to: IPv4Address(10, 0, 1, 255), port: 53) }, .EACCES)
        XCTAssertEqual(errno { try a.openUDPSocket().connect(to: .broadcast, port: 53) }, .EACCES)
        XCTAssertEqual(errno { try a.openUDPSocket().send([1], to: IPv4Address(10, 0, 1, 255), port: 53) }, .EACCES)
        let z = a.openUDPSocket()
        try z.connect(to: .any, port: 53)
        XCTAssertEqual(z.localAddress, IPv4Address(127, 0, 0, 1))
        XCTAssertEqual(errno { try a.openUDPSocket().send([1]) }, .EDESTADDRREQ)
        XCTAssertEqual(errno { try a.openUDPSocket().send([UInt8](repeating: 0x78, count: 65508), to: self.b2, port: 53) }, .EMSGSIZE)
        XCTAssertNil(errno { try a.openUDPSocket().send([UInt8](repeating: 0x78, count: 65507), to: self.b2, port: 53) })
        XCTAssertEqual(errno { try a.openUDPSocket().send([1], to: self.b2, port: 0) }, .EINVAL)
    }

    // MARK: - errors from ICMP

    /// Observed: a connected socket's send() to a closed port succeeds; the port unreachable
    /// makes the next send() fail with ECONNREFUSED (nothing is sent), the one after succeeds;
    /// a recv() after another unreachable fails with ECONNREFUSED once, then EAGAIN; SO_ERROR
    /// is then 0.
    func testConnectedSocketLearnsECONNREFUSEDOnce() throws {
        let lab = try RoutedLab()
        let s = lab.a.openUDPSocket()
        var reports: [Errno] = []
        s.onErrorReport = { reports.append($0) }
        try s.connect(to: b2, port: 9999)
        XCTAssertEqual(try s.send([0x61]), 1)
        try lab.run(for: .milliseconds(200))
        XCTAssertEqual(reports, [.ECONNREFUSED])
        XCTAssertEqual(errno { try s.send([0x62]) }, .ECONNREFUSED)
        XCTAssertEqual(lab.onB.udp.count, 1, "the refused send sent nothing")
        XCTAssertEqual(try s.send([0x63]), 1)
        try lab.run(for: .milliseconds(200))
        XCTAssertEqual(errno { _ = try s.receive() }, .ECONNREFUSED)
        XCTAssertNil(try s.receive())
        XCTAssertNil(s.takeError())
        XCTAssertEqual(lab.onA.icmp(type: 3, code: 3).count, 2)
    }

    /// Observed: an unconnected socket without IP_RECVERR never hears of the port unreachable
    /// (sendto keeps succeeding, SO_ERROR 0).
    func testUnconnectedSocketIgnoresErrors() throws {
        let lab = try RoutedLab()
        let s = lab.a.openUDPSocket()
        try s.send([0x61], to: b2, port: 9999)
        try lab.run(for: .milliseconds(200))
        XCTAssertEqual(lab.onA.icmp(type: 3, code: 3).count, 1)
        XCTAssertNil(s.pendingError)
        XCTAssertNoThrow(try s.send([0x62], to: b2, port: 9999))
    }

    /// Observed with IP_RECVERR on an unconnected socket: the next sendto fails with
    /// ECONNREFUSED; recvmsg(MSG_ERRQUEUE) returns the payload 'a' with ee_errno 111,
    /// origin ICMP, type 3, code 3, offender 10.0.2.2; then the queue is empty (EAGAIN), SO_ERROR 0.
    func testRecvErrQueuesTheError() throws {
        let lab = try RoutedLab()
        let s = lab.a.openUDPSocket()
        s.recvErr = true
        try s.send([0x61], to: b2, port: 9999)
        try lab.run(for: .milliseconds(200))
        XCTAssertEqual(errno { try s.send([0x62], to: self.b2, port: 9999) }, .ECONNREFUSED)
        // The failed send consumed sk_err, but the entry stays queued.
        let e = try XCTUnwrap(s.readErrorQueue())
        XCTAssertEqual(e.offender, b2)
        XCTAssertEqual(e.type, 3)
        XCTAssertEqual(e.code, 3)
        XCTAssertEqual(e.originalProto, .udp)
        XCTAssertEqual(Array(e.original[8...]), [0x61])
        XCTAssertEqual(e.originalDestination, b2)
        XCTAssertEqual(s.lastTTL, nil)
        XCTAssertNil(s.readErrorQueue())
        XCTAssertNil(s.takeError())
        XCTAssertNoThrow(try s.send([0x63], to: b2, port: 9999))
    }

    /// With IP_RECVERR and an onError reader (traceroute's way), time exceeded reaches the
    /// socket too, with the router as offender and the error's own TTL (IP_RECVTTL: 64).
    func testTimeExceededReachesARecvErrSocket() throws {
        let lab = try RoutedLab()
        let s = lab.a.openUDPSocket()
        s.recvErr = true
        s.ttl = 1
        var got: [SocketError] = []
        s.onError = { got.append($0) }
        try s.connect(to: b2, port: 33434)
        try s.send([UInt8](repeating: 0x40, count: 32))
        try lab.run(for: .milliseconds(10))
        XCTAssertEqual(got.count, 1)
        XCTAssertEqual(got.first?.offender, IPv4Address(10, 0, 1, 1))
        XCTAssertEqual(got.first?.type, 11)
        XCTAssertEqual(s.lastTTL, 64)
        XCTAssertNil(s.pendingError, "reading the queue resets sk_err")
    }

    // MARK: - IP header of datagrams sent

    /// Observed on tu_a's eth0 (python, in one burst):
    ///   unconnected, default PMTU "want": DF, ids 28426, 28427, 28428 (the hashed counter);
    ///   connected: DF, ids 61740, 61741, 61742 (the socket's own counter);
    ///   unconnected IP_PMTUDISC_DONT: no DF, ids 28429, 28430 (the same hashed counter);
    ///   unconnected IP_PMTUDISC_DO: DF, id 0 and 0;
    ///   connected IP_PMTUDISC_DONT: no DF, ids 33440, 33441.
    func testIPIdentAndDontFragment() throws {
        let lab = try RoutedLab()
        let a = lab.a
        // Resolve the router first so that the burst goes out in one jiffy.
        try a.openUDPSocket().send([0], to: b2, port: 40009)
        try lab.run(for: .milliseconds(10))
        let before = lab.onA.udp.count

        let u = a.openUDPSocket()
        for _ in 0..<3 { try u.send([0x78], to: b2, port: 40000) }
        let c = a.openUDPSocket()
        try c.connect(to: b2, port: 40001)
        for _ in 0..<3 { try c.send([0x79]) }
        let d = a.openUDPSocket()
        d.pmtuDiscovery = .dont
        for _ in 0..<2 { try d.send([0x7a], to: b2, port: 40002) }
        let e = a.openUDPSocket()
        e.pmtuDiscovery = .do
        for _ in 0..<2 { try e.send([0x77], to: b2, port: 40003) }
        let f = a.openUDPSocket()
        f.pmtuDiscovery = .dont
        try f.connect(to: b2, port: 40004)
        for _ in 0..<2 { try f.send([0x76]) }
        try lab.run(for: .milliseconds(1))

        let sent = Array(lab.onA.udp[before...]).map { try! IPv4Header.parse($0).header }
        XCTAssertEqual(sent.count, 12)
        let df = sent.map(\.dontFragment)
        XCTAssertEqual(df, [true, true, true, true, true, true, false, false, true, true, false, false])
        let id = sent.map(\.identification)
        // The hashed counter runs on across sockets for the same (source, destination).
        XCTAssertEqual([id[1] &- id[0], id[2] &- id[1], id[6] &- id[2], id[7] &- id[6]], [1, 1, 1, 1])
        XCTAssertEqual([id[4] &- id[3], id[5] &- id[4]], [1, 1])
        XCTAssertEqual([id[8], id[9]], [0, 0])
        XCTAssertEqual(id[11] &- id[10], 1)
        XCTAssertTrue(sent.allSatisfy { $0.ttl == 64 && $0.tos == 0 })
    }

    // MARK: - lookup and delivery

    /// Observed with four sockets on tu_b port 6000 (all SO_REUSEADDR): s1 0.0.0.0, s2
    /// 10.0.2.2, s3 0.0.0.0 connected to 10.0.1.2:7000, s4 0.0.0.0 (newest). From port 7000 the
    /// datagram went to s3 (connect() bound it to 10.0.2.2, and a connected socket scores
    /// higher), from 7001 to s2 (the exact address beats the wildcards); with s2 closed, 7000
    /// still went to s3 and 7001 to s4 (the newest of equal wildcard sockets).
    func testLookupOrder() throws {
        let lab = try RoutedLab()
        var got: [String] = []
        func sock(_ name: String, _ addr: IPv4Address, connect: (IPv4Address, UInt16)? = nil) throws -> UDPSocket {
            let s = lab.b.openUDPSocket()
            s.reuseAddress = true
            try s.bind(address: addr, port: 6000)
            if let c = connect { try s.connect(to: c.0, port: c.1) }
            s.onReceive = { data, _, port in got.append("\(name) <- \(port) \(String(decoding: data, as: UTF8.self))") }
            return s
        }
        _ = try sock("s1", .any)
        let s2 = try sock("s2", b2)
        _ = try sock("s3", .any, connect: (a1, 7000))
        _ = try sock("s4", .any)
        func send(_ sport: UInt16, _ text: String) throws {
            let c = lab.a.openUDPSocket()
            c.reuseAddress = true
            try c.bind(address: .any, port: sport)
            try c.send(Array(text.utf8), to: b2, port: 6000)
            c.close()
            try lab.run(for: .milliseconds(300))
        }
        try send(7000, "from7000")
        try send(7001, "from7001")
        s2.close()
        try send(7000, "again")
        try send(7001, "again")
        XCTAssertEqual(got, ["s3 <- 7000 from7000", "s2 <- 7001 from7001", "s3 <- 7000 again", "s4 <- 7001 again"])
    }

    /// Without onReceive, datagrams wait in the queue with their sender and TTL.
    func testReceiveQueue() throws {
        let lab = try RoutedLab()
        let s = lab.b.openUDPSocket()
        try s.bind(address: .any, port: 8000)
        let c = lab.a.openUDPSocket()
        try c.send(Array("one".utf8), to: b2, port: 8000)
        try c.send(Array("two".utf8), to: b2, port: 8000)
        try lab.run(for: .milliseconds(10))
        let first = try XCTUnwrap(try s.receive())
        XCTAssertEqual(first.data, Array("one".utf8))
        XCTAssertEqual(first.from, a1)
        XCTAssertEqual(first.port, c.localPort)
        XCTAssertEqual(first.ttl, 63)
        XCTAssertEqual(try s.receive()?.data, Array("two".utf8))
        XCTAssertNil(try s.receive())
        XCTAssertTrue(lab.onB.icmp(type: 3, code: 3).isEmpty)
    }

    /// Observed (python raw socket in tu_a sending hand-made datagrams to tu_b): a wrong
    /// checksum is dropped silently, to an open port (not delivered) and to a closed one (no
    /// ICMP); checksum 0 is accepted (delivered, or port unreachable); the correct one too.
    func testChecksumIsVerifiedBeforeDeliveryAndBeforePortUnreachable() throws {
        let lab = try RoutedLab()
        var delivered: [String] = []
        let server = lab.b.openUDPSocket()
        try server.bind(address: .any, port: 8000)
        server.onReceive = { d, _, _ in delivered.append(String(decoding: d, as: UTF8.self)) }
        let raw = lab.a.openRawSocket(proto: .udp)
        func datagram(_ port: UInt16, _ text: String, _ mode: String) -> [UInt8] {
            var d = UDPDatagram(sourcePort: 40000, destinationPort: port, payload: Array(text.utf8)).bytes(source: a1, destination: b2)
            if mode == "bad" { d.setU16(d.u16(at: 6) ^ 0x1234, at: 6) }
            if mode == "zero" { d.setU16(0, at: 6) }
            return d
        }
        for (mode, port) in [("bad", UInt16(9999)), ("zero", 9998), ("good", 9997), ("bad", 8000), ("zero", 8000), ("good", 8000)] {
            try raw.send(to: b2, payload: datagram(port, mode, mode))
            try lab.run(for: .milliseconds(50))
        }
        XCTAssertEqual(delivered, ["zero", "good"])
        let unreachable = lab.onB.icmp(type: 3, code: 3).map { UDPView.destinationPort($0, at: 48) }
        XCTAssertEqual(unreachable, [9998, 9997])
    }

    /// Observed: a raw IPPROTO_UDP socket on tu_b gets a copy of a datagram to a closed port
    /// and the port unreachable is still sent.
    func testRawSocketDoesNotSilenceThePortUnreachable() throws {
        let lab = try RoutedLab()
        let raw = lab.b.openRawSocket(proto: .udp)
        var copies = 0
        raw.onReceive = { _ in copies += 1 }
        try lab.a.openUDPSocket().send(Array("x\n".utf8), to: b2, port: 4444)
        try lab.run(for: .milliseconds(10))
        XCTAssertEqual(copies, 1)
        XCTAssertEqual(lab.onB.icmp(type: 3, code: 3).count, 1)
    }

    /// Observed (tu_r sending with SO_BROADCAST to 10.0.1.255): to a closed port nothing comes
    /// back; to port 9999 the socket of tu_a bound to 0.0.0.0:9999 gets it; to 255.255.255.255
    /// tu_r, which has no default route, gets ENETUNREACH.
    func testBroadcastDelivery() throws {
        let lab = try RoutedLab()
        var got: [String] = []
        let s = lab.a.openUDPSocket()
        try s.bind(address: .any, port: 9999)
        s.onReceive = { d, from, _ in got.append("\(String(decoding: d, as: UTF8.self)) from \(from)") }
        let sender = lab.r.openUDPSocket()
        sender.broadcast = true
        try sender.send(Array("bcast-closed".utf8), to: IPv4Address(10, 0, 1, 255), port: 9998)
        try sender.send(Array("bcast-open".utf8), to: IPv4Address(10, 0, 1, 255), port: 9999)
        XCTAssertEqual(errno { try sender.send(Array("lbcast".utf8), to: .broadcast, port: 9999) }, .ENETUNREACH)
        try lab.run(for: .milliseconds(10))
        XCTAssertEqual(got, ["bcast-open from 10.0.1.1"])
        let frames = lab.onA.frames.filter { EthernetView.etherType($0.1) == .ipv4 }
        XCTAssertEqual(frames.count, 2, "two broadcasts, no ICMP")
        XCTAssertTrue(frames.allSatisfy { MACAddress(bytes: $0.1, at: 0) == .broadcast })
    }

    /// Datagrams to our own address go through lo and are delivered.
    func testLoopbackDelivery() throws {
        let lab = try RoutedLab()
        let s = lab.a.openUDPSocket()
        try s.bind(address: IPv4Address(127, 0, 0, 1), port: 7)
        var got: [UInt8] = []
        s.onReceive = { d, from, _ in got = d; XCTAssertEqual(from, IPv4Address(127, 0, 0, 1)) }
        let c = lab.a.openUDPSocket()
        try c.connect(to: IPv4Address(127, 0, 0, 1), port: 7)
        try c.send([1, 2, 3])
        try lab.run(for: .milliseconds(1))
        XCTAssertEqual(got, [1, 2, 3])
        XCTAssertEqual(c.localAddress, IPv4Address(127, 0, 0, 1))
    }

    func testUDPSocketsListAndClose() throws {
        let lab = try RoutedLab()
        let s1 = lab.a.openUDPSocket(), s2 = lab.a.openUDPSocket()
        XCTAssertTrue(lab.a.udpSockets.map(ObjectIdentifier.init) == [ObjectIdentifier(s1), ObjectIdentifier(s2)])
        s1.close()
        XCTAssertEqual(errno { try s1.send([1], to: self.b2, port: 9) }, .EBADF)
        XCTAssertEqual(lab.a.udpSockets.count, 1)
    }
}

extension UDPSocketTests {
    /// A datagram a netfilter hook drops on the way out fails the send with EPERM, and nothing
    /// leaves (observed on Linux 6.18: sendto() of a UDP socket and a raw ICMP socket under
    /// `iptables -A OUTPUT -j DROP` returned EPERM).
    func testOutputDropFailsTheSendWithEPERM() throws {
        let lab = try RoutedLab()
        lab.a.registerHook(NFHookOps(hook: .localOut, priority: 0, name: "filter") { _, _ in .drop("test") })
        let s = lab.a.openUDPSocket()
        XCTAssertThrowsError(try s.send(Array("hi".utf8), to: IPv4Address(10, 0, 2, 2), port: 5000)) { e in
            XCTAssertEqual((e as? KernelError)?.errno, .EPERM)
        }
        let raw = lab.a.openRawSocket(proto: .icmp)
        XCTAssertThrowsError(try raw.send(to: IPv4Address(10, 0, 2, 2), payload: ICMPv4Packet.echo(request: true, identifier: 1, sequence: 1, payload: []).bytes)) { e in
            XCTAssertEqual((e as? KernelError)?.errno, .EPERM)
        }
        try lab.kernel.clock.run(until: lab.kernel.clock.now + .seconds(1))
        XCTAssertTrue(lab.onA.frames.isEmpty)
    }
}
