// XtablesMonitorTests: TRACE as iptables-nft 1.8.9 makes it on Linux 6.18 (nf_tables trace
// messages, nothing in the kernel log) and xtables-monitor printing them, plus its --event
// mode and the nf_tables handles both show. Every expected text is what `ip netns exec NS
// xtables-monitor ...` printed on Linux 6.18 / iptables 1.8.9-2 (Debian 12) / libnftnl 1.2.4
// in namespaces built with the same commands (recorded 2026-11-23), line for line. Values
// that differ from run to run are compared through placeholders (normalize): the trace id
// (a siphash with a random key), MAC addresses (ether_ntoa() form), IP ids, ephemeral ports
// and NEWGEN's pid. MON_SHOW=1 prints what the simulated monitor printed.

import XCTest
import Foundation
import SimCore
import NetKernel
@testable import Commands

final class XtablesMonitorTests: XCTestCase {
    /// Processes that keep running (pings, monitors, listeners).
    var running: [SimProcess] = []

    /// Starts a long-running command with its own output; returns that output's sink.
    @discardableResult
    func start(_ lab: Lab, _ line: String) -> SplitSink {
        let sink = SplitSink()
        let ctx = ToolContext(kernel: lab.kernel, machine: lab.machine, namespace: lab.machine.root, out: sink, epoch: .zero)
        if case let .process(p) = Shell.run(Lab.argv(line), ctx) { running.append(p) }
        try! lab.kernel.clock.run(until: lab.kernel.clock.now + .milliseconds(10))
        return sink
    }

    func pass(_ lab: Lab, _ secs: String) { _ = lab.exec("sleep \(secs)") }

    /// nf_h forwards between nf_b (10.9.0.2, v1 <-> v0 10.9.0.1) and nf_c (10.9.1.2, w1 <-> w0 10.9.1.1).
    func triangle(_ lab: Lab) {
        lab.run("""
            ip netns add nf_h
            ip netns add nf_b
            ip netns add nf_c
            nf_h> ip link set lo up
            nf_b> ip link set lo up
            nf_c> ip link set lo up
            nf_h> ip link add v0 type veth peer name v1
            nf_h> ip link set v1 netns nf_b
            nf_h> ip link add w0 type veth peer name w1
            nf_h> ip link set w1 netns nf_c
            nf_h> ip addr add 10.9.0.1/24 dev v0
            nf_h> ip addr add 10.9.1.1/24 dev w0
            nf_h> ip link set v0 up
            nf_h> ip link set w0 up
            nf_b> ip addr add 10.9.0.2/24 dev v1
            nf_b> ip link set v1 up
            nf_b> ip route add default via 10.9.0.1
            nf_c> ip addr add 10.9.1.2/24 dev w1
            nf_c> ip link set w1 up
            nf_c> ip route add default via 10.9.1.1
            """)
        XCTAssertEqual(lab.exec("nf_h> sysctl -w net.ipv4.ip_forward=1").status, 0)
    }

    enum TraceIDs { case placeholders, erased }

    /// Placeholders for what differs between runs: trace ids (first seen: id1, id2...; or all
    /// <id> where the real kernel reused an sk_buff, and with it an id, for a later packet),
    /// MACs, IP ids, ephemeral ports, NEWGEN's pid.
    static func normalize(_ text: String, ids: TraceIDs = .placeholders) -> String {
        var maps: [String: [String: String]] = [:]
        func ph(_ kind: String, _ v: String) -> String {
            var m = maps[kind] ?? [:]
            if let p = m[v] { return p }
            let p = "\(kind)\(m.count + 1)"
            m[v] = p
            maps[kind] = m
            return p
        }
        func sub(_ s: String, _ pattern: String, _ f: (String) -> String) -> String {
            let re = try! NSRegularExpression(pattern: pattern)
            var out = "", last = s.startIndex
            for m in re.matches(in: s, range: NSRange(s.startIndex..., in: s)) {
                let r = Range(m.range(at: 1), in: s)!
                out += s[last..<r.lowerBound] + f(String(s[r]))
                last = r.upperBound
            }
            return out + s[last...]
        }
        var t = text
        t = sub(t, "(?:PACKET|TRACE): 2 ([0-9a-f]{8}) ") { ids == .erased ? "<id>" : ph("id", $0) }
        t = sub(t, "MAC(?:SRC|DST)=([0-9a-f:]+) ") { ph("mac", $0) }
        t = sub(t, " ID=([0-9]+) ") { _ in "<ipid>" }
        t = sub(t, "(?:SPORT|DPORT)=([0-9]+) ") { Int($0).map { (32768...60999).contains($0) } == true ? ph("port", $0) : $0 }
        t = sub(t, "PID=([0-9]+) ") { _ in "<pid>" }
        return t
    }

    func checkMonitor(_ sink: SplitSink, _ real: String, ids: TraceIDs = .placeholders, file: StaticString = #filePath, line: UInt = #line) {
        let sim = XtablesMonitorTests.normalize(sink.out, ids: ids), want = XtablesMonitorTests.normalize(real + "\n", ids: ids)
        if ProcessInfo.processInfo.environment["MON_SHOW"] != nil { print(sink.out) }
        if sim == want { return }
        let a = sim.split(separator: "\n", omittingEmptySubsequences: false), e = want.split(separator: "\n", omittingEmptySubsequences: false)
        let i = (0..<min(a.count, e.count)).first { a[$0] != e[$0] } ?? min(a.count, e.count)
        XCTFail("monitor output: line \(i + 1) differs\n  simulated: \(i < a.count ? String(a[i]) : "(none)")\n  real:      \(i < e.count ? String(e[i]) : "(none)")\n--- simulated:\n\(sink.out)",
                file: file, line: line)
        XCTAssertEqual(sink.err, "", file: file, line: line)
    }
}

extension XtablesMonitorTests {
    /// A ping into the host: raw PREROUTING (the TRACE rule itself is the first "rule" message,
    /// CONTINUE), nat PREROUTING (only its policy: the DNAT rule does not match, and the DNAT
    /// rule is what started conntrack), filter INPUT with a jump into a user chain that ends
    /// without a match (no message for that end), then ACCEPT (no policy message after a
    /// verdict). One PACKET line per base chain, the same trace id at every hook; nothing in
    /// the kernel log.
    func testTraceOfAPingThroughRawNatFilterAndAUserChain() {
        let lab = Lab()
        triangle(lab)
        lab.run("""
            nf_h> iptables -t raw -A PREROUTING -p icmp -j TRACE
            nf_h> iptables -N CHK
            nf_h> iptables -A CHK -s 10.9.9.9 -j DROP
            nf_h> iptables -A INPUT -p icmp -j CHK
            nf_h> iptables -A INPUT -p icmp -j ACCEPT
            nf_h> iptables -t nat -A PREROUTING -p tcp --dport 99 -j DNAT --to-destination 1.2.3.4
            """)
        let mon = start(lab, "nf_h> xtables-monitor --trace")
        start(lab, "nf_b> ping -c 1 10.9.0.1")
        pass(lab, "1")
        checkMonitor(mon, """
            PACKET: 2 2b841a2a IN=v0 MACSRC=ee:19:f5:e3:ae:c7 MACDST=ca:66:8f:f:a7:9b MACPROTO=0800 SRC=10.9.0.2 DST=10.9.0.1 LEN=84 TOS=0x0 TTL=64 ID=40109 DF\u{20}
             TRACE: 2 2b841a2a raw:PREROUTING:rule:0x2:CONTINUE  -4 -t raw -A PREROUTING -p icmp -j TRACE
             TRACE: 2 2b841a2a raw:PREROUTING:policy:ACCEPT\u{20}
            PACKET: 2 2b841a2a IN=v0 MACSRC=ee:19:f5:e3:ae:c7 MACDST=ca:66:8f:f:a7:9b MACPROTO=0800 SRC=10.9.0.2 DST=10.9.0.1 LEN=84 TOS=0x0 TTL=64 ID=40109 DF\u{20}
             TRACE: 2 2b841a2a nat:PREROUTING:policy:ACCEPT\u{20}
            PACKET: 2 2b841a2a IN=v0 MACSRC=ee:19:f5:e3:ae:c7 MACDST=ca:66:8f:f:a7:9b MACPROTO=0800 SRC=10.9.0.2 DST=10.9.0.1 LEN=84 TOS=0x0 TTL=64 ID=40109 DF\u{20}
             TRACE: 2 2b841a2a filter:INPUT:rule:0x4:JUMP:CHK  -4 -t filter -A INPUT -p icmp -j CHK
             TRACE: 2 2b841a2a filter:INPUT:rule:0x5:ACCEPT  -4 -t filter -A INPUT -p icmp -j ACCEPT
            """)
        XCTAssertEqual(lab.exec("dmesg").out, "", "nf_tables' TRACE writes nothing to the kernel log")
    }

