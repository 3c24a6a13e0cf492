// traceroute 2.1.2 in the routed lab, against what the real one printed on Linux 6.18
// (6.18.44-fc-v595, Debian traceroute 1:2.1.2-1) in namespaces tu_a (10.0.1.2/24, default via
// 10.0.1.1) -- tu_r (10.0.1.1/24 | 10.0.2.1/24, ip_forward 1) -- tu_b (10.0.2.2/24, default
// via 10.0.2.1), IPv6 off. Round-trip times differ (the real ones include scheduling; here a
// veth hop takes 8 us), so outputs are compared with every "N.NNN ms" written "X ms"; the
// simulated ones are checked exactly too, and so are the run times the real runs took.

import XCTest
import SimCore
import NetKernel
@testable import Commands

final class TracerouteTests: XCTestCase {
    /// Builds the lab with the same commands as the real run.
    func routedLab(seed: UInt64 = 1) -> Lab {
        let lab = Lab(seed: seed)
        lab.run("""
        ip netns add tu_a
        ip netns add tu_r
        ip netns add tu_b
        tu_a> ip link add eth0 type veth peer name ra netns tu_r
        tu_b> ip link add eth0 type veth peer name rb netns tu_r
        tu_a> ip addr add 10.0.1.2/24 dev eth0
        tu_b> ip addr add 10.0.2.2/24 dev eth0
        tu_r> ip addr add 10.0.1.1/24 dev ra
        tu_r> ip addr add 10.0.2.1/24 dev rb
        tu_a> ip link set eth0 up
        tu_b> ip link set eth0 up
        tu_r> ip link set ra up
        tu_r> ip link set rb up
        tu_a> ip link set lo up
        tu_r> ip link set lo up
        tu_b> ip link set lo up
        tu_a> ip route add default via 10.0.1.1
        tu_b> ip route add default via 10.0.2.1
        tu_r> sysctl -q -w net.ipv4.ip_forward=1
        """)
        return lab
    }

    struct Run {
        var out: String
        var err: String
        var status: Int32
        /// Virtual time from the command to the process's exit.
        var elapsed: SimTime
    }

    /// Runs a command line to its end, following a process on the virtual clock.
    func run(_ lab: Lab, _ line: String, limit: SimTime = .seconds(200)) -> Run {
        lab.sink.out = ""
        lab.sink.err = ""
        let t0 = lab.kernel.clock.now
        var status: Int32 = -1
        var end = t0
        switch Shell.run(Lab.argv(line), lab.ctx) {
        case let .finished(s):
            status = s
        case let .process(p):
            p.onExit = { s in status = s; end = lab.kernel.clock.now }
            var t = t0
            while !p.isFinished && t < t0 + limit {
                t = t + .milliseconds(100)
                try! lab.kernel.clock.run(until: t)
            }
            XCTAssertTrue(p.isFinished, "`\(line)` did not end")
        default:
            XCTFail("`\(line)` is not a command or a process")
        }
        try! lab.kernel.clock.run(until: lab.kernel.clock.now + .milliseconds(10))
        return Run(out: lab.sink.out, err: lab.sink.err, status: status, elapsed: end - t0)
    }

    func sleep(_ lab: Lab, _ seconds: Double) {
        try! lab.kernel.clock.run(until: lab.kernel.clock.now + .nanoseconds(Int64(seconds * 1e9)))
    }

    /// Every round-trip time as "X ms".
    static func normalized(_ s: String) -> String {
        var out = ""
        var rest = Substring(s)
        while let r = rest.range(of: " ms") {
            var k = r.lowerBound
            while k > rest.startIndex, let c = rest[rest.index(before: k)].asciiValue, c == 0x2e || (0x30...0x39).contains(c) {
                k = rest.index(before: k)
            }
            out += rest[..<k] + (k == r.lowerBound ? "" : "X") + " ms"
            rest = rest[r.upperBound...]
        }
        return out + rest
    }

    func assertLike(_ actual: String, _ real: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(Self.normalized(actual), Self.normalized(real + "\n"), "\n--- simulated:\n\(actual)--- real:\n\(real)\n",
                       file: file, line: line)
    }

    func seconds(_ t: SimTime) -> Double { Double(t.ns) / 1e9 }

    // MARK: - The runs of the lab

