// BenchmarkBridge: the foundation workload: N namespaces on br0, each pinging its neighbour
// once, run through the same path as a scenario (text commands, the shell, the tools, the
// kernel), set-up included; then the memory of N idle namespaces.
// Every ARP broadcast is flooded to all N ports, so frames grow as N².

import Foundation
import SimCore
import NetKernel

extension Benchmark {
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

    public static func measure(_ s: Scenario) throws -> Measurement {
        let start = startMeasuring()
        let t0 = monotonicSeconds()
        let runner = Runner(s)
        _ = try runner.run()
        let t1 = monotonicSeconds()
        return Measurement(name: s.name, wallSeconds: t1 - t0, events: runner.kernel.eventsSimulated,
                           frames: runner.kernel.framesDelivered, peakRSSKiB: peakRSSKiB(), startRSSKiB: start)
    }

    /// Memory per idle namespace: RSS growth while N containers (namespace, veth pair on the
    /// bridge, address, up) are created and nothing is sent.
    public static func idleNamespaceBytes(_ n: Int) throws -> Double {
        let before = startMeasuring()
        var lines = ["ip link add br0 type bridge", "ip link set br0 up"]
        for i in 0..<n { lines += containerSteps(i) }
        let runner = Runner(scenario("bench-idle-\(n)", lines))
        _ = try runner.run()
        let after = currentRSSKiB()
        withExtendedLifetime(runner) {}
        return Double(max(0, after - before)) * 1024 / Double(n)
    }

    /// The bridge section of the report (its format is the one the README shows).
    static func bridgeReport(sizes: [Int], emit: (String) -> Void) throws {
        emit(header)
        for n in sizes {
            emit(row(try measure(bridgeScenario(n))))
        }
        if let n = sizes.max() {
            let b = try idleNamespaceBytes(n)
            emit(String(format: "memory per idle namespace (N=%d): %.1f KiB", n, b / 1024))
        }
    }

    /// The bridge section as lines.
    public static func report(sizes: [Int]) throws -> [String] {
        var out: [String] = []
        try bridgeReport(sizes: sizes) { out.append($0) }
        return out
    }
}
