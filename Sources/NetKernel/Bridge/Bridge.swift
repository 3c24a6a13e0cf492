// Bridge: net/bridge/br_device.c, br_if.c, br_stp_if.c. The bridge device, its ports, and the
// rules for its MAC address and carrier.
// Guarantees: a bridge takes the lowest MAC of its ports unless one was set explicitly
// (br_stp_recalculate_bridge_id); it has carrier while some port forwards; with STP off a
// port forwards as soon as its device is up with carrier.
// Leaves out: STP, VLAN filtering, multicast snooping (multicast is flooded).

import SimCore
import Wire

/// Kernel: BR_STATE_* (include/uapi/linux/if_bridge.h).
public enum BridgePortState: Int, Sendable {
    case disabled = 0, listening = 1, learning = 2, forwarding = 3, blocking = 4
    public var name: String {
        switch self {
        case .disabled: return "disabled"
        case .listening: return "listening"
        case .learning: return "learning"
        case .forwarding: return "forwarding"
        case .blocking: return "blocking"
        }
    }
}

/// Kernel: struct net_bridge_port.
public final class BridgePort {
    public unowned(unsafe) let bridge: BridgeDevice
    public unowned(unsafe) let device: NetDevice
    public let portNumber: Int
    public internal(set) var state: BridgePortState = .disabled
    /// BR_LEARNING, BR_FLOOD (unknown unicast), BR_MCAST_FLOOD, BR_BCAST_FLOOD, BR_HAIRPIN_MODE
    /// (`bridge link set dev DEV learning|flood|mcast_flood|bcast_flood|hairpin on|off`).
    public var learning = true
    public var flood = true
    public var mcastFlood = true
    public var bcastFlood = true
    public var hairpin = false
    /// Kernel: port_cost() from the device's ethtool speed when it joined: 2 for 10 Gb/s
    /// (veth, tap), 100 for a device without link settings (vxlan).
    public let pathCost: Int
    /// Kernel: p->forward_delay_timer, armed by br_make_forwarding() even with STP off
    /// (it then changes nothing); `ip -d link` shows what is left of it.
    public internal(set) var forwardDelayExpires: Int64?
    /// Insertion order; the port list is walked newest first (list_add_rcu at the head).
    let stamp: Int

    init(bridge: BridgeDevice, device: NetDevice, portNumber: Int, stamp: Int) {
        self.bridge = bridge
        self.device = device
        self.portNumber = portNumber
        self.stamp = stamp
        pathCost = device is VXLANDevice ? 100 : 2
    }

    /// Kernel: br_make_port_id(): the port priority (32) above BR_PORT_BITS (10) bits of number.
    public var portID: Int { 32 << 10 | portNumber }
}

public final class BridgeDevice: NetDevice {
    /// Ports in the order they joined. The kernel walks br->port_list newest first (each new
    /// port goes to its head), so flooding walks this array backwards.
    public private(set) var ports: [BridgePort] = []
    private var portIndex: [ObjectIdentifier: BridgePort] = [:]
    private var portNumbers = IDAllocator(from: 1)
    /// Ports in the forwarding state (the bridge has carrier while this is non-zero).
    private var livePorts = 0
    public let fdb = FDB()
    public var ageingTime = SimTime.seconds(300)
    public var forwardDelay = SimTime.seconds(15)
    public var helloTime = SimTime.seconds(2)
    public var maxAge = SimTime.seconds(20)
    public var priority: UInt16 = 0x8000
    public var stpEnabled = false
    /// IFLA_BR_MCAST_SNOOPING: kept and shown; the model floods multicast either way (as a
    /// bridge without snooping does).
    public var multicastSnooping = true
    /// IFLA_BR_NF_CALL_{IPTABLES,IP6TABLES,ARPTABLES}: the per-bridge switches, kept and
    /// shown (bridged traffic follows the namespace's net.bridge.bridge-nf-call-* sysctls).
    public var nfCallIptables = false, nfCallIp6tables = false, nfCallArptables = false
    public var mtuSetExplicitly = false
    /// The MAC part of br->bridge_id: zero until a port joins or the MAC is set by hand.
    public internal(set) var bridgeIDMAC = MACAddress.zero
    /// Kernel: br_port_state_selection() sets the carrier from the forwarding ports each time it
    /// runs; until it first runs (a port joins, the bridge id changes) a new bridge keeps the
    /// carrier it was created with.
    private var selectionRan = false
    private var portStamp = 0
    private var gcTimer: EventID?
    /// When the pending gc work runs (jiffies), for `ip -d link`'s gc_timer.
    public private(set) var gcExpires: Int64?

    init(name: String, namespace: NetNamespace, mac: MACAddress) {
        super.init(name: name, namespace: namespace, mac: mac, assign: .random, mtu: 1500)
    }

    public override var kind: String? { "bridge" }

