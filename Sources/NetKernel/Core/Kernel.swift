// Kernel: the whole simulated world: machines, each a Linux kernel with its own namespaces,
// sharing one virtual clock. Models: what `unshare`/`ip netns add` create, and the few global
// knobs (latencies, HZ) that shape timing.
// Guarantees: everything random is drawn from named streams of the scenario seed; nothing is
// keyed by hash order; machines and namespaces are kept in creation order.
// Leaves out: CPUs and scheduling; processing is instantaneous except where a latency is named.

import SimCore
import Wire

/// Timing and sizing knobs. Defaults are documented in docs/model.md.
public struct KernelConfig: Sendable {
    /// Time for a frame sent on one veth end to be received on the peer (netif_rx backlog).
    public var vethLatency = SimTime.microseconds(8)
    /// Time for a frame sent on lo to come back in.
    public var loopbackLatency = SimTime.microseconds(4)
    /// Time for a frame sent on a physical-like link (underlay) to arrive.
    public var wireLatency = SimTime.microseconds(50)
    /// Kernel tick rate; timers round to jiffies and to timer-wheel granularity as Linux does.
    public var hz: Int64 = 250
    /// num_possible_cpus(): a veth device gets this many queues (veth_get_num_queues());
    /// `ip -d link` shows them as numtxqueues/numrxqueues. 2 on the recording machine.
    public var possibleCPUs = 2
    public init() {}
}

public final class Kernel {
    public let clock: EventQueue
    public let seed: UInt64
    public var config: KernelConfig
    public private(set) var machines: [Machine] = []
    /// Underlay LAN segments joining machines' NICs, in creation order.
    public internal(set) var segments: [EthernetSegment] = []
    /// Frames received by any device (the benchmark's throughput measure).
    public internal(set) var framesDelivered = 0
    /// Receptions that shared a queue entry with an earlier one: each is an event of the model
    /// even though the queue ran them together.
    public internal(set) var coalescedEvents = 0
    /// Events simulated: queue entries plus the receptions that shared one.
    public var eventsSimulated: Int { clock.processed + coalescedEvents }
    /// Receives every tracepoint (decision, drop, state change); nil keeps tracing free.
    public var observer: KernelObserver?

    public init(clock: EventQueue, seed: UInt64, config: KernelConfig = KernelConfig()) {
        self.clock = clock
        self.seed = seed
        self.config = config
    }

    public var now: SimTime { clock.now }

    /// Frames in flight to the same instant, delivered by one event in the order they were
    /// sent (Kernel: the per-CPU backlog that netif_rx() fills and net_rx_action() drains).
    final class Backlog {
        /// A frame due on `device` (in `namespace` when it was sent).
        struct Arrival {
            let device: NetDevice
            let namespace: NetNamespace
            let packet: Packet
        }
        var items: ContiguousArray<Arrival> = []
        var started = false
        func run(_ kernel: Kernel) {
            started = true
            kernel.coalescedEvents += items.count - 1
            // Borrowed in place, not copied out (a copy retains every reference of the
            // packet): nothing appends to a backlog once it has started.
            for i in items.indices {
                // The device may have moved or died while the frame was in flight.
                let ns = items[i].namespace, dev = items[i].device
                if dev.namespace === ns && ns.alive && dev.isRegistered {
                    ns.netifReceive(dev, items[i].packet)
                }
            }
            items.removeAll()
        }
    }
    private var lastBacklog: (seq: UInt64, time: SimTime, backlog: Backlog)?

    /// Schedules reception of `packet` on `device` at `time`. Consecutive calls for the same
    /// instant with nothing scheduled in between share one event: the order is exactly that
    /// of one event each, at a fraction of the cost when a bridge floods a frame.
    func deliver(_ packet: Packet, to device: NetDevice, at time: SimTime) {
        let ns = device.namespace
        if let lb = lastBacklog, lb.seq &+ 1 == clock.scheduleCount, lb.time == time, !lb.backlog.started {
            lb.backlog.items.append(Backlog.Arrival(device: device, namespace: ns, packet: packet))
            return
        }
        let b = Backlog()
        b.items.append(Backlog.Arrival(device: device, namespace: ns, packet: packet))
        let id = clock.schedule(at: time) { [unowned(unsafe) self] in b.run(self) }
        lastBacklog = (id.raw, time, b)
    }

