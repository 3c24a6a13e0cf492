// ICMP errors: their addressing, TOS and quoting, and Linux's rate limits. The expected values
// were observed on Linux 6.18 (6.18.44-fc-v595) in the lab RoutedLab rebuilds (tu_a 10.0.1.2
// -- tu_r 10.0.1.1 | 10.0.2.1 -- tu_b 10.0.2.2), with python sockets and ping, captured with
// `tcpdump -w` and read back with `tcpdump -r -n -v`.

import XCTest
import SimCore
import Wire
@testable import NetKernel

final class ICMPErrorTests: XCTestCase {
    let a1 = IPv4Address(10, 0, 1, 2), b2 = IPv4Address(10, 0, 2, 2)
    let r1 = IPv4Address(10, 0, 1, 1), r2 = IPv4Address(10, 0, 2, 1)

    /// One UDP datagram per port from one unconnected socket of `ns`, as the python burst did.
    func burst(_ ns: NetNamespace, to dst: IPv4Address, ports: Range<Int>, ttl: UInt8? = nil) throws {
        let s = ns.openUDPSocket()
        s.ttl = ttl
        for p in ports { try s.send([0x70], to: dst, port: UInt16(p)) }
    }

    /// Resolves every neighbour on the path so that bursts are not held in ARP queues, then
    /// lets the peers' token buckets fill up.
    func warm(_ lab: RoutedLab) throws {
        try lab.a.openRawSocket(proto: .icmp).send(to: b2, payload: ICMPv4Packet.echo(request: true, identifier: 1, sequence: 1, payload: []).bytes)
        try lab.run(for: .seconds(10))
    }

    // MARK: - per-destination limit (icmpv4_xrlim_allow)

    /// Observed: 20 datagrams to closed ports of tu_b in one burst got 6 port unreachables
    /// (ports 20000-20005); 5 more 0.708 s later got none; 5 more 1.522 s after the start got
    /// one; 5 more 3.812 s after the start got two: a token a second, six at most.
    func testPortUnreachableTokenBucket() throws {
        let lab = try RoutedLab()
        try warm(lab)
        let t0 = lab.now
        var counts: [Int] = []
        var seen = 0
        for (at, n) in [(SimTime.zero, 20), (.milliseconds(708), 5), (.milliseconds(1522), 5), (.milliseconds(3812), 5)] {
            try lab.kernel.clock.run(until: t0 + at)
            try burst(lab.a, to: b2, ports: 20000..<(20000 + n))
            try lab.run(for: .milliseconds(50))
            let all = lab.onA.icmp(type: 3, code: 3)
            counts.append(all.count - seen)
            seen = all.count
        }
        XCTAssertEqual(counts, [6, 0, 1, 2])
        // The six of the first burst are about the first six datagrams.
        let ports = lab.onA.icmp(type: 3, code: 3).prefix(6).map { UDPView.destinationPort($0, at: 48) }
        XCTAssertEqual(ports, [20000, 20001, 20002, 20003, 20004, 20005])
    }

    /// Observed (`ip netns exec tu_b tcpdump -i lo`): 20 datagrams to closed ports of
    /// 127.0.0.1 and 20 to our own 10.0.1.2 got 20 + 20 port unreachables: no limit on lo.
    func testErrorsThroughLoopbackAreNotLimited() throws {
        let lab = try RoutedLab()
        let lo = FrameLog()
        lab.tap(lab.a.loopback, lo)
        try burst(lab.a, to: IPv4Address(127, 0, 0, 1), ports: 21000..<21020)
        try burst(lab.a, to: a1, ports: 22000..<22020)
        try lab.run(for: .milliseconds(10))
        let errors = lo.icmp(type: 3, code: 3)
        XCTAssertEqual(Set(errors.map { IPv4View.destination($0, at: 0) }), [IPv4Address(127, 0, 0, 1), a1])
        XCTAssertEqual(Set(errors.map { UDPView.destinationPort($0, at: 48) }).count, 40)
    }

    // MARK: - global limit (icmp_global_allow)

