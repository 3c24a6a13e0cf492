// VXLANFDB: the forwarding table of one vxlan device (drivers/net/vxlan/vxlan_core.c): inner
// MAC address -> remote tunnel endpoints. The all-zeros entry is the default destination
// (from `remote`, extended with `bridge fdb append`); learning adds an entry per inner source
// address seen (NUD_REACHABLE, aged out after `ageing` seconds); `bridge fdb` adds static ones.
// Guarantees: lookups and learning are O(1); the dump order is the kernel's (newest entry
// first, as hlist_add_head() keeps fdb_list; an entry's remotes in the order they were added);
// the update rules (EXCL, APPEND only for the default and multicast entries, REPLACE only for
// unicast ones, no migration of static entries) are vxlan_fdb_update()'s.
// Leaves out: nexthop-group entries (nhid), the source-VNI key of external (metadata) devices,
// switchdev offload, and the netlink notifications userland could listen to.

import SimCore
import Wire

/// Kernel: NTF_* (include/uapi/linux/neighbour.h), the flags of a neighbour or FDB entry.
public struct NTFFlags: OptionSet, Sendable {
    public let rawValue: UInt16
    public init(rawValue: UInt16) { self.rawValue = rawValue }
    public static let use = NTFFlags(rawValue: 0x01)
    public static let `self` = NTFFlags(rawValue: 0x02)
    public static let master = NTFFlags(rawValue: 0x04)
    public static let proxy = NTFFlags(rawValue: 0x08)
    public static let extLearned = NTFFlags(rawValue: 0x10)
    public static let offloaded = NTFFlags(rawValue: 0x20)
    public static let sticky = NTFFlags(rawValue: 0x40)
    public static let router = NTFFlags(rawValue: 0x80)
    /// Kernel: NTF_VXLAN_ADDED_BY_USER (internal, never dumped).
    public static let addedByUser = NTFFlags(rawValue: 0x100)
}

/// Kernel: struct vxlan_rdst, one remote endpoint of an entry.
public struct VXLANRemote: Equatable, Sendable {
    public var ip: IPv4Address
    /// The destination UDP port (the device's dstport unless the entry names one).
    public var port: UInt16
    public var vni: UInt32
    /// The device to send through (NDA_IFINDEX / the device's `dev`), 0 for any.
    public var ifindex: Int
}

/// Kernel: struct vxlan_fdb.
public final class VXLANFDBEntry {
    public let mac: MACAddress
    public internal(set) var remotes: [VXLANRemote]
    public internal(set) var state: NUDState
    public internal(set) var flags: NTFFlags
    /// Jiffies of the last update (learning, user change) and of the last use for sending.
    public internal(set) var updated: Int64
    public internal(set) var used: Int64
    let stamp: Int

    init(mac: MACAddress, remote: VXLANRemote, state: NUDState, flags: NTFFlags, now: Int64, stamp: Int) {
        self.mac = mac
        remotes = [remote]
        self.state = state
        self.flags = flags
        updated = now
        used = now
        self.stamp = stamp
    }

    public var isStatic: Bool { !state.isDisjoint(with: [.permanent, .noARP]) }
}

/// How an RTM_NEWNEIGH treats an existing entry (Kernel: the nlmsg flags iproute2 sends).
public enum FDBAddMode: Sendable {
    /// `bridge fdb add`: NLM_F_CREATE | NLM_F_EXCL.
    case add
    /// `bridge fdb append`: NLM_F_CREATE | NLM_F_APPEND.
    case append
    /// `bridge fdb replace` (and flanneld's NeighSet): NLM_F_CREATE | NLM_F_REPLACE.
    case replace
}

public final class VXLANFDB {
    private var table: [MACAddress: VXLANFDBEntry] = [:]
    private var nextStamp = 0
    /// Kernel: cfg.addrmax (0: no limit), the `maxaddress` option.
    var limit = 0

    public var count: Int { table.count }

