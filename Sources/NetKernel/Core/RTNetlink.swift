// RTNetlink: net/core/rtnetlink.c and the ioctls brctl uses. The one entry point through which
// userland tools change a namespace: typed requests in, errno (and extack text) out. Tools
// resolve names to devices first, as iproute2 does with ll_name_to_index().
// Guarantees: a failed request changes nothing; attributes of one RTM_NEWLINK are applied in
// do_setlink()'s order (namespace, name, address, MTU, master, then flags).

import SimCore
import Wire

/// What `ip link add ... type KIND` creates.
public enum LinkKind {
    case veth(peerName: String?, peerNamespace: NetNamespace?, peerAddress: MACAddress?)
    case bridge
    /// `type vxlan`: see VXLANConfig (Drivers/VXLAN.swift).
    case vxlan(VXLANConfig)
}

/// The changes of one `ip link set` (RTM_NEWLINK on an existing device).
public struct LinkChange {
    public enum Master { case set(NetDevice), none }
    public var up: Bool?
    public var namespace: NetNamespace?
    public var name: String?
    public var address: MACAddress?
    public var mtu: Int?
    public var master: Master?
    public var promisc: Bool?
    public var arp: Bool?
    public var multicast: Bool?
    public var allMulticast: Bool?
    public var txQueueLen: Int?
    public init() {}
}

/// One request, as a tool (or later the docker layer) issues it.
public enum NetlinkRequest {
    case linkAdd(name: String, kind: LinkKind, address: MACAddress?, mtu: Int?)
    case linkDelete(NetDevice)
    case linkSet(NetDevice, LinkChange)
    case addressAdd(NetDevice, IPv4Prefix, broadcast: IPv4Address?, scope: RouteScope?, label: String?)
    case addressDelete(NetDevice, IPv4Prefix)
    case addressFlush(NetDevice)
    case bridgeAddPort(bridge: NetDevice, port: NetDevice)
    case bridgeDeletePort(bridge: NetDevice, port: NetDevice)
    case bridgeDelete(name: String)
    /// RTM_NEWNEIGH with AF_BRIDGE (`bridge fdb add|append|replace`).
    case fdbAdd(NetDevice, FDBRequest, mode: FDBAddMode)
    /// RTM_DELNEIGH with AF_BRIDGE (`bridge fdb del`).
    case fdbDelete(NetDevice, FDBRequest)
    /// RTM_DELNEIGH with NLM_F_BULK (`bridge fdb flush`): br_fdb_delete_bulk() over the
    /// entries of one bridge (of one port when given) that the filter accepts.
    case fdbFlush(BridgeDevice, port: BridgePort?, where: (FDBEntry) -> Bool)
    /// RTM_NEWNEIGH with AF_INET (`ip neigh add|replace|change`).
    case neighbourSet(NetDevice, IPv4Address, lladdr: MACAddress?, state: NUDState, mode: NeighbourSetMode)
    /// RTM_DELNEIGH with AF_INET (`ip neigh del`).
    case neighbourDelete(NetDevice, IPv4Address)
    /// RTM_NEWROUTE (`ip route add|replace|append`).
    case routeAdd(Route, mode: RouteAddMode)
}

/// One FDB entry as RTM_NEWNEIGH/RTM_DELNEIGH carry it for AF_BRIDGE: the address (NDA_LLADDR),
/// a tunnel destination for vxlan devices (NDA_DST, NDA_PORT, NDA_VNI, NDA_IFINDEX), ndm_flags
/// and ndm_state. The defaults are what iproute2's `bridge fdb` sends when told nothing:
/// NTF_SELF and NUD_NOARP|NUD_PERMANENT ("self permanent").
public struct FDBRequest {
    public var mac: MACAddress
    public var dst: IPv4Address?
    public var port: UInt16?
    public var vni: UInt32?
    /// NDA_IFINDEX (`via DEV`): the device to send through.
    public var via: NetDevice?
    /// NDA_VLAN (`vlan VID`).
    public var vlan: UInt16?
    public var flags: NTFFlags
    public var state: NUDState

