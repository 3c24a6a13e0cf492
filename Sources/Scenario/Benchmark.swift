// Benchmark: generated workloads run through the same command path as scenarios.

import SimCore

public enum Benchmark {
    public static func bridgePing(sizes: [Int]) -> [String] { [] }
}
