// TCPHeader: the four byte-level tests over segments captured from Linux 6.18, checksums
// (full and CHECKSUM_PARTIAL) against what tcpdump -v said of the same bytes, and TCPView's
// incremental updates against recomputation.
//
// Source: the exchange in TestSupport/LinuxTCPCapture.swift.

import XCTest
import TestSupport
import Wire

final class TCPWireTests: XCTestCase {
    static let host = IPv4Address(172, 18, 0, 1)
    static let container = IPv4Address(172, 18, 0, 2)

    static let syn = LinuxTCPCapture.syn
    static let synAck = LinuxTCPCapture.synAck
    static let ack = LinuxTCPCapture.ack
    static let data = LinuxTCPCapture.data
    static let rst = LinuxTCPCapture.rst

    static let synHeader = TCPHeader(sourcePort: 41888, destinationPort: 80, sequence: 1_000_285_830, acknowledgment: 0,
                                     flags: [.syn], window: 64240,
                                     options: [.mss(1460), .sackPermitted, .timestamp(value: 764_372_612, echoReply: 0),
                                               .nop, .windowScale(7)])

    // MARK: - bytes -> fields

    func testSynBytesToFields() throws {
        let h = try TCPHeader.parse(Self.syn, at: 20)
        XCTAssertEqual(h.sourcePort, 41888)
        XCTAssertEqual(h.destinationPort, 80)
        XCTAssertEqual(h.sequence, 1_000_285_830)
        XCTAssertEqual(h.acknowledgment, 0)
        XCTAssertEqual(h.flags, [.syn])
        XCTAssertEqual(h.window, 64240)
        XCTAssertEqual(h.checksum, 0x5856)
        XCTAssertEqual(h.urgentPointer, 0)
        XCTAssertEqual(h.headerLength, 40)
        XCTAssertEqual(h.options, Self.synHeader.options)
        XCTAssertEqual(h.mss, 1460)
        XCTAssertEqual(h.windowScale, 7)
        XCTAssertTrue(h.sackPermitted)
        XCTAssertEqual(h.timestamp?.value, 764_372_612)
    }

    func testSynAckAckDataRstBytesToFields() throws {
        let sa = try TCPHeader.parse(Self.synAck, at: 20)
        XCTAssertEqual(sa.flags, [.syn, .ack])
        XCTAssertEqual(sa.sequence, 2_620_596_015)
        XCTAssertEqual(sa.acknowledgment, 1_000_285_831)
        XCTAssertEqual(sa.window, 65160)
        XCTAssertEqual(sa.timestamp?.echoReply, 764_372_612)

        let a = try TCPHeader.parse(Self.ack, at: 20)
        XCTAssertEqual(a.flags, [.ack])
        XCTAssertEqual(a.window, 502)
        XCTAssertEqual(a.options, [.nop, .nop, .timestamp(value: 764_372_612, echoReply: 2_208_887_140)])
        XCTAssertEqual(a.headerLength, 32)

        let d = try TCPHeader.parse(Self.data, at: 20)
        XCTAssertEqual(d.flags, [.psh, .ack])
        XCTAssertEqual(Array(Self.data[(20 + d.headerLength)...]), Array("hello\n".utf8))

        let r = try TCPHeader.parse(Self.rst, at: 20)
        XCTAssertEqual(r.flags, [.rst, .ack])
        XCTAssertEqual(r.sequence, 0)
        XCTAssertEqual(r.acknowledgment, 2_221_075_067)
        XCTAssertEqual(r.window, 0)
        XCTAssertEqual(r.options, [])
        XCTAssertEqual(r.headerLength, 20)
    }

    // MARK: - fields -> bytes

    func testSynFieldsToBytes() {
        var h = Self.synHeader
        h.checksum = 0x5856
        var b = [UInt8](repeating: 0, count: 40)
        h.emit(into: &b)
        XCTAssertEqual(b, Array(Self.syn[20...]))
    }

