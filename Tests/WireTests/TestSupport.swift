// Helpers shared by the Wire tests: the 0xa5 canary buffer, an independent checksum reference,
// a seeded generator for the property tests, and WireError assertions.

import XCTest
import Wire

/// The canary byte: emit tests write into a buffer full of it, so an unwritten byte shows.
let canary: UInt8 = 0xa5

func canaryBuffer(_ count: Int) -> [UInt8] { [UInt8](repeating: canary, count: count) }

/// Checks that `buffer` holds `expected` at `offset`, and the canary everywhere else.
func assertEmitted(_ buffer: [UInt8], at offset: Int, equals expected: [UInt8], totalCount: Int,
                   file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(buffer.count, totalCount, "emit changed the buffer length", file: file, line: line)
    guard buffer.count >= offset + expected.count else {
        XCTFail("buffer too short: \(buffer.count)", file: file, line: line)
        return
    }
    XCTAssertEqual(Array(buffer[offset..<(offset + expected.count)]), expected, file: file, line: line)
    for i in 0..<buffer.count where i < offset || i >= offset + expected.count {
        XCTAssertEqual(buffer[i], canary, "byte \(i) outside the header was written", file: file, line: line)
    }
}

/// Asserts that `body` throws a WireError, optionally with exactly `message`.
func assertWireError<T>(_ message: String? = nil, file: StaticString = #filePath, line: UInt = #line,
                        _ body: () throws -> T) {
    do {
        _ = try body()
        XCTFail("expected a WireError, nothing was thrown", file: file, line: line)
    } catch let e as WireError {
        if let message { XCTAssertEqual(e.message, message, file: file, line: line) }
    } catch {
        XCTFail("expected a WireError, got \(error)", file: file, line: line)
    }
}

/// A straightforward RFC 1071 reference, written independently of `InternetChecksum`:
/// one's-complement sum of big-endian 16-bit words (odd byte padded with zero), complemented.
func referenceChecksum(_ bytes: ArraySlice<UInt8>) -> UInt16 {
    var words: [UInt32] = []
    var it = bytes.makeIterator()
    while let hi = it.next() {
        let lo = it.next() ?? 0
        words.append(UInt32(hi) << 8 | UInt32(lo))
    }
    var sum: UInt32 = 0
    for w in words {
        sum += w
        if sum > 0xffff { sum -= 0xffff } // end-around carry, one word at a time
    }
    return ~UInt16(sum)
}

/// One's-complement 16-bit addition (end-around carry).
func onesComplementAdd(_ a: UInt16, _ b: UInt16) -> UInt16 {
    let s = UInt32(a) + UInt32(b)
    return UInt16(truncatingIfNeeded: (s & 0xffff) + (s >> 16))
}

/// SplitMix64, seeded, so that the property tests are the same on every run.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9e37_79b9_7f4a_7c15
        var z = state
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }
    mutating func byte() -> UInt8 { UInt8(truncatingIfNeeded: next()) }
    mutating func word() -> UInt16 { UInt16(truncatingIfNeeded: next()) }
}
