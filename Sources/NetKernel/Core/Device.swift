// Device: struct net_device. Models: name, ifindex, MAC, MTU, administrative state, carrier,
// promiscuity, the IPv4 addresses of its in_device, a bridge master, an rx_handler, and the
// packet taps (AF_PACKET sockets) that tcpdump opens.
// Guarantees: flags are derived the way dev_get_flags() derives them; taps see a frame on
// receive before any rx_handler and on transmit before the driver, as on Linux.
// Leaves out: qdiscs (veth, bridge and lo are noqueue), offloads, multiple TX queues.

import SimCore
import Wire

/// Kernel: IFF_* flags (include/uapi/linux/if.h).
public struct InterfaceFlags: OptionSet, Sendable {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }
    public static let up = InterfaceFlags(rawValue: 0x1)
    public static let broadcast = InterfaceFlags(rawValue: 0x2)
    public static let loopback = InterfaceFlags(rawValue: 0x8)
    public static let pointToPoint = InterfaceFlags(rawValue: 0x10)
    public static let running = InterfaceFlags(rawValue: 0x40)
    public static let noARP = InterfaceFlags(rawValue: 0x80)
    public static let promisc = InterfaceFlags(rawValue: 0x100)
    public static let allMulti = InterfaceFlags(rawValue: 0x200)
    public static let master = InterfaceFlags(rawValue: 0x400)
    public static let slave = InterfaceFlags(rawValue: 0x800)
    public static let multicast = InterfaceFlags(rawValue: 0x1000)
    public static let lowerUp = InterfaceFlags(rawValue: 0x10000)
    public static let dormant = InterfaceFlags(rawValue: 0x20000)
}

/// Kernel: IF_OPER_* (RFC 2863 operational state) as `ip link` prints it.
public enum OperState: String, Sendable {
    case unknown = "UNKNOWN", down = "DOWN", lowerLayerDown = "LOWERLAYERDOWN", up = "UP"
}

/// Kernel: addr_assign_type (NET_ADDR_PERM, NET_ADDR_RANDOM, NET_ADDR_SET).
public enum AddressAssignType: Sendable { case permanent, random, set }

/// An IPv4 address on a device (struct in_ifaddr).
public struct InetAddress: Equatable, Sendable {
    public var local: IPv4Address
    public var prefixLength: Int
    public var broadcast: IPv4Address?
    public var scope: RouteScope
    public var label: String
    public var secondary: Bool
    public var prefix: IPv4Prefix { IPv4Prefix(address: local, length: prefixLength) }
}

/// What an rx_handler did with a received frame (Kernel: rx_handler_result_t).
public enum RxHandlerResult { case consumed, pass }

/// An AF_PACKET tap: sees every frame received or transmitted on a device.
public final class PacketTap {
    public enum Direction: Sendable { case incoming, outgoing }
    public let promiscuous: Bool
    let deliver: (SimTime, [UInt8], Direction) -> Void
    public init(promiscuous: Bool, deliver: @escaping (SimTime, [UInt8], Direction) -> Void) {
        self.promiscuous = promiscuous
        self.deliver = deliver
    }
}