    public init(mac: MACAddress, dst: IPv4Address? = nil, port: UInt16? = nil, vni: UInt32? = nil,
                via: NetDevice? = nil, flags: NTFFlags = .self, state: NUDState = [.noARP, .permanent]) {
        self.mac = mac
        self.dst = dst
        self.port = port
        self.vni = vni
        self.via = via
        self.flags = flags
        self.state = state
    }
}

/// How RTM_NEWNEIGH treats an existing neighbour (NLM_F_EXCL, NLM_F_REPLACE, neither).
public enum NeighbourSetMode: Sendable { case add, replace, change }

extension NetNamespace {
    /// Applies one request. Throws the kernel's error; on error nothing has changed.
    public func apply(_ req: NetlinkRequest) throws {
        switch req {
        case let .linkAdd(name, kind, address, mtu):
            try linkAdd(name: name, kind: kind, address: address, mtu: mtu)
        case let .linkDelete(dev):
            try linkDelete(dev)
        case let .linkSet(dev, change):
            try linkSet(dev, change)
        case let .addressAdd(dev, prefix, broadcast, scope, label):
            try addAddress(prefix, broadcast: broadcast, scope: scope, label: label, to: dev)
        case let .addressDelete(dev, prefix):
            try deleteAddress(prefix, from: dev)
        case let .addressFlush(dev):
            flushAddresses(dev)
        case let .bridgeAddPort(br, port):
            guard let b = br as? BridgeDevice else { throw KernelError(.ENOTSUP) }
            try b.addPort(port)
        case let .bridgeDeletePort(br, port):
            guard let b = br as? BridgeDevice else { throw KernelError(.ENOTSUP) }
            guard port.master === b else { throw KernelError(.EINVAL) }
            b.removePort(port)
        case let .bridgeDelete(name):
            guard let dev = device(named: name) else { throw KernelError(.ENXIO) }
            guard dev is BridgeDevice else { throw KernelError(.EPERM) }
            if dev.adminUp { throw KernelError(.EBUSY) }
            unregister(dev)
        case let .fdbAdd(dev, r, mode):
            try fdbAdd(dev, r, mode: mode)
        case let .fdbDelete(dev, r):
            try fdbDelete(dev, r)
        case let .fdbFlush(br, port, accept):
            br.fdb.removeAll { (port == nil || $0.port === port) && accept($0) }
        case let .neighbourSet(dev, a, lladdr, state, mode):
            try neighbourSet(dev, a, lladdr: lladdr, state: state, mode: mode)
        case let .neighbourDelete(dev, a):
            guard let n = neighbours.lookup(a, dev), n.state != .none else { throw KernelError(.ENOENT) }
            neighbours.adminDelete(n)
        case let .routeAdd(r, mode):
            try addRoute(r, mode: mode)
        }
    }

    static let maxNameLength = 15

    func validName(_ n: String) -> Bool {
        !n.isEmpty && n.utf8.count <= NetNamespace.maxNameLength && n != "." && n != ".."
            && !n.contains("/") && !n.contains(":") && !n.contains(where: { $0.isWhitespace })
    }

    /// Kernel: IFLA_IFNAME's policy (at most IFNAMSIZ-1 bytes) and then dev_valid_name(),
    /// which refuses without an extended ack. Observed on Linux 6.18: a 16-byte name is
    /// "Error: Attribute failed policy validation.", `a:b` "RTNETLINK answers: Invalid argument".
    func checkNetlinkName(_ n: String) throws {
        if n.utf8.count > NetNamespace.maxNameLength { throw KernelError(.EINVAL, "Attribute failed policy validation") }
        guard validName(n) else { throw KernelError(.EINVAL) }
    }

