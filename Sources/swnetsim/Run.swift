// `swnetsim run FILE [--out DIR]`: replays a scenario, prints its transcript and captures.

import ArgumentParser
import Scenario
#if canImport(Glibc)
import Glibc
#endif

struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Replay a scenario and print what the tools print.")

    @Argument(help: "The scenario file (YAML).")
    var scenario: String

    @Option(name: .long, help: "Also write transcript.txt and each capture as NAME.txt and NAME.pcap into this folder.")
    var out: String?

    @Flag(name: .long, help: "Also write events.txt: every kernel decision with its reason.")
    var events = false

    func run() throws {
        do {
            let s = try ScenarioLoader.load(path: scenario)
            let result = try Runner(s, recordEvents: events).run()
            print(result.transcript, terminator: "")
            for c in result.captures {
                print("\n==> \(c.name).txt <==")
                print(c.text, terminator: "")
            }
            if let dir = out {
                try OutputFolder.write(dir) { tmp in try result.write(to: tmp) }
            }
        } catch let e as ScenarioError {
            fputs("swnetsim: \(e)\n", stderr)
            throw ExitCode(badInputStatus)
        }
    }
}