    /// Observed: 80 datagrams from 80 addresses of tu_a (10.0.1.100-179) to one closed port
    /// of tu_b, in one burst: 51 and 46 port unreachables in two runs 7 s apart (each error
    /// consumes 0-2 of the 50 credits at random; the per-destination buckets are all full).
    func testGlobalCreditLimitsABurstToManyDestinations() throws {
        let lab = try RoutedLab()
        let eth0 = lab.a.device(named: "eth0")!
        for i in 100..<180 {
            try lab.a.apply(.addressAdd(eth0, IPv4Prefix("10.0.1.\(i)/24")!, broadcast: nil, scope: nil, label: nil))
        }
        try warm(lab)
        func run() throws -> Int {
            let before = lab.onA.icmp(type: 3, code: 3).count
            let socks = try (100..<180).map { i -> UDPSocket in
                let s = lab.a.openUDPSocket()
                try s.bind(address: IPv4Address(10, 0, 1, UInt8(i)), port: 0)
                return s
            }
            for s in socks { try s.send([0x67], to: b2, port: 30000) }
            try lab.run(for: .milliseconds(50))
            return lab.onA.icmp(type: 3, code: 3).count - before
        }
        let first = try run()
        try lab.run(for: .seconds(7))
        let second = try run()
        for n in [first, second] { XCTAssertTrue((40...60).contains(n), "\(n) errors") }
        XCTAssertNotEqual(first, 80)
    }

    // MARK: - ip_error()

    /// Observed: traceroute's 16 probes towards a network tu_r has no route for got two
    /// "net unreachable" errors ("1  10.0.1.1  0.262 ms !N  0.220 ms !N *"); with
    /// `unreachable 10.9.9.0/24` two "host unreachable", with `prohibit 10.8.8.0/24` two
    /// "host ... unreachable - admin prohibited filter": ip_error()'s own bucket (one a second,
    /// five at most) and the per-destination one share the peer, so only two get through.
    func testRouteErrorsGetTwoMessages() throws {
        let lab = try RoutedLab()
        try lab.route(lab.r, "10.9.9.0/24", type: .unreachable)
        try lab.route(lab.r, "10.8.8.0/24", type: .prohibit)
        try warm(lab)
        for (dst, code) in [("192.0.2.1", UInt8(0)), ("10.9.9.9", 1), ("10.8.8.8", 13)] {
            try burst(lab.a, to: IPv4Address(dst)!, ports: 33434..<33450)
            try lab.run(for: .milliseconds(50))
            XCTAssertEqual(lab.onA.icmp(type: 3, code: code).count, 2, dst)
            try lab.run(for: .seconds(7))
        }
    }

    // MARK: - addressing, TOS, quoting

    /// Observed: with `ip route add 10.0.9.0/24 via 10.0.2.2` on tu_r, a `ping -t 1 -I 10.0.9.1`
    /// from tu_a made tu_r send time exceeded out of rb from 10.0.2.1 (the route back chooses
    /// the source); with net.ipv4.icmp_errors_use_inbound_ifaddr=1 from 10.0.1.1.
    func testErrorSourceIsTheRouteBacks() throws {
        for inbound in [false, true] {
            let lab = try RoutedLab()
            try lab.a.apply(.addressAdd(lab.a.device(named: "eth0")!, IPv4Prefix("10.0.9.1/32")!, broadcast: nil, scope: nil, label: nil))
            try lab.route(lab.r, "10.0.9.0/24", via: "10.0.2.2")
            lab.r.ipv4.icmpErrorsUseInboundIfaddr = inbound
            let s = lab.a.openUDPSocket()
            try s.bind(address: IPv4Address(10, 0, 9, 1), port: 0)
            s.ttl = 1
            try s.send([1], to: b2, port: 33434)
            try lab.run(for: .milliseconds(10))
            let te = lab.onRB.icmp(type: 11, code: 0)
            XCTAssertEqual(te.count, 1)
            XCTAssertEqual(te.first.map { IPv4View.source($0, at: 0) }, inbound ? r1 : r2)
            XCTAssertEqual(te.first.map { IPv4View.destination($0, at: 0) }, IPv4Address(10, 0, 9, 1))
        }
    }

