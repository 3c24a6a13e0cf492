// VXLAN: drivers/net/vxlan/vxlan_core.c. An Ethernet device whose frames travel inside UDP
// between machines: `ip link add NAME type vxlan id VNI [dstport P] [local IP] [remote IP |
// group IP] [dev DEV] [nolearning] [ttl N] [tos T] [df ...] [srcport MIN MAX] [proxy]
// [l2miss] [l3miss] [ageing S] [maxaddress N] [[no]udpcsum]`.
// Models: configuration checks and defaults as vxlan_config_validate()/vxlan_config_apply()
// make them (dstport 8472, MTU of the lower device minus 50, 1500 without one, a random MAC
// from the machine's stream, the all-zeros FDB entry for `remote`), the link namespace
// (vxlan->net: where the device was created; its UDP socket and the outer routing stay there
// when the device moves, as Docker's overlay namespaces use it), open/stop (the shared UDP
// socket, the ageing timer, the flush of learned entries), and MTU changes bounded by the
// lower device. Sending, receiving and the FDB are in VXLANTransmit.swift,
// VXLANReceive.swift, VXLANSocket.swift and VXLANFDB.swift.
// Guarantees: a failed creation changes nothing; nothing depends on hash order.
// A multicast `group` is joined on the lower device while the device is up (IGMP reports),
// so frames flooded to the group reach every member machine.
// Leaves out: IPv6 underlays, external (metadata) mode, VNI filtering, GBP/GPE, IGMP leave
// reports, the deletion of a vxlan device when its lower device goes away.

import SimCore
import Wire

/// What `ip link add ... type vxlan` (or a program through netlink) asks for: the
/// IFLA_VXLAN_* attributes.
public struct VXLANConfig {
    /// Kernel: enum ifla_vxlan_df.
    public enum DF: UInt8, Sendable { case unset = 0, set = 1, inherit = 2 }

    /// IFLA_VXLAN_ID, 0...16777215.
    public var vni: UInt32
    /// IFLA_VXLAN_PORT; 0 takes the kernel's default (8472).
    public var dstPort: UInt16
    /// IFLA_VXLAN_LOCAL: the outer source address (nil: the route's choice).
    public var local: IPv4Address?
    /// IFLA_VXLAN_GROUP: a unicast `remote` or a multicast `group`.
    public var remote: IPv4Address?
    /// IFLA_VXLAN_LINK: the lower device (`dev`), in the namespace the device is created in.
    public var lowerDevice: NetDevice?
    public var learning: Bool
    public var proxy = false
    public var rsc = false
    public var l2miss = false
    public var l3miss = false
    /// IFLA_VXLAN_TTL; 0 is "auto" (the route's hop limit, 1 for a multicast group).
    public var ttl: UInt8 = 0
    public var ttlInherit = false
    /// IFLA_VXLAN_TOS; 1 is "inherit".
    public var tos: UInt8 = 0
    public var df: DF = .unset
    /// IFLA_VXLAN_PORT_RANGE; (0, 0) uses the namespace's ip_local_port_range.
    public var sourcePortLow: UInt16 = 0
    public var sourcePortHigh: UInt16 = 0
    /// IFLA_VXLAN_AGEING in seconds; 0 takes the default (300).
    public var ageing: UInt32 = 0
    /// IFLA_VXLAN_LIMIT; 0 is unlimited.
    public var maxAddresses: UInt32 = 0
    /// IFLA_VXLAN_UDP_CSUM (on unless `noudpcsum`).
    public var udpChecksum = true

    public init(vni: UInt32, dstPort: UInt16 = 0, local: IPv4Address? = nil, remote: IPv4Address? = nil,
                lowerDevice: NetDevice? = nil, learning: Bool = true) {
        self.vni = vni
        self.dstPort = dstPort
        self.local = local
        self.remote = remote
        self.lowerDevice = lowerDevice
        self.learning = learning
    }
}

public final class VXLANDevice: NetDevice {
    /// Kernel: FDB_AGE_DEFAULT.
    static let defaultAgeing: UInt32 = 300
    /// Kernel: FDB_AGE_INTERVAL, the ageing timer's period.
    static let ageInterval = SimTime.seconds(10)
    /// Kernel: VXLAN_HEADROOM for an IPv4 underlay: outer IPv4 + UDP + VXLAN + inner Ethernet.
    static let headroom = 20 + 8 + 8 + 14

