// Neighbour: net/core/neighbour.c. The neighbour table and its NUD state machine:
// NONE -> INCOMPLETE (broadcast solicits, retrans_time apart) -> REACHABLE (on a solicited
// reply) -> STALE (reachable_time later) -> DELAY (on first use) -> PROBE (delay_first_probe
// later, unicast solicits) -> REACHABLE or FAILED. A received request creates a STALE entry.
// Guarantees: transitions, timers (in jiffies, timer-wheel rounded) and probe counts are the
// kernel's; packets wait on an INCOMPLETE entry up to unres_qlen_bytes and fail together.
// Leaves out: garbage collection (below gc_thresh1 = 128 entries Linux keeps them), proxies.

import SimCore
import Wire

/// Kernel: NUD_* (include/uapi/linux/neighbour.h).
public struct NUDState: OptionSet, Hashable, Sendable {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }
    public static let none = NUDState([])
    public static let incomplete = NUDState(rawValue: 0x01)
    public static let reachable = NUDState(rawValue: 0x02)
    public static let stale = NUDState(rawValue: 0x04)
    public static let delay = NUDState(rawValue: 0x08)
    public static let probe = NUDState(rawValue: 0x10)
    public static let failed = NUDState(rawValue: 0x20)
    public static let noARP = NUDState(rawValue: 0x40)
    public static let permanent = NUDState(rawValue: 0x80)

    public static let valid: NUDState = [.permanent, .noARP, .reachable, .probe, .stale, .delay]
    public static let connected: NUDState = [.permanent, .noARP, .reachable]
    public static let inTimer: NUDState = [.incomplete, .reachable, .delay, .probe]

    /// The word `ip neigh` prints.
    public var name: String {
        switch self {
        case .incomplete: return "INCOMPLETE"
        case .reachable: return "REACHABLE"
        case .stale: return "STALE"
        case .delay: return "DELAY"
        case .probe: return "PROBE"
        case .failed: return "FAILED"
        case .noARP: return "NOARP"
        case .permanent: return "PERMANENT"
        case .none: return "NONE"
        default: return "0x\(String(rawValue, radix: 16))"
        }
    }
}

/// Kernel: struct neigh_parms, in jiffies where the kernel keeps jiffies.
public struct NeighbourParms {
    public var baseReachableTime: SimTime
    public var retransTime: SimTime
    public var delayProbeTime: SimTime
    public var ucastProbes: Int
    public var mcastProbes: Int
    public var mcastReprobes: Int
    public var appProbes: Int
    public var locktime: SimTime
    public var unresQlenBytes: Int
    /// Randomised in [base/2, 3*base/2) (neigh_rand_reach_time()).
    public var reachableTime: SimTime

    init(defaults d: NeighbourDefaults, machine: Machine) {
        baseReachableTime = d.baseReachableTime
        retransTime = d.retransTime
        delayProbeTime = d.delayFirstProbeTime
        ucastProbes = d.ucastSolicit
        mcastProbes = d.mcastSolicit
        mcastReprobes = d.mcastResolicit
        appProbes = d.appSolicit
        locktime = d.locktime
        unresQlenBytes = d.unresQlenBytes
        let base = d.baseReachableTime.ns
        reachableTime = SimTime(ns: base / 2 + Int64(machine.random(below: UInt64(max(base, 1)))))
    }
}

public final class Neighbour {
    public let address: IPv4Address
    public unowned(unsafe) let device: NetDevice
    public internal(set) var lladdr: MACAddress?
    public internal(set) var state: NUDState = .none
    public internal(set) var isRouter = false
    /// Jiffies of the last confirmation, state change and use.
    public internal(set) var confirmed: Int64
    public internal(set) var updated: Int64
    public internal(set) var used: Int64
    public internal(set) var probes = 0
    var timer: EventID?
    /// A pending timer holds a reference on the entry (neigh_add_timer()).
    public var hasTimer: Bool { timer != nil }
    var queue: [Packet] = []
    var queueBytes = 0
    let stamp: Int

    init(address: IPv4Address, device: NetDevice, now: Int64, stamp: Int) {
        self.address = address
        self.device = device
        let m = device.namespace.machine
        confirmed = now - 2 * m.toJiffies(device.neighParms.baseReachableTime)
        updated = now
        used = now
        self.stamp = stamp
    }
}

/// Kernel: NEIGH_UPDATE_F_* flags.
public struct NeighbourUpdateFlags: OptionSet, Sendable {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }
    public static let override = NeighbourUpdateFlags(rawValue: 1)
    public static let weakOverride = NeighbourUpdateFlags(rawValue: 2)
    public static let admin = NeighbourUpdateFlags(rawValue: 4)
}

