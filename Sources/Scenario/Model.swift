// Model: a scenario file: the lab's commands as steps, the machines they run on, the seed and
// the clock's start. Parsed from YAML with line numbers kept, so that every error can point
// at the step that caused it.

import Yams
import SimCore
import Trace

/// One step: a command line typed on a machine, with what the author expects of it.
public struct Step {
    public var index: Int
    public var line: Int
    /// The command line exactly as written (what the transcript shows after "$ ").
    public var text: String
    public var machine: String?
    /// Runs in the background (trailing `&` or `background: true`).
    public var background: Bool
    /// Name for a capture this step starts (default: the interface, or -w's file name).
    public var captureName: String?
    /// Exit status the author expects (default 0); any other status stops the scenario.
    public var expectStatus: Int32
    /// Lines the person types into the command (telnet, nc), one a second.
    public var input: [String]? = nil
}

/// A machine's NIC on an underlay network, configured as at boot.
public struct Attachment {
    public var line: Int
    public var machine: String
    public var device: String
    public var address: String?
    public var gateway: String?
}

/// An underlay LAN joining machines (a switch and its cables).
public struct NetworkSpec {
    public var line: Int
    public var name: String
    public var attachments: [Attachment]
}

public struct Scenario {
    public var path: String
    public var name: String
    public var description: String
    public var seed: UInt64
    /// Wall-clock time at virtual time zero.
    public var start: SimTime
    /// Machines in declaration order; the first is where steps without `machine:` run.
    public var machines: [String]
    public var steps: [Step]
    /// Most events a run may take before it is stopped as a runaway (a loop or a storm).
    public var eventBudget: Int
    /// Underlay networks (each machine attached to one gets a booted NIC and lo up).
    public var networks: [NetworkSpec] = []
    /// Virtual time each command takes to start (fork, exec, parsing), so that what one
    /// command set off settles before the next one acts, as at a real prompt.
    public var stepDelay = SimTime.milliseconds(2)
}

/// A problem with a scenario, located in its file.
public struct ScenarioError: Error, CustomStringConvertible {
    public var file: String
    public var line: Int?
    public var step: Step?
    public var message: String
    public var hint: String?

    public init(file: String, line: Int? = nil, step: Step? = nil, message: String, hint: String? = nil) {
        self.file = file
        self.line = line
        self.step = step
        self.message = message
        self.hint = hint
    }

    public var description: String {
        var s = file
        if let l = line ?? step?.line { s += ":\(l)" }
        s += ": "
        if let st = step { s += "step \(st.index) `\(st.text)`: " }
        s += message
        if let h = hint { s += "\nhint: \(h)" }
        return s
    }
}

public enum ScenarioLoader {
    public static let defaultBudget = 20_000_000

    public static func load(path: String) throws -> Scenario {
        let text: String
        do {
            text = try readFile(path)
        } catch {
            throw ScenarioError(file: path, message: "cannot read the scenario: \(error)")
        }
        return try parse(text, path: path)
    }