    /// The configuration as applied (dstPort and ageing filled in).
    public private(set) var config: VXLANConfig
    /// Kernel: vxlan->net, where the device was created: its socket and outer routes live here.
    public let linkNamespace: NetNamespace
    /// Kernel: default_dst.remote_ifindex (the lower device's ifindex in linkNamespace).
    public let lowerIndex: Int
    public let fdb = VXLANFDB()
    /// The shared UDP socket while the device is up (vxlan->vn4_sock).
    var socket: VXLANSocket?
    var ageTimer: EventID?
    let flowKey: FlowHashKey
    /// Kernel: tso_max_size, inherited from the lower device (netif_inherit_tso_max()).
    let inheritedTSOMaxSize: Int

    init(name: String, namespace: NetNamespace, mac: MACAddress, config: VXLANConfig, mtu: Int) {
        self.config = config
        linkNamespace = namespace
        lowerIndex = config.lowerDevice?.ifindex ?? 0
        flowKey = FlowHashKey(machine: namespace.machine)
        inheritedTSOMaxSize = config.lowerDevice?.tsoMaxSize ?? 65536
        super.init(name: name, namespace: namespace, mac: mac, assign: .random, mtu: mtu)
    }

    public override var kind: String? { "vxlan" }
    public override var tsoMaxSize: Int { inheritedTSOMaxSize }

    /// vxlan_xmit_one() and vxlan_rcv() count the inner frame without its Ethernet header
    /// (observed on Linux 6.18: an ARP request and an echo request count 28 + 84 bytes).
    public override var statsHeaderBytes: Int { EthernetHeader.length }

    public var vni: UInt32 { config.vni }
    public var dstPort: UInt16 { config.dstPort }

    /// The lower device as the link namespace knows it now.
    public var lowerDevice: NetDevice? { lowerIndex == 0 ? nil : linkNamespace.device(index: lowerIndex) }

    public override var linkNetNamespace: NetNamespace? { linkNamespace === namespace ? nil : linkNamespace }

    /// Kernel: ndo_start_xmit = vxlan_xmit() (VXLANTransmit.swift).
    public override func startXmit(_ p: Packet) { vxlanXmit(p) }

    /// Kernel: vxlan_change_mtu(): no more than the lower device's MTU minus the headroom.
    public override func changeMTU(_ m: Int) throws {
        if let low = lowerDevice, m > low.mtu - VXLANDevice.headroom { throw KernelError(.EINVAL) }
    }

    // MARK: - open / stop

    /// Kernel: vxlan_open() -> vxlan_sock_add(): the socket must be had before the device is up.
    public override func openCheck() throws {
        if socket == nil, let err = VXLANSocket.bindError(in: linkNamespace, port: dstPort) { throw err }
    }

    /// Kernel: vxlan_open(): join (or create) the socket of the port, start the ageing timer.
    public override func didOpen() {
        socket = VXLANSocket.add(self)
        if socket == nil {
            namespace.kernel.trace(namespace, self, .drop, "vxlan: udp port \(dstPort) is taken, no socket (DEV_READY)")
        }
        armAgeTimer(after: VXLANDevice.ageInterval)
        if let dev = multicastDevice, let g = config.remote { linkNamespace.ipMcJoin(dev, g) }
    }

    /// Kernel: vxlan_igmp_join()'s device: the lower device, or the one the group routes to.
    private var multicastDevice: NetDevice? {
        guard let g = config.remote, g.isMulticast else { return nil }
        if lowerIndex != 0 { return linkNamespace.device(index: lowerIndex) }
        return try? linkNamespace.routeOutput(to: g).device
    }

    /// Kernel: vxlan_stop(): learned entries go (static ones and the default entry stay), the
    /// timer stops, the socket is released.
    public override func didStop() {
        if let dev = multicastDevice, let g = config.remote { linkNamespace.ipMcLeave(dev, g) }
        if let t = ageTimer { namespace.clock.cancel(t) }
        ageTimer = nil
        fdb.removeAll { !$0.isStatic && !($0.mac.isZero) }
        socket?.remove(self)
        socket = nil
    }

    public override func willUnregister() {
        socket?.remove(self)
        socket = nil
        if let t = ageTimer { namespace.clock.cancel(t) }
        ageTimer = nil
    }

    // MARK: - Ageing (vxlan_cleanup)

    private func armAgeTimer(after d: SimTime) {
        let m = namespace.machine
        ageTimer = m.addTimer(expires: m.jiffiesNow + m.toJiffies(d)) { [weak self] in self?.cleanup() }
    }

