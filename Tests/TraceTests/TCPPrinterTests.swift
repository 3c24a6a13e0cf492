// PrintTCP: tcpdump 4.99.3's text for segments captured from Linux 6.18 (exact lines as
// tcpdump printed them), and for crafted segments that exercise the printer's corners
// (telnet commands, text protocols, SACK, odd options, RST text), checked against the real
// tcpdump reading the same packets from a pcap.

import XCTest
import TestSupport
import SimCore
import Wire
@testable import NetKernel
@testable import Trace

final class TCPPrinterTests: XCTestCase {
    static let host = IPv4Address(172, 18, 0, 1)
    static let container = IPv4Address(172, 18, 0, 2)

    /// Captured on Linux 6.18 (TestSupport/LinuxTCPCapture.swift): `printf 'hello\n' | nc -N`
    /// to `nc -l 80`, and a SYN to a closed port with its RST. IP packets.
    static let syn = LinuxTCPCapture.syn
    static let synAck = LinuxTCPCapture.synAck
    static let ack = LinuxTCPCapture.ack
    static let data = LinuxTCPCapture.data
    static let rst = LinuxTCPCapture.rst

    static func frame(_ ip: [UInt8]) -> [UInt8] {
        [0x02, 0, 0, 0, 0, 2, 0x02, 0, 0, 0, 0, 1, 0x08, 0x00] + ip
    }

    func lines(_ ips: [[UInt8]], verbose: Int = 0) -> [String] {
        let st = PrinterState()
        return ips.map { PacketPrinter.ethernet(Self.frame($0), options: PrintOptions(verbose: verbose), state: st) }
    }

    /// Exactly what tcpdump -r -n printed for these packets.
    func testCapturedHandshakeAsTcpdumpPrintedIt() {
        XCTAssertEqual(lines([Self.syn, Self.synAck, Self.ack, Self.data]), [
            "IP 172.18.0.1.41888 > 172.18.0.2.80: Flags [S], seq 1000285830, win 64240, options [mss 1460,sackOK,TS val 764372612 ecr 0,nop,wscale 7], length 0",
            "IP 172.18.0.2.80 > 172.18.0.1.41888: Flags [S.], seq 2620596015, ack 1000285831, win 65160, options [mss 1460,sackOK,TS val 2208887140 ecr 764372612,nop,wscale 7], length 0",
            "IP 172.18.0.1.41888 > 172.18.0.2.80: Flags [.], ack 1, win 502, options [nop,nop,TS val 764372612 ecr 2208887140], length 0",
            "IP 172.18.0.1.41888 > 172.18.0.2.80: Flags [P.], seq 1:7, ack 1, win 502, options [nop,nop,TS val 764372612 ecr 2208887140], length 6: HTTP",
        ])
        // Without the SYN-ACK in the capture, the first ACK segment sets the base: absolute.
        XCTAssertEqual(lines([Self.data])[0],
            "IP 172.18.0.1.41888 > 172.18.0.2.80: Flags [P.], seq 1000285831:1000285837, ack 2620596016, win 502, options [nop,nop,TS val 764372612 ecr 2208887140], length 6: HTTP")
    }

    func testCapturedSegmentsVerbose() {
        XCTAssertEqual(lines([Self.syn, Self.synAck, Self.ack, Self.rst], verbose: 1), [
            "IP (tos 0x0, ttl 64, id 21631, offset 0, flags [DF], proto TCP (6), length 60)\n    172.18.0.1.41888 > 172.18.0.2.80: Flags [S], cksum 0x5856 (incorrect -> 0x5abe), seq 1000285830, win 64240, options [mss 1460,sackOK,TS val 764372612 ecr 0,nop,wscale 7], length 0",
            "IP (tos 0x0, ttl 64, id 0, offset 0, flags [DF], proto TCP (6), length 60)\n    172.18.0.2.80 > 172.18.0.1.41888: Flags [S.], cksum 0x5856 (incorrect -> 0x26a5), seq 2620596015, ack 1000285831, win 65160, options [mss 1460,sackOK,TS val 2208887140 ecr 764372612,nop,wscale 7], length 0",
            "IP (tos 0x0, ttl 64, id 21632, offset 0, flags [DF], proto TCP (6), length 52)\n    172.18.0.1.41888 > 172.18.0.2.80: Flags [.], cksum 0x584e (incorrect -> 0x5204), ack 1, win 502, options [nop,nop,TS val 764372612 ecr 2208887140], length 0",
            "IP (tos 0x0, ttl 64, id 0, offset 0, flags [DF], proto TCP (6), length 40)\n    172.18.0.2.82 > 172.18.0.1.47884: Flags [R.], cksum 0x2d6c (correct), seq 0, ack 2221075067, win 0, length 0",
        ])
        // -vv prints seq on every segment.
        XCTAssertTrue(lines([Self.syn, Self.synAck, Self.ack], verbose: 2)[2].contains("(incorrect -> 0x5204), seq 1, ack 1, win 502"))
    }

