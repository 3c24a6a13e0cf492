// BenchmarkNetfilter: the cost of iptables rules and of connection tracking on the packet
// path. Two namespaces, client and server, joined by a veth pair; the client sends UDP
// datagrams, one every microsecond of virtual time, to a socket on the server.
// - Rule chains: the server's INPUT chain (policy DROP) holds N rules: N-1 that do not
//   match, in a mix of the common kinds (-s ADDR -j DROP, -p tcp --dport P -j ACCEPT,
//   -i IFACE -j DROP, -p udp --dport P -j ACCEPT with another port), then the ACCEPT for
//   the datagrams. N = 0 means no filter table at all: the baseline. The rules go in as one
//   transaction, as iptables-restore loads them; its time and memory are the set-up.
// - Conntrack: the server runs a stateful INPUT chain (ESTABLISHED,RELATED accepted, NEW
//   UDP to the port accepted, policy DROP); the client creates flows with real datagrams,
//   one per (source address, source port), until the table holds 1k, 10k, 100k entries;
//   at each size, datagrams of existing flows in a shuffled order measure the per-packet
//   lookup on the real path (nf_conntrack_in, the conntrack match, confirm).
// Every datagram must reach the socket and every rule's counters must add up; a run that
// loses one says so.

import Foundation
import SimCore
import Wire
import NetKernel

extension Benchmark {
    public struct NetfilterChainResult {
        public var rules: Int
        public var packets: Int
        public var received: Int
        /// Packets the last rule (the ACCEPT) counted; equal to `packets` when all went through.
        public var accepted: Int
        public var install: Measurement
        public var traffic: Measurement
        public var complete: Bool { received == packets && (rules == 0 || accepted == packets) }
        public var nsPerPacket: Double { traffic.wallSeconds * 1e9 / Double(max(packets, 1)) }
    }

    public struct ConntrackResult {
        public var entries: Int
        /// New flows created to reach `entries` (one datagram each).
        public var fill: Measurement
        public var newFlows: Int
        /// Datagrams of existing flows.
        public var lookup: Measurement
        public var packets: Int
        public var received: Int
        public var tableCount: Int
        public var complete: Bool { received == newFlows + packets && tableCount == entries }
        public var nsPerPacket: Double { lookup.wallSeconds * 1e9 / Double(max(packets, 1)) }
    }

    static let serverAddress = IPv4Address(10, 0, 0, 1)
    static let discardPort: UInt16 = 9

    /// Client and server namespaces on one veth pair, neighbours permanent, a UDP socket on
    /// the server's port 9 counting what arrives.
    static func clientServer(clientAddresses: Int = 1) throws -> (lab: BenchLab, client: NetNamespace, server: NetNamespace, received: Counter) {
        let lab = BenchLab(machines: ["host"])
        let m = lab.machine(0)
        let client = try m.addNamespace("client"), server = try m.addNamespace("server")
        client.setUp(client.loopback, true)
        server.setUp(server.loopback, true)
        let (ce, se) = try lab.addVeth(client, outer: "eth0", peer: server, inner: "eth0",
                                       address: IPv4Prefix(address: serverAddress, length: 16),
                                       outerAddress: IPv4Prefix(address: clientAddress(0), length: 16))
        for a in 1..<max(1, clientAddresses) {
            try client.apply(.addressAdd(ce, IPv4Prefix(address: clientAddress(a), length: 16), broadcast: nil, scope: nil, label: nil))
        }
        lab.setPermanentNeighbour(client, serverAddress, mac: se.mac, dev: ce)
        for a in 0..<max(1, clientAddresses) { lab.setPermanentNeighbour(server, clientAddress(a), mac: ce.mac, dev: se) }
        let received = Counter()
        let sink = server.openUDPSocket()
        try sink.bind(port: discardPort)
        sink.onReceive = { _, _, _ in received.value += 1 }
        try lab.run(for: .seconds(3))
        return (lab, client, server, received)
    }

    static func clientAddress(_ i: Int) -> IPv4Address { IPv4Address(10, 0, UInt8(1 + i), 2) }

    final class Counter { var value = 0 }

    /// Calls `send(i)` for i in 0..<count, one call per microsecond of virtual time, and
    /// runs until the last one has arrived.
    static func pace(_ lab: BenchLab, count: Int, _ send: @escaping (Int) -> Void) throws {
        guard count > 0 else { return }
        var i = 0
        let spacing = SimTime.microseconds(1)
        func tick() {
            send(i)
            i += 1
            if i < count { lab.clock.schedule(after: spacing, tick) }
        }
        lab.clock.schedule(after: spacing, tick)
        try lab.run(for: spacing * Int64(count) + .milliseconds(1))
    }

