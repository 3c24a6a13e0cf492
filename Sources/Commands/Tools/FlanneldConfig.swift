// FlanneldConfig: flannel's network configuration (pkg/subnet/config.go) as flanneld reads it
// from /coreos.com/network/config, and the little JSON reader it needs. Go's encoding/json
// rules that show: object keys match struct fields without regard to case, the last of
// duplicate keys wins, a missing Backend means "udp", and syntax errors read as Go prints them.
// Guarantees: the defaults and checks are CheckNetworkConfig()'s (SubnetLen 24 up to a /22
// network, else prefix + 2; SubnetMin/SubnetMax one subnet in from each end) with its messages.
// Leaves out: IPv6 networks (EnableIPv6), EnableNFTables.

import Wire

/// A parsed JSON value; object members keep their order.
enum JSONValue: Equatable {
    case object([(String, JSONValue)])
    case array([JSONValue])
    case string(String)
    case number(String)
    case bool(Bool)
    case null

    static func == (a: JSONValue, b: JSONValue) -> Bool {
        switch (a, b) {
        case let (.object(x), .object(y)): return x.map(\.0) == y.map(\.0) && x.map(\.1) == y.map(\.1)
        case let (.array(x), .array(y)): return x == y
        case let (.string(x), .string(y)), let (.number(x), .number(y)): return x == y
        case let (.bool(x), .bool(y)): return x == y
        case (.null, .null): return true
        default: return false
        }
    }

    /// Go's json name for the kind of value, as its type errors print it.
    var goKind: String {
        switch self {
        case .object: return "object"
        case .array: return "array"
        case .string: return "string"
        case .number: return "number"
        case .bool: return "bool"
        case .null: return "null"
        }
    }

    /// The member `name` of an object, matched as Go matches struct fields (last one wins,
    /// case-insensitive).
    func member(_ name: String) -> JSONValue? {
        guard case let .object(m) = self else { return nil }
        let lower = name.lowercased()
        return m.last { $0.0 == name }?.1 ?? m.last { $0.0.lowercased() == lower }?.1
    }
}

struct JSONSyntaxError: Error { let message: String }

/// A JSON reader with encoding/json's syntax error messages.
struct JSONReader {
    private let s: [UInt8]
    private var i = 0

    static func parse(_ text: String) throws -> JSONValue {
        var r = JSONReader(s: Array(text.utf8))
        r.skipSpace()
        let v = try r.value(context: "looking for beginning of value")
        r.skipSpace()
        if r.i < r.s.count { throw r.invalid("after top-level value") }
        return v
    }

    private init(s: [UInt8]) { self.s = s }

    private mutating func skipSpace() {
        while i < s.count, [0x20, 0x09, 0x0a, 0x0d].contains(s[i]) { i += 1 }
    }

    private func invalid(_ context: String) -> JSONSyntaxError {
        guard i < s.count else { return JSONSyntaxError(message: "unexpected end of JSON input") }
        let c = s[i]
        let shown: String
        switch c {
        case 0x27: shown = "'\\''"
        case 0x22: shown = "'\"'"
        case 0x20...0x7e: shown = "'\(Character(Unicode.Scalar(c)))'"
        default: shown = "'\\x\(String(c, radix: 16))'"
        }
        return JSONSyntaxError(message: "invalid character \(shown) \(context)")
    }

