// BenchmarkRouted: hosts on two bridges of one machine, joined by a router namespace, with
// TCP connections across it. Host i (a namespace) sits on bridge i mod 2 and opens C
// connections to its peer, host i xor 1 on the other bridge: the client sends a short
// request, the server answers and closes, the client closes on the server's FIN. Every
// segment crosses a veth, a bridge, the router's forwarding path, a second bridge and veth.
// The run lasts until every connection is closed and every TIME-WAIT has expired.
// Neighbours are permanent entries (as `ip neigh replace ... nud permanent` makes them): ARP
// broadcasts, flooded to every port of a bridge, grow as hosts² (the bridge workload
// measures them) and would hide the cost of routing and TCP, which must grow linearly. Each
// host pings its gateway once during set-up, so that the bridges have learnt every MAC.
// Figures per host (set-up time, memory) and per connection (time, events, frames, memory
// at the peak) show linearity; the report compares them between sizes.

import Foundation
import SimCore
import Wire
import NetKernel

extension Benchmark {
    public struct RoutedResult {
        public var hosts: Int
        public var connectionsPerHost: Int
        public var setup: Measurement
        public var traffic: Measurement
        /// Connections whose client saw the answer, and that closed on both sides.
        public var answered: Int
        public var closed: Int
        public var errors: Int
        /// TCP sockets other than the listeners still open at the end (0 when all is well).
        public var leftover: Int
        /// Resident memory added by the set-up (the idle hosts).
        public var setupKiB: Int

        public var connections: Int { hosts * connectionsPerHost }
        public var name: String { "routed-\(hosts)x\(connectionsPerHost)" }
        public var complete: Bool { answered == connections && closed == 2 * connections && errors == 0 && leftover == 0 }
    }

    static let routedRequest = Array("GET / HTTP/1.0\r\n\r\n".utf8)
    static let routedAnswer = Array("HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n".utf8)

    final class RoutedTally {
        var answered = 0, closed = 0, errors = 0
    }

    /// Runs the routed workload with `hosts` hosts (rounded up to an even number) and
    /// `connections` connections per host.
    public static func routed(hosts requested: Int, connections c: Int) throws -> RoutedResult {
        let n = max(2, requested + requested % 2)
        let lab = BenchLab(machines: ["host"])
        let m = lab.machine(0)
        let root = m.root!
        let tally = RoutedTally()
        var hostNS: [NetNamespace] = []
        let subnets = [IPv4Address(10, 1, 0, 0), IPv4Address(10, 2, 0, 0)]
        func hostAddress(_ i: Int) -> IPv4Address { subnets[i % 2].adding(2 + i / 2) }

        let setup = try measure("set-up", lab.kernel) {
            root.setUp(root.loopback, true)
            let bridges = [try lab.addBridge(root, "br0"), try lab.addBridge(root, "br1")]
            let router = try m.addNamespace("router")
            router.setUp(router.loopback, true)
            try router.sysctlWrite("net.ipv4.ip_forward", "1")
            var routerPorts: [NetDevice] = []
            for b in 0..<2 {
                let (_, dev) = try lab.addVeth(root, outer: "rt\(b)", peer: router, inner: "eth\(b)",
                                               address: IPv4Prefix(address: subnets[b].adding(1), length: 16), master: bridges[b])
                routerPorts.append(dev)
            }
            for i in 0..<n {
                let b = i % 2
                let (ns, eth0) = try lab.addContainer(m, "h\(i)", bridge: bridges[b], hostEnd: "vh\(i)",
                                                      address: IPv4Prefix(address: hostAddress(i), length: 16),
                                                      gateway: subnets[b].adding(1))
                lab.setPermanentNeighbour(ns, subnets[b].adding(1), mac: routerPorts[b].mac, dev: eth0)
                lab.setPermanentNeighbour(router, hostAddress(i), mac: eth0.mac, dev: routerPorts[b])
                let listener = ns.openTCPSocket()
                try listener.bind(port: 80)
                try listener.listen(backlog: 128)
                listener.onAccept = { s in
                    s.onData = { [unowned s] _ in
                        try? s.send(routedAnswer)
                        s.close()
                    }
                    s.onClosed = { tally.closed += 1 }
                }
                hostNS.append(ns)
            }
            // The router pings the first host of each bridge, then each host pings its gateway,
            // so that the bridges know every MAC (as they would after ARP) and no frame of the
            // workload is flooded as unknown unicast.
            let echo = ICMPv4Packet.echo(request: true, identifier: 1, sequence: 1, payload: Array(repeating: 0, count: 56)).bytes
            let raw = router.openRawSocket(proto: .icmp)
            for i in 0..<2 { try raw.send(to: hostAddress(i), payload: echo) }
            raw.close()
            try lab.run(for: .milliseconds(1))
            for (i, ns) in hostNS.enumerated() {
                let raw = ns.openRawSocket(proto: .icmp)
                try raw.send(to: subnets[i % 2].adding(1), payload: echo)
                raw.close()
            }
            try lab.run(for: .seconds(3))
        }
        let setupKiB = setup.grownKiB
        let hosts = hostNS

        let traffic = try measure(String(format: "routed-%dx%d", n, c), lab.kernel) {
            let t0 = lab.clock.now
            for round in 0..<c {
                for i in 0..<n {
                    let at = t0 + .milliseconds(Int64(10 * round)) + .microseconds(Int64(i))
                    lab.clock.schedule(at: at) {
                        let s = hosts[i].openTCPSocket()
                        s.onConnected = { [unowned s] in try? s.send(routedRequest) }
                        s.onData = { _ in tally.answered += 1 }
                        s.onPeerClosed = { [unowned s] in s.close() }
                        s.onClosed = { tally.closed += 1 }
                        s.onError = { _ in tally.errors += 1 }
                        do { try s.connect(to: hostAddress(i ^ 1), port: 80) } catch { tally.errors += 1 }
                    }
                }
            }
            // Every exchange ends within a second; TIME-WAIT lasts 60 s.
            try lab.run(for: .seconds(65))
        }
        let leftover = hostNS.reduce(0) { $0 + $1.tcpSockets.filter { $0.state != .listen }.count }
        return RoutedResult(hosts: n, connectionsPerHost: c, setup: setup, traffic: traffic,
                            answered: tally.answered, closed: tally.closed, errors: tally.errors,
                            leftover: leftover, setupKiB: setupKiB)
    }

