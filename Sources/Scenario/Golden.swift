// Golden: compares a run with the reviewed files under golden/NAME/, naming the first
// difference (the line of a text file, the packet and its time in a pcap), and rewrites them
// only when asked to.

import Foundation
import SimCore
import Trace

public enum Golden {
    /// Every difference between the run and the golden folder; empty when they agree.
    public static func compare(_ result: RunResult, goldenDir: String) throws -> [String] {
        var problems: [String] = []
        let scratch = NSTemporaryDirectory() + "swnetsim-\(getpid())-\(result.scenario.name)"
        try? FileManager.default.removeItem(atPath: scratch)
        try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        try result.write(to: scratch)
        let produced = OutputFolder.list(scratch)
        guard OutputFolder.exists(goldenDir) else {
            return ["no golden output at \(goldenDir) (record it with `swnetsim test --update` and review it)"]
        }
        let expected = OutputFolder.list(goldenDir).filter { !$0.hasPrefix(".") }
        for f in expected where !produced.contains(f) { problems.append("\(f): in golden/ but not produced") }
        for f in produced where !expected.contains(f) { problems.append("\(f): produced but not in golden/") }
        for f in produced where expected.contains(f) {
            let a = OutputFolder.readData(goldenDir + "/" + f) ?? []
            let b = OutputFolder.readData(scratch + "/" + f) ?? []
            if a == b { continue }
            if f.hasSuffix(".pcap") {
                problems.append("\(f): " + pcapDifference(expected: a, actual: b))
            } else {
                problems.append("\(f): " + textDifference(expected: String(decoding: a, as: UTF8.self), actual: String(decoding: b, as: UTF8.self)))
            }
        }
        return problems
    }

    public static func update(_ result: RunResult, goldenDir: String) throws {
        try OutputFolder.write(goldenDir) { dir in try result.write(to: dir) }
    }

    static func textDifference(expected: String, actual: String) -> String {
        let e = expected.split(separator: "\n", omittingEmptySubsequences: false)
        let a = actual.split(separator: "\n", omittingEmptySubsequences: false)
        for i in 0..<max(e.count, a.count) {
            let x = i < e.count ? String(e[i]) : "<end of file>"
            let y = i < a.count ? String(a[i]) : "<end of file>"
            if x != y { return "line \(i + 1) differs\n  expected: \(x)\n  actual:   \(y)" }
        }
        return "differs"
    }

    /// Pcap records as (time, bytes), for naming the first differing packet.
    static func records(_ b: [UInt8]) -> [(SimTime, [UInt8])] {
        guard b.count >= 24 else { return [] }
        func u32(_ i: Int) -> UInt32 { UInt32(b[i]) | UInt32(b[i + 1]) << 8 | UInt32(b[i + 2]) << 16 | UInt32(b[i + 3]) << 24 }
        var out: [(SimTime, [UInt8])] = []
        var i = 24
        while i + 16 <= b.count {
            let sec = Int64(u32(i)), usec = Int64(u32(i + 4)), cap = Int(u32(i + 8))
            guard i + 16 + cap <= b.count else { break }
            out.append((SimTime(ns: sec * 1_000_000_000 + usec * 1000), Array(b[(i + 16)..<(i + 16 + cap)])))
            i += 16 + cap
        }
        return out
    }

    static func pcapDifference(expected: [UInt8], actual: [UInt8]) -> String {
        let e = records(expected), a = records(actual)
        for i in 0..<max(e.count, a.count) {
            guard i < e.count else { return "packet \(i + 1) at \(Timestamp.timeOfDay(a[i].0)) is extra" }
            guard i < a.count else { return "packet \(i + 1) at \(Timestamp.timeOfDay(e[i].0)) is missing" }
            if e[i].0 != a[i].0 {
                return "packet \(i + 1): time \(Timestamp.timeOfDay(a[i].0)), expected \(Timestamp.timeOfDay(e[i].0))"
            }
            if e[i].1 != a[i].1 {
                let off = zip(e[i].1, a[i].1).enumerated().first { $0.element.0 != $0.element.1 }?.offset ?? min(e[i].1.count, a[i].1.count)
                return "packet \(i + 1) at \(Timestamp.timeOfDay(e[i].0)): bytes differ from offset \(off)"
            }
        }
        return "file headers differ"
    }
}