    private mutating func value(context: String) throws -> JSONValue {
        guard i < s.count else { throw JSONSyntaxError(message: "unexpected end of JSON input") }
        switch s[i] {
        case UInt8(ascii: "{"):
            i += 1
            var members: [(String, JSONValue)] = []
            skipSpace()
            if i < s.count, s[i] == UInt8(ascii: "}") { i += 1; return .object([]) }
            while true {
                skipSpace()
                guard i < s.count, s[i] == UInt8(ascii: "\"") else { throw invalid("looking for beginning of object key string") }
                let key = try string()
                skipSpace()
                guard i < s.count, s[i] == UInt8(ascii: ":") else { throw invalid("after object key") }
                i += 1
                skipSpace()
                members.append((key, try value(context: "looking for beginning of value")))
                skipSpace()
                guard i < s.count else { throw JSONSyntaxError(message: "unexpected end of JSON input") }
                if s[i] == UInt8(ascii: ",") { i += 1; continue }
                if s[i] == UInt8(ascii: "}") { i += 1; return .object(members) }
                throw invalid("after object key:value pair")
            }
        case UInt8(ascii: "["):
            i += 1
            var items: [JSONValue] = []
            skipSpace()
            if i < s.count, s[i] == UInt8(ascii: "]") { i += 1; return .array([]) }
            while true {
                skipSpace()
                items.append(try value(context: "looking for beginning of value"))
                skipSpace()
                guard i < s.count else { throw JSONSyntaxError(message: "unexpected end of JSON input") }
                if s[i] == UInt8(ascii: ",") { i += 1; continue }
                if s[i] == UInt8(ascii: "]") { i += 1; return .array(items) }
                throw invalid("after array element")
            }
        case UInt8(ascii: "\""):
            return .string(try string())
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            // -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
            let start = i
            func digits() { while i < s.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(s[i]) { i += 1 } }
            if s[i] == UInt8(ascii: "-") { i += 1 }
            if i < s.count, s[i] == UInt8(ascii: "0") { i += 1 } else { digits() }
            if i + 1 < s.count, s[i] == UInt8(ascii: "."), (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(s[i + 1]) {
                i += 1
                digits()
            }
            if i < s.count, s[i] == UInt8(ascii: "e") || s[i] == UInt8(ascii: "E") {
                i += 1
                if i < s.count, s[i] == UInt8(ascii: "+") || s[i] == UInt8(ascii: "-") { i += 1 }
                digits()
            }
            return .number(String(decoding: s[start..<i], as: UTF8.self))
        default:
            for (word, v) in [("true", JSONValue.bool(true)), ("false", .bool(false)), ("null", .null)] {
                let w = Array(word.utf8)
                if s[i] == w[0] {
                    var k = 0
                    while k < w.count {
                        guard i < s.count else { throw JSONSyntaxError(message: "unexpected end of JSON input") }
                        guard s[i] == w[k] else { throw invalid("in literal \(word) (expecting '\(Character(Unicode.Scalar(w[k])))')") }
                        i += 1
                        k += 1
                    }
                    return v
                }
            }
            throw invalid(context)
        }
    }

    private mutating func string() throws -> String {
        i += 1
        var out: [UInt8] = []
        while i < s.count {
            let c = s[i]
            if c == UInt8(ascii: "\"") { i += 1; return String(decoding: out, as: UTF8.self) }
            if c == UInt8(ascii: "\\"), i + 1 < s.count {
                let e = s[i + 1]
                switch e {
                case UInt8(ascii: "n"): out.append(0x0a)
                case UInt8(ascii: "t"): out.append(0x09)
                case UInt8(ascii: "r"): out.append(0x0d)
                default: out.append(e)
                }
                i += 2
                continue
            }
            if c < 0x20 { throw invalid("in string literal") }
            out.append(c)
            i += 1
        }
        throw JSONSyntaxError(message: "unexpected end of JSON input")
    }
}

/// Kernel-independent: flannel's subnet.Config after ParseConfig() and CheckNetworkConfig().
struct FlannelNetworkConfig {
    var network: IPv4Prefix
    var subnetLen: Int
    var subnetMin: IPv4Address
    var subnetMax: IPv4Address
    var backendType: String
    /// The Backend object as written (the backend reads its own fields from it).
    var backend: JSONValue?

    struct Failure: Error { let message: String }