    // MARK: - Crafted segments, checked against the real tcpdump

    static func segment(_ src: IPv4Address, _ sp: UInt16, _ dst: IPv4Address, _ dp: UInt16, seq: UInt32, ack: UInt32 = 0,
                        flags: TCPFlags, win: UInt16 = 502, options: [TCPOption] = [], payload: [UInt8] = [],
                        rawOptions: [UInt8]? = nil) -> [UInt8] {
        var h = TCPHeader(sourcePort: sp, destinationPort: dp, sequence: seq, acknowledgment: ack, flags: flags,
                          window: win, options: options)
        var seg = h.segment(payload: payload, source: src, destination: dst)
        if let raw = rawOptions {
            h.options = []
            var b = [UInt8](repeating: 0, count: 20 + raw.count + payload.count)
            h.emit(into: &b)
            b[12] = UInt8((20 + raw.count) / 4) << 4
            for (i, x) in raw.enumerated() { b[20 + i] = x }
            for (i, x) in payload.enumerated() { b[20 + raw.count + i] = x }
            TCPChecksum.fill(&b, at: 0, length: b.count, source: src, destination: dst)
            seg = b
        }
        var ih = IPv4Header(totalLength: UInt16(20 + seg.count), identification: 7, dontFragment: true, proto: .tcp,
                            source: src, destination: dst)
        var ip = [UInt8](repeating: 0, count: 20)
        ih.emit(into: &ip)
        return ip + seg
    }

    static var crafted: [[UInt8]] {
        let h = host, c = container
        let ts: [TCPOption] = [.nop, .nop, .timestamp(value: 100, echoReply: 200)]
        let line = { (s: String) in Array(s.utf8) }
        return [
            segment(h, 40000, c, 23, seq: 1000, flags: [.syn], win: 64240, options: [.mss(1460), .sackPermitted, .timestamp(value: 1, echoReply: 0), .nop, .windowScale(7)]),
            segment(c, 23, h, 40000, seq: 5000, ack: 1001, flags: [.syn, .ack], win: 65160, options: [.mss(1460), .nop, .nop, .sackPermitted, .nop, .windowScale(7)]),
            segment(c, 23, h, 40000, seq: 5001, ack: 1001, flags: [.psh, .ack], options: ts, payload: [0xff, 0xfb, 0x01, 0xff, 0xfd, 0x18] + line("hi\n")),
            segment(h, 40000, c, 23, seq: 1001, ack: 5010, flags: [.psh, .ack], options: ts, payload: [0xff, 0xfd, 0x01, 0xff, 0xfb, 0x18]),
            segment(h, 40000, c, 23, seq: 1007, ack: 5010, flags: [.psh, .ack], payload: [0xff, 0xfa, 0x18, 0x00] + line("xterm") + [0xff, 0xf0, 0xff, 0xf1, 0xff, 0xff]),
            segment(h, 40000, c, 23, seq: 1030, ack: 5010, flags: [.ack], options: ts + [.nop, .nop, .sack([TCPSackBlock(start: 5020, end: 5030), TCPSackBlock(start: 5040, end: 5050)])]),
            segment(h, 41000, c, 80, seq: 7, ack: 9, flags: [.psh, .ack], payload: line("GET /index.html HTTP/1.1\r\nHost: x\r\n\r\n")),
            segment(c, 80, h, 41000, seq: 9, ack: 44, flags: [.psh, .ack], payload: line("HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nab") + [1]),
            segment(h, 41000, c, 80, seq: 44, ack: 99, flags: [.psh, .ack], payload: line("hello there")),
            segment(h, 41000, c, 80, seq: 55, ack: 99, flags: [.psh, .ack], payload: line("post /x HTTP/1.0\r\n")),
            segment(h, 41002, c, 8080, seq: 1, ack: 1, flags: [.ack, .psh], payload: line("XYZ 404 nope\r\n")),
            segment(c, 22, h, 41003, seq: 1, ack: 1, flags: [.ack, .psh], payload: line("SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n")),
            segment(c, 21, h, 41004, seq: 1, ack: 1, flags: [.ack, .psh], payload: line("220 ready\r\n")),
            segment(c, 25, h, 41005, seq: 1, ack: 1, flags: [.ack, .psh], payload: line("220 mail\r\n250 ok\r\n")),
            segment(c, 8554, h, 41006, seq: 1, ack: 1, flags: [.ack, .psh], payload: line("RTSP/1.0 200 OK\r\n")),
            segment(c, 9999, h, 41007, seq: 3, ack: 4, flags: [.rst, .ack], win: 0, payload: line("reset because\u{1}\u{7f} of a long text beyond thirty chars")),
            segment(h, 41008, c, 9999, seq: 3, ack: 4, flags: [.fin, .syn, .rst, .psh, .ack, .urg, .ece, .cwr], options: [.unknown(kind: 99, data: [1, 2, 3]), .eol]),
            segment(h, 41009, c, 9999, seq: 3, flags: [], rawOptions: [2, 4, 5, 0xb4, 3, 4, 7, 0]),
            segment(h, 41010, c, 9999, seq: 3, flags: [.syn], rawOptions: [1, 2, 9, 1]),
            segment(h, 41011, c, 9999, seq: 3, flags: [.syn], rawOptions: [8, 10, 0, 0, 0, 1, 0, 0, 0, 2, 0, 1]),
            segment(h, 41012, c, 9999, seq: 3, ack: 10, flags: [.ack], rawOptions: [5, 6, 0, 0, 0, 1, 1, 1]),
        ]
    }