    func testWholeSegmentsFromFields() {
        // The data segment, rebuilt with the partial checksum a veth leaves.
        let d = TCPHeader(sourcePort: 41888, destinationPort: 80, sequence: 1_000_285_831, acknowledgment: 2_620_596_016,
                          flags: [.psh, .ack], window: 502,
                          options: [.nop, .nop, .timestamp(value: 764_372_612, echoReply: 2_208_887_140)])
        let seg = d.segment(payload: Array("hello\n".utf8), source: Self.host, destination: Self.container, checksum: .partial)
        XCTAssertEqual(seg, Array(Self.data[20...]))
        // The RST, with a full checksum as the control socket computes it.
        let r = TCPHeader(sourcePort: 82, destinationPort: 47884, sequence: 0, acknowledgment: 2_221_075_067,
                          flags: [.rst, .ack], window: 0)
        XCTAssertEqual(r.segment(payload: [], source: Self.container, destination: Self.host), Array(Self.rst[20...]))
    }

    // MARK: - parse

    func testParseRoundTripsEveryCapturedHeader() throws {
        for frame in [Self.syn, Self.synAck, Self.ack, Self.data, Self.rst] {
            let h = try TCPHeader.parse(frame, at: 20)
            var b = [UInt8](repeating: 0, count: h.headerLength)
            h.emit(into: &b)
            XCTAssertEqual(b, Array(frame[20..<(20 + h.headerLength)]))
        }
    }

    func testParseRejectsBadSegments() {
        assertWireError("tcp: truncated header") { try TCPHeader.parse(Array(Self.syn[20..<39])) }
        var short = Array(Self.syn[20...])
        short[12] = 0x40
        assertWireError("tcp: data offset 16 < 20") { try TCPHeader.parse(short) }
        var long = Array(Self.ack[20...])
        long[12] = 0xf0
        assertWireError("tcp: data offset 60 past segment end") { try TCPHeader.parse(long) }
        var badOpt = Array(Self.syn[20...])
        badOpt[21] = 40   // mss length past the options
        assertWireError("tcp: option 2 has bad length 40") { try TCPHeader.parse(badOpt) }
        assertWireError("tcp: segment end 80 past buffer (40)") { try TCPHeader.parse(Array(Self.syn[20...]), end: 80) }
    }

    func testUnknownAndOddOptionsSurviveRoundTrip() throws {
        let h = TCPHeader(sourcePort: 1, destinationPort: 2, sequence: 3, acknowledgment: 4, flags: [.ack, .ece, .cwr],
                          window: 5, options: [.nop, .unknown(kind: 30, data: [0x10, 0x20]), .mss(99),
                                               .sack([TCPSackBlock(start: 10, end: 20), TCPSackBlock(start: 30, end: 40)]),
                                               .eol])
        XCTAssertEqual(h.optionsLength, 1 + 4 + 4 + 18 + 1)
        XCTAssertEqual(h.headerLength, 48)
        var b = [UInt8](repeating: 0xff, count: 48)
        h.emit(into: &b)
        XCTAssertEqual(b[47], 0, "EOL")
        let p = try TCPHeader.parse(b)
        XCTAssertEqual(p, h)
        let padded = TCPHeader(sourcePort: 1, destinationPort: 2, sequence: 3, flags: [.syn], window: 5, options: [.mss(1), .eol])
        var c = [UInt8](repeating: 0xff, count: 28)
        padded.emit(into: &c)
        XCTAssertEqual(Array(c[20...]), [2, 4, 0, 1, 0, 0, 0, 0], "zero padding after EOL")
        XCTAssertEqual(try TCPHeader.parse(c), padded)
        // A known kind with a wrong length stays raw, so it re-emits unchanged.
        let odd = [UInt8]([2, 3, 7, 1])
        XCTAssertEqual(try TCPOption.parseList(odd, from: 0, to: 4), [.unknown(kind: 2, data: [7]), .nop])
    }

    // MARK: - emit into a canary buffer

    func testEmitWritesOnlyTheHeader() {
        var h = Self.synHeader
        h.checksum = 0x5856
        var b = canaryBuffer(60)
        h.emit(into: &b, at: 10)
        assertEmitted(b, at: 10, equals: Array(Self.syn[20...]), totalCount: 60)
    }

    func testFillWritesOnlyTheChecksumField() {
        var b = canaryBuffer(12)
        b += Array(Self.rst[20...])
        b += canaryBuffer(5)
        b[12 + 16] = 0; b[12 + 17] = 0
        TCPChecksum.fill(&b, at: 12, length: 20, source: Self.container, destination: Self.host)
        assertEmitted(b, at: 12, equals: Array(Self.rst[20...]), totalCount: 37)
    }

    // MARK: - checksums

