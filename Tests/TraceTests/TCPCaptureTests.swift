// TCP end to end: the simulated kernel's segments, printed as tcpdump prints them, against
// what Linux 6.18 put on the wire for the same exchanges, and our pcap read back by the real
// tcpdump as exactly our text (the golden rule).
//
// Observed on Linux 6.18 (6.18.44-fc-v595), tcpdump 4.99.3, OpenBSD nc, netkit telnet, in
// namespaces: host 172.18.0.1 on br0, a container 172.18.0.2 behind a veth,
// net.ipv4.tcp_rmem = "4096 131072 6291456"; capture `tcpdump -i br0 -w`, read back with
// `tcpdump -r -n`. Ports, ISNs, TS values and MACs change from run to run, so lines are
// compared after `normalized` (ports >= 10000 -> P, numbers of 6+ digits -> N, MAC -> M).

import XCTest
import TestSupport
import SimCore
import Wire
@testable import NetKernel
@testable import Trace

/// The host/container lab of the observations.
final class TCPLab {
    let kernel: Kernel
    let host: NetNamespace
    let container: NetNamespace
    let bridge: NetDevice
    static let hostIP = IPv4Address(172, 18, 0, 1)
    static let containerIP = IPv4Address(172, 18, 0, 2)

    init(seed: UInt64 = 11) throws {
        kernel = Kernel(clock: EventQueue(), seed: seed)
        let m = kernel.addMachine("host")
        host = m.root
        try host.apply(.linkAdd(name: "br0", kind: .bridge, address: nil, mtu: nil))
        bridge = host.device(named: "br0")!
        try host.apply(.addressAdd(bridge, IPv4Prefix("172.18.0.1/24")!, broadcast: nil, scope: nil, label: nil))
        host.setUp(bridge, true)
        host.setUp(host.loopback, true)
        container = try m.addNamespace("docker0")
        try host.apply(.linkAdd(name: "veth1", kind: .veth(peerName: "veth0", peerNamespace: container, peerAddress: nil),
                                address: nil, mtu: nil))
        let port = host.device(named: "veth1")!
        try host.apply(.bridgeAddPort(bridge: bridge as! BridgeDevice, port: port))
        host.setUp(port, true)
        let eth = container.device(named: "veth0")!
        try container.apply(.addressAdd(eth, IPv4Prefix("172.18.0.2/24")!, broadcast: nil, scope: nil, label: nil))
        container.setUp(eth, true)
        container.setUp(container.loopback, true)
        try run(for: .seconds(2))
    }

    var now: SimTime { kernel.clock.now }
    func run(for d: SimTime) throws { try kernel.clock.run(until: kernel.clock.now + d) }
    func at(_ d: SimTime, _ action: @escaping () -> Void) { kernel.clock.schedule(at: kernel.clock.now + d, action) }

    func capture(verbose: Int = 0, filter: String? = nil) -> Capture {
        Capture(name: "br0", device: bridge, promiscuous: true,
                filter: filter.map { try! CaptureFilter($0, linkType: .ethernet) },
                options: PrintOptions(verbose: verbose), limit: nil, epoch: .zero)
    }

    /// `nc -l PORT` in the container: accepts one connection, collects what it reads, closes
    /// when the peer does (nc exits on EOF).
    func ncListen(port: UInt16) throws -> (TCPSocket, NCState) {
        let st = NCState()
        let l = container.openTCPSocket()
        l.reuseAddress = true
        l.reusePort = true
        try l.bind(port: port)
        try l.listen(backlog: 1)
        l.onAccept = { c in
            st.conn = c
            c.onData = { st.received += $0 }
            c.onPeerClosed = { st.sawEOF = true; c.close(); l.close() }
        }
        return (l, st)
    }
}

final class NCState {
    var conn: TCPSocket?
    var received: [UInt8] = []
    var sawEOF = false
    var error: KernelError?
    var connected = false
}