public final class NeighbourTable {
    /// ifindex and address in one word: cheap to hash on every received ARP.
    private struct Key: Hashable {
        let raw: UInt64
        init(_ dev: NetDevice, _ a: IPv4Address) { raw = UInt64(UInt32(truncatingIfNeeded: dev.ifindex)) << 32 | UInt64(a.raw) }
    }
    private var table: [Key: Neighbour] = [:]
    private var nextStamp = 0
    unowned(unsafe) var namespace: NetNamespace!

    /// Entries in creation order.
    public var entries: [Neighbour] { table.values.sorted { $0.stamp < $1.stamp } }
    public var count: Int { table.count }

    public func lookup(_ a: IPv4Address, _ dev: NetDevice) -> Neighbour? {
        table.isEmpty ? nil : table[Key(dev, a)]
    }

    /// Kernel: __neigh_create() + arp_constructor(): loopback and NOARP devices and broadcast or
    /// multicast destinations get a NOARP entry at once.
    func create(_ a: IPv4Address, _ dev: NetDevice) -> Neighbour {
        if let n = lookup(a, dev) { return n }
        let m = namespace.machine
        let n = Neighbour(address: a, device: dev, now: m.jiffiesNow, stamp: nextStamp)
        nextStamp += 1
        if dev.isLoopback || dev.flags.contains(.noARP) {
            n.state = .noARP
            n.lladdr = dev.mac
        } else if a.isLimitedBroadcast || dev.addresses.contains(where: { $0.broadcast == a }) {
            n.state = .noARP
            n.lladdr = dev.broadcastMAC
        } else if a.isMulticast {
            n.state = .noARP
            n.lladdr = MACAddress(raw: 0x0100_5e00_0000 | UInt64(a.raw & 0x7f_ffff))
        }
        table[Key(dev, a)] = n
        return n
    }

    func remove(_ n: Neighbour) {
        if let t = n.timer { namespace.clock.cancel(t) }
        n.timer = nil
        table[Key(n.device, n.address)] = nil
    }

    /// Kernel: neigh_ifdown(): entries of a device that goes down or away are dropped
    /// (permanent ones survive a down, not an unregister).
    func flush(device dev: NetDevice, keepPermanent: Bool = false) {
        for n in entries where n.device === dev {
            if keepPermanent && n.state == .permanent { continue }
            failQueue(n)
            remove(n)
        }
    }

    /// Invariant for tests: timers run exactly in timer states; queues only on INCOMPLETE.
    public func checkInvariants() -> [String] {
        var problems: [String] = []
        for n in entries {
            let timed = n.timer != nil
            if timed != !n.state.isDisjoint(with: .inTimer) && n.state != .none {
                problems.append("\(n.address) \(n.state.name): timer \(timed ? "armed" : "missing")")
            }
            if !n.queue.isEmpty && n.state != .incomplete {
                problems.append("\(n.address) \(n.state.name): \(n.queue.count) packets queued")
            }
            if !n.state.isDisjoint(with: .valid) && n.lladdr == nil {
                problems.append("\(n.address) \(n.state.name) without lladdr")
            }
        }
        return problems
    }

    // MARK: - Output (neigh_resolve_output / __neigh_event_send)

    /// Sends `p` (with a blank Ethernet header at offset 0) to `nextHop` on `dev`, resolving
    /// the link-layer address first if needed.
    func output(_ p: Packet, nextHop: IPv4Address, dev: NetDevice) {
        let n = create(nextHop, dev)
        // Kernel: neigh_output(): a connected entry sends through neigh_connected_output() (or
        // its hh cache) and never reaches neigh_event_send(), so its `used` stays (observed on
        // Linux 6.18: `used 1/1/1` for a REACHABLE entry right after a second echo at 1 s).
        if !n.state.isDisjoint(with: .connected) {
            transmit(p, via: n)
            return
        }
        if eventSend(n, p) {
            transmit(p, via: n)
        }
    }

