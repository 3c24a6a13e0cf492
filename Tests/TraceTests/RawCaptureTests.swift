// A capture on a tun device: DLT_RAW, written as LINKTYPE_RAW (101), printed as tcpdump 4.99
// prints it. Observed on Linux 6.18 with tcpdump 4.99.3 on a tun: the banner reads
// "listening on tun7, link-type RAW (Raw IP), snapshot length 262144 bytes"; `tcpdump -r -n`
// prints "IP 10.244.7.0 > 10.244.3.5: ICMP echo request, ..."; with -e the line starts "ip: ".

import XCTest
import Foundation
import SimCore
import TestSupport
import Wire
@testable import NetKernel
@testable import Trace

final class RawCaptureTests: XCTestCase {
    func testTunCaptureIsRawIP() throws {
        let k = Kernel(clock: EventQueue(), seed: 4)
        let ns = k.addMachine("a").root!
        let f = try ns.openTun(name: "tun7")
        let dev = try XCTUnwrap(f.device)
        try ns.apply(.addressAdd(dev, IPv4Prefix("10.244.7.0/32")!, broadcast: nil, scope: nil, label: nil))
        ns.setUp(dev, true)
        ns.setUp(ns.loopback, true)
        try ns.addRoute(Route(destination: IPv4Prefix("10.244.0.0/16")!, device: dev))
        let cap = Capture(name: "tun7", device: dev, promiscuous: true, filter: try CaptureFilter("icmp", linkType: .raw),
                          options: PrintOptions(), limit: nil, epoch: .seconds(1_700_000_000))
        XCTAssertEqual(cap.linkType, .raw)
        XCTAssertEqual(cap.startBanner.last, "listening on tun7, link-type RAW (Raw IP), snapshot length 262144 bytes")
        let s = ns.openRawSocket(proto: .icmp)
        try s.send(to: IPv4Address("10.244.3.5")!, payload: ICMPv4Packet.echo(request: true, identifier: 30103, sequence: 1, payload: Array(repeating: 0, count: 56)).bytes)
        try k.clock.run(until: k.clock.now + .milliseconds(1))
        // The process writes an answer back: received on the device, seen by the capture.
        var reply = try XCTUnwrap(f.read())
        (reply[12], reply[13], reply[14], reply[15], reply[16], reply[17], reply[18], reply[19]) =
            (reply[16], reply[17], reply[18], reply[19], reply[12], reply[13], reply[14], reply[15])
        reply[20] = 0
        reply[22] = 0; reply[23] = 0
        let sum = ICMPv4Packet.echo(request: false, identifier: 30103, sequence: 1, payload: Array(repeating: 0, count: 56)).bytes
        reply.replaceSubrange(20..., with: sum)
        try f.write(reply)
        try k.clock.run(until: k.clock.now + .milliseconds(1))
        XCTAssertEqual(cap.records.count, 2)
        XCTAssertEqual(cap.records[0].bytes.first, 0x45, "no link header")
        let lines = cap.text.split(separator: "\n").map { String($0.dropFirst(16)) }
        XCTAssertEqual(lines, ["IP 10.244.7.0 > 10.244.3.5: ICMP echo request, id 30103, seq 1, length 64",
                               "IP 10.244.3.5 > 10.244.7.0: ICMP echo reply, id 30103, seq 1, length 64"])
        XCTAssertEqual(PacketPrinter.raw(cap.records[0].bytes, options: PrintOptions(linkHeader: true)),
                       "ip: 10.244.7.0 > 10.244.3.5: ICMP echo request, id 30103, seq 1, length 64")
        try assertTcpdumpReads(cap)
    }

    /// Our pcap, read by tcpdump, prints our text; the file says LINKTYPE_RAW.
    func assertTcpdumpReads(_ cap: Capture) throws {
        guard let tcpdump = ["/usr/bin/tcpdump", "/usr/sbin/tcpdump"].first(where: { FileManager.default.fileExists(atPath: $0) }) else {
            throw XCTSkip("tcpdump is not installed")
        }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("raw-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let pcap = dir.appendingPathComponent("c.pcap").path
        try cap.writePcap(to: pcap)
        let header = try XCTUnwrap(FileManager.default.contents(atPath: pcap))
        XCTAssertEqual(Array(header[20..<24]), [101, 0, 0, 0], "LINKTYPE_RAW")
        let r = try Subprocess.run(tcpdump, ["-r", pcap, "-n"], env: ["TZ": "UTC"])
        XCTAssertEqual(r.stdout, cap.text)
        XCTAssertEqual(r.stderr,
                       "reading from file \(pcap), link-type RAW (Raw IP), snapshot length 262144\n")
    }
}
