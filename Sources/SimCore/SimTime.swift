// SimTime: the virtual clock's unit. Models: a monotonic instant or duration in nanoseconds.
// Guarantees: integer arithmetic only, so every run and machine agrees to the nanosecond.
// Leaves out: calendars and time zones (Scenario formats wall-clock text, always in UTC).

/// An instant or a duration on the virtual clock, in nanoseconds.
public struct SimTime: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var ns: Int64

    @inlinable public init(ns: Int64) { self.ns = ns }

    public static let zero = SimTime(ns: 0)
    @inlinable public static func nanoseconds(_ v: Int64) -> SimTime { SimTime(ns: v) }
    @inlinable public static func microseconds(_ v: Int64) -> SimTime { SimTime(ns: v * 1_000) }
    @inlinable public static func milliseconds(_ v: Int64) -> SimTime { SimTime(ns: v * 1_000_000) }
    @inlinable public static func seconds(_ v: Int64) -> SimTime { SimTime(ns: v * 1_000_000_000) }

    /// Parses a decimal number of seconds ("1", "0.5", "2.000001") exactly, without floating point.
    public static func parseSeconds(_ text: String) -> SimTime? {
        var s = Substring(text)
        if s.hasSuffix("s") { s = s.dropLast() }
        guard !s.isEmpty else { return nil }
        let parts = s.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count <= 2, parts.allSatisfy({ $0.allSatisfy(\.isASCII) }) else { return nil }
        let whole = parts[0].isEmpty ? "0" : parts[0]
        guard whole.allSatisfy({ $0.isNumber }), let w = Int64(whole), w <= 1_000_000_000 else { return nil }
        var frac: Int64 = 0
        if parts.count == 2 {
            let f = parts[1]
            guard !f.isEmpty || !parts[0].isEmpty, f.count <= 9, f.allSatisfy({ $0.isNumber }) else { return nil }
            let padded = f + String(repeating: "0", count: 9 - f.count)
            frac = Int64(padded) ?? 0
        }
        return SimTime(ns: w * 1_000_000_000 + frac)
    }

    @inlinable public var microseconds: Int64 { ns / 1_000 }
    @inlinable public var milliseconds: Int64 { ns / 1_000_000 }
    @inlinable public var seconds: Int64 { ns / 1_000_000_000 }

    @inlinable public static func < (a: SimTime, b: SimTime) -> Bool { a.ns < b.ns }
    @inlinable public static func + (a: SimTime, b: SimTime) -> SimTime { SimTime(ns: a.ns + b.ns) }
    @inlinable public static func - (a: SimTime, b: SimTime) -> SimTime { SimTime(ns: a.ns - b.ns) }
    @inlinable public static func += (a: inout SimTime, b: SimTime) { a.ns += b.ns }
    @inlinable public static func * (a: SimTime, k: Int64) -> SimTime { SimTime(ns: a.ns * k) }

    /// "1.500000000s": seconds with nanoseconds, for logs and error messages.
    public var description: String {
        let sign = ns < 0 ? "-" : ""
        let a = ns.magnitude
        let frac = String(a % 1_000_000_000)
        return "\(sign)\(a / 1_000_000_000).\(String(repeating: "0", count: 9 - frac.count))\(frac)s"
    }
}