    func testChecksumsAgainstTcpdump() {
        // tcpdump -v: "cksum 0x5856 (incorrect -> 0x5abe)" for the SYN, "0x5854 (incorrect -> 0x0e1a)" for
        // the data: veth's offload leaves the pseudo-header sum. The RST is "0x2d6c (correct)".
        let cases: [([UInt8], IPv4Address, IPv4Address, UInt16, UInt16)] = [
            (Self.syn, Self.host, Self.container, 0x5856, 0x5abe),
            (Self.synAck, Self.container, Self.host, 0x5856, 0x26a5),
            (Self.ack, Self.host, Self.container, 0x584e, 0x5204),
            (Self.data, Self.host, Self.container, 0x5854, 0x0e1a),
        ]
        for (frame, src, dst, partial, full) in cases {
            let len = frame.count - 20
            XCTAssertEqual(TCPChecksum.partialValue(source: src, destination: dst, length: len), partial)
            XCTAssertEqual(TCPChecksum.compute(frame, at: 20, length: len, source: src, destination: dst), full)
            XCTAssertEqual(TCPChecksum.status(frame, at: 20, length: len, source: src, destination: dst), .partial)
            var fixed = frame
            TCPChecksum.fill(&fixed, at: 20, length: len, source: src, destination: dst)
            XCTAssertEqual(TCPChecksum.status(fixed, at: 20, length: len, source: src, destination: dst), .valid)
            XCTAssertEqual(fixed.u16(at: 36), full)
            // An independent RFC 1071 sum over pseudo header and segment agrees.
            var pseudo = src.bytes + dst.bytes + [0, 6, UInt8(len >> 8), UInt8(len & 0xff)]
            var seg = Array(frame[20...])
            seg[16] = 0; seg[17] = 0
            pseudo += seg
            XCTAssertEqual(referenceChecksum(pseudo[...]), full)
        }
        XCTAssertEqual(TCPChecksum.status(Self.rst, at: 20, length: 20, source: Self.container, destination: Self.host), .valid)
        var bad = Self.rst
        bad[30] ^= 1
        XCTAssertEqual(TCPChecksum.status(bad, at: 20, length: 20, source: Self.container, destination: Self.host), .bad)
    }

    // MARK: - TCPView

    func testViewReadsFields() {
        XCTAssertEqual(TCPView.sourcePort(Self.data, at: 20), 41888)
        XCTAssertEqual(TCPView.destinationPort(Self.data, at: 20), 80)
        XCTAssertEqual(TCPView.sequence(Self.data, at: 20), 1_000_285_831)
        XCTAssertEqual(TCPView.acknowledgment(Self.data, at: 20), 2_620_596_016)
        XCTAssertEqual(TCPView.headerLength(Self.data, at: 20), 32)
        XCTAssertEqual(TCPView.flags(Self.data, at: 20), [.psh, .ack])
        XCTAssertEqual(TCPView.window(Self.data, at: 20), 502)
        XCTAssertEqual(TCPView.checksum(Self.data, at: 20), 0x5854)
    }

    func testViewIncrementalUpdatesMatchRecomputation() {
        var b = Self.data
        TCPChecksum.fill(&b, at: 20, length: 38, source: Self.host, destination: Self.container)
        TCPView.setSourcePort(&b, at: 20, 12345)
        TCPView.setDestinationPort(&b, at: 20, 8080)
        TCPView.setSequence(&b, at: 20, 0xdead_beef)
        TCPView.setAcknowledgment(&b, at: 20, 7)
        let nat = IPv4Address(10, 0, 0, 9)
        TCPView.addressChanged(&b, at: 20, old: Self.host, new: nat)
        XCTAssertEqual(TCPChecksum.status(b, at: 20, length: 38, source: nat, destination: Self.container), .valid)
        XCTAssertEqual(TCPView.sourcePort(b, at: 20), 12345)
        XCTAssertEqual(TCPView.sequence(b, at: 20), 0xdead_beef)

        // A partial checksum only follows pseudo-header changes.
        var p = Self.data
        TCPView.setDestinationPort(&p, at: 20, 8080, partial: true)
        XCTAssertEqual(TCPView.checksum(p, at: 20), 0x5854)
        TCPView.addressChanged(&p, at: 20, old: Self.container, new: nat, partial: true)
        XCTAssertEqual(TCPView.checksum(p, at: 20), TCPChecksum.partialValue(source: Self.host, destination: nat, length: 38))
    }
}