    /// Kernel-independent: subnet.ParseConfig() + subnet.CheckNetworkConfig().
    static func parse(_ text: String) throws -> FlannelNetworkConfig {
        let root: JSONValue
        do { root = try JSONReader.parse(text) } catch let e as JSONSyntaxError { throw Failure(message: e.message) }
        guard case .object = root else {
            throw Failure(message: "json: cannot unmarshal \(root.goKind) into Go value of type subnet.Config")
        }
        var network: IPv4Prefix?
        if let n = root.member("Network") {
            network = try cidr(n)
        }
        var subnetLen = 0
        if let v = root.member("SubnetLen") {
            guard case let .number(t) = v, let n = Int(t), n >= 0 else {
                throw Failure(message: "json: cannot unmarshal \(v.goKind) into Go struct field Config.SubnetLen of type uint")
            }
            subnetLen = n
        }
        var subnetMin = IPv4Address.any, subnetMax = IPv4Address.any
        if let v = root.member("SubnetMin") { subnetMin = try ip4(v) }
        if let v = root.member("SubnetMax") { subnetMax = try ip4(v) }
        let backend = root.member("Backend")
        var backendType = "udp"
        if let b = backend, b != .null {
            guard case .object = b else {
                throw Failure(message: "error decoding Backend property of config: json: cannot unmarshal \(b.goKind) into Go value of type struct { Type string }")
            }
            if let t = b.member("Type") {
                guard case let .string(s) = t else {
                    throw Failure(message: "error decoding Backend property of config: json: cannot unmarshal \(t.goKind) into Go struct field .Type of type string")
                }
                backendType = s
            } else {
                backendType = ""
            }
        }
        // CheckNetworkConfig()
        guard let net = network, !(net.address.isZero && net.length == 0) else {
            throw Failure(message: "please define a correct Network parameter in the flannel config")
        }
        if subnetLen > 0 {
            if subnetLen > 30 { throw Failure(message: "SubnetLen must be less than /31") }
            if subnetLen < net.length + 2 { throw Failure(message: "network must be able to accommodate at least four subnets") }
        } else {
            if net.length > 28 { throw Failure(message: "network is too small. Minimum useful network prefix is /28") }
            subnetLen = net.length <= 22 ? 24 : net.length + 2
        }
        let size = UInt32(1) << UInt32(32 - subnetLen)
        if subnetMin.isZero {
            subnetMin = IPv4Address(raw: net.address.raw &+ size)
        } else if !net.contains(subnetMin) {
            throw Failure(message: "SubnetMin is not in the range of the Network")
        }
        if subnetMax.isZero {
            let next = net.address.raw &+ (net.length == 0 ? 0 : UInt32(1) << UInt32(32 - net.length))
            subnetMax = IPv4Address(raw: next &- size)
        } else if !net.contains(subnetMax) {
            throw Failure(message: "SubnetMax is not in the range of the Network")
        }
        let mask = UInt32.max << UInt32(32 - subnetLen)
        if subnetMin.raw & mask != subnetMin.raw { throw Failure(message: "SubnetMin is not on a SubnetLen boundary: \(subnetMin)") }
        if subnetMax.raw & mask != subnetMax.raw { throw Failure(message: "SubnetMax is not on a SubnetLen boundary: \(subnetMax)") }
        return FlannelNetworkConfig(network: net, subnetLen: subnetLen, subnetMin: subnetMin, subnetMax: subnetMax,
                                    backendType: backendType, backend: backend)
    }

    /// ip.IP4Net's UnmarshalJSON(): quotes trimmed, then net.ParseCIDR().
    private static func cidr(_ v: JSONValue) throws -> IPv4Prefix {
        let text = rawText(v)
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let a = IPv4Address(String(parts[0])), let l = Int(parts[1]), (0...32).contains(l),
              parts[1].allSatisfy(\.isNumber) else {
            throw Failure(message: "invalid CIDR address: \(text)")
        }
        return IPv4Prefix(address: a, length: l).masked
    }

    /// ip.IP4's UnmarshalJSON(): quotes trimmed, then ParseIP4().
    private static func ip4(_ v: JSONValue) throws -> IPv4Address {
        let text = rawText(v)
        guard let a = IPv4Address(text) else { throw Failure(message: "invalid IP address") }
        return a
    }

    private static func rawText(_ v: JSONValue) -> String {
        switch v {
        case .string(let s), .number(let s): return s
        case .bool(let b): return b ? "true" : "false"
        default: return ""
        }
    }
}
