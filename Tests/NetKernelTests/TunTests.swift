// The tun driver against what Linux 6.18 did with `ip tuntap add ... mode tun` and a process
// holding /dev/net/tun (TUNSETIFF, IFF_TUN | IFF_NO_PI) in a namespace.

import XCTest
import SimCore
import Wire
@testable import NetKernel

final class TunTests: XCTestCase {
    private func world() -> (Kernel, NetNamespace) {
        let k = Kernel(clock: EventQueue(), seed: 3)
        let m = k.addMachine("a")
        m.root.setUp(m.root.loopback, true)
        return (k, m.root)
    }

    /// Observed on Linux 6.18: a device made by TUNSETIFF shows
    /// `<POINTOPOINT,MULTICAST,NOARP>` while down, `<POINTOPOINT,MULTICAST,NOARP,UP,LOWER_UP>`
    /// and state UNKNOWN once up, qlen 500, `link/none`; it disappears with its descriptor.
    func testDeviceMadeByAProcess() throws {
        let (k, ns) = world()
        defer { withExtendedLifetime(k) {} }
        let f = try ns.openTun(name: "flannel%d")
        let dev = try XCTUnwrap(f.device)
        XCTAssertEqual(dev.name, "flannel0")
        XCTAssertEqual(dev.flags, [.pointToPoint, .multicast, .noARP])
        XCTAssertEqual(dev.txQueueLen, 500)
        XCTAssertEqual(dev.linkTypeName, "none")
        XCTAssertEqual(dev.qdiscName, "noop")
        ns.setUp(dev, true)
        XCTAssertEqual(dev.flags, [.pointToPoint, .multicast, .noARP, .up, .running, .lowerUp])
        XCTAssertEqual(dev.operState, .unknown)
        XCTAssertEqual(dev.qdiscName, "fq_codel")
        // A second descriptor on the same device: EBUSY ("Device or resource busy").
        XCTAssertThrowsError(try ns.openTun(name: "flannel0")) { XCTAssertEqual(($0 as? KernelError)?.errno, .EBUSY) }
        XCTAssertEqual(try ns.openTun(name: "flannel%d").device?.name, "flannel1")
        f.close()
        XCTAssertNil(ns.device(named: "flannel0"))
        XCTAssertThrowsError(try f.write([0x45] + Array(repeating: 0, count: 19)))
    }

    /// Observed on Linux 6.18: `ip tuntap add dev flannel0 mode tun`, then up:
    /// `<NO-CARRIER,POINTOPOINT,MULTICAST,NOARP,UP>` state DOWN; a process attaching makes it
    /// `<POINTOPOINT,MULTICAST,NOARP,UP,LOWER_UP>` state UP; when it exits, NO-CARRIER again.
    func testPersistentDevice() throws {
        let (k, ns) = world()
        defer { withExtendedLifetime(k) {} }
        let dev = try ns.addPersistentTun(name: "flannel0")
        XCTAssertThrowsError(try ns.addPersistentTun(name: "lo")) { XCTAssertEqual(($0 as? KernelError)?.errno, .EINVAL) }
        ns.setUp(dev, true)
        XCTAssertFalse(dev.flags.contains(.running))
        XCTAssertEqual(dev.operState, .down)
        let f = try ns.openTun(name: "flannel0")
        XCTAssertEqual(dev.operState, .up)
        XCTAssertTrue(dev.flags.contains(.lowerUp))
        f.close()
        XCTAssertNotNil(ns.device(named: "flannel0"))
        XCTAssertEqual(dev.operState, .down)
        try ns.deletePersistentTun(name: "flannel0")
        XCTAssertNil(ns.device(named: "flannel0"))
    }