    // MARK: - Rule chains

    /// Rule `k` of the non-matching mix (`iptables -A INPUT ...` as the comment says).
    static func nonMatchingRule(_ k: Int) -> XTRule {
        var ip = XTIPSpec()
        let port = UInt16(1024 + k % 60_000)
        switch k % 4 {
        case 0:  // -s 192.168.X.Y -j DROP
            ip.source = IPv4Address(raw: 0xc0a8_0000 | UInt32(k & 0xffff))
            ip.sourceMask = 0xffff_ffff
            return XTRule(ip: ip, target: .drop)
        case 1:  // -p tcp --dport PORT -j ACCEPT
            ip.proto = IPProtocol.tcp.rawValue
            var m = XTTCPMatch()
            m.destinationPorts = XTPortRange(port, port)
            return XTRule(ip: ip, matches: [.tcp(m)], target: .accept)
        case 2:  // -i vethK -j DROP
            ip.inInterface = XTIface(name: "veth\(k)", wildcard: false)
            return XTRule(ip: ip, target: .drop)
        default:  // -p udp --dport PORT -j ACCEPT
            ip.proto = IPProtocol.udp.rawValue
            var m = XTUDPMatch()
            m.destinationPorts = XTPortRange(port, port)
            return XTRule(ip: ip, matches: [.udp(m)], target: .accept)
        }
    }

    /// -p udp --dport 9 [-m conntrack --ctstate NEW] -j ACCEPT
    static func acceptDiscardRule(conntrackNew: Bool = false) -> XTRule {
        var ip = XTIPSpec()
        ip.proto = IPProtocol.udp.rawValue
        var m = XTUDPMatch()
        m.destinationPorts = XTPortRange(discardPort, discardPort)
        var matches: [XTMatch] = [.udp(m)]
        if conntrackNew { matches.append(.conntrack(states: .new, invert: false)) }
        return XTRule(ip: ip, matches: matches, target: .accept)
    }

    /// `rules` rules in the server's INPUT chain, `packets` datagrams through them.
    public static func netfilterChain(rules n: Int, packets k: Int) throws -> NetfilterChainResult {
        let (lab, client, server, received) = try clientServer()
        let install = try measure("install-\(n)", lab.kernel) {
            guard n > 0 else { return }
            try server.xtCommit { tx in
                try tx.apply(.policy(.drop, counters: nil), table: .filter, chain: "INPUT")
                for r in 0..<(n - 1) { try tx.apply(.append(nonMatchingRule(r)), table: .filter, chain: "INPUT") }
                try tx.apply(.append(acceptDiscardRule()), table: .filter, chain: "INPUT")
            }
        }
        let sock = client.openUDPSocket()
        try sock.connect(to: serverAddress, port: discardPort)
        let payload = Array(repeating: UInt8(0x61), count: 32)
        let traffic = try measure("netfilter-\(n)", lab.kernel) {
            try pace(lab, count: k) { _ in _ = try? sock.send(payload) }
        }
        let accepted = Int(server.xtTableView(.filter).chain("INPUT")?.rules.last?.counters.packets ?? 0)
        return NetfilterChainResult(rules: n, packets: k, received: received.value, accepted: accepted,
                                    install: install, traffic: traffic)
    }

    /// Datagrams for a chain of `n` rules: enough for a tenth of a second or so.
    static func chainPackets(_ n: Int) -> Int { n >= 5_000 ? 20_000 : 200_000 }

    // MARK: - Conntrack

    /// Flow `f`: source address and port of the datagram that creates it.
    static func flowSource(_ f: Int) -> (address: IPv4Address, port: UInt16) {
        (clientAddress(f / 50_000), UInt16(10_000 + f % 50_000))
    }

