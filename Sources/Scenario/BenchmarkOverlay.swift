// BenchmarkOverlay: two machines on one LAN, N containers on each, joined by VXLAN as flannel
// programs it (the vxlan backend): on each machine a bridge cni0 with the containers'
// veths (10.M.0.0/16, gateway 10.M.0.1), forwarding on, flannel.1 (VNI 1, port 8472, local
// address, dev eth0, nolearning) with the address 10.M.0.0/32, an onlink route to the other
// machine's subnet via its VTEP address, a permanent neighbour entry with the remote VTEP's
// MAC and an FDB entry sending that MAC to the remote machine. Container i of each machine
// pings container i of the other once: every echo crosses a veth, cni0, the host's routing,
// flannel.1 (encapsulation), the LAN, the other machine's UDP socket (decapsulation), its
// routing, cni0 and a veth, and the reply comes back the same way.
// As in the routed workload, the containers' and gateways' neighbours are permanent entries
// and each container pings its gateway once during set-up, so that ARP floods (hosts²)
// stay out and what is measured grows linearly with the number of containers.

import Foundation
import SimCore
import Wire
import NetKernel

extension Benchmark {
    public struct OverlayResult {
        public var containersPerMachine: Int
        public var setup: Measurement
        public var traffic: Measurement
        public var pings: Int
        public var answered: Int
        /// Resident memory added by the set-up.
        public var setupKiB: Int
        public var complete: Bool { answered == pings }
    }

    static func underlayAddress(_ m: Int) -> IPv4Address { IPv4Address(192, 168, 1, UInt8(11 + m)) }
    static func podSubnet(_ m: Int) -> IPv4Address { IPv4Address(10, UInt8(1 + m), 0, 0) }
    static func podAddress(_ m: Int, _ i: Int) -> IPv4Address { podSubnet(m).adding(2 + i) }

    /// Runs the overlay workload with `n` containers on each of two machines.
    public static func overlay(containers n: Int) throws -> OverlayResult {
        let lab = BenchLab(machines: ["node1", "node2"])
        let lan = lab.kernel.addSegment("lan")
        let ident: UInt16 = 0x4242
        var pods: [[NetNamespace]] = [[], []]
        var answered = 0

        let setup = try measure("set-up", lab.kernel) {
            var nics: [NetDevice] = [], vteps: [NetDevice] = [], bridges: [BridgeDevice] = []
            for mi in 0..<2 {
                let root = lab.machine(mi).root!
                root.setUp(root.loopback, true)
                let eth0 = try root.addNIC(name: "eth0", segment: lan)
                try root.apply(.addressAdd(eth0, IPv4Prefix(address: underlayAddress(mi), length: 24), broadcast: nil, scope: nil, label: nil))
                root.setUp(eth0, true)
                try root.sysctlWrite("net.ipv4.ip_forward", "1")
                nics.append(eth0)
                // flanneld: flannel.1 with its /32 address.
                let cfg = VXLANConfig(vni: 1, dstPort: 8472, local: underlayAddress(mi), lowerDevice: eth0, learning: false)
                try root.apply(.linkAdd(name: "flannel.1", kind: .vxlan(cfg), address: nil, mtu: nil))
                let vtep = root.device(named: "flannel.1")!
                try root.apply(.addressAdd(vtep, IPv4Prefix(address: podSubnet(mi), length: 32), broadcast: nil, scope: nil, label: nil))
                root.setUp(vtep, true)
                vteps.append(vtep)
                bridges.append(try lab.addBridge(root, "cni0", address: IPv4Prefix(address: podSubnet(mi).adding(1), length: 16)))
            }
            for mi in 0..<2 {
                // flanneld's handling of the other machine's lease.
                let root = lab.machine(mi).root!, other = 1 - mi
                var r = Route(destination: IPv4Prefix(address: podSubnet(other), length: 16), device: vteps[mi])
                r.gateway = podSubnet(other)
                r.onlink = true
                try root.apply(.routeAdd(r, mode: .replace))
                try root.apply(.neighbourSet(vteps[mi], podSubnet(other), lladdr: vteps[other].mac, state: .permanent, mode: .replace))
                try root.apply(.fdbAdd(vteps[mi], FDBRequest(mac: vteps[other].mac, dst: underlayAddress(other)), mode: .replace))
            }
            for mi in 0..<2 {
                let m = lab.machine(mi), root = m.root!, gw = podSubnet(mi).adding(1)
                var eths: [NetDevice] = []
                for i in 0..<n {
                    let (ns, eth0) = try lab.addContainer(m, "c\(i)", bridge: bridges[mi], hostEnd: "veth\(i)",
                                                          address: IPv4Prefix(address: podAddress(mi, i), length: 16), gateway: gw)
                    lab.setPermanentNeighbour(root, podAddress(mi, i), mac: eth0.mac, dev: bridges[mi])
                    pods[mi].append(ns)
                    eths.append(eth0)
                }
                // A bridge takes the lowest MAC of its ports: cni0's is final only now.
                for (ns, eth0) in zip(pods[mi], eths) { lab.setPermanentNeighbour(ns, gw, mac: bridges[mi].mac, dev: eth0) }
            }
            // The hosts find each other on the LAN; cni0 and then every container make
            // themselves known to their bridge.
            let echo = ICMPv4Packet.echo(request: true, identifier: 1, sequence: 1, payload: Array(repeating: 0, count: 56)).bytes
            for mi in 0..<2 {
                let raw = lab.machine(mi).root!.openRawSocket(proto: .icmp)
                try raw.send(to: underlayAddress(1 - mi), payload: echo)
                if n > 0 { try raw.send(to: podAddress(mi, 0), payload: echo) }
                raw.close()
            }
            try lab.run(for: .milliseconds(10))
            for mi in 0..<2 {
                for ns in pods[mi] {
                    let raw = ns.openRawSocket(proto: .icmp)
                    try raw.send(to: podSubnet(mi).adding(1), payload: echo)
                    raw.close()
                }
            }
            try lab.run(for: .seconds(3))
        }
        let setupKiB = setup.grownKiB

        let all = pods
        var sockets: [RawSocket] = []
        let traffic = try measure(String(format: "overlay-2x%d", n), lab.kernel) {
            let t0 = lab.clock.now
            for mi in 0..<2 {
                for i in 0..<n {
                    let ns = all[mi][i]
                    let raw = ns.openRawSocket(proto: .icmp)
                    raw.onReceive = { p in
                        let o = p.network + IPv4View.headerLength(p.bytes, at: p.network)
                        // An echo reply (type 0) with our identifier.
                        if p.bytes.count >= o + 8, p.bytes[o] == 0, p.bytes.u16(at: o + 4) == ident { answered += 1 }
                    }
                    sockets.append(raw)
                    let request = ICMPv4Packet.echo(request: true, identifier: ident, sequence: 1,
                                                    payload: Array(repeating: 0, count: 56)).bytes
                    let peer = podAddress(1 - mi, i)
                    lab.clock.schedule(at: t0 + .microseconds(Int64(2 * i + mi))) { try? raw.send(to: peer, payload: request) }
                }
            }
            try lab.run(for: .seconds(1))
        }
        for s in sockets { s.close() }
        return OverlayResult(containersPerMachine: n, setup: setup, traffic: traffic, pings: 2 * n,
                             answered: answered, setupKiB: setupKiB)
    }