    /// -j RETURN prints as 0xfffffffb, -g leaves the chain for good (the goto target's end
    /// falls to INPUT's policy), a rule without target and LOG continue; a forwarded packet
    /// keeps its id through PREROUTING, FORWARD and POSTROUTING and shows IN= at POSTROUTING
    /// too; MASQUERADE is ACCEPT; the reply from nf_c, de-masqueraded before FORWARD, is
    /// another packet with another id.
    func testReturnGotoLogAndAForwardedPacket() {
        let lab = Lab()
        triangle(lab)
        lab.run("""
            nf_h> iptables -t raw -A PREROUTING -j TRACE
            nf_h> iptables -t mangle -A PREROUTING -p icmp
            nf_h> iptables -N R1
            nf_h> iptables -A R1 -p icmp -j RETURN
            nf_h> iptables -A R1 -j DROP
            nf_h> iptables -N G1
            nf_h> iptables -A G1 -s 10.9.9.9 -j DROP
            nf_h> iptables -A INPUT -p icmp
            nf_h> iptables -A INPUT -p icmp -j R1
            nf_h> iptables -A INPUT -p icmp -g G1
            nf_h> iptables -A FORWARD -p icmp -j LOG --log-prefix "F "
            nf_h> iptables -A FORWARD -j R1
            nf_h> iptables -t nat -A POSTROUTING -o w0 -j MASQUERADE
            """)
        let mon = start(lab, "nf_h> xtables-monitor --trace")
        start(lab, "nf_b> ping -c 1 10.9.0.1")
        pass(lab, "1")
        start(lab, "nf_b> ping -c 1 10.9.1.2")
        pass(lab, "1")
        checkMonitor(mon, """
            PACKET: 2 d46a40aa IN=v0 MACSRC=72:3:61:38:c6:6b MACDST=e2:52:5b:d6:42:8a MACPROTO=0800 SRC=10.9.0.2 DST=10.9.0.1 LEN=84 TOS=0x0 TTL=64 ID=62185 DF\u{20}
             TRACE: 2 d46a40aa raw:PREROUTING:rule:0x2:CONTINUE  -4 -t raw -A PREROUTING -j TRACE
             TRACE: 2 d46a40aa raw:PREROUTING:policy:ACCEPT\u{20}
            PACKET: 2 d46a40aa IN=v0 MACSRC=72:3:61:38:c6:6b MACDST=e2:52:5b:d6:42:8a MACPROTO=0800 SRC=10.9.0.2 DST=10.9.0.1 LEN=84 TOS=0x0 TTL=64 ID=62185 DF\u{20}
             TRACE: 2 d46a40aa mangle:PREROUTING:rule:0x2:CONTINUE  -4 -t mangle -A PREROUTING -p icmp
             TRACE: 2 d46a40aa mangle:PREROUTING:policy:ACCEPT\u{20}
            PACKET: 2 d46a40aa IN=v0 MACSRC=72:3:61:38:c6:6b MACDST=e2:52:5b:d6:42:8a MACPROTO=0800 SRC=10.9.0.2 DST=10.9.0.1 LEN=84 TOS=0x0 TTL=64 ID=62185 DF\u{20}
             TRACE: 2 d46a40aa filter:INPUT:rule:0x7:CONTINUE  -4 -t filter -A INPUT -p icmp
             TRACE: 2 d46a40aa filter:INPUT:rule:0x8:JUMP:R1  -4 -t filter -A INPUT -p icmp -j R1
             TRACE: 2 d46a40aa filter:R1:rule:0x2:0xfffffffb  -4 -t filter -A R1 -p icmp -j RETURN
             TRACE: 2 d46a40aa filter:INPUT:rule:0x9:GOTO:G1  -4 -t filter -A INPUT -p icmp -g G1
             TRACE: 2 d46a40aa filter:INPUT:policy:ACCEPT\u{20}
            PACKET: 2 f528c86e IN=v0 MACSRC=72:3:61:38:c6:6b MACDST=e2:52:5b:d6:42:8a MACPROTO=0800 SRC=10.9.0.2 DST=10.9.1.2 LEN=84 TOS=0x0 TTL=64 ID=20027 DF\u{20}
             TRACE: 2 f528c86e raw:PREROUTING:rule:0x2:CONTINUE  -4 -t raw -A PREROUTING -j TRACE
             TRACE: 2 f528c86e raw:PREROUTING:policy:ACCEPT\u{20}
            PACKET: 2 f528c86e IN=v0 MACSRC=72:3:61:38:c6:6b MACDST=e2:52:5b:d6:42:8a MACPROTO=0800 SRC=10.9.0.2 DST=10.9.1.2 LEN=84 TOS=0x0 TTL=64 ID=20027 DF\u{20}
             TRACE: 2 f528c86e mangle:PREROUTING:rule:0x2:CONTINUE  -4 -t mangle -A PREROUTING -p icmp
             TRACE: 2 f528c86e mangle:PREROUTING:policy:ACCEPT\u{20}
            PACKET: 2 f528c86e IN=v0 OUT=w0 MACSRC=72:3:61:38:c6:6b MACDST=e2:52:5b:d6:42:8a MACPROTO=0800 SRC=10.9.0.2 DST=10.9.1.2 LEN=84 TOS=0x0 TTL=63 ID=20027 DF\u{20}
             TRACE: 2 f528c86e filter:FORWARD:rule:0xb:CONTINUE  -4 -t filter -A FORWARD -p icmp -j LOG --log-prefix "F "
             TRACE: 2 f528c86e filter:FORWARD:rule:0xc:JUMP:R1  -4 -t filter -A FORWARD -j R1
             TRACE: 2 f528c86e filter:R1:rule:0x2:0xfffffffb  -4 -t filter -A R1 -p icmp -j RETURN
             TRACE: 2 f528c86e filter:FORWARD:policy:ACCEPT\u{20}
            PACKET: 2 f528c86e IN=v0 OUT=w0 MACSRC=72:3:61:38:c6:6b MACDST=e2:52:5b:d6:42:8a MACPROTO=0800 SRC=10.9.0.2 DST=10.9.1.2 LEN=84 TOS=0x0 TTL=63 ID=20027 DF\u{20}
             TRACE: 2 f528c86e nat:POSTROUTING:rule:0x2:ACCEPT  -4 -t nat -A POSTROUTING -o w0 -j MASQUERADE
            PACKET: 2 e18e52b9 IN=w0 MACSRC=86:1f:ee:e5:db:6f MACDST=de:b9:89:7c:7d:c1 MACPROTO=0800 SRC=10.9.1.2 DST=10.9.1.1 LEN=84 TOS=0x0 TTL=64 ID=27378\u{20}
             TRACE: 2 e18e52b9 raw:PREROUTING:rule:0x2:CONTINUE  -4 -t raw -A PREROUTING -j TRACE
             TRACE: 2 e18e52b9 raw:PREROUTING:policy:ACCEPT\u{20}
            PACKET: 2 e18e52b9 IN=w0 MACSRC=86:1f:ee:e5:db:6f MACDST=de:b9:89:7c:7d:c1 MACPROTO=0800 SRC=10.9.1.2 DST=10.9.1.1 LEN=84 TOS=0x0 TTL=64 ID=27378\u{20}
             TRACE: 2 e18e52b9 mangle:PREROUTING:rule:0x2:CONTINUE  -4 -t mangle -A PREROUTING -p icmp
             TRACE: 2 e18e52b9 mangle:PREROUTING:policy:ACCEPT\u{20}
            PACKET: 2 e18e52b9 IN=w0 OUT=v0 MACSRC=86:1f:ee:e5:db:6f MACDST=de:b9:89:7c:7d:c1 MACPROTO=0800 SRC=10.9.1.2 DST=10.9.0.2 LEN=84 TOS=0x0 TTL=63 ID=27378\u{20}
             TRACE: 2 e18e52b9 filter:FORWARD:rule:0xb:CONTINUE  -4 -t filter -A FORWARD -p icmp -j LOG --log-prefix "F "
             TRACE: 2 e18e52b9 filter:FORWARD:rule:0xc:JUMP:R1  -4 -t filter -A FORWARD -j R1
             TRACE: 2 e18e52b9 filter:R1:rule:0x2:0xfffffffb  -4 -t filter -A R1 -p icmp -j RETURN
             TRACE: 2 e18e52b9 filter:FORWARD:policy:ACCEPT\u{20}
            """)
    }