    /// Observed, in a fresh lab (neighbour caches empty), then again at once, then 1.2 s later:
    /// the destination's per-destination ICMP bucket (6 tokens, one a second) answers 6 of the
    /// first window's 13 probes to it, none of the second run's first window, and 5 of the
    /// window the 5 s timeout lets out (hop 7); the third run finds one token.
    func testThreeRunsAndTheRateLimit() {
        let lab = routedLab()
        let r1 = run(lab, "tu_a> traceroute -n 10.0.2.2")
        XCTAssertEqual(r1.status, 0)
        XCTAssertEqual(r1.err, "")
        assertLike(r1.out, """
        traceroute to 10.0.2.2 (10.0.2.2), 30 hops max, 60 byte packets
         1  10.0.1.1  1.519 ms  1.184 ms  1.157 ms
         2  10.0.2.2  1.104 ms  0.792 ms  0.757 ms
        """)
        XCTAssertLessThan(seconds(r1.elapsed), 0.01, "the real run took 0.00 s")

        let r2 = run(lab, "tu_a> traceroute -n 10.0.2.2")
        assertLike(r2.out, """
        traceroute to 10.0.2.2 (10.0.2.2), 30 hops max, 60 byte packets
         1  10.0.1.1  0.024 ms  0.011 ms  0.010 ms
         2  * * *
         3  * * *
         4  * * *
         5  * * *
         6  * * *
         7  * 10.0.2.2  0.056 ms  0.026 ms
        """)
        // Real: 5.01 s (the 5 s timeout, then poll()'s slack).
        XCTAssertEqual(seconds(r2.elapsed), 5.0, accuracy: 0.02)

        sleep(lab, 1.2)
        let r3 = run(lab, "tu_a> traceroute -n 10.0.2.2")
        assertLike(r3.out, """
        traceroute to 10.0.2.2 (10.0.2.2), 30 hops max, 60 byte packets
         1  10.0.1.1  0.702 ms  0.585 ms  0.564 ms
         2  10.0.2.2  0.418 ms * *
        """)

        // The simulated times themselves: veth hops of 8 us; the first probe of each hop waits
        // for ARP, the others (sent 40 us apart) find the neighbour resolved.
        XCTAssertEqual(r1.out, """
        traceroute to 10.0.2.2 (10.0.2.2), 30 hops max, 60 byte packets
         1  10.0.1.1  0.032 ms  0.016 ms  0.016 ms
         2  10.0.2.2  0.048 ms  0.032 ms  0.032 ms

        """)
    }

    /// Observed 6 s after other traffic: ten probes to the neighbour, six answered; the four
    /// others time out after 3 x (RTT + 1 ms) (the HERE factor), not 5 s.
    func testTenQueriesToTheNeighbour() {
        let lab = routedLab()
        let r = run(lab, "tu_a> traceroute -n -q 10 10.0.1.1")
        assertLike(r.out, """
        traceroute to 10.0.1.1 (10.0.1.1), 30 hops max, 60 byte packets
         1  10.0.1.1  0.345 ms  0.279 ms  0.257 ms  0.230 ms  0.213 ms  0.203 ms * * * *
        """)
        XCTAssertLessThan(seconds(r.elapsed), 0.01)
    }

    /// Observed (each 7 s after the previous): tu_r without a route to 192.0.2.1 answers two
    /// probes with "net unreachable" (ip_error()'s bucket and the per-destination one share the
    /// peer); `unreachable 10.9.9.0/24` gives !H, `prohibit 10.8.8.0/24` !X. The third probe
    /// expires after 3 x its hop's RTT.
    func testUnreachableAnnotations() {
        let lab = routedLab()
        lab.run("""
        tu_r> ip route add unreachable 10.9.9.0/24
        tu_r> ip route add prohibit 10.8.8.0/24
        """)
        let expected = [
            ("192.0.2.1", " 1  10.0.1.1  0.262 ms !N  0.220 ms !N *"),
            ("10.9.9.9", " 1  10.0.1.1  0.049 ms !H  0.014 ms !H *"),
            ("10.8.8.8", " 1  10.0.1.1  0.477 ms !X  0.316 ms !X *"),
        ]
        for (dst, line) in expected {
            sleep(lab, 7)
            let r = run(lab, "tu_a> traceroute -n \(dst)")
            assertLike(r.out, "traceroute to \(dst) (\(dst)), 30 hops max, 60 byte packets\n" + line)
            XCTAssertEqual(r.status, 0)
        }
    }