    static func overlayReport(containers: [Int], emit: (String) -> Void) throws {
        emit("overlay: two machines on a LAN joined by VXLAN as flannel sets it up; N containers per")
        emit("machine on cni0, each pings the container of the same number on the other machine")
        emit(header)
        var results: [OverlayResult] = []
        for n in containers {
            let r = try overlay(containers: n)
            results.append(r)
            emit(row(r.traffic) + (r.complete ? "" : "  INCOMPLETE: \(r.answered) of \(r.pings) answered"))
        }
        emit("")
        let rows = results.map { r -> [String] in
            let total = Double(2 * r.containersPerMachine), pings = Double(max(r.pings, 1))
            return [r.traffic.name, "\(r.containersPerMachine)", "\(r.pings)",
                    fixed(r.setup.wallSeconds * 1e6 / total, 1), fixed(Double(r.setupKiB) / total, 2),
                    fixed(r.traffic.wallSeconds * 1e6 / pings, 1), fixed(Double(r.traffic.events) / pings, 1),
                    fixed(Double(r.traffic.frames) / pings, 1)]
        }
        for l in table(["per unit", "containers/machine", "pings", "set-up us/container", "KiB/container",
                        "us/ping", "events/ping", "frames/ping"], rows) { emit(l) }
        let sorted = results.sorted { $0.containersPerMachine < $1.containersPerMachine }
        if sorted.count >= 2 {
            let a = sorted[sorted.count - 2], b = sorted[sorted.count - 1]
            let ca = Double(2 * a.containersPerMachine), cb = Double(2 * b.containersPerMachine)
            let setupRatio = (b.setup.wallSeconds / cb) / (a.setup.wallSeconds / ca)
            let memRatio = (Double(b.setupKiB) / cb) / max(Double(a.setupKiB) / ca, 1e-9)
            let timeRatio = (b.traffic.wallSeconds / Double(b.pings)) / (a.traffic.wallSeconds / Double(a.pings))
            emit(String(format: "containers %d -> %d per machine: set-up time/container x%.2f, memory/container x%.2f, time/ping x%.2f: ",
                        a.containersPerMachine, b.containersPerMachine, setupRatio, memRatio, timeRatio)
                 + linearity(max(setupRatio, memRatio, timeRatio)))
        }
    }
}
