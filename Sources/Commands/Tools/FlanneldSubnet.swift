// FlanneldSubnet: flannel's etcd subnet manager (pkg/subnet/etcd: local_manager.go,
// registry.go) over the scenario's etcd key space. A lease is the key
// PREFIX/subnets/10.244.X.0-24 whose value is the LeaseAttrs JSON flanneld writes
// ({"PublicIP":...,"PublicIPv6":null[,"BackendType":...,"BackendData":...]}).
// Guarantees, as tryAcquireLease() does it: a lease already held for this public IP is reused
// (rewritten with the new attributes) when it still fits the network, else deleted; then the
// subnet of a previous subnet.env is taken back if nobody holds it; else one is drawn from the
// first 100 free subnets (SubnetMin upwards), by the machine's seeded stream
// "flanneld/<machine>" where flannel draws from a time-seeded math/rand. The lease is created
// only if its key does not exist (a transaction), ten tries at most. Leases list and watch in
// key order, as etcd returns them.
// Leaves out: lease TTLs and renewal (24 h), reservations, IPv6 subnets.

import SimCore
import Wire

struct FlannelLease: Equatable {
    var subnet: IPv4Prefix
    var publicIP: IPv4Address
    var backendType: String?
    /// BackendData as written (compact JSON), e.g. {"VNI":1,"VtepMAC":"..."}.
    var backendData: String?

    /// json.Marshal(LeaseAttrs): PublicIPv6 is always there, the backend fields only when set.
    var attrsJSON: String {
        var s = "{\"PublicIP\":\"\(publicIP)\",\"PublicIPv6\":null"
        if let t = backendType, !t.isEmpty { s += ",\"BackendType\":\"\(t)\"" }
        if let d = backendData { s += ",\"BackendData\":\(d)" }
        return s + "}"
    }

    /// The VXLAN backend's BackendData: VNI and VtepMAC.
    var vxlanAttrs: (vni: Int, vtepMAC: MACAddress)? {
        guard let d = backendData, let v = try? JSONReader.parse(d),
              case let .string(mac)? = v.member("VtepMAC"), let m = MACAddress(mac) else { return nil }
        var vni = 0
        if case let .number(n)? = v.member("VNI") { vni = Int(n) ?? 0 }
        return (vni, m)
    }
}

struct FlannelSubnetManager {
    let store: EtcdStore
    /// --etcd-prefix (default /coreos.com/network).
    let prefix: String

    var configKey: String { prefix + "/config" }
    var subnetsKey: String { prefix + "/subnets" }

    /// subnet.MakeSubnetKey(): "10.244.5.0-24".
    static func subnetKey(_ sn: IPv4Prefix) -> String { "\(sn.address)-\(sn.length)" }

    /// subnet.ParseSubnetKey(): the subnet at the end of a key, nil when it is not one.
    static func parseSubnetKey(_ key: String) -> IPv4Prefix? {
        guard let last = key.split(separator: "/").last else { return nil }
        let parts = last.split(separator: "-")
        guard parts.count == 2, let a = IPv4Address(String(parts[0])), let l = Int(parts[1]), (0...32).contains(l) else { return nil }
        return IPv4Prefix(address: a, length: l)
    }

    func leaseKey(_ sn: IPv4Prefix) -> String { subnetsKey + "/" + FlannelSubnetManager.subnetKey(sn) }

    /// kvToIPLease(): nil for a node that is not a lease ("Ignoring bad subnet node").
    static func lease(from kv: EtcdStore.KeyValue) -> FlannelLease? {
        guard let sn = parseSubnetKey(kv.key), let v = try? JSONReader.parse(kv.value), case .object = v else { return nil }
        var l = FlannelLease(subnet: sn, publicIP: .any)
        if case let .string(ip)? = v.member("PublicIP"), let a = IPv4Address(ip) { l.publicIP = a }
        if case let .string(t)? = v.member("BackendType") { l.backendType = t }
        if let d = v.member("BackendData"), d != .null { l.backendData = JSONWriter.compact(d) }
        return l
    }