    /// Kernel: dev_alloc_name(): "veth%d" takes the lowest free number; `skipping` free
    /// numbers that a device registered first will take.
    public func allocateName(_ pattern: String, skipping: Int = 0) -> String {
        let parts = pattern.split(separator: "%", maxSplits: 1)
        let head = String(parts[0]), tail = String(parts.count > 1 ? parts[1].dropFirst() : "")
        var i = 0
        var skip = skipping
        while true {
            if device(named: head + String(i) + tail) == nil {
                if skip == 0 { break }
                skip -= 1
            }
            i += 1
        }
        return head + String(i) + tail
    }

    // MARK: - Links

    /// Kernel: rtnl_newlink() -> veth_newlink() / br_dev_newlink().
    func linkAdd(name: String, kind: LinkKind, address: MACAddress?, mtu: Int?) throws {
        try checkNetlinkName(name)
        if device(named: name) != nil { throw KernelError(.EEXIST) }
        if let a = address, a.isMulticast || a.isZero { throw KernelError(.EADDRNOTAVAIL) }
        // Kernel: veth_validate() refuses an MTU outside 68...65535 with a bare EINVAL; for a
        // bridge, dev_validate_mtu() in rtnl_create_link() says which bound it broke.
        // (vxlan_newlink() checks its own range against the lower device.)
        if let m = mtu, case .veth = kind, !(68...65535).contains(m) { throw KernelError(.EINVAL) }
        if let m = mtu, case .bridge = kind, !(68...65535).contains(m) {
            throw KernelError(.EINVAL, m > 65535 ? "mtu greater than device maximum." : "mtu less than device minimum.")
        }
        switch kind {
        case let .veth(peerName, peerNS, peerAddress):
            let pns = peerNS ?? self
            let pname = peerName ?? pns.allocateName("veth%d")
            try checkNetlinkName(pname)
            if pns.device(named: pname) != nil || (pns === self && pname == name) { throw KernelError(.EEXIST) }
            // The peer is registered first, so it gets the lower ifindex (veth_newlink()).
            let peer = VethDevice(name: pname, namespace: pns, mac: peerAddress ?? machine.randomMAC())
            if peerAddress != nil { peer.addrAssignType = .set }
            let dev = VethDevice(name: name, namespace: self, mac: address ?? machine.randomMAC())
            if address != nil { dev.addrAssignType = .set }
            // The MTU is the new device's attribute; the peer takes only its own (tbp in
            // veth_newlink(); observed on Linux 6.18: the peer stays at 1500).
            if let m = mtu { dev.mtu = m }
            pns.register(peer, preferredIndex: nil)
            register(dev, preferredIndex: nil)
            dev.peer = peer
            peer.peer = dev
            // veth_newlink() turns both carriers off; linkwatch computes the operstate while
            // both ends are still in one namespace.
            peer.setCarrier(false, force: true)
            dev.setCarrier(false, force: true)
            if pns !== self {
                peerID(for: pns)
                pns.peerID(for: self)
            }
            kernel.trace(self, dev, .rx, "veth pair \(name) <-> \(pname) created")
        case .bridge:
            let br = BridgeDevice(name: name, namespace: self, mac: address ?? machine.randomMAC())
            if address != nil { br.addrAssignType = .set }
            // rtnl_create_link() sets the MTU directly, not through br_change_mtu(): the bridge
            // still follows its ports (observed on Linux 6.18: `ip link add br0 mtu 9000 type
            // bridge`, then a 1500-byte port joins, and br0 is at 1500).
            if let m = mtu { br.mtu = m }
            register(br, preferredIndex: nil)
            // A new bridge has carrier but no operstate change yet: UNKNOWN once up.
            br.carrier = true
            br.fdb.insert(br.mac, port: nil, isLocal: true, isStatic: true, now: machine.jiffiesNow)
            kernel.trace(self, br, .rx, "bridge \(name) created")
        case let .vxlan(cfg):
            _ = try vxlanNewlink(name: name, config: cfg, address: address, mtu: mtu)
        }
    }

