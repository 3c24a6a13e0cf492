// FDB: net/bridge/br_fdb.c. The forwarding database: MAC -> port, learned from source
// addresses, plus permanent local entries for the bridge's and its ports' own MACs.
// Guarantees: lookup is O(1); the dump order is the kernel's (br->fdb_list gets new entries
// at its head, so the newest entry is listed first); dynamic entries age out after
// ageing_time (300 s) through the same delayed gc work the kernel runs.
// Leaves out: VLAN-aware entries (vlan_filtering 0 keys everything by vid 0), external learning.

import SimCore
import Wire

public final class FDBEntry {
    public let mac: MACAddress
    /// The port the address lives behind; nil for the bridge device's own address.
    public internal(set) var port: BridgePort?
    /// Local entries belong to the bridge or a port (frames to them go up the stack).
    public internal(set) var isLocal: Bool
    /// Static entries were added by the user and never age.
    public internal(set) var isStatic: Bool
    /// Last time a frame from this address was seen (jiffies), and last time it was used.
    public internal(set) var updated: Int64
    public internal(set) var used: Int64
    /// Insertion stamp: the dump walks newest first.
    let stamp: Int

    init(mac: MACAddress, port: BridgePort?, isLocal: Bool, isStatic: Bool, now: Int64, stamp: Int) {
        self.mac = mac
        self.port = port
        self.isLocal = isLocal
        self.isStatic = isStatic
        self.updated = now
        self.used = now
        self.stamp = stamp
    }

    public var isPermanent: Bool { isLocal || isStatic }

    /// Kernel: fdb_to_nud(): the state a dump reports; a dynamic entry past its hold time
    /// (not yet collected) is NUD_STALE.
    public func nudState(now: Int64, hold: Int64) -> NUDState {
        if isLocal { return .permanent }
        if isStatic { return .noARP }
        return updated + hold <= now ? .stale : .reachable
    }
}

public final class FDB {
    private var table: [MACAddress: FDBEntry] = [:]
    private var nextStamp = 0

    public var count: Int { table.count }

    public func find(_ mac: MACAddress) -> FDBEntry? { table[mac] }

    /// Entries in kernel dump order (newest first).
    public var entries: [FDBEntry] { table.values.sorted { $0.stamp > $1.stamp } }

    @discardableResult
    func insert(_ mac: MACAddress, port: BridgePort?, isLocal: Bool, isStatic: Bool, now: Int64) -> FDBEntry {
        let e = FDBEntry(mac: mac, port: port, isLocal: isLocal, isStatic: isStatic, now: now, stamp: nextStamp)
        nextStamp += 1
        table[mac] = e
        return e
    }

    func remove(_ mac: MACAddress) { table[mac] = nil }

    func removeAll(where pred: (FDBEntry) -> Bool) {
        let doomed = table.values.filter(pred)
        for e in doomed { table[e.mac] = nil }
    }

    /// Invariant for tests: every entry is keyed by its own MAC, and a dynamic entry has a port.
    public func checkInvariants() -> [String] {
        var problems: [String] = []
        for (k, e) in table.sorted(by: { $0.key < $1.key }) {
            if k != e.mac { problems.append("entry for \(e.mac) filed under \(k)") }
            if !e.isPermanent && e.port == nil { problems.append("dynamic entry \(e.mac) without a port") }
            if e.mac.isMulticast { problems.append("multicast address \(e.mac) learned") }
        }
        return problems
    }
}