func normalized(_ text: String) -> [String] {
    text.split(separator: "\n").map { line in
        var s = String(line)
        if let sp = s.firstIndex(of: " "), s.first?.isNumber == true { s = String(s[s.index(after: sp)...]) }
        var out = ""
        var digits = ""
        var prev: Character = " "
        func flush(_ next: Character?) {
            guard !digits.isEmpty else { return }
            if digits.count >= 6 {
                out += "N"
            } else if prev == "." && digits.count == 5 && (next == " " || next == ":") {
                out += "P"
            } else {
                out += digits
            }
            digits = ""
        }
        var before: Character = " "
        for ch in s {
            if ch.isNumber {
                if digits.isEmpty { prev = before }
                digits.append(ch)
            } else {
                flush(ch)
                out.append(ch)
            }
            before = ch
        }
        flush(nil)
        if let r = out.range(of: "is-at ") {
            let rest = out[r.upperBound...]
            let mac = rest.prefix { $0 != "," }
            out = String(out[..<r.upperBound]) + "M" + String(rest.dropFirst(mac.count))
        }
        return out
    }
}

final class TCPCaptureTests: XCTestCase {
    /// `printf 'hello\n' | nc -N 172.18.0.2 80` against `nc -l 80`, as seen on br0.
    static let observedNC = [
        "ARP, Request who-has 172.18.0.2 tell 172.18.0.1, length 28",
        "ARP, Reply 172.18.0.2 is-at M, length 28",
        "IP 172.18.0.1.P > 172.18.0.2.80: Flags [S], seq N, win 64240, options [mss 1460,sackOK,TS val N ecr 0,nop,wscale 7], length 0",
        "IP 172.18.0.2.80 > 172.18.0.1.P: Flags [S.], seq N, ack N, win 65160, options [mss 1460,sackOK,TS val N ecr N,nop,wscale 7], length 0",
        "IP 172.18.0.1.P > 172.18.0.2.80: Flags [.], ack 1, win 502, options [nop,nop,TS val N ecr N], length 0",
        "IP 172.18.0.1.P > 172.18.0.2.80: Flags [P.], seq 1:7, ack 1, win 502, options [nop,nop,TS val N ecr N], length 6: HTTP",
        "IP 172.18.0.2.80 > 172.18.0.1.P: Flags [.], ack 7, win 510, options [nop,nop,TS val N ecr N], length 0",
        "IP 172.18.0.1.P > 172.18.0.2.80: Flags [F.], seq 7, ack 1, win 502, options [nop,nop,TS val N ecr N], length 0",
        "IP 172.18.0.2.80 > 172.18.0.1.P: Flags [F.], seq 1, ack 8, win 510, options [nop,nop,TS val N ecr N], length 0",
        "IP 172.18.0.1.P > 172.18.0.2.80: Flags [.], ack 2, win 502, options [nop,nop,TS val N ecr N], length 0",
    ]

    func testNcSendsALineAndBothSidesClose() throws {
        let lab = try TCPLab()
        let cap = lab.capture()
        let (listener, server) = try lab.ncListen(port: 80)
        let client = lab.host.openTCPSocket()
        let cs = NCState()
        client.onConnected = {
            cs.connected = true
            // nc writes what it read from stdin ~190 us later, and shuts down on stdin's EOF.
            lab.at(.microseconds(190)) { try? client.send(Array("hello\n".utf8)) }
            lab.at(.microseconds(250)) { client.shutdownWrite() }
        }
        client.onPeerClosed = { cs.sawEOF = true; client.close() }
        try client.connect(to: TCPLab.containerIP, port: 80)
        XCTAssertEqual(client.state, .synSent)
        XCTAssertEqual(client.localAddress, TCPLab.hostIP)
        XCTAssertTrue((32768...60999).contains(Int(client.localPort)))
        XCTAssertEqual(client.localPort % 2, 0, "connect() takes even ports first")
        try lab.run(for: .seconds(1))
        XCTAssertEqual(normalized(cap.text), Self.observedNC)
        XCTAssertEqual(server.received, Array("hello\n".utf8))
        XCTAssertTrue(cs.connected && cs.sawEOF && server.sawEOF)
        XCTAssertEqual(client.state, .timeWait)
        XCTAssertEqual(server.conn?.isGone, true)
        XCTAssertEqual(listener.isGone, true)
        XCTAssertEqual(lab.host.tcpSockets.map(\.state), [.timeWait])
        // TIME-WAIT lasts 60 s (plus the timer wheel's rounding at that level, up to 2.048 s).
        try lab.run(for: .seconds(59))
        XCTAssertEqual(client.state, .timeWait)
        try lab.run(for: .seconds(4))
        XCTAssertEqual(client.state, .close)
        XCTAssertEqual(lab.host.tcpSockets.count, 0)
        try assertTcpdumpReadsOurText(cap)
    }