    /// Kernel: rtnl_dellink(); lo cannot be deleted.
    func linkDelete(_ dev: NetDevice) throws {
        if dev.isLoopback { throw KernelError(.ENOTSUP) }
        unregister(dev)
    }

    /// Kernel: do_setlink().
    func linkSet(_ dev: NetDevice, _ c: LinkChange) throws {
        // Validate everything first so that a failure changes nothing.
        var target = self
        if let ns = c.namespace, ns !== self {
            if dev.isLoopback { throw KernelError(.EINVAL) }
            if ns.device(named: c.name ?? dev.name) != nil { throw KernelError(.EEXIST) }
            target = ns
        }
        if let n = c.name, n != dev.name {
            try checkNetlinkName(n)
            if target.device(named: n) != nil { throw KernelError(.EEXIST) }
        }
        if let a = c.address, a.isMulticast || a.isZero { throw KernelError(.EADDRNOTAVAIL) }
        if let m = c.mtu, !dev.mtuRange.contains(m) {
            throw KernelError(.EINVAL, m > dev.mtuRange.upperBound
                ? "mtu greater than device maximum." : "mtu less than device minimum.")
        }
        // Kernel: dev_set_mtu() does nothing for the current MTU, so setting a bridge to the
        // MTU it already has does not pin it (BROPT_MTU_SET_BY_USER stays clear).
        let newMTU = c.mtu.flatMap { $0 != dev.mtu ? $0 : nil }
        if let m = newMTU { try dev.changeMTU(m) }
        if case let .set(master)? = c.master {
            guard let br = master as? BridgeDevice else { throw KernelError(.ENOTSUP) }
            if dev.master !== br {
                if dev.isLoopback { throw KernelError(.EINVAL) }
                if dev is BridgeDevice { throw KernelError(.ELOOP, "Can not enslave a bridge to a bridge") }
            }
        }

        if let ns = c.namespace, ns !== self { moveDevice(dev, to: ns) }
        let home = dev.namespace
        if let n = c.name, n != dev.name { home.rename(dev, to: n) }
        if let a = c.address, a != dev.mac {
            if let br = dev as? BridgeDevice {
                br.setMAC(a, assign: .set)
            } else {
                if let br = dev.master, let p = br.port(for: dev) {
                    br.fdb.remove(dev.mac)
                    br.fdb.insert(a, port: p, isLocal: true, isStatic: true, now: machine.jiffiesNow)
                }
                dev.mac = a
                dev.addrAssignType = .set
                dev.master?.recalculateBridgeID()
            }
        }
        if let m = newMTU {
            dev.mtu = m
            if let br = dev as? BridgeDevice { br.mtuSetExplicitly = true }
            dev.master?.adjustMTU()
        }
        if let q = c.txQueueLen { dev.txQueueLen = q }
        if let master = c.master {
            switch master {
            case let .set(m):
                if dev.master !== m {
                    dev.master?.removePort(dev)
                    try (m as! BridgeDevice).addPort(dev)
                }
            case .none:
                dev.master?.removePort(dev)
            }
        }
        if let p = c.promisc { home.setUserPromisc(dev, p) }
        if let a = c.arp, a == dev.noARP {
            dev.noARP = !a
            // Kernel: NETDEV_CHANGE with IFF_NOARP flips: arp_ifdown() drops the entries.
            home.neighbours.flush(device: dev)
        }
        if let m = c.multicast { dev.multicastOff = !m }
        if let a = c.allMulticast { dev.userAllMulti = a }
        if let up = c.up {
            // Kernel: __dev_open(): ndo_open can still refuse, after the other changes.
            if up && !dev.adminUp { try dev.openCheck() }
            home.setUp(dev, up)
        }
    }

    /// Kernel: dev_change_flags(IFF_UP): dev_open() / dev_close() and the notifiers.
    public func setUp(_ dev: NetDevice, _ up: Bool) {
        guard dev.adminUp != up else { return }
        dev.adminUp = up
        kernel.trace(self, dev, .rx, up ? "up" : "down")
        if up {
            dev.everUp = true
            dev.didOpen()
            if dev.isLoopback { loopbackUp(dev) }
        } else {
            dev.didStop()
        }
        deviceStateChanged(dev)
    }

