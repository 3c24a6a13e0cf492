// UDPHeader, UDPView and UDPDatagram: the four byte-level tests over datagrams captured from
// Linux, and the checksum over the pseudo header against values the kernel and tcpdump gave.
//
// Frames observed on Linux 6.18 (6.18.44-fc-v595), captured with `tcpdump -w` inside network
// namespaces: tu_a (10.0.1.2) -- tu_r (router 10.0.1.1 | 10.0.2.1) -- tu_b (10.0.2.2). Transmit
// checksum offload was turned off on tu_a's veth (`ethtool -K eth0 tx off`) so that the
// captured UDP checksums are the final ones (with offload on, the sender's capture shows only
// the pseudo-header sum; see `offloadProbe`).

import XCTest
import Wire

enum CapturedUDP {
    static let a = IPv4Address(10, 0, 1, 2)
    static let b = IPv4Address(10, 0, 2, 2)

    /// `traceroute -n -q 1 -m 2 10.0.2.2`, first probe: 10.0.1.2.39036 > 10.0.2.2.33434, TTL 1,
    /// no DF, 32 bytes of 0x40 + (i & 0x3f), checksum 0xd87e ("[udp sum ok]" with tcpdump -vv).
    static let probe: [UInt8] = [
        0xde, 0xd5, 0x61, 0x02, 0x35, 0xab, 0x7a, 0xa7, 0xc1, 0x58, 0x36, 0x55, 0x08, 0x00, 0x45, 0x00,
        0x00, 0x3c, 0x36, 0xb0, 0x00, 0x00, 0x01, 0x11, 0x6b, 0xfe, 0x0a, 0x00, 0x01, 0x02, 0x0a, 0x00,
        0x02, 0x02, 0x98, 0x7c, 0x82, 0x9a, 0x00, 0x28, 0xd8, 0x7e, 0x40, 0x41, 0x42, 0x43, 0x44, 0x45,
        0x46, 0x47, 0x48, 0x49, 0x4a, 0x4b, 0x4c, 0x4d, 0x4e, 0x4f, 0x50, 0x51, 0x52, 0x53, 0x54, 0x55,
        0x56, 0x57, 0x58, 0x59, 0x5a, 0x5b, 0x5c, 0x5d, 0x5e, 0x5f,
    ]

    /// The second probe: 10.0.1.2.45395 > 10.0.2.2.33435, TTL 2, checksum 0xbfa6.
    static let probe2: [UInt8] = [
        0xde, 0xd5, 0x61, 0x02, 0x35, 0xab, 0x7a, 0xa7, 0xc1, 0x58, 0x36, 0x55, 0x08, 0x00, 0x45, 0x00,
        0x00, 0x3c, 0x1e, 0xa2, 0x00, 0x00, 0x02, 0x11, 0x83, 0x0c, 0x0a, 0x00, 0x01, 0x02, 0x0a, 0x00,
        0x02, 0x02, 0xb1, 0x53, 0x82, 0x9b, 0x00, 0x28, 0xbf, 0xa6, 0x40, 0x41, 0x42, 0x43, 0x44, 0x45,
        0x46, 0x47, 0x48, 0x49, 0x4a, 0x4b, 0x4c, 0x4d, 0x4e, 0x4f, 0x50, 0x51, 0x52, 0x53, 0x54, 0x55,
        0x56, 0x57, 0x58, 0x59, 0x5a, 0x5b, 0x5c, 0x5d, 0x5e, 0x5f,
    ]

    /// `echo hello | nc -u -p 45678 -w1 10.0.2.2 33434`: DF, id 58176, "hello\n", checksum 0x6fe9.
    static let hello: [UInt8] = [
        0xde, 0xd5, 0x61, 0x02, 0x35, 0xab, 0x7a, 0xa7, 0xc1, 0x58, 0x36, 0x55, 0x08, 0x00, 0x45, 0x00,
        0x00, 0x22, 0xe3, 0x40, 0x40, 0x00, 0x40, 0x11, 0x40, 0x87, 0x0a, 0x00, 0x01, 0x02, 0x0a, 0x00,
        0x02, 0x02, 0xb2, 0x6e, 0x82, 0x9a, 0x00, 0x0e, 0x6f, 0xe9, 0x68, 0x65, 0x6c, 0x6c, 0x6f, 0x0a,
    ]

