// MACAddress, IPv4Address and IPv4Prefix: text forms, byte forms and prefix arithmetic.

import XCTest
import Wire

final class MACAddressTests: XCTestCase {
    func testParseAndPrint() {
        let m = MACAddress("aa:bb:cc:dd:ee:ff")
        XCTAssertEqual(m?.raw, 0xaabb_ccdd_eeff)
        XCTAssertEqual(m?.description, "aa:bb:cc:dd:ee:ff")
        // Upper case is accepted, printing is lower case with two digits per group.
        XCTAssertEqual(MACAddress("02:00:00:00:00:0A")?.description, "02:00:00:00:00:0a")
    }

    func testOneDigitGroups() {
        // ether_aton accepts one or two hex digits per group.
        XCTAssertEqual(MACAddress("2:0:0:0:0:1")?.raw, 0x0200_0000_0001)
        XCTAssertEqual(MACAddress("2:0:0:0:0:1")?.description, "02:00:00:00:00:01")
        XCTAssertEqual(MACAddress("a:b:c:d:e:f")?.raw, 0x0a0b_0c0d_0e0f)
    }

    func testRejectsMalformedText() {
        for bad in ["", "aa:bb:cc:dd:ee", "aa:bb:cc:dd:ee:ff:00", "aa:bb:cc:dd:ee:fff", "aa:bb:cc:dd:ee:",
                    "aa:bb::dd:ee:ff", "aa-bb-cc-dd-ee-ff", "aa:bb:cc:dd:ee:fg", " aa:bb:cc:dd:ee:ff",
                    "aabb.ccdd.eeff", "+a:bb:cc:dd:ee:ff", "aa:bb:cc:dd:ee:+f", "-0:bb:cc:dd:ee:ff",
                    "aa:bb:cc:dd:ee:\u{FF46}"] {
            XCTAssertNil(MACAddress(bad), "accepted \"\(bad)\"")
        }
    }

    func testBytesRoundTrip() {
        let b: [UInt8] = [0xa5, 0x02, 0x00, 0x00, 0x00, 0x01, 0x03, 0xa5]
        let m = MACAddress(bytes: b, at: 1)
        XCTAssertEqual(m.raw, 0x0200_0000_0103)
        XCTAssertEqual(m.bytes, [0x02, 0x00, 0x00, 0x00, 0x01, 0x03])
        var out = canaryBuffer(8)
        MACAddress(raw: 0xaabb_ccdd_eeff).write(into: &out, at: 1)
        XCTAssertEqual(out, [0xa5, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff, 0xa5])
    }

    func testRawIsTruncatedTo48Bits() {
        XCTAssertEqual(MACAddress(raw: 0xdead_0000_0000_0001).raw, 0x0000_0000_0001)
    }

    func testClassification() {
        XCTAssertTrue(MACAddress.broadcast.isBroadcast)
        XCTAssertTrue(MACAddress.broadcast.isMulticast)
        XCTAssertEqual(MACAddress.broadcast.description, "ff:ff:ff:ff:ff:ff")
        XCTAssertTrue(MACAddress("01:00:5e:00:00:01")!.isMulticast)
        XCTAssertTrue(MACAddress("33:33:00:00:00:01")!.isMulticast)
        XCTAssertFalse(MACAddress("02:00:00:00:00:02")!.isMulticast)
        XCTAssertFalse(MACAddress("02:00:00:00:00:02")!.isBroadcast)
        XCTAssertTrue(MACAddress.zero.isZero)
        XCTAssertFalse(MACAddress("00:00:00:00:00:01")!.isZero)
        XCTAssertLessThan(MACAddress("02:00:00:00:00:02")!, MACAddress("02:00:00:00:00:03")!)
    }

    func testRandomIsUnicastAndLocallyAdministered() {
        var rng = SplitMix64(seed: 42)
        for _ in 0..<100 {
            let m = MACAddress.random(using: &rng)
            XCTAssertFalse(m.isMulticast, "\(m)")
            XCTAssertEqual(m.raw & 0x0200_0000_0000, 0x0200_0000_0000, "\(m)")
            XCTAssertEqual(m.raw >> 48, 0)
        }
        var a = SplitMix64(seed: 7), b = SplitMix64(seed: 7)
        XCTAssertEqual(MACAddress.random(using: &a), MACAddress.random(using: &b))
    }
}

