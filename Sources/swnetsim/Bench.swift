// `swnetsim bench [WORKLOAD...]`: the benchmark (build with -c release).

import ArgumentParser
import Foundation
import Scenario

struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Measure speed and memory on generated topologies.",
        discussion: "Workloads: bridge, routed, netfilter, overlay, or all (the default).")

    @Argument(help: "Workloads to run: bridge, routed, netfilter, overlay, all.") var workloads: [String] = []
    @Option(help: "Namespace counts for the bridge workload.") var sizes: String = "10,100,1000"
    @Option(help: "Host counts for the routed workload.") var hosts: String = "10,100,1000"
    @Option(help: "Connections per host for the routed workload (the first for every host count, the others for the largest).")
    var connections: String = "1,4"
    @Option(help: "Rule counts for the netfilter workload (0: no filter table).") var rules: String = "0,10,100,10000"
    @Option(help: "Conntrack table sizes for the netfilter workload.") var entries: String = "1000,10000,100000"
    @Option(help: "Containers per machine for the overlay workload.") var containers: String = "100,300,1000"

    func validate() throws {
        for w in workloads where w != "all" && Benchmark.Workload(rawValue: w) == nil {
            throw ValidationError("unknown workload `\(w)` (bridge, routed, netfilter, overlay, all)")
        }
        for (name, text, least) in [("sizes", sizes, 1), ("hosts", hosts, 1), ("connections", connections, 1), ("rules", rules, 0),
                                    ("entries", entries, 1), ("containers", containers, 1)] where Bench.numbers(text, least: least) == nil {
            throw ValidationError("--\(name) wants a comma-separated list of counts of at least \(least) (empty: skip), not `\(text)`")
        }
    }

    static func numbers(_ text: String, least: Int = 0) -> [Int]? {
        let parts = text.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard parts.allSatisfy({ ($0 ?? Int.min) >= least }) else { return nil }
        return parts.map { $0! }
    }

    func run() throws {
        var options = Benchmark.Options()
        options.bridgeSizes = Bench.numbers(sizes)!
        options.routedHosts = Bench.numbers(hosts)!
        options.routedConnections = Bench.numbers(connections)!
        options.netfilterRules = Bench.numbers(rules)!
        options.conntrackEntries = Bench.numbers(entries)!
        options.overlayContainers = Bench.numbers(containers)!
        var chosen: [Benchmark.Workload] = []
        for w in workloads.isEmpty ? ["all"] : workloads {
            for k in w == "all" ? Benchmark.Workload.allCases : [Benchmark.Workload(rawValue: w)!] where !chosen.contains(k) {
                chosen.append(k)
            }
        }
        try Benchmark.run(chosen, options: options) { line in
            print(line)
            fflush(stdout)
        }
    }
}
