// VXLANHeader and VXLANView: the four byte-level tests over a frame captured from Linux.
//
// Observed on Linux 6.18 (6.18.44-fc-v595), `tcpdump -w` on eth0 of namespace vxA
// (192.168.1.11) after `ip link add vxlan0 type vxlan id 42 dstport 4789 remote 192.168.1.12
// dev eth0` on both sides and `ping 10.10.0.2` over vxlan0: the first frame is the ARP request
// for 10.10.0.2, carried in VXLAN ("192.168.1.11.53444 > 192.168.1.12.4789: VXLAN, flags [I]
// (0x08), vni 42"). The outer UDP checksum 0x83b3 is the pseudo-header sum of an offloaded
// checksum (veth); the outer IP has no DF and TTL 64.

import XCTest
import Wire

enum CapturedVXLAN {
    /// Ethernet + IPv4 + UDP (53444 > 4789) + VXLAN (vni 42) + the inner 42-byte ARP request.
    static let arp: [UInt8] = [
        0xb6, 0xff, 0x80, 0x96, 0x54, 0x57, 0x56, 0x27, 0x03, 0xe3, 0x06, 0x4c, 0x08, 0x00,
        0x45, 0x00, 0x00, 0x4e, 0x0e, 0xbf, 0x00, 0x00, 0x40, 0x11, 0xe8, 0x78, 0xc0, 0xa8, 0x01, 0x0b,
        0xc0, 0xa8, 0x01, 0x0c, 0xd0, 0xc4, 0x12, 0xb5, 0x00, 0x3a, 0x83, 0xb3, 0x08, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x2a, 0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfa, 0x4a, 0x2d, 0x38, 0x13, 0x7f,
        0x08, 0x06, 0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x01, 0xfa, 0x4a, 0x2d, 0x38, 0x13, 0x7f,
        0x0a, 0x0a, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0a, 0x0a, 0x00, 0x02,
    ]
    /// Offset of the VXLAN header: Ethernet 14 + IPv4 20 + UDP 8.
    static let offset = 42
}

final class VXLANHeaderTests: XCTestCase {
    // MARK: - bytes -> fields

    func testBytesToFields() throws {
        let b = CapturedVXLAN.arp
        let h = try VXLANHeader.parse(b, at: CapturedVXLAN.offset)
        XCTAssertEqual(h.flags, 0x08)
        XCTAssertTrue(h.hasVNI)
        XCTAssertEqual(h.vni, 42)
        XCTAssertEqual(h.reserved1, 0)
        XCTAssertEqual(h.reserved2, 0)
        XCTAssertEqual(VXLANView.flags(b, at: CapturedVXLAN.offset), 0x08)
        XCTAssertEqual(VXLANView.vni(b, at: CapturedVXLAN.offset), 42)
        XCTAssertTrue(VXLANView.reservedBits(b, at: CapturedVXLAN.offset) == (0, 0))
        // The UDP header in front names the IANA port; the inner frame starts right after.
        XCTAssertEqual(UDPView.destinationPort(b, at: 34), VXLANPort.iana)
        XCTAssertEqual(EthernetView.etherType(Array(b[(CapturedVXLAN.offset + 8)...])), .arp)
    }

    // MARK: - fields -> bytes

    func testFieldsToBytes() {
        XCTAssertEqual(VXLANHeader(vni: 42).bytes, Array(CapturedVXLAN.arp[42..<50]))
        XCTAssertEqual(VXLANHeader(vni: 0xff_ffff).bytes, [0x08, 0, 0, 0, 0xff, 0xff, 0xff, 0x00])
        // Reserved bits and a missing I flag are written as given.
        XCTAssertEqual(VXLANHeader(vni: 256, flags: 0x88, reserved1: 0x01_0203, reserved2: 0x7f).bytes,
                       [0x88, 0x01, 0x02, 0x03, 0x00, 0x01, 0x00, 0x7f])
        // A VNI wider than 24 bits is cut to 24 bits.
        XCTAssertEqual(VXLANHeader(vni: 0x0100_0001).vni, 1)
    }

    // MARK: - parse

    func testParse() throws {
        let h = try VXLANHeader.parse([0x0c, 0x00, 0x00, 0x01, 0x12, 0x34, 0x56, 0x9a])
        XCTAssertEqual(h, VXLANHeader(vni: 0x12_3456, flags: 0x0c, reserved1: 1, reserved2: 0x9a))
        XCTAssertTrue(h.hasVNI)
        let bits = VXLANView.reservedBits([0x0c, 0x00, 0x00, 0x01, 0x12, 0x34, 0x56, 0x9a], at: 0)
        XCTAssertEqual(bits.flags, 0x0400_0001)
        XCTAssertEqual(bits.vni, 0x9a)
        XCTAssertFalse(try VXLANHeader.parse([0, 0, 0, 0, 0, 0, 42, 0]).hasVNI)
        assertWireError("vxlan: truncated header") { try VXLANHeader.parse([0x08, 0, 0, 0, 0, 0, 42]) }
        assertWireError("vxlan: truncated header") { try VXLANHeader.parse(CapturedVXLAN.arp, at: CapturedVXLAN.arp.count - 7) }
        assertWireError { try VXLANHeader.parse(CapturedVXLAN.arp, at: -1) }
    }

    // MARK: - emit into a buffer

    func testEmitIntoCanaryBuffer() {
        var buf = canaryBuffer(20)
        VXLANHeader(vni: 42).emit(into: &buf, at: 5)
        assertEmitted(buf, at: 5, equals: Array(CapturedVXLAN.arp[42..<50]), totalCount: 20)
        var buf2 = canaryBuffer(8)
        VXLANHeader(vni: 0, flags: 0).emit(into: &buf2)
        assertEmitted(buf2, at: 0, equals: [0, 0, 0, 0, 0, 0, 0, 0], totalCount: 8)
    }
}
