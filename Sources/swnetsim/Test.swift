// `swnetsim test [--update]`: every scenario against its reviewed golden output.

import ArgumentParser
import Scenario
#if canImport(Glibc)
import Glibc
#endif

struct Test: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Compare every scenario with golden/.")

    @Option(help: "Folder of scenarios.") var scenarios = "scenarios"
    @Option(help: "Folder of golden output.") var golden = "golden"
    @Flag(help: "Rewrite golden/ from this run (review the diff before committing).") var update = false
    @Argument(help: "Scenario names to check (default: all).") var names: [String] = []

    func run() throws {
        let files = OutputFolder.list(scenarios).filter { $0.hasSuffix(".yaml") }
            .filter { names.isEmpty || names.contains(String($0.dropLast(5))) }
        guard !files.isEmpty else {
            fputs("swnetsim: no scenarios in \(scenarios)/\n", stderr)
            throw ExitCode(badInputStatus)
        }
        var failed = 0
        for f in files {
            let path = scenarios + "/" + f
            let name = String(f.dropLast(5))
            do {
                let s = try ScenarioLoader.load(path: path)
                let result = try Runner(s).run()
                let dir = golden + "/" + name
                if update {
                    try Golden.update(result, goldenDir: dir)
                    print("updated \(name)")
                    continue
                }
                let problems = try Golden.compare(result, goldenDir: dir)
                if problems.isEmpty {
                    print("ok   \(name)")
                } else {
                    failed += 1
                    print("FAIL \(name)")
                    for p in problems { print("  " + p.split(separator: "\n").joined(separator: "\n  ")) }
                }
            } catch let e as ScenarioError {
                failed += 1
                print("FAIL \(name)\n  \(e)")
            }
        }
        if failed > 0 {
            print("\(failed) of \(files.count) scenarios differ from golden/")
            throw ExitCode(1)
        }
        if !update { print("all \(files.count) scenarios match golden/") }
    }
}