    /// Entries in dump order: newest first.
    public var entries: [VXLANFDBEntry] { table.values.sorted { $0.stamp > $1.stamp } }

    /// Kernel: __vxlan_find_mac() (no side effect).
    public func find(_ mac: MACAddress) -> VXLANFDBEntry? { table.isEmpty ? nil : table[mac] }

    /// Kernel: vxlan_find_mac_tx(): a lookup for sending marks the entry used.
    func findForTransmit(_ mac: MACAddress, now: Int64) -> VXLANFDBEntry? {
        guard let f = find(mac) else { return nil }
        if f.used != now { f.used = now }
        return f
    }

    /// Kernel: vxlan_fdb_create(): ENOSPC past `maxaddress`.
    @discardableResult
    func create(_ mac: MACAddress, remote: VXLANRemote, state: NUDState, flags: NTFFlags, now: Int64) throws -> VXLANFDBEntry {
        if limit > 0 && table.count >= limit { throw KernelError(.ENOSPC) }
        let f = VXLANFDBEntry(mac: mac, remote: remote, state: state, flags: flags, now: now, stamp: nextStamp)
        nextStamp += 1
        table[mac] = f
        return f
    }

    /// Kernel: vxlan_fdb_destroy().
    func destroy(_ f: VXLANFDBEntry) {
        if table[f.mac] === f { table[f.mac] = nil }
    }

    func removeAll(where pred: (VXLANFDBEntry) -> Bool) {
        for f in entries where pred(f) { destroy(f) }
    }

    /// Kernel: vxlan_fdb_update() -> vxlan_fdb_update_existing() / vxlan_fdb_update_create().
    func update(_ mac: MACAddress, remote: VXLANRemote, state: NUDState, mode: FDBAddMode,
                flags ndmFlags: NTFFlags, now: Int64) throws {
        let fdbFlags = ndmFlags.subtracting(.use)
        let nonUnicast = mac.isMulticast || mac.isZero
        guard let f = find(mac) else {
            // Disallow replace to add a multicast entry.
            if mode == .replace && nonUnicast { throw KernelError(.ENOTSUP) }
            try create(mac, remote: remote, state: state, flags: fdbFlags, now: now)
            return
        }
        if mode == .add { throw KernelError(.EEXIST) }
        var changed = false
        // An externally learned entry does not take over one the user added.
        if !fdbFlags.contains(.extLearned) || !f.flags.contains(.addedByUser) {
            if f.state != state { f.state = state; changed = true }
            if f.flags != fdbFlags { f.flags = fdbFlags; changed = true }
        }
        if mode == .replace {
            guard !nonUnicast else { throw KernelError(.ENOTSUP, "Cannot replace non-unicast fdb entries") }
            // vxlan_fdb_replace(): the first remote becomes the new one, unless it is there.
            if !f.remotes.contains(remote), !f.remotes.isEmpty {
                f.remotes[0] = remote
                changed = true
            }
        }
        if mode == .append && nonUnicast && !f.remotes.contains(remote) {
            f.remotes.append(remote)
            changed = true
        }
        if ndmFlags.contains(.use) || changed { f.updated = now }
    }

    /// Kernel: __vxlan_fdb_delete(): with a destination, only that remote goes (the entry with
    /// it when it was the last); without one, the whole entry. ENOENT for an unknown address;
    /// an unknown remote of a known address is no error.
    func delete(_ mac: MACAddress, remote: VXLANRemote?) throws {
        guard let f = find(mac) else { throw KernelError(.ENOENT) }
        if let r = remote {
            guard let i = f.remotes.firstIndex(of: r) else { return }
            if f.remotes.count > 1 {
                f.remotes.remove(at: i)
                return
            }
        }
        destroy(f)
    }