    /// Fills the server's conntrack table to each of `sizes` (ascending) with new flows and,
    /// at each, sends `probes` datagrams of existing flows.
    public static func conntrack(sizes: [Int], probes: Int) throws -> [ConntrackResult] {
        let largest = sizes.max() ?? 0
        let (lab, client, server, received) = try clientServer(clientAddresses: (largest + 49_999) / 50_000)
        try server.xtCommit { tx in
            try tx.apply(.policy(.drop, counters: nil), table: .filter, chain: "INPUT")
            var est = XTRule(target: .accept)
            est.matches = [.conntrack(states: [.established, .related], invert: false)]
            try tx.apply(.append(est), table: .filter, chain: "INPUT")
            try tx.apply(.append(acceptDiscardRule(conntrackNew: true)), table: .filter, chain: "INPUT")
        }
        let payload = Array(repeating: UInt8(0x61), count: 32)
        func send(flow f: Int) {
            let s = client.openUDPSocket()
            let src = flowSource(f)
            do {
                try s.bind(address: src.address, port: src.port)
                try s.send(payload, to: serverAddress, port: discardPort)
            } catch {}
            s.close()
        }
        var rng = SplitMix64(seed: 1, stream: "bench/conntrack")
        var results: [ConntrackResult] = []
        var have = 0
        for size in sizes.sorted() where size > have {
            let before = received.value
            let from = have
            let fill = try measure("fill-\(size)", lab.kernel) {
                try pace(lab, count: size - from) { i in send(flow: from + i) }
            }
            have = size
            // Existing flows in a shuffled order, so that lookups do not walk the table in
            // the order it was filled.
            let order = (0..<probes).map { _ in Int(rng.below(UInt64(size))) }
            let lookup = try measure("conntrack-\(size)", lab.kernel) {
                try pace(lab, count: probes) { i in send(flow: order[i]) }
            }
            results.append(ConntrackResult(entries: size, fill: fill, newFlows: size - from, lookup: lookup, packets: probes,
                                           received: received.value - before, tableCount: server.conntrack.count))
        }
        return results
    }

    // MARK: - Report

    static func netfilterReport(rules: [Int], entries: [Int], emit: (String) -> Void) throws {
        emit("netfilter: UDP from a client namespace to a server namespace over a veth, one datagram per")
        emit("virtual microsecond; the server's INPUT chain holds N rules, N-1 that do not match, then ACCEPT")
        emit(header)
        var chains: [NetfilterChainResult] = []
        for n in rules {
            let r = try netfilterChain(rules: n, packets: chainPackets(n))
            chains.append(r)
            emit(row(r.traffic) + (r.complete ? "" : "  INCOMPLETE: \(r.received) of \(r.packets) received, \(r.accepted) accepted"))
        }
        let base = chains.first { $0.rules == 0 }?.nsPerPacket
        emit("")
        let chainRows = chains.map { r -> [String] in
            let perRule = base.map { r.rules > 0 ? fixed((r.nsPerPacket - $0) / Double(r.rules), 2) : "-" } ?? "-"
            return ["\(r.rules)", "\(r.packets)", fixed(Double(r.packets) / max(r.traffic.wallSeconds, 1e-9), 0),
                    fixed(r.nsPerPacket, 0), perRule,
                    r.rules > 0 ? fixed(r.install.wallSeconds * 1e3, 1) : "-",
                    r.rules > 0 ? fixed(Double(r.install.grownKiB) * 1024 / Double(r.rules), 0) : "-"]
        }
        for l in table(["rules", "packets", "packets/s", "ns/packet", "ns/rule", "install ms", "bytes/rule"], chainRows) { emit(l) }

        guard !entries.isEmpty else { return }
        emit("")
        emit("conntrack: stateful INPUT (ESTABLISHED,RELATED, then NEW to the port); one flow per source")
        emit("address and port, created by its first datagram; lookups are datagrams of existing flows")
        emit(header)
        let probes = 100_000
        let cts = try conntrack(sizes: entries, probes: probes)
        for r in cts {
            emit(row(r.lookup) + (r.complete ? "" : "  INCOMPLETE: \(r.received) received, table holds \(r.tableCount)"))
        }
        emit("")
        let ctRows = cts.map { r -> [String] in
            ["\(r.entries)", "\(r.newFlows)", fixed(Double(r.newFlows) / max(r.fill.wallSeconds, 1e-9), 0),
             fixed(Double(r.fill.grownKiB) * 1024 / Double(max(r.newFlows, 1)), 0),
             "\(r.packets)", fixed(Double(r.packets) / max(r.lookup.wallSeconds, 1e-9), 0), fixed(r.nsPerPacket, 0)]
        }
        for l in table(["entries", "new flows", "new flows/s", "bytes/entry", "lookups", "lookups/s", "ns/lookup"], ctRows) { emit(l) }
        if let a = cts.first, let b = cts.last, a.entries < b.entries {
            let ratio = b.nsPerPacket / a.nsPerPacket
            emit(String(format: "entries %d -> %d: time per packet x%.2f: ", a.entries, b.entries, ratio)
                 + (ratio <= 1.5 ? "constant" : "NOT constant"))
        }
    }
}