    /// Locally generated packets: no IN= and no link-layer header; TCP ports and flags (the
    /// PACKET line of nat OUTPUT still shows the port the DNAT rule is about to rewrite, the
    /// next base chain the new one), UDP ports, a DROP rule; loopback traffic is received
    /// again (IN=lo LOOPBACK) with a new id. The real kernel reused the SYN's sk_buff, and its
    /// id, for the FIN: ids are not compared here.
    func testLocallyGeneratedTCPUDPAndLoopback() {
        let lab = Lab()
        triangle(lab)
        lab.run("""
            nf_h> iptables -t raw -A OUTPUT -j TRACE
            nf_h> iptables -t raw -A PREROUTING -j TRACE
            nf_h> iptables -A OUTPUT -p udp --dport 53 -j DROP
            nf_h> iptables -t nat -A OUTPUT -p tcp --dport 82 -j DNAT --to-destination 10.9.1.2:80
            """)
        start(lab, "nf_c> nc -l 80")
        let mon = start(lab, "nf_h> xtables-monitor --trace")
        start(lab, "nf_h> nc -w 1 -z 10.9.1.2 82")
        pass(lab, "1")
        lab.ctx.input = .pipe(Array("x\n".utf8))
        _ = lab.exec("nf_h> nc -u -w 1 10.9.1.2 53")
        lab.ctx.input = nil
        pass(lab, "2")
        start(lab, "nf_h> ping -c 1 127.0.0.1")
        pass(lab, "1")
        checkMonitor(mon, """
            PACKET: 2 6b615e43 OUT=w0 SRC=10.9.1.1 DST=10.9.1.2 LEN=60 TOS=0x0 TTL=64 ID=31588 DF SPORT=45638 DPORT=82 SYN\u{20}
             TRACE: 2 6b615e43 raw:OUTPUT:rule:0x2:CONTINUE  -4 -t raw -A OUTPUT -j TRACE
             TRACE: 2 6b615e43 raw:OUTPUT:policy:ACCEPT\u{20}
            PACKET: 2 6b615e43 OUT=w0 SRC=10.9.1.1 DST=10.9.1.2 LEN=60 TOS=0x0 TTL=64 ID=31588 DF SPORT=45638 DPORT=82 SYN\u{20}
             TRACE: 2 6b615e43 nat:OUTPUT:rule:0x2:ACCEPT  -4 -t nat -A OUTPUT -p tcp -m tcp --dport 82 -j DNAT --to-destination 10.9.1.2:80
            PACKET: 2 6b615e43 OUT=w0 SRC=10.9.1.1 DST=10.9.1.2 LEN=60 TOS=0x0 TTL=64 ID=31588 DF SPORT=45638 DPORT=80 SYN\u{20}
             TRACE: 2 6b615e43 filter:OUTPUT:policy:ACCEPT\u{20}
            PACKET: 2 debf024a IN=w0 MACSRC=b6:6f:11:f:88:6c MACDST=9a:9d:e6:2:63:ff MACPROTO=0800 SRC=10.9.1.2 DST=10.9.1.1 LEN=60 TOS=0x0 TTL=64 ID=0 DF SPORT=80 DPORT=45638 SYN ACK\u{20}
             TRACE: 2 debf024a raw:PREROUTING:rule:0x4:CONTINUE  -4 -t raw -A PREROUTING -j TRACE
             TRACE: 2 debf024a raw:PREROUTING:policy:ACCEPT\u{20}
            PACKET: 2 2bfc9101 OUT=w0 SRC=10.9.1.1 DST=10.9.1.2 LEN=52 TOS=0x0 TTL=64 ID=31589 DF SPORT=45638 DPORT=82 ACK\u{20}
             TRACE: 2 2bfc9101 raw:OUTPUT:rule:0x2:CONTINUE  -4 -t raw -A OUTPUT -j TRACE
             TRACE: 2 2bfc9101 raw:OUTPUT:policy:ACCEPT\u{20}
            PACKET: 2 2bfc9101 OUT=w0 SRC=10.9.1.1 DST=10.9.1.2 LEN=52 TOS=0x0 TTL=64 ID=31589 DF SPORT=45638 DPORT=80 ACK\u{20}
             TRACE: 2 2bfc9101 filter:OUTPUT:policy:ACCEPT\u{20}
            PACKET: 2 6b615e43 OUT=w0 SRC=10.9.1.1 DST=10.9.1.2 LEN=52 TOS=0x0 TTL=64 ID=31590 DF SPORT=45638 DPORT=82 ACK FIN\u{20}
             TRACE: 2 6b615e43 raw:OUTPUT:rule:0x2:CONTINUE  -4 -t raw -A OUTPUT -j TRACE
             TRACE: 2 6b615e43 raw:OUTPUT:policy:ACCEPT\u{20}
            PACKET: 2 6b615e43 OUT=w0 SRC=10.9.1.1 DST=10.9.1.2 LEN=52 TOS=0x0 TTL=64 ID=31590 DF SPORT=45638 DPORT=80 ACK FIN\u{20}
             TRACE: 2 6b615e43 filter:OUTPUT:policy:ACCEPT\u{20}
            PACKET: 2 44d99c2e IN=w0 MACSRC=b6:6f:11:f:88:6c MACDST=9a:9d:e6:2:63:ff MACPROTO=0800 SRC=10.9.1.2 DST=10.9.1.1 LEN=52 TOS=0x0 TTL=64 ID=27344 DF SPORT=80 DPORT=45638 ACK FIN\u{20}
             TRACE: 2 44d99c2e raw:PREROUTING:rule:0x4:CONTINUE  -4 -t raw -A PREROUTING -j TRACE
             TRACE: 2 44d99c2e raw:PREROUTING:policy:ACCEPT\u{20}
            PACKET: 2 a9571b76 OUT=w0 SRC=10.9.1.1 DST=10.9.1.2 LEN=52 TOS=0x0 TTL=64 ID=31591 DF SPORT=45638 DPORT=82 ACK\u{20}
             TRACE: 2 a9571b76 raw:OUTPUT:rule:0x2:CONTINUE  -4 -t raw -A OUTPUT -j TRACE
             TRACE: 2 a9571b76 raw:OUTPUT:policy:ACCEPT\u{20}
            PACKET: 2 a9571b76 OUT=w0 SRC=10.9.1.1 DST=10.9.1.2 LEN=52 TOS=0x0 TTL=64 ID=31591 DF SPORT=45638 DPORT=80 ACK\u{20}
             TRACE: 2 a9571b76 filter:OUTPUT:policy:ACCEPT\u{20}
            PACKET: 2 f74527bc OUT=w0 SRC=10.9.1.1 DST=10.9.1.2 LEN=30 TOS=0x0 TTL=64 ID=62337 DF SPORT=50470 DPORT=53\u{20}
             TRACE: 2 f74527bc raw:OUTPUT:rule:0x2:CONTINUE  -4 -t raw -A OUTPUT -j TRACE
             TRACE: 2 f74527bc raw:OUTPUT:policy:ACCEPT\u{20}
            PACKET: 2 f74527bc OUT=w0 SRC=10.9.1.1 DST=10.9.1.2 LEN=30 TOS=0x0 TTL=64 ID=62337 DF SPORT=50470 DPORT=53\u{20}
             TRACE: 2 f74527bc nat:OUTPUT:policy:ACCEPT\u{20}
            PACKET: 2 f74527bc OUT=w0 SRC=10.9.1.1 DST=10.9.1.2 LEN=30 TOS=0x0 TTL=64 ID=62337 DF SPORT=50470 DPORT=53\u{20}
             TRACE: 2 f74527bc filter:OUTPUT:rule:0x2:DROP  -4 -t filter -A OUTPUT -p udp -m udp --dport 53 -j DROP
            PACKET: 2 ab057161 OUT=lo SRC=127.0.0.1 DST=127.0.0.1 LEN=84 TOS=0x0 TTL=64 ID=61436 DF\u{20}
             TRACE: 2 ab057161 raw:OUTPUT:rule:0x2:CONTINUE  -4 -t raw -A OUTPUT -j TRACE
             TRACE: 2 ab057161 raw:OUTPUT:policy:ACCEPT\u{20}
            PACKET: 2 ab057161 OUT=lo SRC=127.0.0.1 DST=127.0.0.1 LEN=84 TOS=0x0 TTL=64 ID=61436 DF\u{20}
             TRACE: 2 ab057161 nat:OUTPUT:policy:ACCEPT\u{20}
            PACKET: 2 ab057161 OUT=lo SRC=127.0.0.1 DST=127.0.0.1 LEN=84 TOS=0x0 TTL=64 ID=61436 DF\u{20}
             TRACE: 2 ab057161 filter:OUTPUT:policy:ACCEPT\u{20}
            PACKET: 2 9b2b813a IN=lo LOOPBACK SRC=127.0.0.1 DST=127.0.0.1 LEN=84 TOS=0x0 TTL=64 ID=61436 DF\u{20}
             TRACE: 2 9b2b813a raw:PREROUTING:rule:0x4:CONTINUE  -4 -t raw -A PREROUTING -j TRACE
             TRACE: 2 9b2b813a raw:PREROUTING:policy:ACCEPT\u{20}
            PACKET: 2 d5a47ebd OUT=lo SRC=127.0.0.1 DST=127.0.0.1 LEN=84 TOS=0x0 TTL=64 ID=61437\u{20}
             TRACE: 2 d5a47ebd raw:OUTPUT:rule:0x2:CONTINUE  -4 -t raw -A OUTPUT -j TRACE
             TRACE: 2 d5a47ebd raw:OUTPUT:policy:ACCEPT\u{20}
            PACKET: 2 d5a47ebd OUT=lo SRC=127.0.0.1 DST=127.0.0.1 LEN=84 TOS=0x0 TTL=64 ID=61437\u{20}
             TRACE: 2 d5a47ebd filter:OUTPUT:policy:ACCEPT\u{20}
            PACKET: 2 470a82e4 IN=lo LOOPBACK SRC=127.0.0.1 DST=127.0.0.1 LEN=84 TOS=0x0 TTL=64 ID=61437\u{20}
             TRACE: 2 470a82e4 raw:PREROUTING:rule:0x4:CONTINUE  -4 -t raw -A PREROUTING -j TRACE
             TRACE: 2 470a82e4 raw:PREROUTING:policy:ACCEPT\u{20}
            """, ids: .erased)
    }

