// InternetChecksum (RFC 1071, RFC 1624) and the big-endian accessors of Bytes.swift.

import XCTest
import Wire

final class ChecksumTests: XCTestCase {
    // MARK: - RFC 1071

    /// RFC 1071 section 3 numerical example: bytes 00 01 f2 03 f4 f5 f6 f7 sum to 0xddf2.
    func testRFC1071Example() {
        let b: [UInt8] = [0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7]
        XCTAssertEqual(InternetChecksum.sum(b, 0..<8), 0xddf2)
        XCTAssertEqual(InternetChecksum.checksum(b, 0..<8), 0x220d)
        XCTAssertEqual(referenceChecksum(b[...]), 0x220d)
    }

    func testSumHonoursTheRange() {
        // The RFC example with junk on both sides; only 2..<10 counts.
        let b: [UInt8] = [0xde, 0xad, 0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7, 0xbe, 0xef]
        XCTAssertEqual(InternetChecksum.sum(b, 2..<10), 0xddf2)
        XCTAssertEqual(InternetChecksum.checksum(b, 2..<10), 0x220d)
        XCTAssertEqual(InternetChecksum.sum(b, 4..<4), 0)
    }

    func testOddLengthPadsTheLastByteOnTheRight() {
        // 0x0001 + 0xf203 + 0xf400 = 0x1e604 -> 0xe605; padding on the left would give 0x00f4.
        let b: [UInt8] = [0x00, 0x01, 0xf2, 0x03, 0xf4]
        XCTAssertEqual(InternetChecksum.sum(b, 0..<5), 0xe605)
        XCTAssertEqual(InternetChecksum.checksum(b, 0..<5), 0x19fa)
        // An odd range starting at an odd offset.
        let c: [UInt8] = [0x77, 0x12, 0x34, 0x56]
        XCTAssertEqual(InternetChecksum.sum(c, 1..<4), 0x1234 + 0x5600)
        XCTAssertEqual(InternetChecksum.checksum(c, 1..<4), referenceChecksum(c[1..<4]))
    }

    func testCarriesFoldIntoAllOnes() {
        let b: [UInt8] = [0xff, 0xff, 0xff, 0xff, 0x00, 0x01, 0xff, 0xfe]
        // 0xffff + 0xffff + 0x0001 + 0xfffe = 0x2fffd -> 0xffff (never folds to 0)
        XCTAssertEqual(InternetChecksum.sum(b, 0..<8), 0xffff)
        XCTAssertEqual(InternetChecksum.checksum(b, 0..<8), 0x0000)
        XCTAssertEqual(InternetChecksum.checksum([0, 0, 0, 0], 0..<4), 0xffff)
    }

    func testInitialIsAddedLikeAPrependedWord() {
        let b: [UInt8] = [0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7]
        let withWord: [UInt8] = [0x12, 0x34] + b
        XCTAssertEqual(InternetChecksum.checksum(b, 0..<8, initial: 0x1234),
                       InternetChecksum.checksum(withWord, 0..<10))
        XCTAssertEqual(InternetChecksum.checksum(b, 0..<8, initial: 0x1234), referenceChecksum(withWord[...]))
    }

    func testVerify() {
        // The IPv4 header of the captured echo request: its checksum 0x5585 verifies.
        var h = Array(Captured.echoRequest1[14..<34])
        XCTAssertEqual(h.u16(at: 10), 0x5585)
        XCTAssertTrue(InternetChecksum.verify(h, 0..<20))
        XCTAssertEqual(referenceChecksum(h[...]), 0x0000)
        h[9] ^= 0x01
        XCTAssertFalse(InternetChecksum.verify(h, 0..<20))
        // Odd length: place the checksum over [a b c] in the first word.
        var o: [UInt8] = [0, 0, 0x12, 0x34, 0x56]
        o.setU16(InternetChecksum.checksum(o, 0..<5), at: 0)
        XCTAssertEqual(o.u16(at: 0), 0xffff &- 0x1234 &- 0x5600)
        XCTAssertTrue(InternetChecksum.verify(o, 0..<5))
        o[4] = 0x57
        XCTAssertFalse(InternetChecksum.verify(o, 0..<5))
    }