    /// Invariant for tests: every entry has a remote, one entry per address, unique stamps.
    public func checkInvariants() -> [String] {
        var problems: [String] = []
        var stamps = Set<Int>()
        for f in entries {
            if f.remotes.isEmpty { problems.append("\(f.mac): no remote") }
            if !stamps.insert(f.stamp).inserted { problems.append("\(f.mac): duplicate stamp") }
            if table[f.mac] !== f { problems.append("\(f.mac): not indexed") }
            if f.remotes.count > 1 && !(f.mac.isZero || f.mac.isMulticast) {
                problems.append("\(f.mac): several remotes on a unicast entry")
            }
        }
        return problems
    }
}

// MARK: - Requests (ndo_fdb_add / ndo_fdb_del of a vxlan device)

extension VXLANDevice {
    /// Kernel: vxlan_fdb_parse(): the remote an FDB request names; what it leaves out is the
    /// device's own (dstport, VNI), no destination is 0.0.0.0, no `via` is any device.
    func remote(for r: FDBRequest) throws -> VXLANRemote {
        var ifindex = 0
        if let via = r.via {
            guard via.namespace === namespace, via.isRegistered else { throw KernelError(.EADDRNOTAVAIL, "Device not found") }
            ifindex = via.ifindex
        }
        return VXLANRemote(ip: r.dst ?? .any, port: r.port ?? dstPort, vni: r.vni ?? vni, ifindex: ifindex)
    }

    /// Kernel: vxlan_fdb_add(): a static entry needs NUD_PERMANENT or NUD_REACHABLE and a
    /// destination; the entry keeps the request's flags and state.
    func fdbAdd(_ r: FDBRequest, mode: FDBAddMode) throws {
        guard !r.state.isDisjoint(with: [.permanent, .reachable]) else { throw KernelError(.EINVAL) }
        guard r.dst != nil else { throw KernelError(.EINVAL) }
        let remote = try remote(for: r)
        try fdb.update(r.mac, remote: remote, state: r.state, mode: mode,
                       flags: r.flags.union(.addedByUser), now: namespace.machine.jiffiesNow)
        namespace.kernel.trace(namespace, self, .fdbLearn, "vxlan fdb \(r.mac) dst \(remote.ip) (user)")
    }

    /// Kernel: vxlan_fdb_delete() -> __vxlan_fdb_delete().
    func fdbDelete(_ r: FDBRequest) throws {
        let remote = try remote(for: r)
        try fdb.delete(r.mac, remote: remote.ip.isZero ? nil : remote)
    }

    /// Kernel: vxlan_snoop(): learn (or move) the inner source address behind the outer source
    /// IP. Returns a drop reason when the packet must go: an invalid source address, or a
    /// static entry that points elsewhere (static entries do not migrate).
    func snoop(_ src: MACAddress, from ip: IPv4Address) -> String? {
        guard !src.isMulticast, !src.isZero else { return "MAC_INVALID_SOURCE" }
        let m = namespace.machine
        let now = m.jiffiesNow
        if let f = fdb.find(src) {
            if f.updated != now { f.updated = now }
            guard let first = f.remotes.first else { return nil }
            if first.ip == ip && first.ifindex == 0 { return nil }
            if f.isStatic { return "VXLAN_ENTRY_EXISTS" }
            // netdev_info() (rate-limited; a device without a parent has no driver prefix).
            m.printk(level: 6, "\(name): \(src) migrated from \(first.ip) to \(ip)")
            f.remotes[0].ip = ip
            namespace.kernel.trace(namespace, self, .fdbLearn, "vxlan \(src) moved to \(ip)")
            return nil
        }
        // Learned entries: NUD_REACHABLE, NTF_SELF, the device's port and VNI.
        guard adminUp else { return nil }
        do {
            try fdb.create(src, remote: VXLANRemote(ip: ip, port: dstPort, vni: vni, ifindex: 0),
                           state: .reachable, flags: .self, now: now)
            namespace.kernel.trace(namespace, self, .fdbLearn, "vxlan \(src) learned behind \(ip)")
        } catch {
            namespace.kernel.trace(namespace, self, .fdbLearn, "vxlan \(src) not learned: fdb full")
        }
        return nil
    }
}
