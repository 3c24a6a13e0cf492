// ARPPacket: the four byte-level tests over the captured request, reply and unicast probe.

import XCTest
import Wire

final class ARPTests: XCTestCase {
    static let mac02 = MACAddress(raw: 0x0200_0000_0002)
    static let mac03 = MACAddress(raw: 0x0200_0000_0003)
    static let ip02 = IPv4Address(172, 18, 0, 2)
    static let ip03 = IPv4Address(172, 18, 0, 3)

    /// Body of the captured request: who-has 172.18.0.3 tell 172.18.0.2 (THA all zero).
    static let requestBody: [UInt8] = [
        0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x01,
        0x02, 0x00, 0x00, 0x00, 0x00, 0x02, 0xac, 0x12, 0x00, 0x02,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xac, 0x12, 0x00, 0x03,
    ]
    /// Body of the captured reply: 172.18.0.3 is-at 02:00:00:00:00:03, to 02:00:00:00:00:02 / .2.
    static let replyBody: [UInt8] = [
        0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x02,
        0x02, 0x00, 0x00, 0x00, 0x00, 0x03, 0xac, 0x12, 0x00, 0x03,
        0x02, 0x00, 0x00, 0x00, 0x00, 0x02, 0xac, 0x12, 0x00, 0x02,
    ]
    static let request = ARPPacket(operation: .request, senderMAC: mac02, senderIP: ip02, targetMAC: .zero, targetIP: ip03)
    static let reply = ARPPacket(operation: .reply, senderMAC: mac03, senderIP: ip03, targetMAC: mac02, targetIP: ip02)

    func testFixtureBodiesAreTheCapturedBytes() {
        XCTAssertEqual(Array(Captured.arpRequest[14...]), Self.requestBody)
        XCTAssertEqual(Array(Captured.arpReply[14...]), Self.replyBody)
        // veth and bridges do not pad: 42-byte frames.
        XCTAssertEqual(Captured.arpRequest.count, 42)
        XCTAssertEqual(Captured.arpReply.count, 42)
    }

    // MARK: - bytes -> fields

    func testRequestBytesToFields() throws {
        let p = try ARPPacket.parse(Captured.arpRequest, at: 14)
        XCTAssertEqual(p.hardwareType, 1)
        XCTAssertEqual(p.protocolType, .ipv4)
        XCTAssertEqual(p.hardwareLength, 6)
        XCTAssertEqual(p.protocolLength, 4)
        XCTAssertEqual(p.operation, .request)
        XCTAssertEqual(p.senderMAC.description, "02:00:00:00:00:02")
        XCTAssertEqual(p.senderIP.description, "172.18.0.2")
        XCTAssertEqual(p.targetMAC.description, "00:00:00:00:00:00")
        XCTAssertEqual(p.targetIP.description, "172.18.0.3")
        XCTAssertTrue(p.isEthernetIPv4)
        XCTAssertEqual(p, Self.request)
    }

    func testReplyBytesToFields() throws {
        let p = try ARPPacket.parse(Captured.arpReply, at: 14)
        XCTAssertEqual(p.hardwareType, 1)
        XCTAssertEqual(p.protocolType.rawValue, 0x0800)
        XCTAssertEqual(p.hardwareLength, 6)
        XCTAssertEqual(p.protocolLength, 4)
        XCTAssertEqual(p.operation, .reply)
        XCTAssertEqual(p.operation.rawValue, 2)
        XCTAssertEqual(p.senderMAC.description, "02:00:00:00:00:03")
        XCTAssertEqual(p.senderIP.description, "172.18.0.3")
        XCTAssertEqual(p.targetMAC.description, "02:00:00:00:00:02")
        XCTAssertEqual(p.targetIP.description, "172.18.0.2")
        XCTAssertEqual(p, Self.reply)
    }