    /// Observed: nobody has 10.0.2.9; tu_r's three ARP requests go unanswered and 3.075 s
    /// later it sends six "host unreachable" for the probes queued on that neighbour: hop 2
    /// prints !H three times. The real run took 3.08 s.
    func testHostUnreachableAfterARPFails() {
        let lab = routedLab()
        _ = run(lab, "tu_a> ping -c 1 -W 1 10.0.1.1")
        let r = run(lab, "tu_a> traceroute -n 10.0.2.9")
        assertLike(r.out, """
        traceroute to 10.0.2.9 (10.0.2.9), 30 hops max, 60 byte packets
         1  10.0.1.1  0.065 ms  0.015 ms  0.011 ms
         2  10.0.1.1  3074.859 ms !H  3074.828 ms !H  3074.808 ms !H
        """)
        XCTAssertEqual(seconds(r.elapsed), 3.05, accuracy: 0.05)
        let rtt = r.out.split(separator: "\n")[2].split(separator: " ")[2]
        XCTAssertEqual(Double(rtt) ?? 0, 3050, accuracy: 50)
    }

    /// Observed with -w 1 -q 5 towards 10.0.2.9: every probe beyond hop 1 expires after 1 s
    /// (the router's host unreachables come 3 s after the probes they quote, whose sockets are
    /// closed by then, and only as many as its bucket allows); 29 lines of stars in 10.02 s.
    func testAllStarsWithAShortWait() {
        let lab = routedLab()
        let r = run(lab, "tu_a> traceroute -n -w 1 -q 5 10.0.2.9")
        var real = "traceroute to 10.0.2.9 (10.0.2.9), 30 hops max, 60 byte packets\n"
        real += " 1  10.0.1.1  0.034 ms  0.008 ms  0.006 ms  0.006 ms  0.006 ms"
        for hop in 2...30 { real += "\n" + (hop < 10 ? " " : "") + "\(hop)  * * * * *" }
        assertLike(r.out, real)
        XCTAssertEqual(seconds(r.elapsed), 10.02, accuracy: 0.1)
    }

    /// Observed with `iptables -A OUTPUT -p icmp --icmp-type time-exceeded -j DROP` on tu_r:
    /// hop 1 stays silent, and its probes give up after NEAR (10) x the RTT of the answered
    /// hop-2 probes: the run took 0.03 s; with -w 5,3,0 (no NEAR factor) it took 5.01 s.
    func testNearFactor() {
        let lab = routedLab()
        lab.run("tu_r> iptables -A OUTPUT -p icmp --icmp-type time-exceeded -j DROP")
        let fast = run(lab, "tu_a> traceroute -n 10.0.2.2")
        assertLike(fast.out, """
        traceroute to 10.0.2.2 (10.0.2.2), 30 hops max, 60 byte packets
         1  * * *
         2  10.0.2.2  0.039 ms  0.014 ms  0.014 ms
        """)
        XCTAssertLessThan(seconds(fast.elapsed), 0.05)
        sleep(lab, 7)
        let slow = run(lab, "tu_a> traceroute -n -w 5,3,0 10.0.2.2")
        assertLike(slow.out, """
        traceroute to 10.0.2.2 (10.0.2.2), 30 hops max, 60 byte packets
         1  * * *
         2  10.0.2.2  0.021 ms  0.013 ms  0.012 ms
        """)
        XCTAssertEqual(seconds(slow.elapsed), 5.01, accuracy: 0.02)
    }

    /// Observed with `iptables -t nat -A POSTROUTING -o rb -j MASQUERADE` on tu_r: the trace
    /// is the same (the errors are translated back), and the probes reach tu_b from 10.0.2.1
    /// with the offloaded checksum moved with the address: 0x173d became 0x183c
    /// (tcpdump -vv on tu_b: "10.0.2.1.36504 > 10.0.2.2.33437: [bad udp cksum 0x183c -> ...]").
    func testThroughMasquerade() {
        let lab = routedLab()
        lab.run("tu_r> iptables -t nat -A POSTROUTING -o rb -j MASQUERADE")
        var onB: [[UInt8]] = []
        lab.machine.namespace(named: "tu_b")!.device(named: "eth0")!.addTap(PacketTap(promiscuous: true) { _, b, dir in
            if dir == .incoming && b.count > 34 && b[23] == 17 { onB.append(b) }
        })
        let r = run(lab, "tu_a> traceroute -n 10.0.2.2")
        assertLike(r.out, """
        traceroute to 10.0.2.2 (10.0.2.2), 30 hops max, 60 byte packets
         1  10.0.1.1  0.181 ms  0.018 ms  0.028 ms
         2  10.0.2.2  0.266 ms  0.055 ms  0.052 ms
        """)
        XCTAssertFalse(onB.isEmpty)
        for f in onB {
            XCTAssertEqual(f.u32(at: 26), 0x0a00_0201, "source 10.0.2.1")
            XCTAssertEqual(f.u16(at: 40), 0x183c)
        }
    }