    /// Kernel: br_set_gso_limits() on each port change: the smallest port's tso_max_size, or
    /// TSO_MAX_SIZE without ports; a new bridge keeps the default until then. Observed on
    /// Linux 6.18: 65536 new, 524280 with a veth port or after its last port left.
    private var tsoLimit = 65536
    public override var tsoMaxSize: Int { tsoLimit }

    func setGSOLimits() {
        tsoLimit = ports.map { $0.device.tsoMaxSize }.min() ?? 524280
    }

    /// A bridge up also joins the multicast router discovery groups (224.0.0.106, ff02::6a).
    public override var multicastAddresses: [MACAddress] {
        guard adminUp else { return [MACAddress(raw: 0x3333_0000_0001)] }
        return [MACAddress(raw: 0x3333_0000_0001), MACAddress(raw: 0x0100_5e00_006a),
                MACAddress(raw: 0x3333_0000_006a), MACAddress(raw: 0x0100_5e00_0001)]
    }

    /// Ports in port-number order, as brctl show lists interfaces (by name, actually; see Commands).
    public var portsByNumber: [BridgePort] { ports.sorted { $0.portNumber < $1.portNumber } }

    public func port(for dev: NetDevice) -> BridgePort? { portIndex[ObjectIdentifier(dev)] }

    /// "8000.1a7e90602be0": priority and MAC, as brctl prints the bridge id.
    public var bridgeID: String {
        let hex = String(bridgeIDMAC.description.filter { $0 != ":" })
        let p = String(priority, radix: 16)
        return String(repeating: "0", count: 4 - p.count) + p + "." + hex
    }

    // MARK: - Ports (br_add_if / br_del_if)

    /// Kernel: br_add_if().
    func addPort(_ dev: NetDevice) throws {
        if dev.isLoopback || dev.linkTypeName != "ether" {
            throw KernelError(.EINVAL)
        }
        if dev is BridgeDevice { throw KernelError(.ELOOP, "Can not enslave a bridge to a bridge") }
        if dev.master != nil { throw KernelError(.EBUSY) }
        if dev === self { throw KernelError(.ELOOP) }
        // Kernel: find_portno(): the lowest free number.
        let n = portNumbers.allocate()
        let p = BridgePort(bridge: self, device: dev, portNumber: n, stamp: portStamp)
        portStamp += 1
        selectionRan = true
        ports.append(p)
        portIndex[ObjectIdentifier(dev)] = p
        dev.master = self
        dev.promiscuity += 1
        dev.rxHandler = { [unowned(unsafe) self, unowned(unsafe) p] packet in self.handleFrame(p, &packet) }
        fdb.insert(dev.mac, port: p, isLocal: true, isStatic: true, now: namespace.machine.jiffiesNow)
        if addrAssignType != .set && (ports.count == 1 || dev.mac < mac) { recalculateBridgeID() }
        if !mtuSetExplicitly && (ports.count == 1 || dev.mtu < mtu) { mtu = dev.mtu }
        // br_set_gso_limits() takes the minimum over all ports; with one more port that is
        // the old minimum or the new port's (kept O(1), as the bridge ID and MTU above).
        tsoLimit = ports.count == 1 ? dev.tsoMaxSize : min(tsoLimit, dev.tsoMaxSize)
        updatePortState(p)
        updateCarrier()
        namespace.kernel.trace(namespace, self, .fdbLearn, "port \(dev.name) added as port \(n)")
    }

    /// Kernel: br_del_if() / del_nbp().
    func removePort(_ dev: NetDevice) {
        guard let p = portIndex.removeValue(forKey: ObjectIdentifier(dev)) else { return }
        ports.removeAll { $0 === p }
        portNumbers.release(p.portNumber)
        if p.state == .forwarding { livePorts -= 1 }
        dev.master = nil
        dev.rxHandler = nil
        dev.promiscuity -= 1
        fdb.removeAll { $0.port === p }
        recalculateBridgeID()
        adjustMTU()
        setGSOLimits()
        updateCarrier()
    }

    /// Kernel: br_stp_recalculate_bridge_id(): the lowest port MAC, unless set by the user.
    func recalculateBridgeID() {
        guard addrAssignType != .set else { return }
        let lowest = ports.map({ $0.device.mac }).min() ?? .zero
        bridgeIDMAC = lowest
        if lowest != mac { setMAC(lowest, assign: addrAssignType) }
    }

    /// Changes the bridge's MAC and its local FDB entry (br_fdb_change_mac_address()).
    func setMAC(_ new: MACAddress, assign: AddressAssignType) {
        if let old = fdb.find(mac), old.port == nil { fdb.remove(mac) }
        mac = new
        addrAssignType = assign
        if assign == .set {
            // Kernel: br_stp_change_bridge_id() ends in br_port_state_selection().
            bridgeIDMAC = new
            selectionRan = true
            updateCarrier()
        }
        if !new.isZero && fdb.find(new) == nil {
            fdb.insert(new, port: nil, isLocal: true, isStatic: true, now: namespace.machine.jiffiesNow)
        }
    }

