// Benchmark: generated workloads timed with the process clock (the model itself never reads
// a clock; only this measuring code does). One file per workload: BenchmarkBridge.swift (N
// namespaces on one bridge, through the text command path), BenchmarkRouted.swift (TCP
// across a router), BenchmarkNetfilter.swift (rule chains and conntrack),
// BenchmarkOverlay.swift (two machines, VXLAN); BenchmarkLab.swift builds topologies through
// the kernel's typed requests.
// Reported for every run: wall time, simulated events per second, frames delivered per second
// and peak memory; each workload adds the per-unit figures that show how it scales.
// Guarantees: the simulated work of a run (events, frames, what is delivered) is the same on
// every machine and every run; only times and memory are the machine's. Peak memory is the
// run's own: the high-water mark is reset before each run (/proc/self/clear_refs).
// Leaves out: repeated runs and statistics (run the command again, or under hyperfine).

import Foundation
import SimCore
import NetKernel
#if canImport(Glibc)
import Glibc
#endif

public enum Benchmark {
    public enum Workload: String, CaseIterable, Sendable {
        case bridge, routed, netfilter, overlay
    }

    /// Sizes of every workload (what the command-line options set).
    public struct Options: Sendable {
        /// Namespaces on the bridge.
        public var bridgeSizes = [10, 100, 1000]
        /// Hosts of the routed workload (each opens `routedConnections[0]` connections); the
        /// largest host count is run again with each further connection count.
        public var routedHosts = [10, 100, 1000]
        public var routedConnections = [1, 4]
        /// Rules in the INPUT chain (0: no filter table at all, the baseline).
        public var netfilterRules = [0, 10, 100, 10_000]
        /// Conntrack entries at which the lookup rate is measured.
        public var conntrackEntries = [1_000, 10_000, 100_000]
        /// Containers per machine in the overlay workload.
        public var overlayContainers = [100, 300, 1000]
        public init() {}
    }

    /// Runs `workloads` in order, printing through `emit` as results arrive.
    public static func run(_ workloads: [Workload], options: Options = Options(), emit: (String) -> Void) throws {
        for (i, w) in workloads.enumerated() {
            if i > 0 { emit("") }
            switch w {
            case .bridge: try bridgeReport(sizes: options.bridgeSizes, emit: emit)
            case .routed: try routedReport(hosts: options.routedHosts, connections: options.routedConnections, emit: emit)
            case .netfilter: try netfilterReport(rules: options.netfilterRules, entries: options.conntrackEntries, emit: emit)
            case .overlay: try overlayReport(containers: options.overlayContainers, emit: emit)
            }
        }
    }

    // MARK: - Measurements

    public struct Measurement {
        public var name: String
        public var wallSeconds: Double
        public var events: Int
        public var frames: Int
        public var peakRSSKiB: Int
        /// Resident memory when the run began (after the previous run's memory was trimmed).
        public var startRSSKiB: Int = 0

        /// Memory the run added at its peak.
        public var grownKiB: Int { max(0, peakRSSKiB - startRSSKiB) }
    }

    /// Times `body`, counting the events and frames it simulated on `kernel`.
    static func measure(_ name: String, _ kernel: Kernel, _ body: () throws -> Void) rethrows -> Measurement {
        let start = startMeasuring()
        let e0 = kernel.eventsSimulated, f0 = kernel.framesDelivered
        let t0 = monotonicSeconds()
        try body()
        let t1 = monotonicSeconds()
        return Measurement(name: name, wallSeconds: t1 - t0, events: kernel.eventsSimulated - e0,
                           frames: kernel.framesDelivered - f0, peakRSSKiB: peakRSSKiB(), startRSSKiB: start)
    }

    /// Returns freed memory to the system and resets the high-water mark, so that the next
    /// peak is the next run's own; the resident size now.
    static func startMeasuring() -> Int {
        #if os(Linux)
        _ = glibcMallocTrim(0)
        #endif
        resetPeakRSS()
        return currentRSSKiB()
    }

    static let header = "workload            wall(s)   events   events/s   frames   frames/s  peak RSS(MiB)"

    static func row(_ m: Measurement) -> String {
        m.name.padding(toLength: 18, withPad: " ", startingAt: 0) + String(format: " %8.3f %8d %10.0f %8d %10.0f %14.1f", m.wallSeconds, m.events,
               Double(m.events) / max(m.wallSeconds, 1e-9), m.frames, Double(m.frames) / max(m.wallSeconds, 1e-9),
               Double(m.peakRSSKiB) / 1024)
    }

    /// A table with right-aligned columns under their headings.
    static func table(_ headings: [String], _ rows: [[String]]) -> [String] {
        var widths = headings.map(\.count)
        for r in rows { for (i, c) in r.enumerated() where i < widths.count { widths[i] = max(widths[i], c.count) } }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { i, c in
                let pad = String(repeating: " ", count: max(0, widths[i] - c.count))
                return i == 0 ? c + pad : pad + c
            }.joined(separator: "  ")
        }
        return [line(headings)] + rows.map(line)
    }

    static func fixed(_ x: Double, _ digits: Int) -> String { String(format: "%.\(digits)f", x) }

    /// "yes" when `ratio` (per-unit cost at the larger size over the smaller) stays within
    /// `limit`: the work grew at most linearly with the size.
    static func linearity(_ ratio: Double, limit: Double = 1.5) -> String {
        ratio <= limit ? "linear" : "NOT linear"
    }

    // MARK: - Clock and memory

    static func monotonicSeconds() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }

    static func statusField(_ key: String) -> Int {
        guard let s = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return 0 }
        for line in s.split(separator: "\n") where line.hasPrefix(key + ":") {
            return Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "0") ?? 0
        }
        return 0
    }

    static func peakRSSKiB() -> Int { statusField("VmHWM") }
    static func currentRSSKiB() -> Int { statusField("VmRSS") }

    /// Linux: writing 5 to /proc/self/clear_refs resets VmHWM to the current RSS.
    static func resetPeakRSS() {
        let fd = open("/proc/self/clear_refs", O_WRONLY)
        guard fd >= 0 else { return }
        _ = write(fd, "5", 1)
        close(fd)
    }
}

#if os(Linux)
/// glibc's malloc_trim(3), which the Glibc module does not export.
@_silgen_name("malloc_trim")
private func glibcMallocTrim(_ pad: Int) -> Int32
#endif