    /// -c prints each rule's counters as they are when the monitor asks (this packet
    /// included); a DROP in a user chain ends the walk; REJECT is DROP, and the ICMP error it
    /// sends is traced (raw OUTPUT) before the rule's own message; a DROP policy. The nat
    /// table's INPUT and POSTROUTING chains see nothing: no rule needs conntrack, so nf_nat
    /// never runs them (their counters stay 0, conntrack lists nothing).
    func testCountersDropRejectPolicyAndNatChainsWithoutConntrack() {
        let lab = Lab()
        triangle(lab)
        lab.run("""
            nf_h> iptables -t raw -A OUTPUT -p icmp -j TRACE
            nf_h> iptables -t raw -A PREROUTING -p icmp -j TRACE
            nf_h> iptables -t mangle -A POSTROUTING -p icmp
            nf_h> iptables -t mangle -A INPUT -p icmp
            nf_h> iptables -t nat -A INPUT -p icmp
            nf_h> iptables -t nat -A POSTROUTING -p icmp
            nf_h> iptables -N U
            nf_h> iptables -A U -d 10.9.1.2 -j DROP
            nf_h> iptables -A OUTPUT -p icmp -j U
            nf_h> iptables -A INPUT -p icmp --icmp-type echo-request -j REJECT
            nf_h> iptables -P FORWARD DROP
            """)
        let mon = start(lab, "nf_h> xtables-monitor -t -c")
        start(lab, "nf_h> ping -c 1 -W 1 10.9.0.2")
        pass(lab, "2")
        start(lab, "nf_h> ping -c 1 -W 1 10.9.1.2")
        pass(lab, "2")
        start(lab, "nf_b> ping -c 1 -W 1 10.9.0.1")
        pass(lab, "2")
        start(lab, "nf_b> ping -c 1 -W 1 10.9.1.2")
        pass(lab, "2")
        checkMonitor(mon, """
            PACKET: 2 9d116a34 OUT=v0 SRC=10.9.0.1 DST=10.9.0.2 LEN=84 TOS=0x0 TTL=64 ID=43029 DF\u{20}
             TRACE: 2 9d116a34 raw:OUTPUT:rule:0x2:CONTINUE  -4 -t raw [1:84] -A OUTPUT -p icmp -j TRACE
             TRACE: 2 9d116a34 raw:OUTPUT:policy:ACCEPT\u{20}
            PACKET: 2 9d116a34 OUT=v0 SRC=10.9.0.1 DST=10.9.0.2 LEN=84 TOS=0x0 TTL=64 ID=43029 DF\u{20}
             TRACE: 2 9d116a34 filter:OUTPUT:rule:0x4:JUMP:U  -4 -t filter [1:84] -A OUTPUT -p icmp -j U
             TRACE: 2 9d116a34 filter:OUTPUT:policy:ACCEPT\u{20}
            PACKET: 2 9d116a34 OUT=v0 SRC=10.9.0.1 DST=10.9.0.2 LEN=84 TOS=0x0 TTL=64 ID=43029 DF\u{20}
             TRACE: 2 9d116a34 mangle:POSTROUTING:rule:0x2:CONTINUE  -4 -t mangle [1:84] -A POSTROUTING -p icmp
             TRACE: 2 9d116a34 mangle:POSTROUTING:policy:ACCEPT\u{20}
            PACKET: 2 acaa8ba4 IN=v0 MACSRC=36:da:c2:94:e:4b MACDST=e6:10:2a:fa:85:2b MACPROTO=0800 SRC=10.9.0.2 DST=10.9.0.1 LEN=84 TOS=0x0 TTL=64 ID=43198\u{20}
             TRACE: 2 acaa8ba4 raw:PREROUTING:rule:0x4:CONTINUE  -4 -t raw [1:84] -A PREROUTING -p icmp -j TRACE
             TRACE: 2 acaa8ba4 raw:PREROUTING:policy:ACCEPT\u{20}
            PACKET: 2 acaa8ba4 IN=v0 MACSRC=36:da:c2:94:e:4b MACDST=e6:10:2a:fa:85:2b MACPROTO=0800 SRC=10.9.0.2 DST=10.9.0.1 LEN=84 TOS=0x0 TTL=64 ID=43198\u{20}
             TRACE: 2 acaa8ba4 mangle:INPUT:rule:0x4:CONTINUE  -4 -t mangle [1:84] -A INPUT -p icmp
             TRACE: 2 acaa8ba4 mangle:INPUT:policy:ACCEPT\u{20}
            PACKET: 2 acaa8ba4 IN=v0 MACSRC=36:da:c2:94:e:4b MACDST=e6:10:2a:fa:85:2b MACPROTO=0800 SRC=10.9.0.2 DST=10.9.0.1 LEN=84 TOS=0x0 TTL=64 ID=43198\u{20}
             TRACE: 2 acaa8ba4 filter:INPUT:policy:ACCEPT\u{20}
            PACKET: 2 099d4a29 OUT=w0 SRC=10.9.1.1 DST=10.9.1.2 LEN=84 TOS=0x0 TTL=64 ID=65458 DF\u{20}
             TRACE: 2 099d4a29 raw:OUTPUT:rule:0x2:CONTINUE  -4 -t raw [2:168] -A OUTPUT -p icmp -j TRACE
             TRACE: 2 099d4a29 raw:OUTPUT:policy:ACCEPT\u{20}
            PACKET: 2 099d4a29 OUT=w0 SRC=10.9.1.1 DST=10.9.1.2 LEN=84 TOS=0x0 TTL=64 ID=65458 DF\u{20}
             TRACE: 2 099d4a29 filter:OUTPUT:rule:0x4:JUMP:U  -4 -t filter [2:168] -A OUTPUT -p icmp -j U
             TRACE: 2 099d4a29 filter:U:rule:0x2:DROP  -4 -t filter [1:84] -A U -d 10.9.1.2/32 -j DROP
            PACKET: 2 6b385910 IN=v0 MACSRC=36:da:c2:94:e:4b MACDST=e6:10:2a:fa:85:2b MACPROTO=0800 SRC=10.9.0.2 DST=10.9.0.1 LEN=84 TOS=0x0 TTL=64 ID=43275 DF\u{20}
             TRACE: 2 6b385910 raw:PREROUTING:rule:0x4:CONTINUE  -4 -t raw [2:168] -A PREROUTING -p icmp -j TRACE
             TRACE: 2 6b385910 raw:PREROUTING:policy:ACCEPT\u{20}
            PACKET: 2 6b385910 IN=v0 MACSRC=36:da:c2:94:e:4b MACDST=e6:10:2a:fa:85:2b MACPROTO=0800 SRC=10.9.0.2 DST=10.9.0.1 LEN=84 TOS=0x0 TTL=64 ID=43275 DF\u{20}
             TRACE: 2 6b385910 mangle:INPUT:rule:0x4:CONTINUE  -4 -t mangle [2:168] -A INPUT -p icmp
             TRACE: 2 6b385910 mangle:INPUT:policy:ACCEPT\u{20}
            PACKET: 2 cc807903 OUT=v0 SRC=10.9.0.1 DST=10.9.0.2 LEN=112 TOS=0xc0 TTL=64 ID=43063\u{20}
             TRACE: 2 cc807903 raw:OUTPUT:rule:0x2:CONTINUE  -4 -t raw [3:280] -A OUTPUT -p icmp -j TRACE
             TRACE: 2 cc807903 raw:OUTPUT:policy:ACCEPT\u{20}
            PACKET: 2 cc807903 OUT=v0 SRC=10.9.0.1 DST=10.9.0.2 LEN=112 TOS=0xc0 TTL=64 ID=43063\u{20}
             TRACE: 2 cc807903 filter:OUTPUT:rule:0x4:JUMP:U  -4 -t filter [3:280] -A OUTPUT -p icmp -j U
             TRACE: 2 cc807903 filter:OUTPUT:policy:ACCEPT\u{20}
            PACKET: 2 cc807903 OUT=v0 SRC=10.9.0.1 DST=10.9.0.2 LEN=112 TOS=0xc0 TTL=64 ID=43063\u{20}
             TRACE: 2 cc807903 mangle:POSTROUTING:rule:0x2:CONTINUE  -4 -t mangle [2:196] -A POSTROUTING -p icmp
             TRACE: 2 cc807903 mangle:POSTROUTING:policy:ACCEPT\u{20}
            PACKET: 2 6b385910 IN=v0 MACSRC=36:da:c2:94:e:4b MACDST=e6:10:2a:fa:85:2b MACPROTO=0800 SRC=10.9.0.2 DST=10.9.0.1 LEN=84 TOS=0x0 TTL=64 ID=43275 DF\u{20}
             TRACE: 2 6b385910 filter:INPUT:rule:0x6:DROP  -4 -t filter [1:84] -A INPUT -p icmp -m icmp --icmp-type 8 -j REJECT --reject-with icmp-port-unreachable
            PACKET: 2 c657cb1e IN=v0 MACSRC=36:da:c2:94:e:4b MACDST=e6:10:2a:fa:85:2b MACPROTO=0800 SRC=10.9.0.2 DST=10.9.1.2 LEN=84 TOS=0x0 TTL=64 ID=51973 DF\u{20}
             TRACE: 2 c657cb1e raw:PREROUTING:rule:0x4:CONTINUE  -4 -t raw [3:252] -A PREROUTING -p icmp -j TRACE
             TRACE: 2 c657cb1e raw:PREROUTING:policy:ACCEPT\u{20}
            PACKET: 2 c657cb1e IN=v0 OUT=w0 MACSRC=36:da:c2:94:e:4b MACDST=e6:10:2a:fa:85:2b MACPROTO=0800 SRC=10.9.0.2 DST=10.9.1.2 LEN=84 TOS=0x0 TTL=63 ID=51973 DF\u{20}
             TRACE: 2 c657cb1e filter:FORWARD:policy:DROP\u{20}
            """)
        lab.check("nf_h> iptables -t nat -nvL", """
            Chain PREROUTING (policy ACCEPT 0 packets, 0 bytes)
             pkts bytes target     prot opt in     out     source               destination        \u{20}

            Chain INPUT (policy ACCEPT 0 packets, 0 bytes)
             pkts bytes target     prot opt in     out     source               destination        \u{20}
                0     0            icmp --  *      *       0.0.0.0/0            0.0.0.0/0          \u{20}

            Chain OUTPUT (policy ACCEPT 0 packets, 0 bytes)
             pkts bytes target     prot opt in     out     source               destination        \u{20}

            Chain POSTROUTING (policy ACCEPT 0 packets, 0 bytes)
             pkts bytes target     prot opt in     out     source               destination        \u{20}
                0     0            icmp --  *      *       0.0.0.0/0            0.0.0.0/0          \u{20}
            """)
        lab.check("nf_h> conntrack -L", stderr: "conntrack v1.4.7 (conntrack-tools): 0 flow entries have been shown.")
    }

