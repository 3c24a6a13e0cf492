// Namespace: struct net. Models: one network stack: its devices (ifindex-ordered, as
// `ip link` dumps them on Linux 6.x), neighbour table, FIB, sysctls, sockets, and the ids it
// gives other namespaces (netnsid) when a device links across.
// Guarantees: device names and ifindexes are unique within the namespace; lookups by name and
// index are O(1); nothing observable depends on hash order.

import SimCore
import Wire

public final class NetNamespace {
    public unowned(unsafe) let machine: Machine
    /// The `ip netns` name; nil for the machine's initial namespace.
    public internal(set) var name: String?
    let serial: Int
    /// Devices in ifindex order.
    public private(set) var devices: [NetDevice] = []
    private var byName: [String: NetDevice] = [:]
    private var byIndex: [Int: NetDevice] = [:]
    /// Kernel: net->ifindex, the cyclic allocator's cursor.
    private var ifindexCursor = 0
    public let neighbours: NeighbourTable
    public let fib: FIB
    public var ipv4 = IPv4NetConfig()
    /// Kernel: net->netns_ids: ids this namespace uses for others, in allocation order.
    public var peerIDs: [(namespace: NetNamespace, id: Int)] { peerRefs.map { ($0.namespace, $0.id) } }
    /// Unowned: two namespaces joined by a veth name each other and must not keep each other
    /// alive once their machine is gone (the machine keeps every namespace until then).
    private struct PeerRef {
        unowned let namespace: NetNamespace
        let id: Int
    }
    private var peerRefs: [PeerRef] = []
    private var peerIDIndex: [ObjectIdentifier: Int] = [:]
    private var netIDs = IDAllocator(from: 0)
    var rawSockets: [RawSocket] = []
    /// TCP sockets and hash tables (IPv4/TCP.swift).
    lazy var tcp = TCPTable()
    /// UDP sockets and ICMP rate-limit state (IPv4/UDP.swift, IPv4/ICMP.swift).
    lazy var inetState = InetNamespaceState(self)
    /// Netfilter hook functions registered in this namespace.
    public internal(set) var nfHooks = NFHookTable()
    /// Connection tracking (inactive until a rule needs it).
    public let conntrack = ConntrackTable()
    /// The nat table's chain walk, once the nat table exists.
    var natChain: ((inout Packet, NFHookState) -> NFVerdict)?
    var natEnabled = false
    /// iptables tables and br_netfilter settings (Netfilter/Tables.swift), made on first use.
    var xtables: NetfilterState?
    var ipIdents: IPIdentGenerator
    public private(set) var loopback: LoopbackDevice!
    var alive = true

    init(machine: Machine, name: String?, serial: Int) {
        self.machine = machine
        self.name = name
        self.serial = serial
        self.neighbours = NeighbourTable()
        self.fib = FIB()
        self.ipIdents = IPIdentGenerator(seed: machine.kernel.seed, namespace: serial, machine: machine.name)
        neighbours.namespace = self
        fib.namespace = self
        let lo = LoopbackDevice(namespace: self)
        register(lo, preferredIndex: nil)
        loopback = lo
    }

    public var kernel: Kernel { machine.kernel }
    public var clock: EventQueue { machine.kernel.clock }
    public var now: SimTime { machine.kernel.clock.now }
    /// "docker0", or "host"-style name of the machine's root namespace for messages.
    public var displayName: String { name ?? "(root)" }
    public var isRoot: Bool { name == nil }

    // MARK: - Devices

    public func device(named n: String) -> NetDevice? { byName[n] }
    public func device(index i: Int) -> NetDevice? { byIndex[i] }

    /// Kernel: register_netdevice(): picks an ifindex (the preferred one when free, else the
    /// next from the cyclic cursor, as dev_index_reserve() does).
    func register(_ dev: NetDevice, preferredIndex: Int?) {
        precondition(byName[dev.name] == nil, "duplicate device name")
        var idx: Int
        if let p = preferredIndex, byIndex[p] == nil {
            idx = p
        } else {
            idx = ifindexCursor + 1
            while byIndex[idx] != nil { idx += 1 }
            ifindexCursor = idx
        }
        dev.ifindex = idx
        dev.namespace = self
        dev.isRegistered = true
        byName[dev.name] = dev
        byIndex[idx] = dev
        if let last = devices.last, last.ifindex > idx {
            devices.insert(dev, at: devices.firstIndex { $0.ifindex > idx }!)
        } else {
            devices.append(dev)
        }
    }