    /// `telnet 172.18.0.2 80` typing lines 2 s apart, the server (`nc -l 80` with a terminal)
    /// answering; observed on br0. telnet sends CR LF. Two details: the server's ACK of
    /// "x\r\n" comes 40 ms late (the server had answered "GET" within 40 ms, so it is in
    /// pingpong mode), every other ACK at once (quickack; seconds pass between lines).
    static let observedTelnet = [
        "IP 172.18.0.1.P > 172.18.0.2.80: Flags [S], seq N, win 64240, options [mss 1460,sackOK,TS val N ecr 0,nop,wscale 7], length 0",
        "IP 172.18.0.2.80 > 172.18.0.1.P: Flags [S.], seq N, ack N, win 65160, options [mss 1460,sackOK,TS val N ecr N,nop,wscale 7], length 0",
        "IP 172.18.0.1.P > 172.18.0.2.80: Flags [.], ack 1, win 502, options [nop,nop,TS val N ecr N], length 0",
        "IP 172.18.0.1.P > 172.18.0.2.80: Flags [P.], seq 1:8, ack 1, win 502, options [nop,nop,TS val N ecr N], length 7: HTTP",
        "IP 172.18.0.2.80 > 172.18.0.1.P: Flags [.], ack 8, win 510, options [nop,nop,TS val N ecr N], length 0",
        "IP 172.18.0.2.80 > 172.18.0.1.P: Flags [P.], seq 1:7, ack 8, win 510, options [nop,nop,TS val N ecr N], length 6: HTTP",
        "IP 172.18.0.1.P > 172.18.0.2.80: Flags [.], ack 7, win 502, options [nop,nop,TS val N ecr N], length 0",
        "IP 172.18.0.1.P > 172.18.0.2.80: Flags [P.], seq 8:24, ack 7, win 502, options [nop,nop,TS val N ecr N], length 16: HTTP: GET / HTTP/1.1",
        "IP 172.18.0.2.80 > 172.18.0.1.P: Flags [.], ack 24, win 510, options [nop,nop,TS val N ecr N], length 0",
        "IP 172.18.0.2.80 > 172.18.0.1.P: Flags [P.], seq 7:23, ack 24, win 510, options [nop,nop,TS val N ecr N], length 16: HTTP: HTTP/1.1 200 OK",
        "IP 172.18.0.1.P > 172.18.0.2.80: Flags [.], ack 23, win 502, options [nop,nop,TS val N ecr N], length 0",
        "IP 172.18.0.2.80 > 172.18.0.1.P: Flags [P.], seq 23:27, ack 24, win 510, options [nop,nop,TS val N ecr N], length 4: HTTP",
        "IP 172.18.0.1.P > 172.18.0.2.80: Flags [.], ack 27, win 502, options [nop,nop,TS val N ecr N], length 0",
        "IP 172.18.0.1.P > 172.18.0.2.80: Flags [P.], seq 24:27, ack 27, win 502, options [nop,nop,TS val N ecr N], length 3: HTTP",
        "IP 172.18.0.2.80 > 172.18.0.1.P: Flags [.], ack 27, win 510, options [nop,nop,TS val N ecr N], length 0",
        "IP 172.18.0.1.P > 172.18.0.2.80: Flags [F.], seq 27, ack 27, win 502, options [nop,nop,TS val N ecr N], length 0",
        "IP 172.18.0.2.80 > 172.18.0.1.P: Flags [F.], seq 27, ack 28, win 510, options [nop,nop,TS val N ecr N], length 0",
        "IP 172.18.0.1.P > 172.18.0.2.80: Flags [.], ack 28, win 502, options [nop,nop,TS val N ecr N], length 0",
    ]

