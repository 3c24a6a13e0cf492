import SimCore
import Wire
@testable import NetKernel

/// A small lab built through the kernel's own request interface: a host namespace with a
/// bridge br0 and containers c1...cN, each with eth0 on 172.18.0.(N+1)/24.
struct Lab {
    let kernel: Kernel
    let machine: Machine
    var host: NetNamespace { machine.root }
    let bridge: BridgeDevice
    var containers: [NetNamespace] = []

    init(containers n: Int, seed: UInt64 = 7, bridgeAddress: Bool = true) throws {
        kernel = Kernel(clock: EventQueue(), seed: seed)
        machine = kernel.addMachine("host")
        let host = machine.root!
        try host.apply(.linkAdd(name: "br0", kind: .bridge, address: nil, mtu: nil))
        bridge = host.device(named: "br0") as! BridgeDevice
        if bridgeAddress {
            try host.apply(.addressAdd(bridge, IPv4Prefix("172.18.0.1/24")!, broadcast: nil, scope: nil, label: nil))
        }
        host.setUp(bridge, true)
        host.setUp(host.loopback, true)
        for i in 1...n {
            let ns = try machine.addNamespace("c\(i)")
            try host.apply(.linkAdd(name: "veth\(i)", kind: .veth(peerName: "eth0", peerNamespace: ns, peerAddress: nil), address: nil, mtu: nil))
            let hostEnd = host.device(named: "veth\(i)")!
            try host.apply(.bridgeAddPort(bridge: bridge, port: hostEnd))
            host.setUp(hostEnd, true)
            let eth0 = ns.device(named: "eth0")!
            try ns.apply(.addressAdd(eth0, IPv4Prefix("172.18.0.\(i + 1)/24")!, broadcast: nil, scope: nil, label: nil))
            ns.setUp(eth0, true)
            ns.setUp(ns.loopback, true)
            containers.append(ns)
        }
        // Let the bridge's IGMP reports (sent within a second of it coming up) pass.
        try kernel.clock.run(until: kernel.clock.now + .seconds(2))
    }

    func address(_ i: Int) -> IPv4Address { IPv4Address(172, 18, 0, UInt8(i + 1)) }

    /// Sends one echo request from container `from` (1-based) to `to`'s address.
    func ping(from: Int, to dst: IPv4Address, seq: UInt16 = 1) throws {
        let s = containers[from - 1].openRawSocket(proto: .icmp)
        try s.send(to: dst, payload: ICMPv4Packet.echo(request: true, identifier: 1, sequence: seq, payload: Array(repeating: 0, count: 56)).bytes)
        s.close()
    }

    func run(for d: SimTime) throws { try kernel.clock.run(until: kernel.clock.now + d) }

    /// Records every frame seen on a device.
    func tap(_ dev: NetDevice, promiscuous: Bool = true) -> FrameLog {
        let log = FrameLog()
        dev.addTap(PacketTap(promiscuous: promiscuous) { t, b, _ in log.frames.append((t, b)) })
        return log
    }
}

final class FrameLog {
    var frames: [(SimTime, [UInt8])] = []
    var arp: [ARPPacket] { frames.compactMap { EthernetView.etherType($0.1) == .arp ? try? ARPPacket.parse($0.1, at: 14) : nil } }
    var icmp: [ICMPv4Packet] {
        frames.compactMap { f in
            guard EthernetView.etherType(f.1) == .ipv4, IPv4View.proto(f.1, at: 14) == .icmp else { return nil }
            return try? ICMPv4Packet.parse(f.1, at: 34).packet
        }
    }
}
