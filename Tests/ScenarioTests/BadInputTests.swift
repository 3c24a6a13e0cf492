import Foundation
import XCTest
@testable import Scenario

/// Bad input: a located error (file, line, step, the tool's own words, a hint), exit status 2,
/// and no output folder.
final class BadInputTests: XCTestCase {
    func write(_ yaml: String) throws -> String {
        let dir = Repo.tempDir("bad")
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let path = dir + "/lab.yaml"
        try yaml.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    func run(_ yaml: String) throws -> (ScenarioError?, String) {
        let path = try write(yaml)
        do {
            let s = try ScenarioLoader.load(path: path)
            _ = try Runner(s).run()
            return (nil, path)
        } catch let e as ScenarioError {
            return (e, path)
        }
    }

    func testUnknownDeviceNamesTheStepAndTheToolsMessage() throws {
        let (e, path) = try run("""
        steps:
          - ip link add veth0 type veth peer name veth1
          - ip link set veth9 up
        """)
        let err = try XCTUnwrap(e)
        XCTAssertEqual(err.step?.index, 2)
        XCTAssertEqual(err.description.split(separator: "\n").first.map(String.init),
                       "\(path):3: step 2 `ip link set veth9 up`: Cannot find device \"veth9\" (exit status 1)")
        XCTAssertEqual(err.hint, "devices in the root namespace of host: lo, veth1, veth0")
    }

    func testYAMLSyntaxErrorHasALine() throws {
        let (e, _) = try run("name: x\nsteps:\n  - ip netns add a\n  - [unclosed\n")
        let err = try XCTUnwrap(e)
        XCTAssertEqual(err.line, 5)
        XCTAssertTrue(err.message.hasPrefix("YAML syntax error"), err.message)
    }

    func testUnknownCommand() throws {
        let (e, _) = try run("steps:\n  - ipp link show\n")
        let err = try XCTUnwrap(e)
        XCTAssertTrue(err.message.hasPrefix("bash: ipp: command not found (exit status 127)"), err.message)
        XCTAssertNotNil(err.hint)
    }

    func testLegacyIptablesPointsAtTheModelledBackend() throws {
        let (e, _) = try run("steps:\n  - iptables-legacy -t raw -A PREROUTING -j TRACE\n")
        let err = try XCTUnwrap(e)
        XCTAssertTrue(err.message.hasPrefix("bash: iptables-legacy: command not found"), err.message)
        XCTAssertTrue(err.hint?.contains("xtables-monitor --trace") == true, err.hint ?? "no hint")
    }

    func testUnknownOptionAndBadAddress() throws {
        var (e, _) = try run("steps:\n  - ip link add br0 type bridge\n  - ip addr add 172.18.0.300/24 dev br0\n")
        XCTAssertEqual(e?.message, "Error: any valid prefix is expected rather than \"172.18.0.300/24\". (exit status 1)")
        (e, _) = try run("steps:\n  - ping -Z 1.2.3.4\n")
        // iputils prints its usage after the complaint (observed on Linux 6.18).
        XCTAssertTrue(e?.message.hasPrefix("ping: invalid option -- 'Z'\n\nUsage\n") == true, e?.message ?? "no error")
        XCTAssertTrue(e?.message.hasSuffix("For more details see ping(8). (exit status 2)") == true, e?.message ?? "no error")
    }

    func testUnknownNamespaceAndDuplicates() throws {
        var (e, _) = try run("steps:\n  - ip netns exec nosuch ip a\n")
        XCTAssertEqual(e?.message, "Cannot open network namespace \"nosuch\": No such file or directory (exit status 255)")
        XCTAssertEqual(e?.hint, "no namespace exists yet: create it with `ip netns add NAME`")
        (e, _) = try run("steps:\n  - ip netns add a\n  - ip netns add a\n")
        XCTAssertEqual(e?.message, "Cannot create namespace file \"/run/netns/a\": File exists (exit status 1)")
        (e, _) = try run("steps:\n  - brctl addbr br0\n  - brctl addbr br0\n")
        XCTAssertEqual(e?.message, "device br0 already exists; can't create bridge with the same name (exit status 1)")
    }

    func testExpectedFailureIsAllowed() throws {
        let (e, _) = try run("steps:\n  - run: ip link set veth9 up\n    status: 1\n  - ip link show lo\n")
        XCTAssertNil(e)
    }

    func testUnknownKeysAreRejected() throws {
        var (e, _) = try run("name: x\nstep:\n  - ip a\n")
        XCTAssertEqual(e?.message, "unknown key `step`")
        XCTAssertEqual(e?.line, 2)
        (e, _) = try run("steps:\n  - run: ip a\n    machin: a\n")
        XCTAssertEqual(e?.message, "unknown step key `machin`")
    }

    func testForegroundProcessThatNeverEnds() throws {
        let (e, _) = try run("steps:\n  - ip link set lo up\n  - ping 127.0.0.1\n")
        XCTAssertEqual(e?.message, "ping would run forever in the foreground")
    }

    /// Through the command line: exit status 2 and no --out folder left behind.
    func testCLIExitsTwoAndWritesNothing() throws {
        try Repo.requireBinary()
        let path = try write("steps:\n  - ip link add br0 type bridge\n  - ip link set br0 master nosuch\n")
        let out = Repo.tempDir("bad-out")
        let r = try Repo.run(Repo.binary, ["run", path, "--out", out])
        XCTAssertEqual(r.status, 2)
        XCTAssertEqual(r.stderr, """
        swnetsim: \(path):3: step 2 `ip link set br0 master nosuch`: Error: argument "nosuch" is wrong: Device does not exist (exit status 255)
        hint: devices in the root namespace of host: lo, br0

        """)
        XCTAssertFalse(FileManager.default.fileExists(atPath: out))
    }

    func testBridgeLoopStopsAtTheBudget() throws {
        let (e, _) = try run("""
        budget: 20000
        steps:
          - ip link add brA type bridge
          - ip link add brB type bridge
          - ip link add a0 type veth peer name b0
          - ip link add a1 type veth peer name b1
          - ip link set a0 master brA
          - ip link set a1 master brA
          - ip link set b0 master brB
          - ip link set b1 master brB
          - ip link set a0 up
          - ip link set a1 up
          - ip link set b0 up
          - ip link set b1 up
          - ip link set brA up
          - ip link set brB up
          - ip addr add 10.0.0.1/24 dev brA
          - run: ping -c 1 10.0.0.2
            status: 1
        """)
        let err = try XCTUnwrap(e)
        XCTAssertEqual(err.step?.index, 16)
        XCTAssertTrue(err.message.hasPrefix("the simulation stopped after 20000 events"), err.message)
        XCTAssertNotNil(err.hint)
    }
}
