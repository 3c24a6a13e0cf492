// etcdctl and flanneld on several machines sharing one etcd key space. Formats observed with
// etcdctl 3.4.23 (Debian 12) against etcd 3.4 in a namespace; flanneld's behaviour and
// messages read from flannel v0.28.9's source (main.go, pkg/subnet, pkg/backend/udp), its
// kernel requests replayed on Linux 6.18 (see scenarios/flannel-udp.yaml).

import XCTest
import SimCore
import Wire
@testable import NetKernel
@testable import Commands

final class FlannelWorld {
    let kernel: Kernel
    let userland = Userland()
    var sinks: [String: SplitSink] = [:]
    var contexts: [String: ToolContext] = [:]

    init(machines: Int, seed: UInt64 = 11) throws {
        kernel = Kernel(clock: EventQueue(), seed: seed)
        let seg = kernel.addSegment("lan")
        for i in 1...machines {
            let name = String(UnicodeScalar(UInt8(96 + i)))
            let m = kernel.addMachine(name)
            let ns = m.root!
            let nic = try ns.addNIC(name: "eth0", segment: seg)
            try ns.addAddress(IPv4Prefix("192.168.1.\(10 + i)/24")!, broadcast: IPv4Address("192.168.1.255"), scope: nil, label: nil, to: nic)
            ns.setUp(nic, true)
            ns.setUp(ns.loopback, true)
            let sink = SplitSink()
            sinks[name] = sink
            contexts[name] = ToolContext(kernel: kernel, machine: m, namespace: ns, out: sink, epoch: .seconds(1_715_072_400),
                                         userland: userland)
        }
    }

    /// Runs a command line on a machine; background processes are returned.
    @discardableResult
    func run(_ machine: String, _ line: String) -> (out: String, err: String, status: Int32, process: SimProcess?) {
        let sink = sinks[machine]!
        sink.out = ""
        sink.err = ""
        let outcome = Shell.run(try! ShellWords.parse(line).pipeline.last!, contexts[machine]!)
        var status: Int32 = -1
        var process: SimProcess?
        switch outcome {
        case let .finished(s): status = s
        case let .process(p):
            process = p
            if p.isFinished { status = p.exitStatus }
        default: break
        }
        try! kernel.clock.run(until: kernel.clock.now + .milliseconds(2))
        return (sink.out, sink.err, status, process)
    }

    func ns(_ m: String) -> NetNamespace { kernel.machine(named: m)!.root }
    func wait(_ d: SimTime) { try! kernel.clock.run(until: kernel.clock.now + d) }
}

final class EtcdctlTests: XCTestCase {
    /// Observed with etcdctl 3.4.23: put prints OK; get prints key and value lines in key byte
    /// order; --keys-only a blank line after each key; del the number deleted.
    func testPutGetDel() throws {
        let w = try FlannelWorld(machines: 2)
        XCTAssertEqual(w.run("a", "etcdctl put /coreos.com/network/config '{\"Network\": \"10.244.0.0/16\"}'").out, "OK\n")
        w.run("b", "etcdctl put /coreos.com/network/subnets/10.244.9.0-24 x")
        w.run("a", "etcdctl put /coreos.com/network/subnets/10.244.57.0-24 y")
        XCTAssertEqual(w.run("b", "etcdctl get --prefix /coreos.com/network/subnets").out,
                       "/coreos.com/network/subnets/10.244.57.0-24\ny\n/coreos.com/network/subnets/10.244.9.0-24\nx\n")
        XCTAssertEqual(w.run("a", "etcdctl --endpoints=http://192.168.1.11:2379 get /coreos.com/network/config --print-value-only").out,
                       "{\"Network\": \"10.244.0.0/16\"}\n")
        XCTAssertEqual(w.run("a", "etcdctl get --prefix --keys-only /coreos.com/network/subnets").out,
                       "/coreos.com/network/subnets/10.244.57.0-24\n\n/coreos.com/network/subnets/10.244.9.0-24\n\n")
        XCTAssertEqual(w.run("a", "etcdctl get /nothing").out, "")
        XCTAssertEqual(w.run("a", "etcdctl del /coreos.com/network/subnets/10.244.9.0-24").out, "1\n")
        XCTAssertEqual(w.run("a", "etcdctl del --prefix /coreos.com/network/subnets").out, "1\n")
        XCTAssertEqual(w.run("a", "etcdctl del nothing").out, "0\n")
    }