    func testCraftedSegmentsPrintAsTcpdumpPrintsThem() throws {
        let expected = [
            "IP 172.18.0.2.23 > 172.18.0.1.40000: Flags [P.], seq 1:10, ack 1, win 502, options [nop,nop,TS val 100 ecr 200], length 9 [telnet WILL ECHO, DO TERMINAL TYPE]",
            "IP 172.18.0.1.40000 > 172.18.0.2.23: Flags [P.], seq 1:7, ack 10, win 502, options [nop,nop,TS val 100 ecr 200], length 6 [telnet DO ECHO, WILL TERMINAL TYPE]",
        ]
        let out = lines(Self.crafted)
        XCTAssertEqual(Array(out[2...3]), expected)
        XCTAssertTrue(out[6].hasSuffix("length 37: HTTP: GET /index.html HTTP/1.1"), out[6])
        XCTAssertTrue(out[8].hasSuffix("length 11: HTTP"), out[8])
        for v in [0, 1, 2] {
            try assertTcpdumpAgrees(Self.crafted, verbose: v)
        }
    }

    func assertTcpdumpAgrees(_ ips: [[UInt8]], verbose: Int, file: StaticString = #filePath, line: UInt = #line) throws {
        guard let tcpdump = ["/usr/bin/tcpdump", "/usr/sbin/tcpdump"].first(where: { FileManager.default.fileExists(atPath: $0) }) else {
            throw XCTSkip("tcpdump is not installed")
        }
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("tcpprint-\(UUID().uuidString).pcap").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let w = try PcapWriter(path: path, linkType: .ethernet)
        for (i, ip) in ips.enumerated() { w.write(Self.frame(ip), at: .seconds(Int64(i))) }
        w.close()
        let r = try Subprocess.run(tcpdump, ["-r", path, "-n", "-t"] + (verbose > 0 ? ["-" + String(repeating: "v", count: verbose)] : []))
        let ours = lines(ips, verbose: verbose).joined(separator: "\n") + "\n"
        let theirs = r.stdout
        if ours != theirs {
            let a = ours.split(separator: "\n", omittingEmptySubsequences: false)
            let b = theirs.split(separator: "\n", omittingEmptySubsequences: false)
            for (x, y) in zip(a, b) where x != y {
                XCTFail("-v\(verbose) first difference:\n ours:    \(x)\n tcpdump: \(y)", file: file, line: line)
                return
            }
            XCTFail("-v\(verbose) line counts differ: \(a.count) vs \(b.count)", file: file, line: line)
        }
    }
}