    /// A probe captured with offload on: the field holds the folded pseudo-header sum 0x173d;
    /// tcpdump -vv: "[bad udp cksum 0x173d -> 0xbcfc!]" (10.0.1.2.46078 > 10.0.2.2.33434).
    static let offloadProbe: [UInt8] = [
        0x4e, 0xde, 0x6e, 0x51, 0x01, 0xff, 0x56, 0x14, 0xed, 0x4b, 0x54, 0xe2, 0x08, 0x00, 0x45, 0x00,
        0x00, 0x3c, 0x49, 0xc7, 0x00, 0x00, 0x01, 0x11, 0x58, 0xe7, 0x0a, 0x00, 0x01, 0x02, 0x0a, 0x00,
        0x02, 0x02, 0xb3, 0xfe, 0x82, 0x9a, 0x00, 0x28, 0x17, 0x3d, 0x40, 0x41, 0x42, 0x43, 0x44, 0x45,
        0x46, 0x47, 0x48, 0x49, 0x4a, 0x4b, 0x4c, 0x4d, 0x4e, 0x4f, 0x50, 0x51, 0x52, 0x53, 0x54, 0x55,
        0x56, 0x57, 0x58, 0x59, 0x5a, 0x5b, 0x5c, 0x5d, 0x5e, 0x5f,
    ]

    /// Sent from a raw socket with a wrong checksum ("bad", 0x4d17; tcpdump: "-> 0x5f23"); the
    /// kernel dropped it without an ICMP error.
    static let badChecksum: [UInt8] = [
        0xa6, 0xe6, 0x2b, 0x12, 0xeb, 0xd2, 0xb2, 0x9b, 0xe9, 0xe2, 0xdb, 0x12, 0x08, 0x00, 0x45, 0x00,
        0x00, 0x1f, 0xe1, 0x2b, 0x40, 0x00, 0x3f, 0x11, 0x43, 0x9f, 0x0a, 0x00, 0x01, 0x02, 0x0a, 0x00,
        0x02, 0x02, 0x9c, 0x40, 0x27, 0x0f, 0x00, 0x0b, 0x4d, 0x17, 0x62, 0x61, 0x64,
    ]

    /// Sent from a raw socket with checksum 0 ("zero"): accepted, answered with port unreachable.
    static let noChecksum: [UInt8] = [
        0xa6, 0xe6, 0x2b, 0x12, 0xeb, 0xd2, 0xb2, 0x9b, 0xe9, 0xe2, 0xdb, 0x12, 0x08, 0x00, 0x45, 0x00,
        0x00, 0x20, 0xe1, 0x31, 0x40, 0x00, 0x3f, 0x11, 0x43, 0x98, 0x0a, 0x00, 0x01, 0x02, 0x0a, 0x00,
        0x02, 0x02, 0x9c, 0x40, 0x27, 0x0e, 0x00, 0x0c, 0x00, 0x00, 0x7a, 0x65, 0x72, 0x6f,
    ]

    /// traceroute's probe payload: byte i is 0x40 + (i & 0x3f).
    static let tracerouteData: [UInt8] = (0..<32).map { UInt8(0x40 + ($0 & 0x3f)) }
}

final class UDPHeaderTests: XCTestCase {
    // MARK: - bytes -> fields

    func testProbeBytesToFields() throws {
        let h = try UDPHeader.parse(CapturedUDP.probe, at: 34)
        XCTAssertEqual(h.sourcePort, 39036)
        XCTAssertEqual(h.destinationPort, 33434)
        XCTAssertEqual(h.length, 40)
        XCTAssertEqual(h.checksum, 0xd87e)
        XCTAssertEqual(UDPView.sourcePort(CapturedUDP.probe, at: 34), 39036)
        XCTAssertEqual(UDPView.destinationPort(CapturedUDP.probe, at: 34), 33434)
        XCTAssertEqual(UDPView.length(CapturedUDP.probe, at: 34), 40)
        XCTAssertEqual(UDPView.checksum(CapturedUDP.probe, at: 34), 0xd87e)
    }

    func testHelloBytesToFields() throws {
        let h = try UDPHeader.parse(CapturedUDP.hello, at: 34)
        XCTAssertEqual(h, UDPHeader(sourcePort: 45678, destinationPort: 33434, length: 14, checksum: 0x6fe9))
        let (d, status) = try UDPDatagram.parse(CapturedUDP.hello, at: 34, source: CapturedUDP.a, destination: CapturedUDP.b)
        XCTAssertEqual(status, .valid)
        XCTAssertEqual(d.payload, Array("hello\n".utf8))
    }

    // MARK: - fields -> bytes

