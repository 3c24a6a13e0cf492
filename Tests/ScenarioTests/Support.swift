import Foundation
import XCTest
import TestSupport

/// Paths and process helpers shared by the end-to-end tests.
enum Repo {
    static let root: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.path
    }()
    static var binary: String { root + "/.build/debug/swnetsim" }
    static var scenarios: [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: root + "/scenarios")) ?? [])
            .filter { $0.hasSuffix(".yaml") }.sorted().map { root + "/scenarios/" + $0 }
    }

    typealias Result = Subprocess.Result

    /// Runs a program to its end (see TestSupport's Subprocess).
    static func run(_ exe: String, _ args: [String], env: [String: String] = [:]) throws -> Result {
        try Subprocess.run(exe, args, env: env)
    }

    static func which(_ name: String) -> String? {
        for dir in ["/usr/sbin", "/usr/bin", "/sbin", "/bin", "/usr/local/bin"] where FileManager.default.isExecutableFile(atPath: dir + "/" + name) {
            return dir + "/" + name
        }
        return nil
    }

    static func tempDir(_ tag: String) -> String {
        let d = NSTemporaryDirectory() + "swnetsim-test-\(tag)-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try? FileManager.default.removeItem(atPath: d)
        return d
    }

    static func requireBinary() throws {
        guard FileManager.default.isExecutableFile(atPath: binary) else {
            throw XCTSkip("build the swnetsim binary first (swift build)")
        }
    }
}