    /// Kernel: __neigh_event_send(). True when the packet can go now; otherwise it was queued
    /// (or dropped).
    private func eventSend(_ n: Neighbour, _ p: Packet) -> Bool {
        let m = namespace.machine
        let now = m.jiffiesNow
        if n.used != now { n.used = now }
        if !n.state.isDisjoint(with: [.connected, .delay, .probe]) { return true }
        let parms = n.device.neighParms
        var immediateProbe = false
        if n.state.isDisjoint(with: [.stale, .incomplete]) {
            // NONE or FAILED: start resolving.
            guard parms.mcastProbes + parms.appProbes > 0 else {
                setState(n, .failed)
                n.updated = now
                namespace.kernel.trace(namespace, n.device, .drop, "no probes allowed (\(DropReason.neighFailed.rawValue))")
                return false
            }
            n.probes = parms.ucastProbes
            setState(n, .incomplete)
            n.updated = now
            armTimer(n, expires: now + max(m.toJiffies(parms.retransTime), m.kernel.config.hz / 100))
            immediateProbe = true
        } else if n.state == .stale {
            setState(n, .delay)
            n.updated = now
            armTimer(n, expires: now + m.toJiffies(parms.delayProbeTime))
        }
        guard n.state == .incomplete else { return true }
        enqueue(n, p)
        if immediateProbe { probe(n) }
        return false
    }

    private func enqueue(_ n: Neighbour, _ p: Packet) {
        let limit = n.device.neighParms.unresQlenBytes
        // Kernel: the oldest packets are dropped to make room (truesize approximated by length).
        while n.queueBytes + p.bytes.count > limit, !n.queue.isEmpty {
            let old = n.queue.removeFirst()
            n.queueBytes -= old.bytes.count
            namespace.kernel.trace(namespace, n.device, .drop, "arp queue full (\(DropReason.neighQueueFull.rawValue))")
        }
        n.queue.append(p)
        n.queueBytes += p.bytes.count
    }

    /// Fills in the Ethernet header and hands the frame to the device.
    private func transmit(_ p: Packet, via n: Neighbour) {
        guard let ll = n.lladdr else { return }
        var q = p
        EthernetHeader(destination: ll, source: n.device.mac, etherType: .ipv4).emit(into: &q.bytes, at: 0)
        namespace.devQueueXmit(n.device, q)
    }

    // MARK: - Timers (neigh_timer_handler)

    private func armTimer(_ n: Neighbour, expires: Int64) {
        if let t = n.timer { namespace.clock.cancel(t) }
        n.timer = namespace.machine.addTimer(expires: expires) { [self, n] in
            n.timer = nil
            self.timerHandler(n)
        }
    }

    private func cancelTimer(_ n: Neighbour) {
        if let t = n.timer { namespace.clock.cancel(t) }
        n.timer = nil
    }

    private func maxProbes(_ n: Neighbour) -> Int {
        let p = n.device.neighParms
        return p.ucastProbes + p.appProbes + (n.state == .probe ? p.mcastReprobes : p.mcastProbes)
    }

    /// Kernel: neigh_timer_handler().
    private func timerHandler(_ n: Neighbour) {
        let m = namespace.machine
        let now = m.jiffiesNow
        let parms = n.device.neighParms
        guard !n.state.isDisjoint(with: .inTimer) else { return }
        var next = now + m.kernel.config.hz
        if n.state == .reachable {
            if now <= n.confirmed + m.toJiffies(parms.reachableTime) {
                next = n.confirmed + m.toJiffies(parms.reachableTime)
            } else if now <= n.used + m.toJiffies(parms.delayProbeTime) {
                setState(n, .delay)
                n.updated = now
                next = now + m.toJiffies(parms.delayProbeTime)
            } else {
                setState(n, .stale)
                n.updated = now
                return
            }
        } else if n.state == .delay {
            if now <= n.confirmed + m.toJiffies(parms.delayProbeTime) {
                setState(n, .reachable)
                n.updated = now
                next = n.confirmed + m.toJiffies(parms.reachableTime)
            } else {
                setState(n, .probe)
                n.updated = now
                n.probes = 0
                next = now + max(m.toJiffies(parms.retransTime), m.kernel.config.hz / 100)
            }
        } else {
            // INCOMPLETE or PROBE
            next = now + max(m.toJiffies(parms.retransTime), m.kernel.config.hz / 100)
        }
        if !n.state.isDisjoint(with: [.incomplete, .probe]) && n.probes >= maxProbes(n) {
            setState(n, .failed)
            n.updated = now
            failQueue(n)
            return
        }
        if !n.state.isDisjoint(with: .inTimer) {
            if next <= now { next = now + 1 }
            armTimer(n, expires: next)
        }
        if !n.state.isDisjoint(with: [.incomplete, .probe]) { probe(n) }
    }

    /// Kernel: neigh_probe(): one solicitation, then probes += 1.
    private func probe(_ n: Neighbour) {
        namespace.arpSolicit(n, queued: n.queue.last)
        n.probes += 1
    }