    /// Observed with etcdctl 3.4.23: missing arguments exit 128; an unknown command exits 1
    /// and cobra's text comes twice (the v2 command `set` gets suggestions).
    func testBadInput() throws {
        let w = try FlannelWorld(machines: 1)
        var r = w.run("a", "etcdctl get")
        XCTAssertEqual(r.err, "Error: get command needs one argument as key and an optional argument as range_end\n")
        XCTAssertEqual(r.status, 128)
        r = w.run("a", "etcdctl put /a")
        XCTAssertEqual(r.err, "Error: put command needs 1 argument and input from stdin or 2 arguments\n")
        XCTAssertEqual(r.status, 128)
        r = w.run("a", "etcdctl set /a b")
        let block = "Error: unknown command \"set\" for \"etcdctl\"\n\nDid you mean this?\n\tget\n\tput\n\tdel\n\tuser\n\n"
        XCTAssertEqual(r.err, block + "Run 'etcdctl --help' for usage.\n" + block)
        XCTAssertEqual(r.status, 1)
        // GNU cat on a file nobody wrote.
        r = w.run("a", "cat /run/flannel/subnet.env")
        XCTAssertEqual(r.err, "cat: /run/flannel/subnet.env: No such file or directory\n")
        XCTAssertEqual(r.status, 1)
        r = w.run("a", "etcdctl frobnicate")
        let one = "Error: unknown command \"frobnicate\" for \"etcdctl\"\n"
        XCTAssertEqual(r.err, one + "Run 'etcdctl --help' for usage.\n" + one)
    }
}

final class FlanneldTests: XCTestCase {
    static let udpConfig = "etcdctl put /coreos.com/network/config '{\"Network\": \"10.244.0.0/16\", \"Backend\": {\"Type\": \"udp\"}}'"

    func leases(_ w: FlannelWorld) -> [FlannelLease] {
        FlannelSubnetManager(store: w.userland.etcd, prefix: "/coreos.com/network").leases()
    }

    /// The same seed gives the same leases; each machine's lease is a /24 of the network, its
    /// key holds {"PublicIP":...,"PublicIPv6":null} (the udp backend sets no BackendType), and
    /// subnet.env names the lease's first address.
    func testLeasesAreDeterministic() throws {
        func run(seed: UInt64) throws -> [String] {
            let w = try FlannelWorld(machines: 3, seed: seed)
            w.run("a", FlanneldTests.udpConfig)
            for m in ["a", "b", "c"] { XCTAssertNotNil(w.run(m, "flanneld --iface=eth0").process) }
            return w.userland.etcd.range("/coreos.com/network/subnets", prefix: true).map { $0.key + " " + $0.value }
        }
        let first = try run(seed: 11)
        XCTAssertEqual(first, try run(seed: 11))
        XCTAssertEqual(first.count, 3)
        for (i, line) in first.enumerated() {
            XCTAssertTrue(line.hasPrefix("/coreos.com/network/subnets/10.244."), line)
            XCTAssertTrue(line.contains(".0-24 {\"PublicIP\":\"192.168.1.1"), line)
            XCTAssertTrue(line.hasSuffix("\",\"PublicIPv6\":null}"), "\(i): \(line)")
        }
        let w = try FlannelWorld(machines: 1)
        w.run("a", FlanneldTests.udpConfig)
        w.run("a", "flanneld -iface eth0")
        let sn = try XCTUnwrap(leases(w).first?.subnet)
        XCTAssertEqual(w.run("a", "cat /run/flannel/subnet.env").out,
                       "FLANNEL_NETWORK=10.244.0.0/16\nFLANNEL_SUBNET=\(IPv4Address(raw: sn.address.raw + 1))/24\nFLANNEL_MTU=1472\nFLANNEL_IPMASQ=false\n")
    }