    func testProbeFieldsToBytes() {
        let d = UDPDatagram(sourcePort: 39036, destinationPort: 33434, payload: CapturedUDP.tracerouteData)
        XCTAssertEqual(d.bytes(source: CapturedUDP.a, destination: CapturedUDP.b), Array(CapturedUDP.probe[34...]))
        let d2 = UDPDatagram(sourcePort: 45395, destinationPort: 33435, payload: CapturedUDP.tracerouteData)
        XCTAssertEqual(d2.bytes(source: CapturedUDP.a, destination: CapturedUDP.b), Array(CapturedUDP.probe2[34...]))
        let hello = UDPDatagram(sourcePort: 45678, destinationPort: 33434, payload: Array("hello\n".utf8))
        XCTAssertEqual(hello.bytes(source: CapturedUDP.a, destination: CapturedUDP.b), Array(CapturedUDP.hello[34...]))
    }

    func testHeaderFieldsToBytes() {
        XCTAssertEqual(UDPHeader(sourcePort: 39036, destinationPort: 33434, length: 40, checksum: 0xd87e).bytes,
                       Array(CapturedUDP.probe[34..<42]))
    }

    // MARK: - parse

    func testParseRoundTripAndChecks() throws {
        let (d, status) = try UDPDatagram.parse(CapturedUDP.probe, at: 34, source: CapturedUDP.a, destination: CapturedUDP.b)
        XCTAssertEqual(status, .valid)
        XCTAssertEqual(d.header.length, 40)
        XCTAssertEqual(d.payload, CapturedUDP.tracerouteData)
        XCTAssertEqual(d.bytes(source: CapturedUDP.a, destination: CapturedUDP.b), Array(CapturedUDP.probe[34...]))
        assertWireError("udp: truncated header") { try UDPHeader.parse(CapturedUDP.probe, at: CapturedUDP.probe.count - 7) }
        assertWireError("udp: truncated header") { try UDPHeader.parse([], at: 0) }
        // A length field past the packet, and one below the header: udp_rcv() drops both.
        var long = CapturedUDP.hello
        long.setU16(15, at: 38)
        assertWireError("udp: length 15 exceeds the 14 bytes of the packet") {
            try UDPDatagram.parse(long, at: 34, source: CapturedUDP.a, destination: CapturedUDP.b)
        }
        var short = CapturedUDP.hello
        short.setU16(7, at: 38)
        assertWireError("udp: length 7 < 8") {
            try UDPDatagram.parse(short, at: 34, source: CapturedUDP.a, destination: CapturedUDP.b)
        }
        // A length field shorter than the packet: the payload is what it covers.
        var trimmed = CapturedUDP.hello
        trimmed.setU16(13, at: 38)
        let (t, _) = try UDPDatagram.parse(trimmed, at: 34, source: CapturedUDP.a, destination: CapturedUDP.b)
        XCTAssertEqual(t.payload, Array("hello".utf8))
    }

    // MARK: - emit into a buffer full of 0xa5

    func testEmitWritesExactlyTheDatagram() {
        var buf = canaryBuffer(10 + 40 + 10)
        var d = UDPDatagram(sourcePort: 39036, destinationPort: 33434, payload: CapturedUDP.tracerouteData)
        d.emit(into: &buf, at: 10, source: CapturedUDP.a, destination: CapturedUDP.b)
        assertEmitted(buf, at: 10, equals: Array(CapturedUDP.probe[34...]), totalCount: 60)
        XCTAssertEqual(d.header.checksum, 0xd87e)

        var hbuf = canaryBuffer(12)
        UDPHeader(sourcePort: 45678, destinationPort: 33434, length: 14, checksum: 0x6fe9).emit(into: &hbuf, at: 2)
        assertEmitted(hbuf, at: 2, equals: Array(CapturedUDP.hello[34..<42]), totalCount: 12)
    }

    // MARK: - checksum

    func testChecksumsOfCapturedDatagramsVerify() {
        for f in [CapturedUDP.probe, CapturedUDP.probe2, CapturedUDP.hello] {
            XCTAssertEqual(UDPView.verifyChecksum(f, at: 34, length: f.count - 34, source: CapturedUDP.a, destination: CapturedUDP.b), .valid)
            XCTAssertEqual(UDPView.computeChecksum(f, at: 34, length: f.count - 34, source: CapturedUDP.a, destination: CapturedUDP.b),
                           f.u16(at: 40))
        }
    }

