// RNG: named, seeded random streams. Models: every random choice a kernel or tool makes (MAC
// addresses, ICMP ids, reachable-time jitter, later TCP ISNs).
// Guarantees: the same (seed, name) gives the same sequence on every platform and Swift version,
// because the mapping to ranges is ours, not the standard library's.
// Leaves out: cryptographic quality.

/// SplitMix64 (Steele, Lea, Flood 2014): small state, good statistical quality.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    public private(set) var state: UInt64

    public init(seed: UInt64) { state = seed }

    /// A stream for one use, derived from the scenario seed and a stable name.
    public init(seed: UInt64, stream name: String) {
        state = seed ^ SplitMix64.fnv1a(name)
        _ = next()
    }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in 0..<n (n > 0), by rejection so that no value is favoured.
    public mutating func below(_ n: UInt64) -> UInt64 {
        precondition(n > 0)
        let limit = UInt64.max - UInt64.max % n
        while true {
            let v = next()
            if v < limit { return v % n }
        }
    }

    /// Uniform in the closed range.
    public mutating func inRange(_ lo: Int64, _ hi: Int64) -> Int64 {
        lo + Int64(bitPattern: below(UInt64(hi - lo) + 1))
    }

    /// FNV-1a over UTF-8: a stable string hash (Swift's Hasher is seeded per process).
    public static func fnv1a(_ s: String) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in s.utf8 { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 }
        return h
    }
}