    func testChecksumMatchesReferenceOnSeededRandomData() {
        var rng = SplitMix64(seed: 1071)
        for n in 0..<200 {
            let b = (0..<(n % 67)).map { _ in rng.byte() }
            XCTAssertEqual(InternetChecksum.checksum(b, 0..<b.count), referenceChecksum(b[...]), "length \(b.count)")
        }
    }

    // MARK: - RFC 1624 incremental update

    /// RFC 1624 section 4: HC 0xdd2f, m 0x5555 -> m' 0x3285 gives 0x0000 (eqn. 3), not 0xffff (eqn. 2).
    func testRFC1624Example() {
        XCTAssertEqual(InternetChecksum.update(0xdd2f, old: UInt16(0x5555), new: UInt16(0x3285)), 0x0000)
    }

    func testIncrementalUpdateEqualsRecomputation() {
        var rng = SplitMix64(seed: 1624)
        for _ in 0..<500 {
            // A 20-byte header whose checksum is at 10, with a random 16-bit and 32-bit change.
            var b = (0..<20).map { _ in rng.byte() }
            b[0] = 0x45
            b.setU16(0, at: 10)
            b.setU16(InternetChecksum.checksum(b, 0..<20), at: 10)

            let i = Int(rng.next() % 5) * 2
            let old16 = b.u16(at: i), new16 = rng.word()
            b.setU16(new16, at: i)
            let patched16 = InternetChecksum.update(b.u16(at: 10), old: old16, new: new16)
            var full = b
            full.setU16(0, at: 10)
            XCTAssertEqual(patched16, referenceChecksum(full[...]))
            b.setU16(patched16, at: 10)

            let j = rng.next() % 2 == 0 ? 12 : 16
            let old32 = b.u32(at: j), new32 = UInt32(truncatingIfNeeded: rng.next())
            b.setU32(new32, at: j)
            let patched32 = InternetChecksum.update(b.u16(at: 10), old: old32, new: new32)
            full = b
            full.setU16(0, at: 10)
            XCTAssertEqual(patched32, referenceChecksum(full[...]))
        }
    }

    // MARK: - Big-endian accessors

    func testBigEndianReads() {
        let b: [UInt8] = [0x01, 0x02, 0x03, 0x04, 0x05]
        XCTAssertEqual(b.u16(at: 0), 0x0102)
        XCTAssertEqual(b.u16(at: 3), 0x0405)
        XCTAssertEqual(b.u32(at: 0), 0x0102_0304)
        XCTAssertEqual(b.u32(at: 1), 0x0203_0405)
    }

    func testBigEndianWritesTouchOnlyTheirBytes() {
        var b = canaryBuffer(8)
        b.setU16(0xbeef, at: 1)
        XCTAssertEqual(b, [0xa5, 0xbe, 0xef, 0xa5, 0xa5, 0xa5, 0xa5, 0xa5])
        b.setU32(0x0102_0304, at: 4)
        XCTAssertEqual(b, [0xa5, 0xbe, 0xef, 0xa5, 0x01, 0x02, 0x03, 0x04])
    }

    func testWriteGrowsOnlyPastTheEnd() {
        var b = canaryBuffer(4)
        b.write([1, 2], at: 1)
        XCTAssertEqual(b, [0xa5, 1, 2, 0xa5])
        b.write([7, 8, 9], at: 3)
        XCTAssertEqual(b, [0xa5, 1, 2, 7, 8, 9])
        b.write([4], at: 7)
        XCTAssertEqual(b, [0xa5, 1, 2, 7, 8, 9, 0, 4])
    }
}