    @discardableResult
    public func addMachine(_ name: String) -> Machine {
        let m = Machine(kernel: self, name: name, index: machines.count)
        machines.append(m)
        return m
    }

    public func machine(named name: String) -> Machine? { machines.first { $0.name == name } }

    /// Emits a tracepoint; the event is built only when someone listens.
    @inline(__always)
    func trace(_ ns: NetNamespace, _ dev: NetDevice?, _ kind: KernelEvent.Kind, _ detail: @autoclosure () -> String) {
        guard let o = observer else { return }
        o.record(KernelEvent(time: clock.now, machine: ns.machine.name, namespace: ns.displayName,
                             device: dev?.name, kind: kind, detail: detail()))
    }
}

/// One simulated host: a root namespace plus the named namespaces `ip netns add` creates.
public final class Machine {
    public unowned(unsafe) let kernel: Kernel
    public let name: String
    public let index: Int
    /// init_net: the namespace a shell starts in.
    public private(set) var root: NetNamespace!
    /// Named namespaces in creation order (what /var/run/netns holds).
    public private(set) var namedNamespaces: [NetNamespace] = []
    /// Deleted namespaces and unregistered devices stay allocated: events already queued may
    /// still refer to them (they find them dead and do nothing), and back-pointers stay valid.
    var retired: [AnyObject] = []
    var macRNG: SplitMix64
    var miscRNG: SplitMix64
    /// printk's ring buffer (what dmesg prints), see Netfilter/Log.swift.
    public let kernelLog = KernelLog()
    /// Jiffies at virtual time zero; the phase of the tick relative to the clock.
    let jiffiesAtZero: Int64
    let tickPhase: SimTime
    private var nextNamespaceSerial = 0
    private var nextPID: Int32

    init(kernel: Kernel, name: String, index: Int) {
        self.kernel = kernel
        self.name = name
        self.index = index
        macRNG = SplitMix64(seed: kernel.seed, stream: "mac/\(name)")
        miscRNG = SplitMix64(seed: kernel.seed, stream: "misc/\(name)")
        // Linux starts jiffies at -300 s so that wrap bugs show early; uptime is random-ish.
        let tickNS = 1_000_000_000 / kernel.config.hz
        jiffiesAtZero = Int64(truncatingIfNeeded: miscRNG.below(1 << 30))
        tickPhase = SimTime(ns: Int64(miscRNG.below(UInt64(tickNS))))
        nextPID = Int32(300 + miscRNG.below(30000))
        root = NetNamespace(machine: self, name: nil, serial: takeSerial())
    }

    func takeSerial() -> Int {
        defer { nextNamespaceSerial += 1 }
        return nextNamespaceSerial
    }

    private var namespaceIndex: [String: NetNamespace] = [:]

    public func namespace(named name: String) -> NetNamespace? { namespaceIndex[name] }

    /// Kernel: `ip netns add` = unshare(CLONE_NEWNET) + bind mount under /var/run/netns.
    public func addNamespace(_ name: String) throws -> NetNamespace {
        if namespace(named: name) != nil { throw KernelError(.EEXIST) }
        let ns = NetNamespace(machine: self, name: name, serial: takeSerial())
        namedNamespaces.append(ns)
        namespaceIndex[name] = ns
        return ns
    }

    /// Kernel: cleanup_net(): devices are unregistered; a veth end takes its peer with it.
    public func deleteNamespace(_ name: String) throws {
        guard let i = namedNamespaces.firstIndex(where: { $0.name == name }) else { throw KernelError(.ENOENT) }
        let ns = namedNamespaces.remove(at: i)
        namespaceIndex[name] = nil
        ns.destroy()
        for other in [root!] + namedNamespaces { other.releasePeerID(for: ns) }
        retired.append(ns)
    }

    /// A new process id, as fork() would hand out (monotonic, starting at a seeded value).
    public func allocatePID() -> Int32 {
        defer { nextPID += 1 }
        return nextPID
    }

    public func randomMAC() -> MACAddress { MACAddress.random(using: &macRNG) }

    public func random(below n: UInt64) -> UInt64 { miscRNG.below(n) }

    public var clock: EventQueue { kernel.clock }
}