    public static func parse(_ text: String, path: String) throws -> Scenario {
        let root: Node
        do {
            guard let n = try Yams.compose(yaml: text) else {
                throw ScenarioError(file: path, line: 1, message: "the file is empty", hint: "a scenario needs at least `steps:`")
            }
            root = n
        } catch let e as YamlError {
            throw yamlError(e, path: path)
        }
        guard case let .mapping(top) = root else {
            throw ScenarioError(file: path, line: root.mark?.line, message: "the top level must be a mapping (name:, seed:, steps: ...)")
        }
        var s = Scenario(path: path, name: baseName(path), description: "", seed: 1, start: .zero,
                         machines: ["host"], steps: [], eventBudget: defaultBudget)
        var stepsNode: Node?
        var networksNode: [Node] = []
        for (k, v) in top {
            guard let key = k.string else { continue }
            let line = k.mark?.line
            switch key {
            case "name": s.name = try scalar(v, key, path)
            case "description": s.description = try scalar(v, key, path)
            case "seed":
                guard let n = UInt64(try scalar(v, key, path)) else {
                    throw ScenarioError(file: path, line: line, message: "`seed` must be a non-negative integer")
                }
                s.seed = n
            case "start":
                let t = try scalar(v, key, path)
                guard let st = Timestamp.parse(t) else {
                    throw ScenarioError(file: path, line: line, message: "`start` is not a time: \(t)",
                                        hint: "write e.g. 2018-11-11T05:53:10.859956Z (UTC) or 05:53:10.859956")
                }
                s.start = st
            case "step-delay":
                let t = try scalar(v, key, path)
                guard let d = SimTime.parseSeconds(t) else {
                    throw ScenarioError(file: path, line: line, message: "`step-delay` must be a number of seconds (e.g. 0.002)")
                }
                s.stepDelay = d
            case "budget":
                guard let n = Int(try scalar(v, key, path)), n > 0 else {
                    throw ScenarioError(file: path, line: line, message: "`budget` must be a positive number of events")
                }
                s.eventBudget = n
            case "machines":
                guard case let .sequence(seq) = v else {
                    throw ScenarioError(file: path, line: line, message: "`machines` must be a list of names")
                }
                var names: [String] = []
                for m in seq {
                    guard let n = m.string, !n.isEmpty else {
                        throw ScenarioError(file: path, line: m.mark?.line, message: "a machine needs a name")
                    }
                    if names.contains(n) {
                        throw ScenarioError(file: path, line: m.mark?.line, message: "machine `\(n)` is declared twice")
                    }
                    names.append(n)
                }
                guard !names.isEmpty else { throw ScenarioError(file: path, line: line, message: "`machines` is empty") }
                s.machines = names
            case "steps":
                stepsNode = v
            case "networks":
                guard case let .sequence(seq) = v else {
                    throw ScenarioError(file: path, line: line, message: "`networks` must be a list")
                }
                networksNode = seq.map { $0 }
            default:
                throw ScenarioError(file: path, line: line, message: "unknown key `\(key)`",
                                    hint: "known keys: name, description, seed, start, step-delay, budget, machines, networks, steps")
            }
        }
        guard let stepsNode, case let .sequence(seq) = stepsNode else {
            throw ScenarioError(file: path, line: root.mark?.line, message: "`steps` is missing or not a list")
        }
        for item in seq {
            s.steps.append(try parseStep(item, index: s.steps.count + 1, scenario: s, path: path))
        }
        for n in networksNode { s.networks.append(try parseNetwork(n, scenario: s, path: path)) }
        return s
    }

    /// `- name: lan` with `attach:` entries, each "MACHINE DEVICE [ADDRESS/LEN] [via GATEWAY]"
    /// or a mapping {machine, device, address, gateway}.
    static func parseNetwork(_ n: Node, scenario: Scenario, path: String) throws -> NetworkSpec {
        guard case let .mapping(m) = n else {
            throw ScenarioError(file: path, line: n.mark?.line, message: "a network must be a mapping with name and attach")
        }
        var spec = NetworkSpec(line: n.mark?.line ?? 0, name: "", attachments: [])
        for (k, v) in m {
            guard let key = k.string else { continue }
            switch key {
            case "name": spec.name = try scalar(v, key, path)
            case "attach":
                guard case let .sequence(seq) = v else {
                    throw ScenarioError(file: path, line: k.mark?.line, message: "`attach` must be a list")
                }
                for a in seq { spec.attachments.append(try parseAttachment(a, scenario: scenario, path: path)) }
            default:
                throw ScenarioError(file: path, line: k.mark?.line, message: "unknown network key `\(key)`",
                                    hint: "a network has name and attach")
            }
        }
        if spec.name.isEmpty { throw ScenarioError(file: path, line: spec.line, message: "a network needs a name") }
        return spec
    }

    static func parseAttachment(_ n: Node, scenario: Scenario, path: String) throws -> Attachment {
        let line = n.mark?.line ?? 0
        var a = Attachment(line: line, machine: "", device: "eth0", address: nil, gateway: nil)
        switch n {
        case .scalar(let sc):
            let w = sc.string.split(separator: " ").map(String.init)
            guard w.count >= 2 else {
                throw ScenarioError(file: path, line: line, message: "an attachment reads MACHINE DEVICE [ADDRESS/LEN] [via GATEWAY]")
            }
            a.machine = w[0]
            a.device = w[1]
            var i = 2
            if i < w.count, w[i] != "via" { a.address = w[i]; i += 1 }
            if i + 1 < w.count, w[i] == "via" { a.gateway = w[i + 1]; i += 2 }
            guard i == w.count else {
                throw ScenarioError(file: path, line: line, message: "unexpected `\(w[i])` in an attachment")
            }
        case .mapping(let m):
            for (k, v) in m {
                guard let key = k.string else { continue }
                switch key {
                case "machine": a.machine = try scalar(v, key, path)
                case "device": a.device = try scalar(v, key, path)
                case "address": a.address = try scalar(v, key, path)
                case "gateway": a.gateway = try scalar(v, key, path)
                default:
                    throw ScenarioError(file: path, line: k.mark?.line, message: "unknown attachment key `\(key)`")
                }
            }
        default:
            throw ScenarioError(file: path, line: line, message: "an attachment is a line or a mapping")
        }
        guard scenario.machines.contains(a.machine) else {
            throw ScenarioError(file: path, line: line, message: "unknown machine `\(a.machine)`",
                                hint: "machines: " + scenario.machines.joined(separator: ", "))
        }
        return a
    }