    /// Kernel: br_mtu_auto_adjust(): the smallest port MTU unless set explicitly; without
    /// ports, ETH_DATA_LEN (br_mtu_min()).
    func adjustMTU() {
        guard !mtuSetExplicitly else { return }
        mtu = ports.map({ $0.device.mtu }).min() ?? 1500
    }

    // MARK: - Port states and carrier (br_port_carrier_check, br_port_state_selection)

    func portCarrierChanged(_ dev: NetDevice) { portStateChanged(dev) }

    func portStateChanged(_ dev: NetDevice) {
        guard let p = port(for: dev) else { return }
        updatePortState(p)
        updateCarrier()
    }

    /// With STP off a port forwards as soon as the bridge is up and the port's device is
    /// running, and is disabled otherwise (br_port_carrier_check / br_stp_enable_port).
    private func updatePortState(_ p: BridgePort) {
        let newState: BridgePortState = adminUp && p.device.isRunning ? .forwarding : .disabled
        guard p.state != newState else { return }
        if p.state == .forwarding { livePorts -= 1 }
        if newState == .forwarding { livePorts += 1 }
        p.state = newState
        let m = namespace.machine
        p.forwardDelayExpires = newState == .forwarding ? m.jiffiesNow + m.toJiffies(forwardDelay) : nil
        namespace.kernel.trace(namespace, self, .flood, "port \(p.device.name) entered \(newState.name) state")
        if newState == .disabled {
            // Kernel: br_stp_disable_port() flushes what was learned on the port.
            fdb.removeAll { $0.port === p && !$0.isPermanent }
        }
    }

    /// Kernel: br_port_state_selection(): carrier while some port forwards.
    private func updateCarrier() {
        if selectionRan { setCarrier(livePorts > 0) }
    }

    /// Re-evaluates every port (the bridge itself went up or down).
    func portStateSelection() {
        for p in ports { updatePortState(p) }
        updateCarrier()
    }

    public override func didOpen() {
        portStateSelection()
        scheduleGC(after: SimTime.milliseconds(100))
    }

    public override func didStop() {
        portStateSelection()
        if let t = gcTimer { namespace.clock.cancel(t); gcTimer = nil; gcExpires = nil }
    }

    public override func willUnregister() {
        if let t = gcTimer { namespace.clock.cancel(t); gcTimer = nil }
        for p in ports { removePort(p.device) }
    }

    // MARK: - Ageing (br_fdb_cleanup)

    func scheduleGC(after delay: SimTime) {
        if let t = gcTimer { namespace.clock.cancel(t) }
        let m = namespace.machine
        let expires = m.jiffiesNow + m.toJiffies(delay)
        gcExpires = expires
        gcTimer = m.addTimer(expires: expires) { [self] in runGC() }
    }

    /// Kernel: br_set_ageing_time(): the new time applies at once (mod_delayed_work() with no
    /// delay: the gc work runs now, not on the timer wheel).
    public func setAgeingTime(_ t: SimTime) {
        ageingTime = t
        if let t = gcTimer { namespace.clock.cancel(t) }
        runGC()
    }

    /// Kernel: br_fdb_cleanup(): drops expired dynamic entries and re-arms for the next expiry.
    func runGC() {
        gcTimer = nil
        let m = namespace.machine
        let now = m.jiffiesNow
        let hold = m.toJiffies(ageingTime)
        var next = now + hold
        for e in fdb.entries where !e.isPermanent {
            let expiry = e.updated + hold
            if expiry <= now {
                namespace.kernel.trace(namespace, self, .fdbAge, "\(e.mac) on \(e.port?.device.name ?? "?") aged out")
                fdb.remove(e.mac)
            } else if expiry < next {
                next = expiry
            }
        }
        let delayJ = max(next - now, m.kernel.config.hz / 10)
        gcExpires = now + delayJ
        gcTimer = m.addTimer(expires: now + delayJ) { [self] in runGC() }
    }

    // MARK: - Transmit from the host stack (br_dev_xmit)

    /// Kernel: br_dev_xmit() in net/bridge/br_device.c.
    public override func startXmit(_ p: Packet) {
        let dst = EthernetView.destination(p.bytes)
        if dst.isMulticast {
            flood(p, from: nil, localOrigin: true)
        } else if let e = fdb.find(dst) {
            if let port = e.port {
                forward(p, to: port, from: nil)
            } else {
                namespace.kernel.trace(namespace, self, .drop, "frame to the bridge's own address")
            }
        } else {
            flood(p, from: nil, localOrigin: true)
        }
    }
}