final class IPv4AddressTests: XCTestCase {
    func testParseAndPrint() {
        XCTAssertEqual(IPv4Address("172.18.0.2")?.raw, 0xac12_0002)
        XCTAssertEqual(IPv4Address("172.18.0.2")?.description, "172.18.0.2")
        XCTAssertEqual(IPv4Address("0.0.0.0")?.raw, 0)
        XCTAssertEqual(IPv4Address("255.255.255.255")?.raw, 0xffff_ffff)
        XCTAssertEqual(IPv4Address("10.0.0.10")?.description, "10.0.0.10")
        XCTAssertEqual(IPv4Address(raw: 0x0a63_0002).description, "10.99.0.2")
        XCTAssertEqual(IPv4Address(172, 18, 0, 254).raw, 0xac12_00fe)
    }

    func testRejectsWhatInetPtonRejects() {
        for bad in ["172.18.0.300", "256.0.0.1", "1.2.3", "1.2.3.4.5", "01.2.3.4", "1.2.3.04", "1.2.3.00",
                    "", ".1.2.3", "1.2.3.", "1..2.3", "1.2.3.4 ", " 1.2.3.4", "1.2.3.a", "0x1.2.3.4",
                    "1.2.3.1000", "+1.2.3.4", "1.2.3.-4", "\u{0661}.2.3.4", "1.2.3.4/24"] {
            XCTAssertNil(IPv4Address(bad), "accepted \"\(bad)\"")
        }
        // A single zero is fine; only a zero followed by more digits is a leading zero.
        XCTAssertEqual(IPv4Address("0.10.0.0")?.raw, 0x000a_0000)
        XCTAssertEqual(IPv4Address("100.200.0.0")?.raw, 0x64c8_0000)
    }

    func testBytes() {
        let b: [UInt8] = [0xa5, 0xac, 0x12, 0x00, 0x03, 0xa5]
        XCTAssertEqual(IPv4Address(bytes: b, at: 1), IPv4Address(172, 18, 0, 3))
        XCTAssertEqual(IPv4Address(172, 18, 0, 3).bytes, [0xac, 0x12, 0x00, 0x03])
        var out = canaryBuffer(6)
        IPv4Address(10, 99, 0, 2).write(into: &out, at: 1)
        XCTAssertEqual(out, [0xa5, 0x0a, 0x63, 0x00, 0x02, 0xa5])
    }

    func testClassification() {
        XCTAssertTrue(IPv4Address("224.0.0.1")!.isMulticast)
        XCTAssertTrue(IPv4Address("239.255.255.255")!.isMulticast)
        XCTAssertFalse(IPv4Address("223.255.255.255")!.isMulticast)
        XCTAssertFalse(IPv4Address("240.0.0.0")!.isMulticast)
        XCTAssertTrue(IPv4Address("127.0.0.1")!.isLoopback)
        XCTAssertTrue(IPv4Address("127.255.0.9")!.isLoopback)
        XCTAssertFalse(IPv4Address("128.0.0.1")!.isLoopback)
        XCTAssertTrue(IPv4Address.any.isZero)
        XCTAssertTrue(IPv4Address.broadcast.isLimitedBroadcast)
        XCTAssertFalse(IPv4Address("172.18.0.255")!.isLimitedBroadcast)
        XCTAssertLessThan(IPv4Address("9.255.255.255")!, IPv4Address("10.0.0.0")!)
    }
}

final class IPv4PrefixTests: XCTestCase {
    func testParseKeepsHostBits() {
        let p = IPv4Prefix("172.18.0.2/24")
        XCTAssertEqual(p?.address, IPv4Address(172, 18, 0, 2))
        XCTAssertEqual(p?.length, 24)
        XCTAssertEqual(p?.description, "172.18.0.2/24")
    }

    func testBareAddressTakesTheDefaultLength() {
        XCTAssertEqual(IPv4Prefix("10.0.0.1")?.length, 32)
        XCTAssertEqual(IPv4Prefix("10.0.0.1", defaultLength: 8)?.length, 8)
        XCTAssertEqual(IPv4Prefix("10.0.0.1/16", defaultLength: 8)?.length, 16)
    }