    /// Observed, each 7 s after the previous: the options the labs use.
    func testOptions() {
        let lab = routedLab()
        let cases: [(String, String)] = [
            ("-n -N 1 10.0.2.2", """
            traceroute to 10.0.2.2 (10.0.2.2), 30 hops max, 60 byte packets
             1  10.0.1.1  0.048 ms  0.010 ms  0.007 ms
             2  10.0.2.2  0.025 ms  0.010 ms  0.009 ms
            """),
            ("-n -f 2 10.0.2.2", """
            traceroute to 10.0.2.2 (10.0.2.2), 30 hops max, 60 byte packets
             2  10.0.2.2  0.045 ms  0.010 ms  0.009 ms
            """),
            ("-n -p 40000 10.0.2.2", """
            traceroute to 10.0.2.2 (10.0.2.2), 30 hops max, 60 byte packets
             1  10.0.1.1  0.562 ms  0.520 ms  0.504 ms
             2  10.0.2.2  0.490 ms  0.442 ms  0.421 ms
            """),
            ("-n -U 10.0.2.2", """
            traceroute to 10.0.2.2 (10.0.2.2), 30 hops max, 60 byte packets
             1  10.0.1.1  0.584 ms  0.528 ms  0.506 ms
             2  10.0.2.2  0.489 ms  0.460 ms  0.440 ms
            """),
            ("-n -m 1 10.0.2.2", """
            traceroute to 10.0.2.2 (10.0.2.2), 1 hops max, 60 byte packets
             1  10.0.1.1  0.052 ms  0.010 ms  0.009 ms
            """),
            ("-n -q 1 10.0.2.2", """
            traceroute to 10.0.2.2 (10.0.2.2), 30 hops max, 60 byte packets
             1  10.0.1.1  0.412 ms
             2  10.0.2.2  0.348 ms
            """),
            ("-n -I 10.0.2.2", """
            traceroute to 10.0.2.2 (10.0.2.2), 30 hops max, 60 byte packets
             1  10.0.1.1  0.274 ms  0.272 ms  0.286 ms
             2  10.0.2.2  0.301 ms  0.292 ms  0.285 ms
            """),
            ("-n 10.0.2.2 100", """
            traceroute to 10.0.2.2 (10.0.2.2), 30 hops max, 100 byte packets
             1  10.0.1.1  0.047 ms  0.082 ms  0.015 ms
             2  10.0.2.2  0.023 ms  0.011 ms  0.009 ms
            """),
            ("-n 10.0.2.2 20", """
            traceroute to 10.0.2.2 (10.0.2.2), 30 hops max, 28 byte packets
             1  10.0.1.1  0.065 ms  0.010 ms  0.009 ms
             2  10.0.2.2  0.019 ms  0.013 ms  0.012 ms
            """),
        ]
        for (args, real) in cases {
            sleep(lab, 7)
            let r = run(lab, "tu_a> traceroute \(args)")
            assertLike(r.out, real)
            XCTAssertEqual(r.status, 0, args)
        }
        // Without -n the address is also its name (no DNS here, as in the lab).
        sleep(lab, 7)
        let r = run(lab, "tu_a> traceroute -q 1 10.0.2.2")
        assertLike(r.out, """
        traceroute to 10.0.2.2 (10.0.2.2), 30 hops max, 60 byte packets
         1  10.0.1.1 (10.0.1.1)  0.412 ms
         2  10.0.2.2 (10.0.2.2)  0.348 ms
        """)
    }