    func setUserPromisc(_ dev: NetDevice, _ on: Bool) {
        guard dev.userPromisc != on else { return }
        dev.userPromisc = on
        dev.promiscuity += on ? 1 : -1
    }

    /// Kernel: dev_change_net_namespace(): the device goes down, loses its addresses, routes,
    /// neighbours and master, and arrives in `ns` keeping its ifindex when that is free there.
    func moveDevice(_ dev: NetDevice, to ns: NetNamespace) {
        if dev.adminUp { setUp(dev, false) }
        dev.master?.removePort(dev)
        for a in dev.addresses { fib.removeInterfaceAddress(a, from: dev) }
        dev.addresses.removeAll()
        fib.deviceGone(dev)
        neighbours.flush(device: dev)
        unlink(dev)
        ns.register(dev, preferredIndex: dev.ifindex)
        dev.neighParms = NeighbourParms(defaults: ns.ipv4.neighDefault, machine: ns.machine)
        dev.ipv4Conf = ns.ipv4.defaultConf
        if let v = dev as? VethDevice, let p = v.peer {
            ns.peerID(for: p.namespace)
            p.namespace.peerID(for: ns)
        } else if let l = dev.linkNetNamespace {
            // The notifications of the move name the namespaces: RTM_DELLINK in the old one
            // (IFLA_NEW_NETNSID), RTM_NEWLINK in the new one (IFLA_LINK_NETNSID of a vxlan
            // device's sockets); observed on Linux 6.18 as the ids `ip` then prints.
            peerID(for: ns)
            ns.peerID(for: l)
        }
        kernel.trace(ns, dev, .rx, "moved from \(displayName) to \(ns.displayName)")
    }
}

// MARK: - FDB requests (rtnl_fdb_add / rtnl_fdb_del)

extension NetNamespace {
    /// Kernel: rtnl_fdb_add(): Ethernet devices only; without flags or with NTF_MASTER on a
    /// bridge port, the bridge's FDB (br_fdb_add()); with NTF_SELF, the device's own
    /// (vxlan_fdb_add(), or ndo_dflt_fdb_add() and its unicast list); neither: EOPNOTSUPP.
    func fdbAdd(_ dev: NetDevice, _ r: FDBRequest, mode: FDBAddMode) throws {
        guard dev.linkTypeName == "ether", !dev.isLoopback else {
            throw KernelError(.EINVAL, "FDB add only supported for Ethernet devices")
        }
        var flags = r.flags
        var done = false
        if flags.isEmpty || flags.contains(.master), let br = dev.master, let p = br.port(for: dev) {
            try bridgeFDBAdd(br, port: p, r, mode: mode)
            flags.remove(.master)
            done = true
        }
        if flags.contains(.self) {
            if let vx = dev as? VXLANDevice {
                try vx.fdbAdd(r, mode: mode)
            } else if let br = dev as? BridgeDevice {
                try bridgeFDBAdd(br, port: nil, r, mode: mode)
            } else {
                try defaultFDBAdd(dev, r, mode: mode)
            }
            done = true
        }
        if !done { throw KernelError(.ENOTSUP) }
    }