    /// Observed (`ping -t 1 -Q 0x28`, `-Q 0xff`, plain): the time exceeded had TOS 0xc8, 0xde,
    /// 0xc0 ((tos & 0x1e) | 0xc0), TTL 64, no DF, and quoted the 84-byte echo: length 112. A
    /// traceroute probe's port unreachable from tu_b: TOS 0xc0, TTL 63 when it reaches tu_a,
    /// IP length 88, from 10.0.2.2 (the probe's destination).
    func testErrorTOSLengthAndSource() throws {
        let lab = try RoutedLab()
        try warm(lab)
        let raw = lab.a.openRawSocket(proto: .icmp)
        raw.ttl = 1
        let echo = ICMPv4Packet.echo(request: true, identifier: 7, sequence: 1, payload: [UInt8](repeating: 0, count: 56)).bytes
        for tos: UInt8 in [0x28, 0xff, 0] { try raw.send(to: b2, payload: echo, tos: tos) }
        try lab.run(for: .milliseconds(10))
        let te = lab.onA.icmp(type: 11, code: 0).map { try! IPv4Header.parse($0).header }
        XCTAssertEqual(te.map(\.tos), [0xc8, 0xde, 0xc0])
        XCTAssertTrue(te.allSatisfy { $0.ttl == 64 && !$0.dontFragment && $0.totalLength == 112 && $0.source == r1 })

        let s = lab.a.openUDPSocket()
        s.ttl = 2
        s.pmtuDiscovery = .dont
        try s.connect(to: b2, port: 33437)
        try s.send((0..<32).map { UInt8(0x40 + $0) })
        try lab.run(for: .milliseconds(10))
        let pu = try XCTUnwrap(lab.onA.icmp(type: 3, code: 3).last)
        let h = try IPv4Header.parse(pu).header
        XCTAssertEqual([Int(h.tos), Int(h.ttl), Int(h.totalLength)], [0xc0, 63, 88])
        XCTAssertEqual(h.source, b2)
        // The quote is the probe as it arrived: TTL 1 after the router's decrement.
        XCTAssertEqual(pu[28 + 8], 1)
    }

    /// Observed: `ping -M do -s 1450 10.0.2.2` across tu_r's rb with MTU 1400: "ICMP 10.0.2.2
    /// unreachable - need to frag (mtu 1400), length 556", IP length 576 (the quote cut at
    /// 576 bytes in all), TOS 0xc0. Fragmentation needed is never rate limited.
    func testFragmentationNeededQuotesUpTo576Bytes() throws {
        let lab = try RoutedLab()
        var mtu = LinkChange()
        mtu.mtu = 1400
        try lab.r.apply(.linkSet(lab.r.device(named: "rb")!, mtu))
        try warm(lab)
        let raw = lab.a.openRawSocket(proto: .icmp)
        let echo = ICMPv4Packet.echo(request: true, identifier: 7, sequence: 1, payload: [UInt8](repeating: 0, count: 1450)).bytes
        for _ in 0..<10 { try raw.send(to: b2, payload: echo) }
        try lab.run(for: .milliseconds(10))
        let fn = lab.onA.icmp(type: 3, code: 4)
        XCTAssertEqual(fn.count, 10)
        let h = try IPv4Header.parse(fn[0]).header
        XCTAssertEqual(h.totalLength, 576)
        XCTAssertEqual(h.tos, 0xc0)
        XCTAssertEqual(fn[0].u16(at: 26), 1400)
    }

    /// Observed: `traceroute -n 10.0.2.9` (nobody has .9 on tu_b's subnet): tu_r sent three
    /// time exceeded at once, then after the three ARP requests failed, 3.075 s later, six
    /// "host 10.0.2.9 unreachable" for the probes queued on the neighbour (per-destination
    /// bucket: 3 tokens left plus 3 regained); traceroute printed
    /// " 2  10.0.1.1  3074.859 ms !H  3074.828 ms !H  3074.808 ms !H".
    func testNeighbourFailureErrorsAreRateLimited() throws {
        let lab = try RoutedLab()
        try warm(lab)
        let t0 = lab.now
        for i in 0..<16 {
            let s = lab.a.openUDPSocket()
            s.ttl = UInt8(i / 3 + 1)
            s.pmtuDiscovery = .dont
            try s.connect(to: IPv4Address(10, 0, 2, 9), port: UInt16(33434 + i))
            try s.send((0..<32).map { UInt8(0x40 + $0) })
        }
        try lab.run(for: .seconds(5))
        XCTAssertEqual(lab.onA.icmp(type: 11, code: 0).count, 3)
        let hu = lab.onA.frames.filter { f in
            EthernetView.etherType(f.1) == .ipv4 && IPv4View.proto(f.1, at: 14) == .icmp && f.1[34] == 3 && f.1[35] == 1
        }
        XCTAssertEqual(hu.count, 6)
        for f in hu {
            XCTAssertEqual(IPv4View.source(f.1, at: 14), r1)
            let dt = f.0 - t0
            XCTAssertTrue(dt >= .seconds(3) && dt < .milliseconds(3200), "\(dt)")
        }
        // They are about the oldest queued probes: hop 2's three and hop 3's three.
        XCTAssertEqual(hu.map { UDPView.destinationPort($0.1, at: 14 + 28 + 20) }, (33437..<33443).map { UInt16($0) })
    }