    /// Observed: the probes of -U go to port 53, of -p 40000 to 40000 and up, of -I are echo
    /// requests with the pid as identifier and sequence 1 and up; 32 data bytes 0x40...0x5f.
    func testProbesOnTheWire() throws {
        let lab = routedLab()
        let eth0 = lab.machine.namespace(named: "tu_a")!.device(named: "eth0")!
        var frames: [[UInt8]] = []
        eth0.addTap(PacketTap(promiscuous: true) { _, b, dir in if dir == .outgoing { frames.append(b) } })
        _ = run(lab, "tu_a> traceroute -n -q 1 -m 2 10.0.2.2")
        let udp = frames.filter { $0.count > 34 && $0[23] == 17 }
        XCTAssertEqual(udp.map { $0.u16(at: 36) }, [33434, 33435])
        XCTAssertEqual(udp.map { $0[22] }, [1, 2], "TTL")
        XCTAssertEqual(udp.map { $0.u16(at: 20) & 0x4000 }, [0, 0], "no DF (IP_PMTUDISC_DONT)")
        XCTAssertEqual(Array(udp[0][42...]), (0..<32).map { UInt8(0x40 + $0) })
        XCTAssertNotEqual(udp[0].u16(at: 34), udp[1].u16(at: 34), "one socket, one source port per probe")
        frames.removeAll()
        sleep(lab, 7)
        _ = run(lab, "tu_a> traceroute -n -U -q 1 -m 2 10.0.2.2")
        XCTAssertEqual(frames.filter { $0.count > 34 && $0[23] == 17 }.map { $0.u16(at: 36) }, [53, 53])
        frames.removeAll()
        sleep(lab, 7)
        _ = run(lab, "tu_a> traceroute -n -I -q 1 -m 2 10.0.2.2")
        let echo = frames.filter { $0.count > 34 && $0[23] == 1 && $0[34] == 8 }
        XCTAssertEqual(echo.map { $0.u16(at: 40) }, [1, 2])
        XCTAssertEqual(echo.map { $0.count }, [74, 74], "60-byte packets")
    }

    // MARK: - Errors

    /// Observed: the messages of traceroute 2.1.2's command-line parser, all exit 2 on stderr.
    func testCommandLineErrors() {
        let lab = routedLab()
        let cases: [(String, String)] = [
            ("traceroute -n", "Specify \"host\" missing argument."),
            ("traceroute -n nosuchhost", "nosuchhost: Name or service not known\nCannot handle \"host\" cmdline arg `nosuchhost' on position 1 (argc 2)"),
            ("traceroute -n -m 0 10.0.2.2", "first hop out of range"),
            ("traceroute -n -m 256 10.0.2.2", "max hops cannot be more than 255"),
            ("traceroute -n -q 11 10.0.2.2", "no more than 10 probes per hop"),
            ("traceroute -n -q 0 10.0.2.2", "no more than 10 probes per hop"),
            ("traceroute -n -f 5 -m 3 10.0.2.2", "first hop out of range"),
            ("traceroute -n -f 0 10.0.2.2", "first hop out of range"),
            ("traceroute -n -w x 10.0.2.2", "Cannot handle `-w' option with arg `x' (argc 3)"),
            ("traceroute -n -w -1 10.0.2.2", "bad wait specifications `-1,0,0' used"),
            ("traceroute -n -w 1,2,3,4 10.0.2.2", "Cannot handle `-w' option with arg `1,2,3,4' (argc 3)"),
            ("traceroute -n -Z 10.0.2.2", "Bad option `-Z' (argc 2)"),
            ("traceroute -n -m", "Option `-m' (argc 2) requires an argument: `-m max_ttl'"),
            ("traceroute -n -m x 10.0.2.2", "Cannot handle `-m' option with arg `x' (argc 3)"),
            ("traceroute -n -mx 10.0.2.2", "Cannot handle `-m' option with arg `x' (argc 2)"),
            ("traceroute -nq 11 10.0.2.2", "no more than 10 probes per hop"),
            ("traceroute -n --max-hops 10.0.2.2", "Option `--max-hops' (argc 2) requires an argument: `--max-hops=max_ttl'"),
            ("traceroute -n --max-hops=0 10.0.2.2", "first hop out of range"),
            ("traceroute -n --foo 10.0.2.2", "Bad option `--foo' (argc 2)"),
            ("traceroute 10.0.2.2 abc", "Cannot handle \"packetlen\" cmdline arg `abc' on position 2 (argc 2)"),
            ("traceroute -n 10.0.2.2 70000", "too big packetlen 70000 specified"),
            ("traceroute -n 10.0.2.2 100 200", "Extra arg `200' (position 3, argc 4)"),
            ("traceroute -n -z -1 10.0.2.2", "bad sendtime `-1' specified"),
        ]
        for (cmd, message) in cases {
            let r = run(lab, "tu_a> " + cmd)
            XCTAssertEqual(r.err, message + "\n", cmd)
            XCTAssertEqual(r.out, "", cmd)
            XCTAssertEqual(r.status, 2, cmd)
        }
        // No arguments, and --help: the help on stderr, status 0 (87 lines on Linux).
        for cmd in ["traceroute", "traceroute --help"] {
            let r = run(lab, cmd)
            XCTAssertEqual(r.status, 0)
            XCTAssertEqual(r.err.split(separator: "\n", omittingEmptySubsequences: false).count - 1, 87)
            XCTAssertTrue(r.err.hasPrefix("Usage:\n  traceroute [ -46dFITnreAUDV ] [ -f first_ttl ]"))
        }
        let v = run(lab, "traceroute -V")
        XCTAssertEqual(v.out, "Modern traceroute for Linux, version 2.1.2\nCopyright (c) 2016  Dmitry Butskoy,   License: GPL v2 or any later\n")
    }