    /// nf_tables handles as the trace shows them: a table from the namespace's counter, chains
    /// and rules from the table's, in creation order; a refused batch uses up its handles (the
    /// raw table that DNAT could not create took table handle 1, MASQUERADE in filter rule
    /// handle 6, the loop two: 10 and 11, the batch being replayed once); -R keeps the handle;
    /// -Z changes none. iptables-restore deletes both tables and numbers again from 1 in file
    /// order (tables 4 and 5).
    func testHandlesAcrossFailuresReplaceAndRestore() {
        let lab = Lab()
        triangle(lab)
        let mon = start(lab, "nf_h> xtables-monitor --trace")
        lab.check("nf_h> iptables -t raw -A PREROUTING -j DNAT --to 1.1.1.1", status: 4,
                  stderr: "iptables v1.8.9 (nf_tables):  RULE_APPEND failed (Invalid argument): rule in chain PREROUTING")
        lab.run("""
            nf_h> iptables -t raw -A PREROUTING -p icmp -j TRACE
            nf_h> iptables -N U
            nf_h> iptables -A INPUT -p icmp -j U
            nf_h> iptables -A INPUT -s 1.1.1.1 -j DROP
            nf_h> iptables -I INPUT 1 -s 2.2.2.2 -j ACCEPT
            nf_h> iptables -R INPUT 2 -p icmp -j U
            """)
        lab.check("nf_h> iptables -A INPUT -j MASQUERADE", status: 4,
                  stderr: "iptables v1.8.9 (nf_tables):  RULE_APPEND failed (Invalid argument): rule in chain INPUT")
        lab.run("""
            nf_h> iptables -A U -j RETURN
            nf_h> iptables -N L
            nf_h> iptables -A L -j L
            """)
        lab.check("nf_h> iptables -A INPUT -j L", status: 4,
                  stderr: "iptables v1.8.9 (nf_tables):  RULE_APPEND failed (Too many links): rule in chain INPUT")
        lab.run("""
            nf_h> iptables -A INPUT -p icmp -j ACCEPT
            nf_h> iptables -Z
            """)
        start(lab, "nf_b> ping -c 1 10.9.0.1")
        pass(lab, "1")
        lab.run("nf_h> iptables-save -f /tmp/saved.txt")
        XCTAssertEqual(lab.ctx.userland.file("/tmp/saved.txt", on: lab.machine)?.split(separator: "\n").filter { !$0.hasPrefix("#") }.joined(separator: "\n"), """
            *raw
            :PREROUTING ACCEPT [0:0]
            :OUTPUT ACCEPT [0:0]
            -A PREROUTING -p icmp -j TRACE
            COMMIT
            *filter
            :INPUT ACCEPT [0:0]
            :FORWARD ACCEPT [0:0]
            :OUTPUT ACCEPT [0:0]
            :L - [0:0]
            :U - [0:0]
            -A INPUT -s 2.2.2.2/32 -j ACCEPT
            -A INPUT -p icmp -j U
            -A INPUT -s 1.1.1.1/32 -j DROP
            -A INPUT -p icmp -j ACCEPT
            -A L -j L
            -A U -j RETURN
            COMMIT
            """)
        lab.run("nf_h> iptables-restore /tmp/saved.txt")
        start(lab, "nf_b> ping -c 1 10.9.0.1")
        pass(lab, "1")
        checkMonitor(mon, """
            PACKET: 2 8ae28738 IN=v0 MACSRC=ca:2:ff:c5:2a:a4 MACDST=92:ea:d9:b:af:ad MACPROTO=0800 SRC=10.9.0.2 DST=10.9.0.1 LEN=84 TOS=0x0 TTL=64 ID=46564 DF\u{20}
             TRACE: 2 8ae28738 raw:PREROUTING:rule:0x2:CONTINUE  -4 -t raw -A PREROUTING -p icmp -j TRACE
             TRACE: 2 8ae28738 raw:PREROUTING:policy:ACCEPT\u{20}
            PACKET: 2 8ae28738 IN=v0 MACSRC=ca:2:ff:c5:2a:a4 MACDST=92:ea:d9:b:af:ad MACPROTO=0800 SRC=10.9.0.2 DST=10.9.0.1 LEN=84 TOS=0x0 TTL=64 ID=46564 DF\u{20}
             TRACE: 2 8ae28738 filter:INPUT:rule:0x3:JUMP:U  -4 -t filter -A INPUT -p icmp -j U
             TRACE: 2 8ae28738 filter:U:rule:0x7:0xfffffffb  -4 -t filter -A U -j RETURN
             TRACE: 2 8ae28738 filter:INPUT:rule:0xc:ACCEPT  -4 -t filter -A INPUT -p icmp -j ACCEPT
            PACKET: 2 6b385910 IN=v0 MACSRC=ca:2:ff:c5:2a:a4 MACDST=92:ea:d9:b:af:ad MACPROTO=0800 SRC=10.9.0.2 DST=10.9.0.1 LEN=84 TOS=0x0 TTL=64 ID=46649 DF\u{20}
             TRACE: 2 6b385910 raw:PREROUTING:rule:0x3:CONTINUE  -4 -t raw -A PREROUTING -p icmp -j TRACE
             TRACE: 2 6b385910 raw:PREROUTING:policy:ACCEPT\u{20}
            PACKET: 2 6b385910 IN=v0 MACSRC=ca:2:ff:c5:2a:a4 MACDST=92:ea:d9:b:af:ad MACPROTO=0800 SRC=10.9.0.2 DST=10.9.0.1 LEN=84 TOS=0x0 TTL=64 ID=46649 DF\u{20}
             TRACE: 2 6b385910 filter:INPUT:rule:0x7:JUMP:U  -4 -t filter -A INPUT -p icmp -j U
             TRACE: 2 6b385910 filter:U:rule:0xb:0xfffffffb  -4 -t filter -A U -j RETURN
             TRACE: 2 6b385910 filter:INPUT:rule:0x9:ACCEPT  -4 -t filter -A INPUT -p icmp -j ACCEPT
            """)
    }
}

