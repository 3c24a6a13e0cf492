// EthernetHeader and EthernetView: the four byte-level tests over literal bytes.

import XCTest
import Wire

final class EthernetTests: XCTestCase {
    /// The first 14 bytes of the captured echo request (02:00:00:00:00:02 > 02:00:00:00:00:03, IPv4).
    static let headerBytes: [UInt8] = [
        0x02, 0x00, 0x00, 0x00, 0x00, 0x03,
        0x02, 0x00, 0x00, 0x00, 0x00, 0x02,
        0x08, 0x00,
    ]
    static let header = EthernetHeader(destination: MACAddress(raw: 0x0200_0000_0003),
                                       source: MACAddress(raw: 0x0200_0000_0002), etherType: .ipv4)

    // MARK: - bytes -> fields

    func testBytesToFields() throws {
        let h = try EthernetHeader.parse(Self.headerBytes)
        XCTAssertEqual(h.destination.description, "02:00:00:00:00:03")
        XCTAssertEqual(h.source.description, "02:00:00:00:00:02")
        XCTAssertEqual(h.etherType, .ipv4)
        XCTAssertEqual(h.etherType.rawValue, 0x0800)
        XCTAssertEqual(h, Self.header)
    }

    func testCapturedARPFrameHeader() throws {
        let h = try EthernetHeader.parse(Captured.arpRequest)
        XCTAssertEqual(h.destination, .broadcast)
        XCTAssertEqual(h.source, MACAddress("02:00:00:00:00:02"))
        XCTAssertEqual(h.etherType, .arp)
        XCTAssertEqual(h.etherType.rawValue, 0x0806)
        // The local host-unreachable on lo: all-zero addresses.
        let lo = try EthernetHeader.parse(Captured.hostUnreachable)
        XCTAssertEqual(lo.destination, .zero)
        XCTAssertEqual(lo.source, .zero)
        XCTAssertEqual(lo.etherType, .ipv4)
    }

    // MARK: - fields -> bytes

    func testFieldsToBytes() {
        var b = [UInt8](repeating: 0, count: EthernetHeader.length)
        Self.header.emit(into: &b)
        XCTAssertEqual(b, Self.headerBytes)
    }

    func testFrameAppendsThePayload() {
        // The captured ARP request, rebuilt from its header and its 28-byte body.
        let h = EthernetHeader(destination: .broadcast, source: MACAddress(raw: 0x0200_0000_0002), etherType: .arp)
        XCTAssertEqual(h.frame(payload: Array(Captured.arpRequest[14...])), Captured.arpRequest)
        XCTAssertEqual(h.frame(payload: []).count, 14)
    }

    // MARK: - parse: round trip and errors

    func testParseRoundTripAndOffset() throws {
        let framed: [UInt8] = [0xa5, 0xa5, 0xa5] + Self.headerBytes + [0x45]
        let h = try EthernetHeader.parse(framed, at: 3)
        XCTAssertEqual(h, Self.header)
        var out = [UInt8](repeating: 0, count: 14)
        h.emit(into: &out)
        XCTAssertEqual(out, Self.headerBytes)
    }

    func testUnknownEtherTypeStillParses() throws {
        // LLDP 0x88cc, and an 802.3 length field (0x002e): both kept as raw values.
        var b = Self.headerBytes
        b[12] = 0x88; b[13] = 0xcc
        XCTAssertEqual(try EthernetHeader.parse(b).etherType.rawValue, 0x88cc)
        b[12] = 0x00; b[13] = 0x2e
        XCTAssertEqual(try EthernetHeader.parse(b).etherType, EtherType(rawValue: 0x002e))
        XCTAssertEqual(EtherType.vlan.rawValue, 0x8100)
        XCTAssertEqual(EtherType.ipv6.rawValue, 0x86dd)
    }

    func testTruncatedHeaderThrows() {
        assertWireError("ethernet: truncated header (13 bytes)") { try EthernetHeader.parse(Array(Self.headerBytes[0..<13])) }
        assertWireError("ethernet: truncated header (0 bytes)") { try EthernetHeader.parse([]) }
        assertWireError { try EthernetHeader.parse(Self.headerBytes, at: 1) }
        assertWireError { try EthernetHeader.parse(Self.headerBytes, at: 20) }
    }

    // MARK: - emit into a canary buffer

    func testEmitWritesExactlyTheHeader() {
        var b = canaryBuffer(20)
        Self.header.emit(into: &b, at: 3)
        assertEmitted(b, at: 3, equals: Self.headerBytes, totalCount: 20)
    }

    // MARK: - EthernetView

    func testViewReadsTheCapturedFrame() {
        let f = Captured.arpReply
        XCTAssertEqual(EthernetView.destination(f), MACAddress("02:00:00:00:00:02"))
        XCTAssertEqual(EthernetView.source(f), MACAddress("02:00:00:00:00:03"))
        XCTAssertEqual(EthernetView.etherType(f), .arp)
    }

    func testViewRewritesOnlyTheAddressBytes() {
        var f = Captured.echoRequest1
        EthernetView.setDestination(&f, MACAddress("aa:bb:cc:dd:ee:ff")!)
        XCTAssertEqual(Array(f[0..<6]), [0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff])
        XCTAssertEqual(Array(f[6...]), Array(Captured.echoRequest1[6...]))
        EthernetView.setSource(&f, MACAddress("02:00:00:00:01:01")!)
        XCTAssertEqual(Array(f[6..<12]), [0x02, 0x00, 0x00, 0x00, 0x01, 0x01])
        XCTAssertEqual(Array(f[0..<6]), [0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff])
        XCTAssertEqual(Array(f[12...]), Array(Captured.echoRequest1[12...]))

        var c = canaryBuffer(14)
        EthernetView.setDestination(&c, .broadcast)
        EthernetView.setSource(&c, MACAddress(raw: 0x0200_0000_0002))
        XCTAssertEqual(c, [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02, 0x00, 0x00, 0x00, 0x00, 0x02, 0xa5, 0xa5])
    }
}