    /// getSubnets(): every lease, in key order.
    func leases() -> [FlannelLease] {
        store.range(subnetsKey, prefix: true).compactMap(FlannelSubnetManager.lease)
    }

    /// GetNetworkConfig(): the config key, parsed and checked.
    func networkConfig() throws -> FlannelNetworkConfig {
        guard let kv = store.get(configKey) else {
            throw FlannelNetworkConfig.Failure(message: "flannel config not found in etcd store. Did you create your config using etcdv3 API?")
        }
        return try FlannelNetworkConfig.parse(kv.value)
    }

    struct AcquireError: Error { let message: String }

    /// AcquireLease() -> tryAcquireLease(), up to raceRetries (10) times.
    func acquire(config: FlannelNetworkConfig, attrs: FlannelLease, previous: IPv4Prefix?,
                 rng: inout SplitMix64) throws -> FlannelLease {
        for _ in 0..<10 {
            let all = leases()
            if let mine = all.first(where: { $0.publicIP == attrs.publicIP }) {
                if compatible(config, mine.subnet) {
                    var l = attrs
                    l.subnet = mine.subnet
                    store.put(leaseKey(l.subnet), l.attrsJSON)
                    return l
                }
                store.delete(leaseKey(mine.subnet))
            }
            var sn: IPv4Prefix?
            if let p = previous, !all.contains(where: { $0.subnet == p }), compatible(config, p) { sn = p }
            if sn == nil { sn = try allocate(config: config, leases: all, rng: &rng) }
            var l = attrs
            l.subnet = sn!
            if store.put(leaseKey(l.subnet), l.attrsJSON, createOnly: true) { return l }
        }
        throw AcquireError(message: "max retries reached trying to acquire a subnet")
    }

    /// isSubnetConfigCompat().
    func compatible(_ c: FlannelNetworkConfig, _ sn: IPv4Prefix) -> Bool {
        sn.address.raw >= c.subnetMin.raw && sn.address.raw <= c.subnetMax.raw && sn.length == c.subnetLen
    }

    /// allocateSubnet(): up to 100 free subnets from SubnetMin, one drawn at random.
    func allocate(config c: FlannelNetworkConfig, leases: [FlannelLease], rng: inout SplitMix64) throws -> IPv4Prefix {
        let size = UInt64(1) << UInt64(32 - c.subnetLen)
        var free: [IPv4Address] = []
        var ip = UInt64(c.subnetMin.raw)
        while ip <= UInt64(c.subnetMax.raw) && free.count < 100 {
            let sn = IPv4Prefix(address: IPv4Address(raw: UInt32(ip)), length: c.subnetLen)
            if !leases.contains(where: { overlaps($0.subnet, sn) }) { free.append(sn.address) }
            ip += size
        }
        guard !free.isEmpty else { throw AcquireError(message: "out of subnets") }
        return IPv4Prefix(address: free[Int(rng.below(UInt64(free.count)))], length: c.subnetLen)
    }

    private func overlaps(_ a: IPv4Prefix, _ b: IPv4Prefix) -> Bool {
        a.contains(b.address) || b.contains(a.address)
    }
}

/// Compact JSON output (what Go's json.Marshal of a RawMessage writes).
enum JSONWriter {
    static func compact(_ v: JSONValue) -> String {
        switch v {
        case .object(let m): return "{" + m.map { quote($0.0) + ":" + compact($0.1) }.joined(separator: ",") + "}"
        case .array(let a): return "[" + a.map(compact).joined(separator: ",") + "]"
        case .string(let s): return quote(s)
        case .number(let n): return n
        case .bool(let b): return b ? "true" : "false"
        case .null: return "null"
        }
    }

    static func quote(_ s: String) -> String {
        var out = "\""
        for c in s.unicodeScalars {
            switch c {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            default: out.unicodeScalars.append(c)
            }
        }
        return out + "\""
    }
}