    /// tryAcquireLease(): a restarted flanneld finds the lease of its public IP and keeps it.
    func testRestartReusesTheLease() throws {
        let w = try FlannelWorld(machines: 1)
        w.run("a", FlanneldTests.udpConfig)
        let p = try XCTUnwrap(w.run("a", "flanneld --iface=eth0").process)
        let before = leases(w)
        p.interrupt()
        XCTAssertEqual(p.exitStatus, 0)
        XCTAssertNil(w.ns("a").device(named: "flannel0"), "the TUN goes with flanneld's descriptor")
        w.run("a", "flanneld --iface=192.168.1.11")
        XCTAssertEqual(leases(w), before)
        XCTAssertNotNil(w.ns("a").device(named: "flannel0"))
    }

    /// Three machines, the third started later: each has flannel0 (MTU 1472, the lease's
    /// first address as a /32, a route for the network), and a packet reaches the third
    /// machine's flannel0 address through both relays (the first learnt of the third lease
    /// through its watch).
    func testUDPBackendOnThreeMachines() throws {
        let w = try FlannelWorld(machines: 3)
        w.run("a", FlanneldTests.udpConfig)
        var daemons = [w.run("a", "flanneld --iface=eth0").process, w.run("b", "flanneld --iface=eth0").process]
        w.wait(.seconds(1))
        daemons.append(w.run("c", "flanneld --iface=eth0").process)
        defer { withExtendedLifetime(daemons) {} }
        for m in ["a", "b", "c"] {
            let ns = w.ns(m)
            let tun = try XCTUnwrap(ns.device(named: "flannel0") as? TunDevice)
            XCTAssertEqual(tun.mtu, 1472)
            let mine = try XCTUnwrap(leases(w).first { $0.publicIP == ns.device(named: "eth0")!.addresses[0].local })
            XCTAssertEqual(tun.addresses.map(\.prefix), [IPv4Prefix(address: mine.subnet.address, length: 32)])
            let r = try XCTUnwrap(ns.fib.routes(in: RouteTable.main).first { $0.device === tun })
            XCTAssertEqual(r.destination, IPv4Prefix("10.244.0.0/16")!)
            XCTAssertEqual(r.scope, .universe)
            XCTAssertEqual(w.run(m, "iptables -S FLANNEL-FWD").out,
                           "-N FLANNEL-FWD\n-A FLANNEL-FWD -s 10.244.0.0/16 -m comment --comment \"flanneld forward\" -j ACCEPT\n-A FLANNEL-FWD -d 10.244.0.0/16 -m comment --comment \"flanneld forward\" -j ACCEPT\n")
        }
        let cTun = w.ns("c").device(named: "flannel0")!.addresses[0].local
        let s = w.ns("a").openRawSocket(proto: .icmp)
        var replies: [Packet] = []
        s.onReceive = { replies.append($0) }
        try s.send(to: cTun, payload: ICMPv4Packet.echo(request: true, identifier: 1, sequence: 1, payload: []).bytes)
        w.wait(.milliseconds(5))
        let reply = try XCTUnwrap(replies.first)
        // 64, less one for each relay on the way back (the answer is C's own).
        XCTAssertEqual(IPv4View.ttl(reply.bytes, at: reply.network), 62)
    }

    /// decrement_ttl(): the checksum stays right (the common case of the C code's patch).
    func testTTLDecrementKeepsTheChecksum() throws {
        var h = IPv4Header(totalLength: 20, dontFragment: true, ttl: 64, proto: .icmp,
                           source: IPv4Address("10.244.1.2")!, destination: IPv4Address("10.244.2.2")!, tos: 0)
        h.identification = 0x1234
        var b = [UInt8](repeating: 0, count: 20)
        h.emit(into: &b, at: 0)
        XCTAssertTrue(FlannelUDPBackend.decrementTTL(&b))
        XCTAssertEqual(b[8], 63)
        XCTAssertTrue(try IPv4Header.parse(b, at: 0).1, "checksum still valid")
        b[8] = 1
        XCTAssertFalse(FlannelUDPBackend.decrementTTL(&b))
    }

