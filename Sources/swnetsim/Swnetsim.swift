// swnetsim: the command-line entry point; one file per subcommand.

import ArgumentParser

@main
struct Swnetsim: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "swnetsim",
        abstract: "A deterministic simulator of Linux container networking.",
        subcommands: [Run.self, Test.self, Bench.self]
    )
}

/// Exit status for bad input (a scenario that cannot run as written).
let badInputStatus: Int32 = 2