    /// Kernel: vxlan_cleanup(): every 10 s, learned entries not updated for `ageing` seconds go.
    func cleanup() {
        ageTimer = nil
        guard adminUp, isRegistered else { return }
        let m = namespace.machine
        let now = m.jiffiesNow
        var next = now + m.toJiffies(VXLANDevice.ageInterval)
        let age = m.toJiffies(.seconds(Int64(config.ageing)))
        for f in fdb.entries where !f.isStatic && !f.flags.contains(.extLearned) {
            let timeout = f.updated + age
            if timeout <= now {
                namespace.kernel.trace(namespace, self, .fdbAge, "vxlan \(f.mac) aged out")
                fdb.destroy(f)
            } else if timeout < next {
                next = timeout
            }
        }
        ageTimer = m.addTimer(expires: next) { [weak self] in self?.cleanup() }
    }
}

// MARK: - Creation (RTM_NEWLINK with kind "vxlan")

extension NetNamespace {
    /// Kernel: vxlan_newlink() -> __vxlan_dev_create(): vxlan_config_validate(),
    /// vxlan_config_apply(), register_netdevice(), then the default FDB entry.
    func vxlanNewlink(name: String, config c: VXLANConfig, address: MACAddress?, mtu: Int?) throws -> VXLANDevice {
        var cfg = c
        // vxlan_validate(), then vxlan_config_validate().
        if let m = mtu, !(68...65535).contains(m) { throw KernelError(.EINVAL, "MTU must be between 68 and 65535") }
        guard cfg.vni <= VXLANHeader.maxVNI else { throw KernelError(.ERANGE, "VXLAN ID must be lower than 16777216") }
        if cfg.sourcePortLow > cfg.sourcePortHigh { throw KernelError(.EINVAL, "Invalid source port range") }
        if let l = cfg.local, l.isMulticast { throw KernelError(.EINVAL, "Local address cannot be multicast") }
        if let low = cfg.lowerDevice {
            guard low.namespace === self, low.isRegistered else {
                throw KernelError(.ENODEV, "Invalid local interface, device not found")
            }
        } else if let r = cfg.remote, r.isMulticast {
            throw KernelError(.EINVAL, "Local interface required for multicast remote destination")
        }
        if cfg.dstPort == 0 { cfg.dstPort = VXLANPort.linux }
        if cfg.ageing == 0 { cfg.ageing = VXLANDevice.defaultAgeing }
        if vxlanVNIInUse(cfg.vni, port: cfg.dstPort) {
            throw KernelError(.EEXIST, "A VXLAN device with the specified VNI already exists")
        }
        // vxlan_config_apply(): the lower device's MTU minus the headroom, an explicit MTU cut
        // to it; 1500 (ether_setup()) without a lower device.
        var devMTU = mtu ?? 1500
        if let low = cfg.lowerDevice {
            let maxMTU = max(68, low.mtu - VXLANDevice.headroom)
            if mtu == nil { devMTU = maxMTU }
            devMTU = min(devMTU, maxMTU)
        }
        let dev = VXLANDevice(name: name, namespace: self, mac: address ?? machine.randomMAC(), config: cfg, mtu: devMTU)
        if address != nil { dev.addrAssignType = .set }
        dev.fdb.limit = Int(cfg.maxAddresses)
        register(dev, preferredIndex: nil)
        // A vxlan device has carrier from the start; linkwatch never runs: UNKNOWN once up.
        dev.carrier = true
        if let r = cfg.remote, !r.isZero {
            let remote = VXLANRemote(ip: r, port: cfg.dstPort, vni: cfg.vni, ifindex: dev.lowerIndex)
            _ = try? dev.fdb.create(.zero, remote: remote, state: [.reachable, .permanent], flags: .self,
                                now: machine.jiffiesNow)
        }
        kernel.trace(self, dev, .rx, "vxlan \(name) created: vni \(cfg.vni) dstport \(cfg.dstPort)")
        return dev
    }

    /// Kernel: vxlan_vni_in_use(): the same VNI on the same port among the devices created in
    /// this namespace (wherever they live now).
    func vxlanVNIInUse(_ vni: UInt32, port: UInt16) -> Bool {
        for ns in [machine.root!] + machine.namedNamespaces {
            for case let v as VXLANDevice in ns.devices where v.linkNamespace === self && v.vni == vni && v.dstPort == port {
                return true
            }
        }
        return false
    }
}