    /// klog's header: severity, MMDD, time to the microsecond, the pid in 7 columns, file:line.
    func testKlogHeader() {
        XCTAssertEqual(Flanneld.klogHeader("E", wall: .seconds(1_715_072_400) + .microseconds(123), pid: 345, file: "main.go", line: 536),
                       "E0507 09:00:00.000123     345 main.go:536] ")
    }

    /// Without a config flanneld keeps trying every second (main.go getConfig()), printing its
    /// error and "timed out"; once the config is there it starts.
    func testNoConfigRetriesUntilTheConfigIsThere() throws {
        let w = try FlannelWorld(machines: 1)
        let r = w.run("a", "flanneld --iface=eth0")
        let p = try XCTUnwrap(r.process)
        XCTAssertTrue(r.err.hasPrefix("E0507 09:00:00.000000 "), r.err)
        XCTAssertTrue(r.err.hasSuffix(" main.go:536] Couldn't fetch network config: flannel config not found in etcd store. Did you create your config using etcdv3 API?\n"), r.err)
        w.wait(.seconds(1))
        XCTAssertEqual(w.sinks["a"]!.out, "timed out\n")
        w.run("a", FlanneldTests.udpConfig)
        w.wait(.seconds(1))
        XCTAssertFalse(p.isFinished)
        XCTAssertNotNil(w.ns("a").device(named: "flannel0"))
        // A config that does not parse is reported the same way, as Go's encoding/json says it.
        let w2 = try FlannelWorld(machines: 1)
        w2.run("a", "etcdctl put /coreos.com/network/config '{\"Network\": 10.244.0.0/16}'")
        let r2 = w2.run("a", "flanneld")
        XCTAssertTrue(r2.err.hasSuffix("] Couldn't fetch network config: invalid character '.' after object key:value pair\n"), r2.err)
        w2.run("a", "etcdctl put /coreos.com/network/config '{\"Backend\": {\"Type\": \"udp\"}}'")
        w2.wait(.seconds(1))
        XCTAssertTrue(w2.sinks["a"]!.err.hasSuffix("] Couldn't fetch network config: please define a correct Network parameter in the flannel config\n"), w2.sinks["a"]!.err)
        withExtendedLifetime(r2.process) {}
    }

    /// A network with room for three subnets (/28 -> /30 subnets .4, .8, .12): the fourth
    /// machine's flanneld exits 1 with RegisterNetwork's error.
    func testNetworkFull() throws {
        let w = try FlannelWorld(machines: 4)
        w.run("a", "etcdctl put /coreos.com/network/config '{\"Network\": \"10.244.0.0/28\", \"Backend\": {\"Type\": \"udp\"}}'")
        for m in ["a", "b", "c"] { XCTAssertNotNil(w.run(m, "flanneld --iface=eth0").process) }
        XCTAssertEqual(Set(leases(w).map { "\($0.subnet)" }), ["10.244.0.4/30", "10.244.0.8/30", "10.244.0.12/30"])
        let r = w.run("d", "flanneld --iface=eth0")
        XCTAssertEqual(r.status, 1)
        XCTAssertTrue(r.err.hasSuffix(" main.go:384] Error registering network: failed to acquire lease: out of subnets\n"), r.err)
        XCTAssertNil(w.ns("d").device(named: "flannel0"))
    }