    /// What the stack routes to the device waits for read() as a bare IP packet (taps see the
    /// same bytes); a packet written by the process is received on the device and answered.
    /// Observed on Linux 6.18: a ping routed to a tun with 10.244.7.0/32 leaves from 10.244.7.0.
    func testReadAndWrite() throws {
        let (k, ns) = world()
        let f = try ns.openTun(name: "tun0")
        let dev = try XCTUnwrap(f.device)
        try ns.apply(.addressAdd(dev, IPv4Prefix("10.244.7.0/32")!, broadcast: nil, scope: nil, label: nil))
        ns.setUp(dev, true)
        try ns.addRoute(Route(destination: IPv4Prefix("10.244.0.0/16")!, device: dev))
        var seen: [(PacketTap.Direction, [UInt8])] = []
        dev.addTap(PacketTap(promiscuous: false) { _, b, d in seen.append((d, b)) })
        var woken = 0
        f.onReadable = { woken += 1 }

        let s = ns.openRawSocket(proto: .icmp)
        var replies: [Packet] = []
        s.onReceive = { replies.append($0) }
        let echo = ICMPv4Packet.echo(request: true, identifier: 9, sequence: 1, payload: Array(repeating: 7, count: 56))
        try s.send(to: IPv4Address("10.244.3.5")!, payload: echo.bytes)
        try s.send(to: IPv4Address("10.244.3.5")!, payload: echo.bytes)
        try k.clock.run(until: k.clock.now + .milliseconds(1))
        XCTAssertEqual(woken, 1, "the reader is woken once for a queue that was empty")
        XCTAssertEqual(f.queuedCount, 2)
        let pkt = try XCTUnwrap(f.read())
        XCTAssertEqual(pkt.count, 84)
        XCTAssertEqual(pkt[0], 0x45)
        XCTAssertEqual(IPv4View.source(pkt, at: 0), IPv4Address("10.244.7.0")!)
        XCTAssertEqual(IPv4View.destination(pkt, at: 0), IPv4Address("10.244.3.5")!)
        XCTAssertEqual(seen.first?.1, pkt, "taps see the bare IP packet")
        XCTAssertNotNil(f.read())
        XCTAssertNil(f.read())

        // The process answers: an echo reply from 10.244.3.5 written into the device.
        var h = try IPv4Header.parse(pkt, at: 0).0
        (h.source, h.destination) = (h.destination, h.source)
        let reply = ICMPv4Packet.echo(request: false, identifier: 9, sequence: 1, payload: Array(repeating: 7, count: 56)).bytes
        var out = [UInt8](repeating: 0, count: 20 + reply.count)
        h.emit(into: &out, at: 0)
        out.replaceSubrange(20..., with: reply)
        XCTAssertEqual(try f.write(out), out.count)
        try k.clock.run(until: k.clock.now + .milliseconds(1))
        XCTAssertEqual(replies.count, 1)
        XCTAssertEqual(seen.last?.0, .incoming)
        XCTAssertEqual(seen.last?.1, out)
        XCTAssertEqual(dev.stats.rxPackets, 1)

        // Not IPv4: EINVAL. Down: EIO.
        XCTAssertThrowsError(try f.write([0x60] + Array(repeating: 0, count: 39))) { XCTAssertEqual(($0 as? KernelError)?.errno, .EINVAL) }
        ns.setUp(dev, false)
        XCTAssertThrowsError(try f.write(out)) { XCTAssertEqual(($0 as? KernelError)?.errno, .EIO) }
    }

    /// tun_net_xmit(): with no descriptor the packet is dropped; the ring holds tx_queue_len.
    func testTransmitDrops() throws {
        let (k, ns) = world()
        let f = try ns.openTun(name: "tun0")
        let dev = try XCTUnwrap(f.device)
        try ns.apply(.addressAdd(dev, IPv4Prefix("10.244.7.0/32")!, broadcast: nil, scope: nil, label: nil))
        ns.setUp(dev, true)
        try ns.addRoute(Route(destination: IPv4Prefix("10.244.0.0/16")!, device: dev))
        let s = ns.openRawSocket(proto: .icmp)
        let echo = ICMPv4Packet.echo(request: true, identifier: 9, sequence: 1, payload: []).bytes
        for _ in 0..<502 { try s.send(to: IPv4Address("10.244.3.5")!, payload: echo) }
        try k.clock.run(until: k.clock.now + .milliseconds(1))
        XCTAssertEqual(f.queuedCount, 500)
        XCTAssertEqual(dev.stats.txDropped, 2)
    }
}