    /// The rate-limit predicates on their own: icmp_ratemask 0x1818 and "never limit PMTU".
    func testRatemask() throws {
        let lab = try RoutedLab()
        let ns = lab.a
        XCTAssertFalse(ns.icmpMaskAllow(type: .destinationUnreachable, code: 3))
        XCTAssertTrue(ns.icmpMaskAllow(type: .destinationUnreachable, code: 4))
        XCTAssertFalse(ns.icmpMaskAllow(type: .timeExceeded, code: 0))
        XCTAssertFalse(ns.icmpMaskAllow(type: .parameterProblem, code: 0))
        XCTAssertFalse(ns.icmpMaskAllow(type: ICMPv4Type(rawValue: 4), code: 0))
        XCTAssertTrue(ns.icmpMaskAllow(type: .echoReply, code: 0))
        XCTAssertTrue(ns.icmpMaskAllow(type: .redirect, code: 0))
        ns.ipv4.icmpRatemask = 0
        XCTAssertTrue(ns.icmpMaskAllow(type: .destinationUnreachable, code: 3))
    }

    /// The sysctl keys, with the defaults and ranges of a new namespace on Linux 6.18:
    /// icmp_ratemask 6168, icmp_msgs_per_sec 1000, icmp_msgs_burst 50,
    /// icmp_errors_use_inbound_ifaddr 0 (2 is EINVAL), icmp_msgs_per_sec -1 EINVAL, and
    /// icmp_ratemask -1 accepted and read back as -1.
    func testSysctlKeys() throws {
        let ns = try RoutedLab().a
        XCTAssertEqual(try ns.sysctlRead("net.ipv4.icmp_ratemask"), "6168")
        XCTAssertEqual(try ns.sysctlRead("net.ipv4.icmp_msgs_per_sec"), "1000")
        XCTAssertEqual(try ns.sysctlRead("net.ipv4.icmp_msgs_burst"), "50")
        XCTAssertEqual(try ns.sysctlRead("net.ipv4.icmp_errors_use_inbound_ifaddr"), "0")
        XCTAssertThrowsError(try ns.sysctlWrite("net.ipv4.icmp_errors_use_inbound_ifaddr", "2"))
        XCTAssertThrowsError(try ns.sysctlWrite("net.ipv4.icmp_msgs_per_sec", "-1"))
        try ns.sysctlWrite("net.ipv4.icmp_ratemask", "-1")
        XCTAssertEqual(try ns.sysctlRead("net.ipv4.icmp_ratemask"), "-1")
        XCTAssertEqual(ns.ipv4.icmpRatemask, 0xffff_ffff)
        try ns.sysctlWrite("net.ipv4.icmp_errors_use_inbound_ifaddr", "1")
        XCTAssertTrue(ns.ipv4.icmpErrorsUseInboundIfaddr)
    }

    /// With net.ipv4.icmp_ratelimit 0 every error goes out.
    func testRatelimitZeroDisablesThePerDestinationBucket() throws {
        let lab = try RoutedLab()
        lab.b.ipv4.icmpRateLimitMS = 0
        try warm(lab)
        try burst(lab.a, to: b2, ports: 20000..<20020)
        try lab.run(for: .milliseconds(50))
        XCTAssertEqual(lab.onA.icmp(type: 3, code: 3).count, 20)
    }
}