    func testUnicastProbeLooksLikeARequestWithAZeroTHA() throws {
        // NUD_PROBE: the Ethernet destination is the cached MAC, the ARP target MAC is still zero.
        let eth = try EthernetHeader.parse(Captured.arpProbe)
        XCTAssertEqual(eth.destination, Self.mac02)
        XCTAssertEqual(eth.source, Self.mac03)
        let p = try ARPPacket.parse(Captured.arpProbe, at: 14)
        XCTAssertEqual(p, ARPPacket(operation: .request, senderMAC: Self.mac03, senderIP: Self.ip03,
                                    targetMAC: .zero, targetIP: Self.ip02))
        let r = try ARPPacket.parse(Captured.arpProbeReply, at: 14)
        XCTAssertEqual(r, ARPPacket(operation: .reply, senderMAC: Self.mac02, senderIP: Self.ip02,
                                    targetMAC: Self.mac03, targetIP: Self.ip03))
    }

    // MARK: - fields -> bytes

    func testFieldsToBytes() {
        XCTAssertEqual(Self.request.bytes, Self.requestBody)
        XCTAssertEqual(Self.reply.bytes, Self.replyBody)
    }

    func testWholeCapturedFramesReEmit() {
        for (eth, arp, frame) in [
            (EthernetHeader(destination: .broadcast, source: Self.mac02, etherType: .arp), Self.request, Captured.arpRequest),
            (EthernetHeader(destination: Self.mac02, source: Self.mac03, etherType: .arp), Self.reply, Captured.arpReply),
            (EthernetHeader(destination: Self.mac02, source: Self.mac03, etherType: .arp),
             ARPPacket(operation: .request, senderMAC: Self.mac03, senderIP: Self.ip03, targetMAC: .zero, targetIP: Self.ip02),
             Captured.arpProbe),
            (EthernetHeader(destination: Self.mac03, source: Self.mac02, etherType: .arp),
             ARPPacket(operation: .reply, senderMAC: Self.mac02, senderIP: Self.ip02, targetMAC: Self.mac03, targetIP: Self.ip03),
             Captured.arpProbeReply),
        ] {
            XCTAssertEqual(eth.frame(payload: arp.bytes), frame)
        }
    }

    // MARK: - parse: round trip and errors

    func testParseEmitRoundTrip() throws {
        for body in [Self.requestBody, Self.replyBody] {
            XCTAssertEqual(try ARPPacket.parse(body).bytes, body)
        }
    }

    func testTruncatedThrows() {
        assertWireError("arp: truncated header") { try ARPPacket.parse(Array(Self.requestBody[0..<7])) }
        assertWireError("arp: truncated body") { try ARPPacket.parse(Array(Self.requestBody[0..<27])) }
        assertWireError { try ARPPacket.parse(Captured.arpRequest, at: 15) }
        assertWireError { try ARPPacket.parse([]) }
    }

    func testOtherAddressLengthsThrow() {
        var b = Self.requestBody
        b[4] = 20 // hlen of an InfiniBand ARP
        assertWireError("arp: unsupported address lengths hlen 20 plen 4") { try ARPPacket.parse(b) }
        b = Self.requestBody
        b[5] = 16
        assertWireError("arp: unsupported address lengths hlen 6 plen 16") { try ARPPacket.parse(b) }
    }

    func testOtherTypesAndOperationsStillParse() throws {
        // Hardware type 6 (IEEE 802), protocol 0x86dd, operation 3 (RARP request): kept for printers.
        var b = Self.requestBody
        b[1] = 6
        b[2] = 0x86; b[3] = 0xdd
        b[7] = 3
        let p = try ARPPacket.parse(b)
        XCTAssertEqual(p.hardwareType, 6)
        XCTAssertEqual(p.protocolType, .ipv6)
        XCTAssertEqual(p.operation.rawValue, 3)
        XCTAssertFalse(p.isEthernetIPv4)
        XCTAssertEqual(p.bytes, b)
    }

    // MARK: - emit into a canary buffer

    func testEmitWritesExactlyThePacket() {
        for (p, body) in [(Self.request, Self.requestBody), (Self.reply, Self.replyBody)] {
            var b = canaryBuffer(14 + 28 + 5)
            p.emit(into: &b, at: 14)
            assertEmitted(b, at: 14, equals: body, totalCount: 47)
        }
    }
}