extension XtablesMonitorTests {
    /// --event: each command's batch as the kernel announces it at commit, then NEWGEN with
    /// the generation (2 for the namespace's first commit) and the committing process. A
    /// chain's message carries its policy at that point of the batch and its use count at
    /// commit (so -P on a missing chain prints it twice, accept then drop); -R is a delete and
    /// an add; -E announces the chain under its new name; -Z a base chain update; -X also
    /// deletes the empty built-in chains with policy ACCEPT; listing commits nothing.
    func testEventsOfEachCommand() {
        let lab = Lab()
        triangle(lab)
        let mon = start(lab, "nf_h> xtables-monitor -e")
        lab.run("""
            nf_h> iptables -N U
            nf_h> iptables -A INPUT -p icmp -j U
            nf_h> iptables -A INPUT -s 1.1.1.1 -j DROP
            nf_h> iptables -I INPUT 1 -s 2.2.2.2 -j ACCEPT
            nf_h> iptables -R INPUT 2 -p tcp -j U
            nf_h> iptables -D INPUT -s 1.1.1.1 -j DROP
            nf_h> iptables -P FORWARD DROP
            nf_h> iptables -P INPUT ACCEPT
            nf_h> iptables -E U V
            nf_h> iptables -Z INPUT
            nf_h> iptables -F INPUT
            nf_h> iptables -X V
            nf_h> iptables -N U
            nf_h> iptables -A INPUT -j U
            nf_h> iptables -t nat -A POSTROUTING -j MASQUERADE
            """)
        _ = lab.exec("nf_h> iptables -L -n")
        lab.run("""
            nf_h> iptables -D INPUT 1
            nf_h> iptables -F
            nf_h> iptables -X
            """)
        checkMonitor(mon, """
             EVENT: nft: NEW table: table filter ip flags 0 use 1 handle 1
             EVENT: -4 -t filter -N U
            NEWGEN: GENID=2 PID=4968 NAME=iptables
             EVENT: # nft: ip filter INPUT use 1 type filter hook input prio 0 policy accept packets 0 bytes 0 flags 1
             EVENT: -4 -t filter -A INPUT -p icmp -j U
            NEWGEN: GENID=3 PID=4969 NAME=iptables
             EVENT: -4 -t filter -A INPUT -s 1.1.1.1/32 -j DROP
            NEWGEN: GENID=4 PID=4970 NAME=iptables
             EVENT: -4 -t filter -A INPUT -s 2.2.2.2/32 -j ACCEPT
            NEWGEN: GENID=5 PID=4971 NAME=iptables
             EVENT: -4 -t filter -D INPUT -p icmp -j U
             EVENT: -4 -t filter -A INPUT -p tcp -j U
            NEWGEN: GENID=6 PID=4972 NAME=iptables
             EVENT: -4 -t filter -D INPUT -s 1.1.1.1/32 -j DROP
            NEWGEN: GENID=7 PID=4973 NAME=iptables
             EVENT: # nft: ip filter FORWARD use 0 type filter hook forward prio 0 policy accept packets 0 bytes 0 flags 1
             EVENT: # nft: ip filter FORWARD use 0 type filter hook forward prio 0 policy drop packets 0 bytes 0 flags 1
            NEWGEN: GENID=8 PID=4974 NAME=iptables
             EVENT: # nft: ip filter INPUT use 2 type filter hook input prio 0 policy accept packets 0 bytes 0 flags 1
            NEWGEN: GENID=9 PID=4975 NAME=iptables
             EVENT: -4 -t filter -N V
            NEWGEN: GENID=10 PID=4976 NAME=iptables
             EVENT: # nft: ip filter INPUT use 2 type filter hook input prio 0 policy accept packets 0 bytes 0 flags 1
            NEWGEN: GENID=11 PID=4977 NAME=iptables
             EVENT: -4 -t filter -D INPUT -s 2.2.2.2/32 -j ACCEPT
             EVENT: -4 -t filter -D INPUT -p tcp -j V
            NEWGEN: GENID=12 PID=4981 NAME=iptables
             EVENT: -4 -t filter -X V
            NEWGEN: GENID=13 PID=4982 NAME=iptables
             EVENT: -4 -t filter -N U
            NEWGEN: GENID=14 PID=4983 NAME=iptables
             EVENT: -4 -t filter -A INPUT -j U
            NEWGEN: GENID=15 PID=4984 NAME=iptables
             EVENT: nft: NEW table: table nat ip flags 0 use 1 handle 2
             EVENT: # nft: ip nat POSTROUTING use 1 type nat hook postrouting prio 100 policy accept packets 0 bytes 0 flags 1
             EVENT: -4 -t nat -A POSTROUTING -j MASQUERADE
            NEWGEN: GENID=16 PID=4985 NAME=iptables
             EVENT: -4 -t filter -D INPUT -j U
            NEWGEN: GENID=17 PID=4987 NAME=iptables
             EVENT: -4 -t filter -X INPUT
             EVENT: -4 -t filter -X U
            NEWGEN: GENID=18 PID=4989 NAME=iptables
            """)
    }