    /// Interface lookup failures (main.go): --iface that matches nothing, no default route.
    func testNoInterface() throws {
        let w = try FlannelWorld(machines: 1)
        w.run("a", FlanneldTests.udpConfig)
        var r = w.run("a", "flanneld --iface=eth9")
        XCTAssertEqual(r.status, 1)
        XCTAssertTrue(r.err.hasSuffix(" main.go:367] Failed to find interface to use that matches the interfaces and/or regexes provided\n"), r.err)
        r = w.run("a", "flanneld")
        XCTAssertEqual(r.status, 1)
        XCTAssertTrue(r.err.hasSuffix(" main.go:328] Failed to find any valid interface to use: failed to get default interface: unable to find default route\n"), r.err)
        r = w.run("a", "etcdctl put /coreos.com/network/config '{\"Network\": \"10.244.0.0/16\", \"Backend\": {\"Type\": \"bogus\"}}'")
        r = w.run("a", "flanneld --iface=eth0")
        XCTAssertTrue(r.err.hasSuffix(" main.go:376] Error fetching backend: unknown backend type: bogus\n"), r.err)
    }

    static let vxlanConfig = "etcdctl put /coreos.com/network/config '{\"Network\": \"10.244.0.0/16\", \"Backend\": {\"Type\": \"vxlan\"}}'"

    /// The vxlan backend on three machines, the third started a second later: each machine
    /// has flannel.1 (VNI 1, local = its address, dev eth0, nolearning, port 8472, MTU 1450)
    /// with its lease's network address as a /32, and for every other lease a permanent
    /// neighbour, an FDB entry to the other machine and an onlink route, in lease key order
    /// at start and as the watch reports later leases. Observed on Linux 6.18 with the same
    /// requests as ip/bridge commands: the listings below.
    func testVXLANBackendOnThreeMachines() throws {
        let w = try FlannelWorld(machines: 3)
        w.run("a", FlanneldTests.vxlanConfig)
        var daemons = [w.run("a", "flanneld --iface=eth0").process, w.run("b", "flanneld --iface=eth0").process]
        w.wait(.seconds(1))
        daemons.append(w.run("c", "flanneld --iface=eth0").process)
        defer { withExtendedLifetime(daemons) {} }
        let all = leases(w)
        XCTAssertEqual(all.count, 3)
        for m in ["a", "b", "c"] {
            let ns = w.ns(m)
            let dev = try XCTUnwrap(ns.device(named: "flannel.1") as? VXLANDevice)
            let me = ns.device(named: "eth0")!.addresses[0].local
            let mine = try XCTUnwrap(all.first { $0.publicIP == me })
            XCTAssertEqual(mine.backendType, "vxlan")
            XCTAssertEqual(mine.backendData, "{\"VNI\":1,\"VtepMAC\":\"\(dev.mac)\"}")
            XCTAssertEqual(dev.mtu, 1450)
            XCTAssertEqual(dev.config.dstPort, 8472)
            XCTAssertFalse(dev.config.learning)
            XCTAssertEqual(dev.config.local, me)
            XCTAssertEqual(dev.addresses.map(\.prefix), [IPv4Prefix(address: mine.subnet.address, length: 32)])
            let others = all.filter { $0.publicIP != me }
            var routes = "", neigh = "", fdb = ""
            for l in others {
                let mac = try XCTUnwrap(l.vxlanAttrs?.vtepMAC)
                routes += "\(l.subnet) via \(l.subnet.address) dev flannel.1 onlink \n"
                neigh += "\(l.subnet.address) lladdr \(mac) PERMANENT \n"
                fdb += "\(mac) dst \(l.publicIP) self permanent\n"
            }
            // `ip route` lists in address order, the leases came in key order.
            XCTAssertEqual(Set(w.run(m, "ip route show dev flannel.1").out.split(separator: "\n")),
                           Set(routes.replacingOccurrences(of: "dev flannel.1 ", with: "").split(separator: "\n")), m)
            XCTAssertEqual(Set(w.run(m, "ip neigh show dev flannel.1").out.split(separator: "\n")), Set(neigh.split(separator: "\n")), m)
            // `bridge fdb show dev flannel.1` prints these as "MAC dst IP self permanent".
            let entries = dev.fdb.entries.filter { !$0.mac.isMulticast }
            XCTAssertEqual(Set(entries.map { "\($0.mac) dst \($0.remotes[0].ip) self permanent" }), Set(fdb.split(separator: "\n").map(String.init)), m)
            XCTAssertTrue(entries.allSatisfy { $0.state == .permanent && $0.flags.contains(.self) })
            XCTAssertEqual(w.run(m, "cat /run/flannel/subnet.env").out.split(separator: "\n")[2], "FLANNEL_MTU=1450")
        }
        // A ping between the machines' flannel.1 addresses crosses the overlay (no ARP needed).
        let cAddr = w.ns("c").device(named: "flannel.1")!.addresses[0].local
        let s = w.ns("a").openRawSocket(proto: .icmp)
        var replies = 0
        s.onReceive = { _ in replies += 1 }
        try s.send(to: cAddr, payload: ICMPv4Packet.echo(request: true, identifier: 1, sequence: 1, payload: []).bytes)
        w.wait(.milliseconds(5))
        XCTAssertEqual(replies, 1)
        // flanneld stops; flannel.1 and what it programmed stay.
        daemons[0]?.interrupt()
        XCTAssertNotNil(w.ns("a").device(named: "flannel.1"))
    }