    func testInteractiveTelnetSessionWithDelayedAck() throws {
        let lab = try TCPLab()
        let cap = lab.capture(filter: "tcp port 80")
        let (_, server) = try lab.ncListen(port: 80)
        let client = lab.host.openTCPSocket()
        var clientGot: [UInt8] = []
        client.onData = { clientGot += $0 }
        client.onPeerClosed = { client.close() }
        try client.connect(to: TCPLab.containerIP, port: 80)
        let line = { (s: String) in Array(s.utf8) }
        lab.at(.seconds(2)) { try? client.send(line("hello\r\n")) }
        lab.at(.seconds(4)) { try? server.conn?.send(line("world\n")) }
        lab.at(.seconds(6)) { try? client.send(line("GET / HTTP/1.1\r\n")) }
        lab.at(.seconds(6) + .milliseconds(10)) { try? server.conn?.send(line("HTTP/1.1 200 OK\n")) }
        lab.at(.seconds(8) + .milliseconds(10)) { try? server.conn?.send(line("abc\n")) }
        lab.at(.seconds(8) + .milliseconds(11)) { try? client.send(line("x\r\n")) }
        lab.at(.seconds(10) + .milliseconds(11)) { client.close() }
        try lab.run(for: .seconds(11))
        XCTAssertEqual(normalized(cap.text), Self.observedTelnet)
        XCTAssertEqual(server.received, line("hello\r\nGET / HTTP/1.1\r\nx\r\n"))
        XCTAssertEqual(clientGot, line("world\nHTTP/1.1 200 OK\nabc\n"))
        // The delayed ACK: TCP_DELACK_MIN is 10 jiffies at HZ=250, which the timer wheel runs
        // on tick j+11: 40-44 ms after "x" (observed: 40.4 ms).
        let times = cap.records.map(\.time)
        let gap = times[14] - times[13]
        XCTAssertGreaterThanOrEqual(gap, .milliseconds(40))
        XCTAssertLessThanOrEqual(gap, .milliseconds(44) + .microseconds(20))
        // Every other ACK follows its segment within the link latencies.
        for i in [4, 6, 8, 10, 12] {
            XCTAssertLessThan(times[i] - times[i - 1], .microseconds(100), "line \(i)")
        }
        try assertTcpdumpReadsOurText(cap)
    }

    /// The ACK sent before the program reads advertises what the unread data leaves:
    /// observed 510 after a 1- to 16-byte line, 509 after a 37-byte HTTP request to port 8080
    /// (`nc -N 172.18.0.2 8080` sending "GET /index.html HTTP/1.1\r\nHost: x\r\n\r\n"), and
    /// tcpdump -v's text lines for it.
    func testUnreadDataShrinksTheAdvertisedWindow() throws {
        let lab = try TCPLab()
        let cap = lab.capture(verbose: 1, filter: "tcp port 8080")
        _ = try lab.ncListen(port: 8080)
        let client = lab.host.openTCPSocket()
        client.onConnected = { try? client.send(Array("GET /index.html HTTP/1.1\r\nHost: x\r\n\r\n".utf8)) }
        try client.connect(to: TCPLab.containerIP, port: 8080)
        try lab.run(for: .milliseconds(100))
        let text = cap.text
        XCTAssertTrue(text.contains("length 37: HTTP, length: 37\n\tGET /index.html HTTP/1.1\n\tHost: x\n\t\n"), text)
        XCTAssertTrue(text.contains("Flags [.], cksum 0x584e (incorrect -> 0x"), text)
        XCTAssertTrue(text.contains(", ack 38, win 509, options"), text)
        try assertTcpdumpReadsOurText(cap)
        // And after 300 and 600 bytes: 507 and 505; over lo (window 65483 -> 512): 511 after
        // 100 bytes.
        XCTAssertEqual(try firstServerAckWindow(bytes: 21), 509)
        XCTAssertEqual(try firstServerAckWindow(bytes: 300), 507)
        XCTAssertEqual(try firstServerAckWindow(bytes: 600), 505)
        XCTAssertEqual(try firstServerAckWindow(bytes: 6, loopback: true), 512)
        XCTAssertEqual(try firstServerAckWindow(bytes: 100, loopback: true), 511)
        XCTAssertEqual(try firstServerAckWindow(bytes: 300, loopback: true), 510)
    }

    func firstServerAckWindow(bytes n: Int, loopback: Bool = false) throws -> UInt16 {
        let lab = try TCPLab()
        let ns = loopback ? lab.container : lab.host
        let dev = loopback ? lab.container.loopback! : lab.bridge
        var windows: [UInt16] = []
        dev.addTap(PacketTap(promiscuous: true) { _, b, _ in
            guard IPv4View.proto(b, at: 14) == .tcp, let h = try? TCPHeader.parse(b, at: 34), h.sourcePort == 9000,
                  h.flags == [.ack] else { return }
            windows.append(h.window)
        })
        _ = try lab.ncListen(port: 9000)
        let c = ns.openTCPSocket()
        c.onConnected = { try? c.send([UInt8](repeating: 0x61, count: n)) }
        try c.connect(to: loopback ? IPv4Address(127, 0, 0, 1) : TCPLab.containerIP, port: 9000)
        try lab.run(for: .milliseconds(100))
        return try XCTUnwrap(windows.first)
    }

