// BenchmarkLab: the building blocks the kernel-API workloads share: a world on a fresh
// clock, bridges, containers (a namespace with eth0 behind a veth on a bridge), all made
// through the same typed requests `ip` sends (NetlinkRequest), so what is measured is the
// kernel model and not the command parser.
// Guarantees: names and addresses follow from the indexes given, so a workload is the same
// topology on every run; the event budget never stops a benchmark.
// Leaves out: the text command path (the bridge workload measures that).

import SimCore
import Wire
import NetKernel

/// One simulated world for a benchmark run.
final class BenchLab {
    let kernel: Kernel

    init(machines: [String], seed: UInt64 = 1) {
        kernel = Kernel(clock: EventQueue(start: .zero, budget: Int.max), seed: seed)
        for m in machines { kernel.addMachine(m) }
    }

    var clock: EventQueue { kernel.clock }

    func machine(_ i: Int) -> Machine { kernel.machines[i] }

    func run(for d: SimTime) throws { try clock.run(until: clock.now + d) }

    /// `ip link add NAME type bridge`, an optional address, up.
    func addBridge(_ ns: NetNamespace, _ name: String, address: IPv4Prefix? = nil) throws -> BridgeDevice {
        try ns.apply(.linkAdd(name: name, kind: .bridge, address: nil, mtu: nil))
        let br = ns.device(named: name) as! BridgeDevice
        if let a = address { try ns.apply(.addressAdd(br, a, broadcast: nil, scope: nil, label: nil)) }
        ns.setUp(br, true)
        return br
    }

    /// A veth pair with one end (`outer`) in `ns` and the other (`inner`) in `peer`, both up,
    /// the inner end addressed (and the outer one when `outerAddress` is given); `master`
    /// makes the outer end a bridge port.
    @discardableResult
    func addVeth(_ ns: NetNamespace, outer: String, peer: NetNamespace, inner: String,
                 address: IPv4Prefix?, outerAddress: IPv4Prefix? = nil, master: BridgeDevice? = nil) throws -> (outer: NetDevice, inner: NetDevice) {
        try ns.apply(.linkAdd(name: outer, kind: .veth(peerName: inner, peerNamespace: peer, peerAddress: nil), address: nil, mtu: nil))
        let o = ns.device(named: outer)!, i = peer.device(named: inner)!
        if let br = master { try ns.apply(.bridgeAddPort(bridge: br, port: o)) }
        if let a = outerAddress { try ns.apply(.addressAdd(o, a, broadcast: nil, scope: nil, label: nil)) }
        ns.setUp(o, true)
        if let a = address { try peer.apply(.addressAdd(i, a, broadcast: nil, scope: nil, label: nil)) }
        peer.setUp(i, true)
        return (o, i)
    }

    /// A container: namespace `name` on `machine`, lo up, eth0 behind veth `hostEnd` on
    /// `bridge`, an address, and a default route via `gateway` when given.
    func addContainer(_ m: Machine, _ name: String, bridge: BridgeDevice, hostEnd: String,
                      address: IPv4Prefix, gateway: IPv4Address?) throws -> (ns: NetNamespace, eth0: NetDevice) {
        let ns = try m.addNamespace(name)
        ns.setUp(ns.loopback, true)
        let (_, eth0) = try addVeth(bridge.namespace, outer: hostEnd, peer: ns, inner: "eth0", address: address, master: bridge)
        if let g = gateway { try addDefaultRoute(ns, via: g, dev: eth0) }
        return (ns, eth0)
    }

    func addDefaultRoute(_ ns: NetNamespace, via g: IPv4Address, dev: NetDevice) throws {
        var r = Route(destination: IPv4Prefix(address: .any, length: 0), device: dev)
        r.gateway = g
        try ns.addRoute(r)
    }

    /// `ip neigh replace ADDR lladdr MAC dev DEV nud permanent`.
    func setPermanentNeighbour(_ ns: NetNamespace, _ a: IPv4Address, mac: MACAddress, dev: NetDevice) {
        ns.neighbours.adminSet(a, dev: dev, lladdr: mac, state: .permanent)
    }
}

extension IPv4Address {
    /// base + n, for numbering hosts inside a subnet.
    func adding(_ n: Int) -> IPv4Address { IPv4Address(raw: raw &+ UInt32(n)) }
}