open class NetDevice {
    public internal(set) var ifindex: Int
    public internal(set) var name: String
    public internal(set) var mac: MACAddress
    public internal(set) var addrAssignType: AddressAssignType
    public internal(set) var mtu: Int
    public internal(set) var broadcastMAC = MACAddress.broadcast
    public internal(set) var adminUp = false
    /// Kernel: netif_carrier_ok().
    public internal(set) var carrier = false
    /// IFLA_CARRIER_CHANGES (`ip -s -s link`'s transns).
    public internal(set) var carrierChanges = 0
    /// Kernel: dev->promiscuity, the count every user (bridge, packet socket) adds to.
    public internal(set) var promiscuity = 0
    /// IFF_PROMISC as `ip link set promisc on` sets it (dev->gflags): the only promiscuity
    /// `ip link` shows.
    public internal(set) var userPromisc = false
    /// Flags set by `ip link set ... arp off`, `multicast off`, `allmulticast on`.
    public internal(set) var noARP = false
    public internal(set) var multicastOff = false
    public internal(set) var userAllMulti = false
    public internal(set) var txQueueLen = 1000
    public unowned(unsafe) internal(set) var namespace: NetNamespace
    public internal(set) var addresses: [InetAddress] = []
    /// The bridge this device is a port of (cleared when it leaves).
    public internal(set) var master: BridgeDevice?
    public internal(set) var stats = DeviceStats()
    var rxHandler: ((inout Packet) -> RxHandlerResult)?
    var taps: [PacketTap] = []
    /// Neighbour parameters of this device (per-device sysctls under net.ipv4.neigh.DEV).
    public internal(set) var neighParms: NeighbourParms
    /// Per-device IPv4 sysctls (net.ipv4.conf.DEV).
    public var ipv4Conf = IPv4DeviceConfig()
    /// IGMP state of the device's in_device.
    var igmp = IGMPState()

    init(name: String, namespace: NetNamespace, mac: MACAddress, assign: AddressAssignType, mtu: Int) {
        self.ifindex = 0
        self.name = name
        self.namespace = namespace
        self.mac = mac
        self.addrAssignType = assign
        self.mtu = mtu
        self.neighParms = NeighbourParms(defaults: namespace.ipv4.neighDefault, machine: namespace.machine)
        self.ipv4Conf = namespace.ipv4.defaultConf
    }

    // MARK: - What the driver says about itself

    /// `ip -d link` kind ("veth", "bridge"); nil for devices without one (lo, physical).
    open var kind: String? { nil }
    open var baseFlags: InterfaceFlags { [.broadcast, .multicast] }
    open var isLoopback: Bool { false }
    /// ARPHRD_* link type name as `ip link` prints it after "link/".
    open var linkTypeName: String { "ether" }
    /// Minimum and maximum MTU the driver accepts.
    open var mtuRange: ClosedRange<Int> { 68...65535 }

    /// Kernel: ndo_start_xmit. The frame has passed the taps already.
    open func startXmit(_ p: Packet) { stats.txDropped += 1 }
    /// Kernel: ndo_open / ndo_stop.
    open func didOpen() {}
    open func didStop() {}
    /// The device is being unregistered.
    open func willUnregister() {}

    /// Kernel: ndo_open's failure cases, checked before the device goes up (a vxlan device
    /// whose UDP port is taken cannot open).
    open func openCheck() throws {}

    /// Kernel: ndo_change_mtu(): a driver's own limit on a new MTU (after the min/max check).
    open func changeMTU(_ mtu: Int) throws {}

    /// Kernel: dev->tso_max_size: TSO_LEGACY_MAX_SIZE unless the driver raises it
    /// (netif_set_tso_max_size(GSO_MAX_SIZE) in veth and lo: 524280).
    /// Bytes of each frame the driver leaves out of its rx/tx byte counters (a vxlan device
    /// counts skb->len without the inner Ethernet header).
    open var statsHeaderBytes: Int { 0 }

    open var tsoMaxSize: Int { self is VethDevice || isLoopback ? 524280 : 65536 }

    /// Kernel: rtnl_link_ops->get_link_net(): the namespace the device's link lives in when it
    /// is not the device's own (a veth's peer, a vxlan device's sockets), for IFLA_LINK_NETNSID.
    open var linkNetNamespace: NetNamespace? {
        guard let v = self as? VethDevice, let p = v.peer, p.namespace !== namespace else { return nil }
        return p.namespace
    }

    /// Kernel: dev->uc, the secondary unicast addresses (`bridge fdb add MAC dev DEV self` on a
    /// device without an FDB of its own: ndo_dflt_fdb_add()).
    public internal(set) var unicastAddresses: [MACAddress] = []

