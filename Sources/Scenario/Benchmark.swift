// Benchmark: generated labs run through the same path as a scenario (text commands, the
// shell, the tools, the kernel), timed with the process clock. Reported: wall time, simulated
// events per second, frames delivered per second, peak memory, and memory per idle namespace.

import Foundation
import SimCore
import NetKernel

public enum Benchmark {
    /// The bridge workload: N namespaces on br0, each pings its neighbour once.
    public static func bridgeScenario(_ n: Int) -> Scenario {
        var steps: [String] = ["ip link add br0 type bridge", "ip addr add 10.0.0.1/16 dev br0", "ip link set br0 up"]
        for i in 0..<n { steps += containerSteps(i) }
        for i in 0..<n {
            steps.append("ip netns exec c\(i) ping -c 1 -q \(address((i + 1) % n))")
        }
        steps.append("sleep 6")
        return scenario("bench-bridge-\(n)", steps)
    }

    static func containerSteps(_ i: Int) -> [String] {
        [
            "ip netns add c\(i)",
            "ip link add h\(i) type veth peer name eth0 netns c\(i)",
            "ip link set h\(i) master br0",
            "ip link set h\(i) up",
            "ip netns exec c\(i) ip addr add \(address(i))/16 dev eth0",
            "ip netns exec c\(i) ip link set eth0 up",
        ]
    }

    static func address(_ i: Int) -> String { "10.0.\((i + 2) / 256).\((i + 2) % 256)" }

    static func scenario(_ name: String, _ lines: [String]) -> Scenario {
        let steps = lines.enumerated().map { Step(index: $0.offset + 1, line: 0, text: $0.element, machine: nil, background: false, captureName: nil, expectStatus: 0) }
        return Scenario(path: "<bench>", name: name, description: "", seed: 1, start: .zero, machines: ["host"],
                        steps: steps, eventBudget: 1 << 40)
    }

    public struct Measurement {
        public var name: String
        public var wallSeconds: Double
        public var events: Int
        public var frames: Int
        public var peakRSSKiB: Int
    }

    public static func measure(_ s: Scenario) throws -> Measurement {
        let t0 = monotonicSeconds()
        let runner = Runner(s)
        _ = try runner.run()
        let t1 = monotonicSeconds()
        return Measurement(name: s.name, wallSeconds: t1 - t0, events: runner.kernel.eventsSimulated,
                           frames: runner.kernel.framesDelivered, peakRSSKiB: peakRSSKiB())
    }

    /// Memory per idle namespace: RSS growth while N containers (namespace, veth pair on the
    /// bridge, address, up) are created and nothing is sent.
    public static func idleNamespaceBytes(_ n: Int) throws -> Double {
        let before = currentRSSKiB()
        var lines = ["ip link add br0 type bridge", "ip link set br0 up"]
        for i in 0..<n { lines += containerSteps(i) }
        let runner = Runner(scenario("bench-idle-\(n)", lines))
        _ = try runner.run()
        let after = currentRSSKiB()
        withExtendedLifetime(runner) {}
        return Double(max(0, after - before)) * 1024 / Double(n)
    }

    public static func report(sizes: [Int]) throws -> [String] {
        var out = ["workload            wall(s)   events   events/s   frames   frames/s  peak RSS(MiB)"]
        for n in sizes {
            let m = try measure(bridgeScenario(n))
            out.append(row(m))
        }
        if let n = sizes.max() {
            let b = try idleNamespaceBytes(n)
            out.append(String(format: "memory per idle namespace (N=%d): %.1f KiB", n, b / 1024))
        }
        return out
    }

    static func row(_ m: Measurement) -> String {
        m.name.padding(toLength: 18, withPad: " ", startingAt: 0) + String(format: " %8.3f %8d %10.0f %8d %10.0f %14.1f", m.wallSeconds, m.events,
               Double(m.events) / max(m.wallSeconds, 1e-9), m.frames, Double(m.frames) / max(m.wallSeconds, 1e-9),
               Double(m.peakRSSKiB) / 1024)
    }

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
}