    /// iptables-restore deletes the table (its rules, its chains, then the table: DEL table),
    /// makes a new one (handle 3: nat took 2) with each built-in chain created and then given
    /// the file's policy, user chains and rules in file order, one NEWGEN named by the
    /// truncated comm; a refused -D commits nothing; -F -v walks the user chains sorted by
    /// name; --noflush only updates the chains that exist.
    func testEventsOfRestoreFlushAndDelete() {
        let lab = Lab()
        triangle(lab)
        lab.run("""
            nf_h> iptables -A OUTPUT -j ACCEPT
            nf_h> iptables -t nat -A OUTPUT -j ACCEPT
            """)
        lab.ctx.userland.writeFile("/tmp/r.txt", """
            *filter
            :INPUT ACCEPT [0:0]
            :FORWARD DROP [0:0]
            :OUTPUT ACCEPT [0:0]
            :ZED - [0:0]
            :ALPHA - [0:0]
            -A INPUT -p icmp -j ZED
            -A ZED -j RETURN
            -A ALPHA -j ACCEPT
            -A INPUT -j ALPHA
            COMMIT

            """, on: lab.machine)
        let mon = start(lab, "nf_h> xtables-monitor -e")
        lab.check("nf_h> iptables -D INPUT -s 9.9.9.9 -j DROP", status: 1, stderr: "iptables: Bad rule (does a matching rule exist in that chain?).")
        lab.run("nf_h> iptables-restore /tmp/r.txt")
        lab.check("nf_h> iptables -F -v", """
            Flushing chain `INPUT'
            Flushing chain `FORWARD'
            Flushing chain `OUTPUT'
            Flushing chain `ALPHA'
            Flushing chain `ZED'
            """)
        lab.run("""
            nf_h> iptables -X
            nf_h> iptables-restore --noflush /tmp/r.txt
            """)
        checkMonitor(mon, """
             EVENT: -4 -t filter -D OUTPUT -j ACCEPT
             EVENT: -4 -t filter -X OUTPUT
             EVENT: nft: DEL table: table filter ip flags 0 use 0 handle 1
             EVENT: nft: NEW table: table filter ip flags 0 use 5 handle 3
             EVENT: # nft: ip filter INPUT use 2 type filter hook input prio 0 policy accept packets 0 bytes 0 flags 1
             EVENT: # nft: ip filter INPUT use 2 type filter hook input prio 0 policy accept packets 0 bytes 0 flags 1
             EVENT: # nft: ip filter FORWARD use 0 type filter hook forward prio 0 policy accept packets 0 bytes 0 flags 1
             EVENT: # nft: ip filter FORWARD use 0 type filter hook forward prio 0 policy drop packets 0 bytes 0 flags 1
             EVENT: # nft: ip filter OUTPUT use 0 type filter hook output prio 0 policy accept packets 0 bytes 0 flags 1
             EVENT: # nft: ip filter OUTPUT use 0 type filter hook output prio 0 policy accept packets 0 bytes 0 flags 1
             EVENT: -4 -t filter -N ZED
             EVENT: -4 -t filter -N ALPHA
             EVENT: -4 -t filter -A INPUT -p icmp -j ZED
             EVENT: -4 -t filter -A ZED -j RETURN
             EVENT: -4 -t filter -A ALPHA -j ACCEPT
             EVENT: -4 -t filter -A INPUT -j ALPHA
            NEWGEN: GENID=4 PID=17157 NAME=iptables-restor
             EVENT: -4 -t filter -D INPUT -p icmp -j ZED
             EVENT: -4 -t filter -D INPUT -j ALPHA
             EVENT: -4 -t filter -D ALPHA -j ACCEPT
             EVENT: -4 -t filter -D ZED -j RETURN
            NEWGEN: GENID=5 PID=17158 NAME=iptables
             EVENT: -4 -t filter -X INPUT
             EVENT: -4 -t filter -X OUTPUT
             EVENT: -4 -t filter -X ZED
             EVENT: -4 -t filter -X ALPHA
            NEWGEN: GENID=6 PID=17159 NAME=iptables
             EVENT: # nft: ip filter INPUT use 2 type filter hook input prio 0 policy accept packets 0 bytes 0 flags 1
             EVENT: # nft: ip filter INPUT use 2 type filter hook input prio 0 policy accept packets 0 bytes 0 flags 1
             EVENT: # nft: ip filter FORWARD use 0 type filter hook forward prio 0 policy drop packets 0 bytes 0 flags 1
             EVENT: # nft: ip filter OUTPUT use 0 type filter hook output prio 0 policy accept packets 0 bytes 0 flags 1
             EVENT: # nft: ip filter OUTPUT use 0 type filter hook output prio 0 policy accept packets 0 bytes 0 flags 1
             EVENT: -4 -t filter -N ZED
             EVENT: -4 -t filter -N ALPHA
             EVENT: -4 -t filter -A INPUT -p icmp -j ZED
             EVENT: -4 -t filter -A ZED -j RETURN
             EVENT: -4 -t filter -A ALPHA -j ACCEPT
             EVENT: -4 -t filter -A INPUT -j ALPHA
            NEWGEN: GENID=7 PID=17160 NAME=iptables-restor
            """)
    }

    /// What xtables-monitor says about its options (getopt_long with opterr 0).
    func testOptions() {
        let lab = Lab()
        lab.run("ip netns add nf_h")
        let usage = """
            xtables-monitor 1.8.9 (nf_tables)
            Usage: xtables-monitor [ -t | -e ]
                    --trace    -t    trace ruleset traversal of packets tagged via -j TRACE rule
                    --event    -e    show events that modify the ruleset
            Optional arguments:
                    --ipv4     -4    only monitor IPv4
                    --ipv6     -6    only monitor IPv6
            \t--counters -c    show counters in rules
            """
        lab.check("nf_h> xtables-monitor", usage, status: 1)
        lab.check("nf_h> xtables-monitor -h", usage, status: 1)
        lab.check("nf_h> xtables-monitor foo", usage, status: 1)
        lab.check("nf_h> xtables-monitor -4", usage, status: 1)
        lab.check("nf_h> xtables-monitor -V", "xtables-monitor 1.8.9")
        for bad in ["-x", "--bogus"] {
            lab.check("nf_h> xtables-monitor \(bad)", status: 2, stderr: """
                xtables-monitor 1.8.9: Bad argument.
                Try `xtables-monitor -h' for more information.
                """)
        }
    }
}