    func testRejectsBadText() {
        for bad in ["10.0.0.0/33", "10.0.0.0/", "10.0.0.0/-1", "10.0.0.0/+8", "10.0.0.0/8/8", "10.0.0/8",
                    "10.0.0.256/8", "/8", "10.0.0.0/a", "10.0.0.0/ 8", "10.0.0.0/100"] {
            XCTAssertNil(IPv4Prefix(bad), "accepted \"\(bad)\"")
        }
        XCTAssertEqual(IPv4Prefix("10.0.0.0/32")?.length, 32)
        XCTAssertEqual(IPv4Prefix("10.0.0.0/0")?.length, 0)
    }

    func testNetworkBroadcastNetmaskMasked() {
        let p = IPv4Prefix("172.18.0.2/24")!
        XCTAssertEqual(p.netmask.description, "255.255.255.0")
        XCTAssertEqual(p.network.description, "172.18.0.0")
        XCTAssertEqual(p.broadcast.description, "172.18.0.255")
        XCTAssertEqual(p.masked, IPv4Prefix(address: IPv4Address(172, 18, 0, 0), length: 24))
        XCTAssertEqual(p.masked.description, "172.18.0.0/24")

        let q = IPv4Prefix("10.1.2.3/13")!
        XCTAssertEqual(q.netmask.description, "255.248.0.0")
        XCTAssertEqual(q.network.description, "10.0.0.0")
        XCTAssertEqual(q.broadcast.description, "10.7.255.255")
        XCTAssertEqual(IPv4Prefix.mask(13), 0xfff8_0000)
    }

    func testContains() {
        let p = IPv4Prefix("172.18.0.2/24")!
        XCTAssertTrue(p.contains(IPv4Address(172, 18, 0, 0)))
        XCTAssertTrue(p.contains(IPv4Address(172, 18, 0, 3)))
        XCTAssertTrue(p.contains(IPv4Address(172, 18, 0, 255)))
        XCTAssertFalse(p.contains(IPv4Address(172, 18, 1, 0)))
        XCTAssertFalse(p.contains(IPv4Address(172, 17, 255, 255)))
        let q = IPv4Prefix("10.0.0.0/13")!
        XCTAssertTrue(q.contains(IPv4Address(10, 7, 255, 255)))
        XCTAssertFalse(q.contains(IPv4Address(10, 8, 0, 0)))
    }

    func testZeroLengthContainsEverything() {
        let p = IPv4Prefix("0.0.0.0/0")!
        XCTAssertEqual(IPv4Prefix.mask(0), 0)
        XCTAssertEqual(p.netmask, IPv4Address.any)
        XCTAssertEqual(p.network, IPv4Address.any)
        XCTAssertEqual(p.broadcast, IPv4Address.broadcast)
        XCTAssertTrue(p.contains(IPv4Address(198, 51, 100, 10)))
        XCTAssertTrue(p.contains(.broadcast))
        // Host bits of a /0 are all bits: masking clears them.
        XCTAssertEqual(IPv4Prefix("10.1.2.3/0")!.masked.description, "0.0.0.0/0")
    }

    func testThirtyTwoIsOneAddress() {
        let p = IPv4Prefix("10.99.0.2/32")!
        XCTAssertEqual(IPv4Prefix.mask(32), 0xffff_ffff)
        XCTAssertEqual(p.netmask, IPv4Address.broadcast)
        XCTAssertEqual(p.network, IPv4Address(10, 99, 0, 2))
        XCTAssertEqual(p.broadcast, IPv4Address(10, 99, 0, 2))
        XCTAssertEqual(p.masked, p)
        XCTAssertTrue(p.contains(IPv4Address(10, 99, 0, 2)))
        XCTAssertFalse(p.contains(IPv4Address(10, 99, 0, 3)))
        XCTAssertFalse(p.contains(IPv4Address(10, 99, 0, 1)))
    }

    func testMaskForEveryLength() {
        for n in 0...32 {
            let m = IPv4Prefix.mask(n)
            XCTAssertEqual(m.nonzeroBitCount, n, "/\(n)")
            XCTAssertEqual(m.leadingZeroBitCount, n == 0 ? 32 : 0, "/\(n)")
            XCTAssertEqual(m.trailingZeroBitCount, 32 - n, "/\(n)")
        }
    }
}