    /// Observed in a namespace with only 10.5.0.1/24 and routes `unreachable 10.6.0.0/16`,
    /// `prohibit 10.7.0.0/16`, `blackhole 10.8.0.0/16`: the header on stdout without its
    /// newline, then "\nconnect: <strerror>" on stderr, status 1.
    func testRouteErrorsEndTheRun() {
        let lab = routedLab()
        lab.run("""
        ip netns add tu_c
        tu_c> ip link add d0 type veth peer name d1
        tu_c> ip addr add 10.5.0.1/24 dev d0
        tu_c> ip link set d0 up
        tu_c> ip link set d1 up
        tu_c> ip route add unreachable 10.6.0.0/16
        tu_c> ip route add prohibit 10.7.0.0/16
        tu_c> ip route add blackhole 10.8.0.0/16
        """)
        for (dst, msg) in [("192.0.2.1", "Network is unreachable"), ("10.6.0.1", "No route to host"),
                           ("10.7.0.1", "Permission denied"), ("10.8.0.1", "Invalid argument")] {
            let r = run(lab, "tu_c> traceroute -n \(dst)")
            XCTAssertEqual(r.out, "traceroute to \(dst) (\(dst)), 30 hops max, 60 byte packets")
            XCTAssertEqual(r.err, "\nconnect: \(msg)\n")
            XCTAssertEqual(r.status, 1)
        }
    }

    /// Observed: `ping -c1 -W1 -t 1 10.0.2.2` from tu_a.
    func testPingWithTTLOne() {
        let lab = routedLab()
        let r = run(lab, "tu_a> ping -c1 -W1 -t 1 10.0.2.2")
        XCTAssertEqual(r.out, """
        PING 10.0.2.2 (10.0.2.2) 56(84) bytes of data.
        From 10.0.1.1 icmp_seq=1 Time to live exceeded

        --- 10.0.2.2 ping statistics ---
        1 packets transmitted, 0 received, +1 errors, 100% packet loss, time 0ms


        """)
        XCTAssertEqual(r.status, 1)
    }

    /// Ctrl-C ends the run with what was printed so far (a second run, so hop 2 waits 5 s).
    func testInterrupt() {
        let lab = routedLab()
        _ = run(lab, "tu_a> traceroute -n 10.0.2.2")
        lab.sink.out = ""
        guard case let .process(p) = Shell.run(Lab.argv("tu_a> traceroute -n 10.0.2.2"), lab.ctx) else {
            return XCTFail("not a process")
        }
        try! lab.kernel.clock.run(until: lab.kernel.clock.now + .seconds(1))
        XCTAssertFalse(p.isFinished)
        p.interrupt()
        XCTAssertEqual(p.exitStatus, 130)
        // Hop 2's line starts only when its first probe is printed.
        XCTAssertEqual(Self.normalized(lab.sink.out), "traceroute to 10.0.2.2 (10.0.2.2), 30 hops max, 60 byte packets\n 1  10.0.1.1  X ms  X ms  X ms")
    }
}