    /// A program that closes without reading what arrived resets the connection: observed
    /// (a Python server closing 0.5 s after accept, `nc` sending "hello\n"):
    static let observedUnreadReset = [
        "IP 172.18.0.1.P > 172.18.0.2.9702: Flags [P.], seq 1:7, ack 1, win 502, options [nop,nop,TS val N ecr N], length 6",
        "IP 172.18.0.2.9702 > 172.18.0.1.P: Flags [.], ack 7, win 510, options [nop,nop,TS val N ecr N], length 0",
        "IP 172.18.0.2.9702 > 172.18.0.1.P: Flags [R.], seq 1, ack 7, win 510, options [nop,nop,TS val N ecr N], length 0",
    ]

    func testCloseWithUnreadDataResets() throws {
        let lab = try TCPLab()
        let cap = lab.capture(filter: "tcp port 9702")
        let l = lab.container.openTCPSocket()
        try l.bind(port: 9702)
        try l.listen(backlog: 1)
        l.onAccept = { c in lab.at(.milliseconds(500)) { c.close() } }
        let client = lab.host.openTCPSocket()
        var err: KernelError?
        client.onError = { err = $0 }
        client.onConnected = { try? client.send(Array("hello\n".utf8)) }
        try client.connect(to: TCPLab.containerIP, port: 9702)
        try lab.run(for: .seconds(1))
        XCTAssertEqual(Array(normalized(cap.text).suffix(3)), Self.observedUnreadReset)
        XCTAssertEqual(err, KernelError(.ECONNRESET))
        try assertTcpdumpReadsOurText(cap)
    }

    /// A SYN to a closed port is answered by the control socket: RST|ACK, seq 0, ack ISN+1,
    /// window 0, IP id 0, checksum computed (tcpdump -v says "correct", unlike the offloaded
    /// segments of sockets). connect() fails with ECONNREFUSED.
    func testClosedPortAnswersWithReset() throws {
        let lab = try TCPLab()
        let cap = lab.capture(verbose: 1)
        let client = lab.host.openTCPSocket()
        var err: KernelError?
        client.onError = { err = $0 }
        try client.connect(to: TCPLab.containerIP, port: 82)
        try lab.run(for: .milliseconds(10))
        XCTAssertEqual(err, KernelError(.ECONNREFUSED))
        XCTAssertEqual(client.state, .close)
        let lines = cap.text.split(separator: "\n").map(String.init).filter { $0.contains("proto TCP") || $0.hasPrefix("    ") }
        let rst = lines.last!
        XCTAssertTrue(rst.contains("Flags [R.], cksum 0x"), rst)
        XCTAssertTrue(rst.contains("(correct), seq 0, ack "), rst)
        XCTAssertTrue(rst.hasSuffix(", win 0, length 0"), rst)
        XCTAssertTrue(lines[lines.count - 2].contains("id 0, offset 0, flags [DF], proto TCP (6), length 40)"))
        // The SYN's checksum is the offloaded pseudo-header sum, as on Linux: 0x5856 for these addresses.
        XCTAssertTrue(lines[1].contains("Flags [S], cksum 0x5856 (incorrect -> 0x"), lines[1])
        try assertTcpdumpReadsOurText(cap)
    }

    // MARK: - The golden rule

    func assertTcpdumpReadsOurText(_ cap: Capture, file: StaticString = #filePath, line: UInt = #line) throws {
        guard let tcpdump = ["/usr/bin/tcpdump", "/usr/sbin/tcpdump"].first(where: { FileManager.default.fileExists(atPath: $0) }) else {
            throw XCTSkip("tcpdump is not installed")
        }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tcp-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let pcap = dir.appendingPathComponent("c.pcap").path
        try cap.writePcap(to: pcap)
        var args = ["-r", pcap, "-n"]
        if cap.options.verbose > 0 { args.append("-" + String(repeating: "v", count: cap.options.verbose)) }
        let r = try Subprocess.run(tcpdump, args, env: ["TZ": "UTC"])
        XCTAssertEqual(r.stdout, cap.text, file: file, line: line)
    }
}