    /// The values tcpdump printed for the same bytes: "[bad udp cksum 0x4d17 -> 0x5f23!]" and
    /// "[bad udp cksum 0x173d -> 0xbcfc!]" (the offloaded probe's field is the pseudo-header sum).
    func testBadAndAbsentChecksums() {
        let b = CapturedUDP.badChecksum
        XCTAssertEqual(UDPView.verifyChecksum(b, at: 34, length: 11, source: CapturedUDP.a, destination: CapturedUDP.b),
                       .invalid(expected: 0x5f23))
        // The offloaded field is exactly the folded pseudo-header sum: the receiver trusts it
        // (CHECKSUM_PARTIAL), tcpdump does not ("-> 0xbcfc", the complete checksum).
        let o = CapturedUDP.offloadProbe
        XCTAssertEqual(UDPView.verifyChecksum(o, at: 34, length: 40, source: CapturedUDP.a, destination: CapturedUDP.b), .partial)
        XCTAssertEqual(UDPView.partialValue(source: CapturedUDP.a, destination: CapturedUDP.b, length: 40), 0x173d)
        XCTAssertEqual(UDPView.computeChecksum(o, at: 34, length: 40, source: CapturedUDP.a, destination: CapturedUDP.b), 0xbcfc)
        var offloaded = Array(CapturedUDP.probe[34...])
        UDPView.fillPartialChecksum(&offloaded, at: 0, source: CapturedUDP.a, destination: IPv4Address(10, 0, 2, 2))
        var folded = IPv4Header.pseudoHeaderSum(source: CapturedUDP.a, destination: CapturedUDP.b, proto: .udp, length: 40)
        while folded >> 16 != 0 { folded = (folded & 0xffff) + (folded >> 16) }
        XCTAssertEqual(offloaded.u16(at: 6), UInt16(folded))
        XCTAssertEqual(UDPView.verifyChecksum(CapturedUDP.noChecksum, at: 34, length: 12, source: CapturedUDP.a, destination: CapturedUDP.b),
                       .absent)
        // fillChecksum repairs both.
        var fixed = b
        UDPView.fillChecksum(&fixed, at: 34, source: CapturedUDP.a, destination: CapturedUDP.b)
        XCTAssertEqual(fixed.u16(at: 40), 0x5f23)
        var zero = CapturedUDP.noChecksum
        UDPView.fillChecksum(&zero, at: 34, source: CapturedUDP.a, destination: CapturedUDP.b)
        XCTAssertEqual(UDPView.verifyChecksum(zero, at: 34, length: 12, source: CapturedUDP.a, destination: CapturedUDP.b), .valid)
    }

    /// A datagram whose checksum computes to 0 is sent with 0xffff (RFC 768); both verify.
    func testZeroChecksumIsSentAsFFFF() {
        // Find a 2-byte payload that makes the checksum 0 for these addresses and ports.
        let src = IPv4Address(10, 0, 0, 1), dst = IPv4Address(10, 0, 0, 2)
        var d = UDPDatagram(sourcePort: 1000, destinationPort: 2000, payload: [0, 0])
        let base = d.bytes(source: src, destination: dst).u16(at: 6)
        // Adding `base` to the payload word brings the one's-complement sum to 0xffff.
        d.payload = [UInt8(base >> 8), UInt8(truncatingIfNeeded: base)]
        let bytes = d.bytes(source: src, destination: dst)
        XCTAssertEqual(bytes.u16(at: 6), 0xffff)
        XCTAssertEqual(UDPView.verifyChecksum(bytes, at: 0, length: bytes.count, source: src, destination: dst), .valid)
    }

    /// Odd payload lengths are padded with a zero byte for the sum, checked against the
    /// independent reference over the pseudo header and the datagram.
    func testOddLengthsAgainstReference() {
        var rng = SplitMix64(seed: 17)
        for n in [0, 1, 3, 7, 31, 32, 33, 1471] {
            let payload = (0..<n).map { _ in rng.byte() }
            let src = IPv4Address(raw: UInt32(truncatingIfNeeded: rng.next())), dst = IPv4Address(raw: UInt32(truncatingIfNeeded: rng.next()))
            let d = UDPDatagram(sourcePort: rng.word(), destinationPort: rng.word(), payload: payload)
            let bytes = d.bytes(source: src, destination: dst)
            var zeroed = bytes
            zeroed.setU16(0, at: 6)
            let pseudo = src.bytes + dst.bytes + [0, 17, UInt8(bytes.count >> 8), UInt8(truncatingIfNeeded: bytes.count)]
            var expected = referenceChecksum(ArraySlice(pseudo + zeroed))
            if expected == 0 { expected = 0xffff }
            XCTAssertEqual(bytes.u16(at: 6), expected, "payload length \(n)")
        }
    }
}