    static func parseStep(_ n: Node, index: Int, scenario: Scenario, path: String) throws -> Step {
        let line = n.mark?.line ?? 0
        var step = Step(index: index, line: line, text: "", machine: nil, background: false, captureName: nil, expectStatus: 0)
        switch n {
        case .scalar(let sc):
            step.text = sc.string
        case .mapping(let m):
            for (k, v) in m {
                guard let key = k.string else { continue }
                switch key {
                case "run": step.text = try scalar(v, key, path)
                case "machine", "on":
                    let name = try scalar(v, key, path)
                    guard scenario.machines.contains(name) else {
                        throw ScenarioError(file: path, line: k.mark?.line, message: "unknown machine `\(name)`",
                                            hint: "machines: " + scenario.machines.joined(separator: ", "))
                    }
                    step.machine = name
                case "background": step.background = try bool(v, key, path)
                case "capture": step.captureName = try scalar(v, key, path)
                case "input":
                    let text = try scalar(v, key, path)
                    var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
                    if lines.last == "" { lines.removeLast() }
                    step.input = lines
                case "status":
                    guard let st = Int32(try scalar(v, key, path)) else {
                        throw ScenarioError(file: path, line: k.mark?.line, message: "`status` must be an exit status number")
                    }
                    step.expectStatus = st
                default:
                    throw ScenarioError(file: path, line: k.mark?.line, message: "unknown step key `\(key)`",
                                        hint: "a step is a command line, or a mapping with run, machine, background, capture, status, input")
                }
            }
        default:
            throw ScenarioError(file: path, line: line, message: "a step must be a command line or a mapping with `run:`")
        }
        step.text = step.text.trimmedLine
        if step.text.isEmpty {
            throw ScenarioError(file: path, line: line, message: "step \(index) has no command")
        }
        return step
    }

    static func scalar(_ n: Node, _ key: String, _ path: String) throws -> String {
        guard case let .scalar(s) = n else {
            throw ScenarioError(file: path, line: n.mark?.line, message: "`\(key)` must be a single value")
        }
        return s.string
    }

    static func bool(_ n: Node, _ key: String, _ path: String) throws -> Bool {
        switch try scalar(n, key, path) {
        case "true", "yes", "on": return true
        case "false", "no", "off": return false
        default: throw ScenarioError(file: path, line: n.mark?.line, message: "`\(key)` must be true or false")
        }
    }

    static func yamlError(_ e: YamlError, path: String) -> ScenarioError {
        switch e {
        case let .scanner(_, problem, mark, _), let .parser(_, problem, mark, _), let .composer(_, problem, mark, _):
            return ScenarioError(file: path, line: mark.line, message: "YAML syntax error: \(problem) (column \(mark.column))")
        case let .duplicatedKeysInMapping(dups, ctx):
            return ScenarioError(file: path, line: ctx.mark.line, message: "duplicate key(s) \(dups.joined(separator: ", "))")
        default:
            return ScenarioError(file: path, message: "YAML error: \(e)")
        }
    }

    static func baseName(_ path: String) -> String {
        let file = path.split(separator: "/").last.map(String.init) ?? path
        return file.hasSuffix(".yaml") ? String(file.dropLast(5)) : (file.hasSuffix(".yml") ? String(file.dropLast(4)) : file)
    }
}

extension String {
    var trimmedLine: String {
        var s = Substring(self)
        while let c = s.first, c.isWhitespace { s = s.dropFirst() }
        while let c = s.last, c.isWhitespace { s = s.dropLast() }
        return String(s)
    }
}
