import Foundation
import XCTest
import Scenario

/// The promises the product makes about its output, checked on every scenario.
final class EndToEndTests: XCTestCase {
    /// Two processes (each with its own hash seed) write byte-identical output folders.
    func testRunsAreByteIdenticalAcrossProcesses() throws {
        try Repo.requireBinary()
        for s in Repo.scenarios {
            let a = Repo.tempDir("det-a"), b = Repo.tempDir("det-b")
            defer { try? FileManager.default.removeItem(atPath: a); try? FileManager.default.removeItem(atPath: b) }
            let r1 = try Repo.run(Repo.binary, ["run", s, "--out", a])
            let r2 = try Repo.run(Repo.binary, ["run", s, "--out", b], env: ["SWIFT_DETERMINISTIC_HASHING": ""])
            XCTAssertEqual(r1.status, 0, r1.stderr)
            XCTAssertEqual(r1.stdout, r2.stdout, "stdout of \(s)")
            let files = try FileManager.default.contentsOfDirectory(atPath: a).sorted()
            XCTAssertEqual(files, try FileManager.default.contentsOfDirectory(atPath: b).sorted())
            XCTAssertTrue(files.contains("transcript.txt"))
            for f in files {
                XCTAssertEqual(FileManager.default.contents(atPath: a + "/" + f), FileManager.default.contents(atPath: b + "/" + f), "\(s): \(f) differs between runs")
            }
        }
    }

    /// The real tcpdump reads each pcap as exactly our text twin (`tcpdump -r FILE -n`, plus
    /// the capture's own -e and -v), and tshark reads it cleanly.
    func testPcapsReadBackAsTheirTextTwins() throws {
        guard let tcpdump = Repo.which("tcpdump") else { throw XCTSkip("tcpdump is not installed (scripts/deps.sh installs it)") }
        let tshark = Repo.which("tshark")
        var checked = 0
        for s in Repo.scenarios {
            let result = try Runner(try ScenarioLoader.load(path: s)).run()
            let out = Repo.tempDir("pcap")
            try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(atPath: out) }
            for c in result.captures {
                let pcap = out + "/" + c.name + ".pcap"
                try c.writePcap(to: pcap)
                var args = ["-r", pcap, "-n"]
                if c.options.linkHeader { args.append("-e") }
                if c.options.verbose > 0 { args.append("-" + String(repeating: "v", count: c.options.verbose)) }
                let read = try Repo.run(tcpdump, args, env: ["TZ": "UTC"])
                XCTAssertEqual(read.status, 0, read.stderr)
                XCTAssertEqual(read.stdout, c.text, "tcpdump \(args.joined(separator: " ")) disagrees with its text twin (\(s))")
                if let tshark {
                    let t = try Repo.run(tshark, ["-r", pcap])
                    XCTAssertEqual(t.status, 0, t.stderr)
                    XCTAssertFalse(t.stdout.contains("Malformed"), "tshark: \(t.stdout)")
                    // One tshark line per packet; tcpdump continues a packet on indented lines
                    // (-v) or on lines without a timestamp (the frame inside OTV/VXLAN).
                    XCTAssertEqual(t.stdout.split(separator: "\n").count,
                                   c.text.split(separator: "\n").filter { $0.first?.isNumber == true }.count, "\(s): \(c.name)")
                }
                checked += 1
            }
        }
        XCTAssertGreaterThan(checked, 0)
    }

    /// Every scenario matches its reviewed golden output (what `swnetsim test` checks).
    func testGoldenFilesMatch() throws {
        try Repo.requireBinary()
        let r = try Repo.run(Repo.binary, ["test", "--scenarios", Repo.root + "/scenarios", "--golden", Repo.root + "/golden"])
        XCTAssertEqual(r.status, 0, r.stdout + r.stderr)
    }
}