    /// Removes a device from this namespace's lists (it may be re-registered elsewhere).
    func unlink(_ dev: NetDevice) {
        dev.isRegistered = false
        byName[dev.name] = nil
        byIndex[dev.ifindex] = nil
        devices.removeAll { $0 === dev }
    }

    func rename(_ dev: NetDevice, to newName: String) {
        byName[dev.name] = nil
        dev.name = newName
        byName[newName] = dev
    }

    /// Kernel: peernet2id_alloc(): the id this namespace uses for `other`, allocated on first use.
    @discardableResult
    public func peerID(for other: NetNamespace) -> Int {
        if let id = peerIDIndex[ObjectIdentifier(other)] { return id }
        // Kernel: alloc_netid() takes the lowest free id.
        let id = netIDs.allocate()
        peerRefs.append(PeerRef(namespace: other, id: id))
        peerIDIndex[ObjectIdentifier(other)] = id
        return id
    }

    public func existingPeerID(for other: NetNamespace) -> Int? { peerIDIndex[ObjectIdentifier(other)] }

    /// Kernel: unhash_nsid(): a dying namespace's id is released everywhere.
    func releasePeerID(for other: NetNamespace) {
        guard let id = peerIDIndex.removeValue(forKey: ObjectIdentifier(other)) else { return }
        netIDs.release(id)
        peerRefs.removeAll { $0.namespace === other }
    }

    // MARK: - State changes every layer reacts to (the netdev notifier chain)

    func carrierChanged(_ dev: NetDevice) {
        kernel.trace(self, dev, .rx, "carrier \(dev.carrier ? "on" : "off")")
        if let br = dev.master { br.portCarrierChanged(dev) }
    }

    /// Kernel: NETDEV_UP / NETDEV_DOWN notifiers: FIB and neighbour tables follow the device.
    func deviceStateChanged(_ dev: NetDevice) {
        if dev.adminUp {
            fib.deviceUp(dev)
            igmpDeviceUp(dev)
        } else {
            fib.deviceDown(dev)
            neighbours.flush(device: dev)
            igmpDeviceDown(dev)
        }
        if let br = dev.master { br.portStateChanged(dev) }
    }

    /// Tears the namespace down (cleanup_net): every device is unregistered.
    func destroy() {
        alive = false
        for dev in devices.reversed() {
            if dev is LoopbackDevice { continue }
            unregister(dev)
        }
        rawSockets.removeAll()
    }

    /// Kernel: unregister_netdevice(): down, detached from its master and ports, then gone.
    func unregister(_ dev: NetDevice) {
        guard device(index: dev.ifindex) === dev else { return }
        if dev.adminUp {
            dev.adminUp = false
            dev.didStop()
            deviceStateChanged(dev)
        }
        dev.master?.removePort(dev)
        dev.willUnregister()
        fib.deviceGone(dev)
        neighbours.flush(device: dev)
        unlink(dev)
        machine.retired.append(dev)
    }
}

/// Kernel: ip_idents_reserve() in net/ipv4/route.c: IP IDs of packets without a connected
/// socket come from counters hashed by (destination, source, protocol) with a boot-time key.
/// Each use adds 1 plus a random amount below the jiffies elapsed since the bucket's last use,
/// so IDs leak little about traffic volume; the first value of a bucket is random.
struct IPIdentGenerator {
    private struct Bucket { var id: UInt16; var stamp: Int64 }
    private var buckets: [UInt64: Bucket] = [:]
    private var rng: SplitMix64

    init(seed: UInt64, namespace: Int, machine: String) {
        rng = SplitMix64(seed: seed, stream: "ipident/\(machine)/\(namespace)")
    }

    mutating func next(source: IPv4Address, destination: IPv4Address, proto: IPProtocol, jiffies: Int64) -> UInt16 {
        let k = UInt64(source.raw) << 32 ^ UInt64(destination.raw) ^ UInt64(proto.rawValue) << 56
        var b = buckets[k] ?? Bucket(id: UInt16(truncatingIfNeeded: rng.next()), stamp: 0)
        var delta: UInt64 = 0
        if b.stamp != jiffies {
            let elapsed = UInt64(truncatingIfNeeded: (jiffies &- b.stamp) & 0xffff_ffff)
            if elapsed > 0 { delta = rng.below(elapsed) }
            b.stamp = jiffies
        }
        let id = b.id &+ UInt16(truncatingIfNeeded: delta)
        b.id = id &+ 1
        buckets[k] = b
        return id
    }
}