    /// vxlan: the device is made before the lease is taken, so a full network leaves a
    /// flannel.1 that is down and has no address.
    func testVXLANNetworkFull() throws {
        let w = try FlannelWorld(machines: 2)
        w.run("a", "etcdctl put /coreos.com/network/config '{\"Network\": \"10.244.0.0/28\", \"SubnetMin\": \"10.244.0.4\", \"SubnetMax\": \"10.244.0.4\", \"Backend\": {\"Type\": \"vxlan\"}}'")
        let p = w.run("a", "flanneld --iface=eth0").process
        defer { withExtendedLifetime(p) {} }
        let r = w.run("b", "flanneld --iface=eth0")
        XCTAssertEqual(r.status, 1)
        XCTAssertTrue(r.err.hasSuffix(" main.go:384] Error registering network: failed to acquire lease: out of subnets\n"), r.err)
        let dev = try XCTUnwrap(w.ns("b").device(named: "flannel.1"))
        XCTAssertFalse(dev.adminUp)
        XCTAssertTrue(dev.addresses.isEmpty)
    }

    /// send_net_unreachable(): a UDP datagram to a subnet nobody leases comes back as an ICMP
    /// net unreachable from flannel0's address with TTL 8; an echo request gets nothing.
    func testUDPBackendNetUnreachable() throws {
        let w = try FlannelWorld(machines: 1)
        w.run("a", FlanneldTests.udpConfig)
        let p = w.run("a", "flanneld --iface=eth0").process
        defer { withExtendedLifetime(p) {} }
        let ns = w.ns("a")
        let tun = try XCTUnwrap(ns.device(named: "flannel0"))
        var incoming: [[UInt8]] = []
        tun.addTap(PacketTap(promiscuous: false) { _, b, d in if d == .incoming { incoming.append(b) } })
        let s = ns.openUDPSocket()
        try s.send([1, 2, 3], to: IPv4Address("10.244.200.2")!, port: 53)
        let raw = ns.openRawSocket(proto: .icmp)
        try raw.send(to: IPv4Address("10.244.200.2")!, payload: ICMPv4Packet.echo(request: true, identifier: 1, sequence: 1, payload: []).bytes)
        w.wait(.milliseconds(5))
        XCTAssertEqual(incoming.count, 1)
        let icmp = try XCTUnwrap(incoming.first)
        XCTAssertEqual(icmp[8], 8, "TTL 8")
        XCTAssertEqual(IPv4View.source(icmp, at: 0), tun.addresses[0].local)
        XCTAssertEqual(Array(icmp[20...21]), [3, 0], "destination unreachable, net")
        XCTAssertTrue(try IPv4Header.parse(icmp, at: 0).1)
        XCTAssertEqual(icmp.count, 20 + 8 + 20 + 8)
    }
}
