import Foundation
import XCTest

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

    struct Result { var status: Int32; var stdout: String; var stderr: String }

    /// Runs a program and waits; output is read fully before waiting so pipes never block.
    static func run(_ exe: String, _ args: [String], env: [String: String] = [:]) throws -> Result {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: exe)
        p.arguments = args
        var e = ProcessInfo.processInfo.environment
        for (k, v) in env { e[k] = v }
        p.environment = e
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        let o = out.fileHandleForReading.readDataToEndOfFile()
        let r = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return Result(status: p.terminationStatus, stdout: String(decoding: o, as: UTF8.self), stderr: String(decoding: r, as: UTF8.self))
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
