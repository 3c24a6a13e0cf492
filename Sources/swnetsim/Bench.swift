// `swnetsim bench`: the benchmark (build with -c release).

import ArgumentParser
import Scenario

struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Measure speed and memory on generated topologies.")

    @Option(help: "Namespace counts for the bridge workload.") var sizes: String = "10,100,1000"

    func run() throws {
        let ns = sizes.split(separator: ",").compactMap { Int($0) }
        for line in try Benchmark.report(sizes: ns) { print(line) }
    }
}