    /// Kernel: neigh_invalidate(): every queued packet fails (arp_error_report ->
    /// ICMP host unreachable to its sender).
    private func failQueue(_ n: Neighbour) {
        let q = n.queue
        n.queue.removeAll()
        n.queueBytes = 0
        for p in q {
            namespace.kernel.trace(namespace, n.device, .drop, "\(n.address) unresolved (\(DropReason.neighFailed.rawValue))")
            namespace.neighbourFailed(p, device: n.device)
        }
    }

    private func setState(_ n: Neighbour, _ s: NUDState) {
        guard n.state != s else { return }
        namespace.kernel.trace(namespace, n.device, .neigh, "\(n.address) \(n.state.name) -> \(s.name)")
        n.state = s
    }

    // MARK: - Updates (neigh_update)

    /// Kernel: __neigh_update().
    func update(_ n: Neighbour, lladdr newLL: MACAddress?, state new: NUDState, flags: NeighbourUpdateFlags) {
        let m = namespace.machine
        let now = m.jiffiesNow
        let old = n.state
        var new = new
        if !flags.contains(.admin) && !old.isDisjoint(with: [.noARP, .permanent]) { return }
        if new.isDisjoint(with: .valid) {
            cancelTimer(n)
            if !old.isDisjoint(with: .connected) { /* neigh_suspect */ }
            setState(n, new)
            if old == .incomplete || old == .probe, new == .failed { failQueue(n) }
            return
        }
        var ll = newLL ?? n.lladdr
        guard ll != nil else { return }
        if !new.isDisjoint(with: .connected) { n.confirmed = now }
        if !old.isDisjoint(with: .valid) {
            if ll != n.lladdr && !flags.contains(.override) {
                if flags.contains(.weakOverride) && !old.isDisjoint(with: .connected) {
                    ll = n.lladdr
                    new = .stale
                } else {
                    return
                }
            } else if ll == n.lladdr && new == .stale && !flags.contains(.admin) {
                new = old
            }
        }
        if new != old || ll != n.lladdr { n.updated = now }
        if new != old {
            cancelTimer(n)
            if new == .probe { n.probes = 0 }
            setState(n, new)
            if !new.isDisjoint(with: .inTimer) {
                armTimer(n, expires: now + (new == .reachable ? m.toJiffies(n.device.neighParms.reachableTime) : 0))
            }
        }
        if ll != n.lladdr {
            n.lladdr = ll
            if new.isDisjoint(with: .connected) {
                n.confirmed = now - 2 * m.toJiffies(n.device.neighParms.baseReachableTime)
            }
        }
        if new == old { return }
        if old.isDisjoint(with: .valid) {
            // The entry just became usable: send what waited for it.
            let q = n.queue
            n.queue.removeAll()
            n.queueBytes = 0
            for p in q {
                if n.state.isDisjoint(with: .valid) { break }
                transmit(p, via: n)
            }
        }
    }

    /// Kernel: neigh_event_ns(): a request from `a` tells us its address; STALE until used.
    func eventNS(_ a: IPv4Address, lladdr: MACAddress, dev: NetDevice) -> Neighbour {
        let n = create(a, dev)
        update(n, lladdr: lladdr, state: .stale, flags: .override)
        return n
    }

    /// Administrative add/replace (`ip neigh add|replace`).
    public func adminSet(_ a: IPv4Address, dev: NetDevice, lladdr: MACAddress?, state: NUDState) {
        let n = create(a, dev)
        update(n, lladdr: lladdr, state: state, flags: [.override, .admin])
    }

    public func adminDelete(_ n: Neighbour) {
        failQueue(n)
        remove(n)
    }
}

// MARK: - RTM_NEWNEIGH / RTM_DELNEIGH for AF_INET

extension NetNamespace {
    /// Kernel: neigh_add() in net/core/neighbour.c: NLM_F_EXCL refuses any existing entry
    /// (whatever its state), a change needs one; a state that needs an address without one is
    /// refused after the entry was created (NUD_NONE, and it stays: the periodic gc leaves
    /// tables below gc_thresh1 alone).
    func neighbourSet(_ dev: NetDevice, _ a: IPv4Address, lladdr: MACAddress?, state: NUDState, mode: NeighbourSetMode) throws {
        let existing = neighbours.lookup(a, dev)
        if mode == .add && existing != nil { throw KernelError(.EEXIST) }
        if mode == .change && existing == nil { throw KernelError(.ENOENT) }
        if lladdr == nil && !state.isDisjoint(with: [.permanent, .noARP, .reachable, .stale]) && existing?.lladdr == nil {
            if existing == nil { neighbours.adminSet(a, dev: dev, lladdr: nil, state: .none) }
            throw KernelError(.EINVAL, "No link layer address given")
        }
        neighbours.adminSet(a, dev: dev, lladdr: lladdr, state: state)
    }
}