    static func routedReport(hosts: [Int], connections: [Int], emit: (String) -> Void) throws {
        emit("routed: hosts on two bridges joined by a router namespace; each host opens C TCP connections")
        emit("(request, answer, close) to a host on the other bridge; set-up through the kernel API")
        emit(header)
        let c0 = connections.first ?? 1
        var plan = hosts.map { ($0, c0) }
        if let big = hosts.max() { plan += connections.dropFirst().map { (big, $0) } }
        var results: [RoutedResult] = []
        for (h, c) in plan {
            let r = try routed(hosts: h, connections: c)
            results.append(r)
            emit(row(r.traffic) + (r.complete ? "" : "  INCOMPLETE: \(r.answered) answered, \(r.closed) closed, \(r.errors) errors, \(r.leftover) left"))
        }
        emit("")
        let rows = results.map { r -> [String] in
            let conns = Double(r.connections)
            return [r.name, "\(r.hosts)", "\(r.connections)",
                    fixed(r.setup.wallSeconds * 1e6 / Double(r.hosts), 1),
                    fixed(Double(r.setupKiB) / Double(r.hosts), 2),
                    fixed(r.traffic.wallSeconds * 1e6 / conns, 1),
                    fixed(Double(r.traffic.events) / conns, 1),
                    fixed(Double(r.traffic.frames) / conns, 1),
                    fixed(Double(r.traffic.grownKiB) / conns, 2)]
        }
        for l in table(["per unit", "hosts", "conns", "set-up us/host", "KiB/host", "us/conn", "events/conn", "frames/conn", "peak KiB/conn"], rows) {
            emit(l)
        }
        for l in routedLinearity(results) { emit(l) }
    }

    /// Compares per-unit costs between the two largest host counts (same connections per
    /// host) and between connection counts (same hosts).
    static func routedLinearity(_ results: [RoutedResult]) -> [String] {
        var out: [String] = []
        let c0 = results.first?.connectionsPerHost ?? 1
        let byHosts = results.filter { $0.connectionsPerHost == c0 }.sorted { $0.hosts < $1.hosts }
        if byHosts.count >= 2 {
            let a = byHosts[byHosts.count - 2], b = byHosts[byHosts.count - 1]
            let setupRatio = (b.setup.wallSeconds / Double(b.hosts)) / (a.setup.wallSeconds / Double(a.hosts))
            let timeRatio = (b.traffic.wallSeconds / Double(b.connections)) / (a.traffic.wallSeconds / Double(a.connections))
            let memRatio = (Double(b.setupKiB) / Double(b.hosts)) / max(Double(a.setupKiB) / Double(a.hosts), 1e-9)
            let worst = max(setupRatio, timeRatio, memRatio)
            out.append(String(format: "hosts %d -> %d: set-up time/host x%.2f, memory/host x%.2f, time/conn x%.2f: ",
                              a.hosts, b.hosts, setupRatio, memRatio, timeRatio) + linearity(worst))
        }
        let big = byHosts.last?.hosts ?? 0
        let byConns = results.filter { $0.hosts == big }.sorted { $0.connectionsPerHost < $1.connectionsPerHost }
        if byConns.count >= 2, let a = byConns.first, let b = byConns.last {
            let timeRatio = (b.traffic.wallSeconds / Double(b.connections)) / (a.traffic.wallSeconds / Double(a.connections))
            let memRatio = (Double(b.traffic.grownKiB) / Double(b.connections)) / max(Double(a.traffic.grownKiB) / Double(a.connections), 1e-9)
            out.append(String(format: "connections %d -> %d per host (%d hosts): time/conn x%.2f, peak memory/conn x%.2f: ",
                              a.connectionsPerHost, b.connectionsPerHost, big, timeRatio, memRatio) + linearity(max(timeRatio, memRatio)))
        }
        return out
    }
}