    /// Kernel: rtnl_fdb_del(), the same dispatch as rtnl_fdb_add().
    func fdbDelete(_ dev: NetDevice, _ r: FDBRequest) throws {
        guard dev.linkTypeName == "ether", !dev.isLoopback else {
            throw KernelError(.EINVAL, "FDB delete only supported for Ethernet devices")
        }
        var flags = r.flags
        var done = false
        if flags.isEmpty || flags.contains(.master), let br = dev.master, let p = br.port(for: dev) {
            // br_fdb_delete(): the entry must be behind this port.
            guard let e = br.fdb.find(r.mac), e.port === p else { throw KernelError(.ENOENT) }
            br.fdb.remove(r.mac)
            flags.remove(.master)
            done = true
        }
        if flags.contains(.self) {
            if let vx = dev as? VXLANDevice {
                try vx.fdbDelete(r)
            } else if let br = dev as? BridgeDevice {
                guard let e = br.fdb.find(r.mac), e.port == nil else { throw KernelError(.ENOENT) }
                br.fdb.remove(r.mac)
            } else {
                // ndo_dflt_fdb_del(): only permanent addresses, from the unicast list.
                guard r.state.contains(.permanent) else { throw KernelError(.EINVAL) }
                if r.mac.isMulticast {
                    guard let i = dev.userMulticastAddresses.firstIndex(of: r.mac) else { throw KernelError(.ENOENT) }
                    dev.userMulticastAddresses.remove(at: i)
                } else {
                    guard let i = dev.unicastAddresses.firstIndex(of: r.mac) else { throw KernelError(.ENOENT) }
                    dev.unicastAddresses.remove(at: i)
                }
            }
            done = true
        }
        if !done { throw KernelError(.ENOTSUP) }
    }

    /// Kernel: ndo_dflt_fdb_add(): permanent unicast addresses go on the device's unicast list
    /// (dev_uc_add_excl(): EEXIST only matters to NLM_F_EXCL), multicast ones on its multicast
    /// list (dev_mc_add_excl(); observed on Linux 6.18: `bridge fdb add 01:00:5e:00:00:09 dev
    /// veth0 self` lists it after 33:33:00:00:00:01).
    private func defaultFDBAdd(_ dev: NetDevice, _ r: FDBRequest, mode: FDBAddMode) throws {
        if r.state != .none && !r.state.contains(.permanent) { throw KernelError(.EINVAL) }
        if r.mac.isMulticast {
            if dev.multicastAddresses.contains(r.mac) {
                if mode == .add { throw KernelError(.EEXIST) }
                return
            }
            dev.userMulticastAddresses.append(r.mac)
            return
        }
        if dev.unicastAddresses.contains(r.mac) {
            if mode == .add { throw KernelError(.EEXIST) }
            return
        }
        dev.unicastAddresses.append(r.mac)
    }

    /// Kernel: br_fdb_add() -> fdb_add_entry() in net/bridge/br_fdb.c: NUD_PERMANENT makes a
    /// local entry, NUD_NOARP a static one; the bridge device itself takes permanent ones only.
    /// An existing entry is changed in place (it keeps its place in the dump): its port, and
    /// local/static from the state; observed on Linux 6.18: `bridge fdb replace MAC dev veth0
    /// master static` turns a permanent entry into a static one without moving it.
    private func bridgeFDBAdd(_ br: BridgeDevice, port: BridgePort?, _ r: FDBRequest, mode: FDBAddMode) throws {
        guard !r.state.isDisjoint(with: [.permanent, .noARP, .reachable]), !r.mac.isZero else { throw KernelError(.EINVAL) }
        // Without VLAN filtering no VLAN is configured: br_fdb_add() refuses any vid.
        if let v = r.vlan, v != 0 { throw KernelError(.EINVAL) }
        if port == nil && !r.state.contains(.permanent) { throw KernelError(.EINVAL) }
        let local = r.state.contains(.permanent)
        let isStatic = local || r.state.contains(.noARP)
        let now = machine.jiffiesNow
        guard let e = br.fdb.find(r.mac) else {
            br.fdb.insert(r.mac, port: port, isLocal: local, isStatic: isStatic, now: now)
            return
        }
        if mode == .add { throw KernelError(.EEXIST) }
        var modified = false
        if e.port !== port { e.port = port; modified = true }
        if e.isLocal != local || e.isStatic != isStatic {
            e.isLocal = local
            e.isStatic = isStatic
            modified = true
        }
        e.used = now
        if modified { e.updated = now }
    }
}