extension XtablesMonitorTests {
    /// br_netfilter: a bridged packet shows IN=br0 (and OUT=br0 in FORWARD), keeps its id
    /// through PREROUTING, FORWARD and POSTROUTING, where br_netfilter gives no in device:
    /// xtables-monitor then prints the Ethernet header as "LL=0x0" and bytes, printf("%02x")
    /// of signed chars (ffffff91 for 0x91). A packet the bridge passes up to the host is
    /// received again by br0: INPUT shows another id than PREROUTING.
    func testBridgedPacketsAndOnePassedUpToTheHost() {
        let lab = Lab()
        lab.run("""
            ip netns add nf_h
            ip netns add nf_b
            ip netns add nf_c
            nf_h> ip link add br0 type bridge
            nf_h> ip addr add 172.18.0.1/24 dev br0
            nf_h> ip link set br0 up
            nf_h> ip link add vb type veth peer name eth0
            nf_h> ip link set eth0 netns nf_b
            nf_h> ip link add vc type veth peer name eth0
            nf_h> ip link set eth0 netns nf_c
            nf_h> ip link set vb master br0
            nf_h> ip link set vc master br0
            nf_h> ip link set vb up
            nf_h> ip link set vc up
            nf_b> ip addr add 172.18.0.2/24 dev eth0
            nf_b> ip link set eth0 up
            nf_c> ip addr add 172.18.0.3/24 dev eth0
            nf_c> ip link set eth0 up
            nf_h> iptables -t raw -A PREROUTING -p icmp --icmp-type echo-request -j TRACE
            nf_h> iptables -A FORWARD -p icmp
            nf_h> iptables -A INPUT -p icmp
            nf_h> iptables -t mangle -A POSTROUTING -p icmp
            """)
        let mon = start(lab, "nf_h> xtables-monitor --trace")
        start(lab, "nf_b> ping -c 1 172.18.0.3")
        pass(lab, "1")
        start(lab, "nf_b> ping -c 1 172.18.0.1")
        pass(lab, "1")
        let b = lab.machine.namespace(named: "nf_b")!.device(named: "eth0")!.mac.bytes
        let c = lab.machine.namespace(named: "nf_c")!.device(named: "eth0")!.mac.bytes
        // The LL bytes hold the MACs, in the sign-extended form: compare them as the real ones.
        let ll = (c + b).map { XtablesMonitor.signedHex($0, upper: false) }.joined()
        mon.out = mon.out.replacingOccurrences(of: ll, with: "1effffff91ffffff82fffffffcffffff8622ffffffce08fffffffc587f27")
        checkMonitor(mon, """
            PACKET: 2 ef03fe72 IN=br0 MACSRC=ce:8:fc:58:7f:27 MACDST=1e:91:82:fc:86:22 MACPROTO=0800 SRC=172.18.0.2 DST=172.18.0.3 LEN=84 TOS=0x0 TTL=64 ID=17278 DF\u{20}
             TRACE: 2 ef03fe72 raw:PREROUTING:rule:0x2:CONTINUE  -4 -t raw -A PREROUTING -p icmp -m icmp --icmp-type 8 -j TRACE
             TRACE: 2 ef03fe72 raw:PREROUTING:policy:ACCEPT\u{20}
            PACKET: 2 ef03fe72 IN=br0 OUT=br0 MACSRC=ce:8:fc:58:7f:27 MACDST=1e:91:82:fc:86:22 MACPROTO=0800 SRC=172.18.0.2 DST=172.18.0.3 LEN=84 TOS=0x0 TTL=64 ID=17278 DF\u{20}
             TRACE: 2 ef03fe72 filter:FORWARD:rule:0x2:CONTINUE  -4 -t filter -A FORWARD -p icmp
             TRACE: 2 ef03fe72 filter:FORWARD:policy:ACCEPT\u{20}
            PACKET: 2 ef03fe72 OUT=br0 LL=0x0 1effffff91ffffff82fffffffcffffff8622ffffffce08fffffffc587f270800 SRC=172.18.0.2 DST=172.18.0.3 LEN=84 TOS=0x0 TTL=64 ID=17278 DF\u{20}
             TRACE: 2 ef03fe72 mangle:POSTROUTING:rule:0x2:CONTINUE  -4 -t mangle -A POSTROUTING -p icmp
             TRACE: 2 ef03fe72 mangle:POSTROUTING:policy:ACCEPT\u{20}
            PACKET: 2 2a067d62 IN=br0 MACSRC=ce:8:fc:58:7f:27 MACDST=8a:e3:a8:63:a7:61 MACPROTO=0800 SRC=172.18.0.2 DST=172.18.0.1 LEN=84 TOS=0x0 TTL=64 ID=26110 DF\u{20}
             TRACE: 2 2a067d62 raw:PREROUTING:rule:0x2:CONTINUE  -4 -t raw -A PREROUTING -p icmp -m icmp --icmp-type 8 -j TRACE
             TRACE: 2 2a067d62 raw:PREROUTING:policy:ACCEPT\u{20}
            PACKET: 2 5ce9075b IN=br0 MACSRC=ce:8:fc:58:7f:27 MACDST=8a:e3:a8:63:a7:61 MACPROTO=0800 SRC=172.18.0.2 DST=172.18.0.1 LEN=84 TOS=0x0 TTL=64 ID=26110 DF\u{20}
             TRACE: 2 5ce9075b filter:INPUT:rule:0x4:CONTINUE  -4 -t filter -A INPUT -p icmp
             TRACE: 2 5ce9075b filter:INPUT:policy:ACCEPT\u{20}
            """)
    }
}

extension XtablesMonitorTests {
    /// Three monitors at once: -e -c shows each rule's counters (a deleted rule's as they were),
    /// -t -6 shows nothing of IPv4, -t -e both groups in the order they were sent.
    func testCountersFamilyFilterAndBothGroups() {
        let lab = Lab()
        triangle(lab)
        lab.run("nf_h> iptables -t raw -A PREROUTING -p icmp -j TRACE")
        let m1 = start(lab, "nf_h> xtables-monitor -e -c")
        let m2 = start(lab, "nf_h> xtables-monitor -t -6")
        let m3 = start(lab, "nf_h> xtables-monitor -t -e")
        lab.run("nf_h> iptables -A INPUT -p icmp -j ACCEPT")
        start(lab, "nf_b> ping -c 1 10.9.0.1")
        pass(lab, "1")
        lab.run("nf_h> iptables -D INPUT -p icmp -j ACCEPT")
        checkMonitor(m1, """
             EVENT: nft: NEW table: table filter ip flags 0 use 1 handle 2
             EVENT: # nft: ip filter INPUT use 1 type filter hook input prio 0 policy accept packets 0 bytes 0 flags 1
             EVENT: -4 -t filter [0:0] -A INPUT -p icmp -j ACCEPT
            NEWGEN: GENID=3 PID=13622 NAME=iptables
             EVENT: -4 -t filter [1:84] -D INPUT -p icmp -j ACCEPT
            NEWGEN: GENID=4 PID=13624 NAME=iptables
            """)
        XCTAssertEqual(m2.out, "")
        checkMonitor(m3, """
             EVENT: nft: NEW table: table filter ip flags 0 use 1 handle 2
             EVENT: # nft: ip filter INPUT use 1 type filter hook input prio 0 policy accept packets 0 bytes 0 flags 1
             EVENT: -4 -t filter -A INPUT -p icmp -j ACCEPT
            NEWGEN: GENID=3 PID=13622 NAME=iptables
            PACKET: 2 bbb4597a IN=v0 MACSRC=62:ad:3d:25:be:e8 MACDST=d6:41:f2:4b:6e:a4 MACPROTO=0800 SRC=10.9.0.2 DST=10.9.0.1 LEN=84 TOS=0x0 TTL=64 ID=36842 DF\u{20}
             TRACE: 2 bbb4597a raw:PREROUTING:rule:0x2:CONTINUE  -4 -t raw -A PREROUTING -p icmp -j TRACE
             TRACE: 2 bbb4597a raw:PREROUTING:policy:ACCEPT\u{20}
            PACKET: 2 bbb4597a IN=v0 MACSRC=62:ad:3d:25:be:e8 MACDST=d6:41:f2:4b:6e:a4 MACPROTO=0800 SRC=10.9.0.2 DST=10.9.0.1 LEN=84 TOS=0x0 TTL=64 ID=36842 DF\u{20}
             TRACE: 2 bbb4597a filter:INPUT:rule:0x2:ACCEPT  -4 -t filter -A INPUT -p icmp -j ACCEPT
             EVENT: -4 -t filter -D INPUT -p icmp -j ACCEPT
            NEWGEN: GENID=4 PID=13624 NAME=iptables
            """)
    }
}