    /// Kernel: dev->mc, the link-layer multicast list (what `bridge fdb` shows as "self"):
    /// all-nodes IPv6 from creation (even with IPv6 disabled), IGMP all-hosts while up.
    open var multicastAddresses: [MACAddress] {
        guard linkTypeName == "ether" else { return [] }
        var l = [MACAddress(raw: 0x3333_0000_0001)]
        if adminUp { l.append(MACAddress(raw: 0x0100_5e00_0001)) }
        return l + userMulticastAddresses
    }

    /// Multicast addresses added with `bridge fdb add MAC dev DEV self` (ndo_dflt_fdb_add()'s
    /// dev_mc_add_excl()), listed after the stack's own.
    public internal(set) var userMulticastAddresses: [MACAddress] = []

    // MARK: - Derived state

    /// Kernel: dev_get_flags(): RUNNING follows the operstate, LOWER_UP the carrier.
    public var flags: InterfaceFlags {
        var f = baseFlags
        if multicastOff { f.remove(.multicast) }
        if noARP { f.insert(.noARP) }
        if userAllMulti { f.insert(.allMulti) }
        if adminUp { f.insert(.up) }
        if userPromisc { f.insert(.promisc) }
        if adminUp {
            if storedOperState == .up || storedOperState == .unknown { f.insert(.running) }
            if carrier { f.insert(.lowerUp) }
        }
        return f
    }

    public var isRunning: Bool { adminUp && carrier }

    /// Still registered in a namespace (not deleted or between namespaces).
    public internal(set) var isRegistered = false

    /// The operstate `ip link` shows: DOWN while administratively down, otherwise what
    /// linkwatch computed at the last carrier change (UNKNOWN if there never was one).
    public var operState: OperState { adminUp ? storedOperState : .down }

    /// Kernel: dev->operstate, set by linkwatch (default_operstate()) on carrier changes only.
    public internal(set) var storedOperState: OperState = .unknown

    /// Kernel: qdisc "noop" until the device is first opened, "noqueue" from then on (for the
    /// queue-less devices modelled here).
    public internal(set) var everUp = false
    public var qdiscName: String { everUp ? runningQdisc : "noop" }

    /// The qdisc a device gets when first opened: queue-less virtual devices get "noqueue",
    /// real NICs the system's default_qdisc.
    open var runningQdisc: String { "noqueue" }

    /// Kernel: dev_get_iflink(): the ifindex of the device this one sits on (a veth's peer),
    /// or nil when it is its own.
    open var iflink: Int? { nil }

    /// Kernel: default_operstate() in net/core/link_watch.c.
    func linkwatchOperState() -> OperState {
        if carrier { return .up }
        guard let link = iflink else { return .down }
        // The lookup uses this device's own namespace, whatever namespace the peer is in.
        guard let other = namespace.device(index: link) else { return .down }
        return other.carrier ? .down : .lowerLayerDown
    }

    public var isPromiscuous: Bool { promiscuity > 0 }

    public var primaryAddress: InetAddress? { addresses.first { !$0.secondary } }

    // MARK: - Taps

    public func addTap(_ t: PacketTap) {
        taps.append(t)
        if t.promiscuous { promiscuity += 1 }
    }

    public func removeTap(_ t: PacketTap) {
        guard let i = taps.firstIndex(where: { $0 === t }) else { return }
        taps.remove(at: i)
        if t.promiscuous { promiscuity -= 1 }
    }

    /// Kernel: netif_carrier_on()/off(); linkwatch then recomputes the operstate.
    func setCarrier(_ on: Bool, force: Bool = false) {
        guard carrier != on || force else { return }
        // Kernel: carrier_up_count/carrier_down_count. A forced call stands for a new device
        // losing the carrier every net_device is allocated with (veth_newlink()).
        carrierChanges += 1
        carrier = on
        storedOperState = linkwatchOperState()
        namespace.carrierChanged(self)
    }
}

public struct DeviceStats: Sendable {
    public var rxPackets = 0, rxBytes = 0, rxDropped = 0
    public var txPackets = 0, txBytes = 0, txDropped = 0
}
