// Route: net/ipv4/fib_frontend.c, fib_trie.c, fib_semantics.c. The FIB of one namespace: the
// local and main tables, looked up as the default policy rules do (local, then main, then
// default), longest prefix first, then lowest metric.
// Guarantees: the routes `ip addr add` and device up/down create and remove are exactly the
// kernel's (fib_add_ifaddr / fib_del_ifaddr / fib_sync_down_dev); lookups never depend on
// insertion into a hash.
// Leaves out: policy rules beyond the defaults, multipath, route caching, IPv6.

import SimCore
import Wire

/// Kernel: RTN_* route types.
public enum RouteType: String, Sendable {
    case unicast, local, broadcast, anycast, multicast, blackhole, unreachable, prohibit
    case throwRoute = "throw"
}

/// Kernel: RT_SCOPE_*.
public enum RouteScope: UInt8, Sendable, Comparable {
    case universe = 0, site = 200, link = 253, host = 254, nowhere = 255
    /// The word iproute2 prints ("global" for universe).
    public var name: String {
        switch self {
        case .universe: return "global"
        case .site: return "site"
        case .link: return "link"
        case .host: return "host"
        case .nowhere: return "nowhere"
        }
    }
    public static func < (a: RouteScope, b: RouteScope) -> Bool { a.rawValue < b.rawValue }
}

/// Kernel: RTPROT_*: any number 0-255; the named ones are iproute2's rt_protos.
public struct RouteProtocol: RawRepresentable, Hashable, Sendable {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }
    public static let unspec = RouteProtocol(rawValue: 0)
    public static let redirect = RouteProtocol(rawValue: 1)
    public static let kernel = RouteProtocol(rawValue: 2)
    public static let boot = RouteProtocol(rawValue: 3)
    public static let staticRoute = RouteProtocol(rawValue: 4)
    public static let dhcp = RouteProtocol(rawValue: 16)

    /// iproute2's /etc/iproute2/rt_protos, in number order.
    public static let names: [(UInt8, String)] = [
        (0, "unspec"), (1, "redirect"), (2, "kernel"), (3, "boot"), (4, "static"), (8, "gated"),
        (9, "ra"), (10, "mrt"), (11, "zebra"), (12, "bird"), (13, "dnrouted"), (14, "xorp"),
        (15, "ntk"), (16, "dhcp"), (18, "keepalived"), (42, "babel"), (99, "openr"), (186, "bgp"),
        (187, "isis"), (188, "ospf"), (189, "rip"), (192, "eigrp"),
    ]

    /// The word iproute2 prints: the table's name, else the number.
    public var name: String { Self.names.first { $0.0 == rawValue }?.1 ?? String(rawValue) }
}

public enum RouteTable {
    public static let local: UInt32 = 255
    public static let main: UInt32 = 254
    public static let defaultTable: UInt32 = 253
}

public struct Route {
    public var table: UInt32 = RouteTable.main
    public var type: RouteType = .unicast
    /// Destination with host bits cleared.
    public var destination: IPv4Prefix
    public var gateway: IPv4Address?
    public var device: NetDevice?
    public var scope: RouteScope = .universe
    public var proto: RouteProtocol = .boot
    public var preferredSource: IPv4Address?
    public var metric: UInt32 = 0
    public var onlink = false

    public init(destination: IPv4Prefix, device: NetDevice?) {
        self.destination = destination.masked
        self.device = device
    }

    /// Kernel: RTNH_F_LINKDOWN: the nexthop's device has no carrier.
    public var isLinkDown: Bool {
        guard let d = device, type == .unicast || type == .broadcast else { return false }
        return !d.carrier
    }
}

/// What a lookup found (Kernel: struct fib_result).
public struct FibResult {
    public let route: Route
    public var type: RouteType { route.type }
    public var device: NetDevice? { route.device }
}

public final class FIB {
    unowned(unsafe) var namespace: NetNamespace!
    /// Routes per table, in the order they were added.
    public private(set) var tables: [(id: UInt32, routes: [Route])] = [(RouteTable.local, []), (RouteTable.main, [])]

    public func routes(in table: UInt32) -> [Route] { tables.first { $0.id == table }?.routes ?? [] }

    private func withTable(_ id: UInt32, _ body: (inout [Route]) -> Void) {
        if let i = tables.firstIndex(where: { $0.id == id }) {
            body(&tables[i].routes)
        } else {
            var r: [Route] = []
            body(&r)
            tables.append((id, r))
        }
    }

    private static func sameKey(_ a: Route, _ b: Route) -> Bool {
        a.destination == b.destination && a.metric == b.metric && a.table == b.table && a.type == b.type
            && a.device === b.device && a.gateway == b.gateway
    }

    /// Whether table `id` exists: local and main always; another once a route was added to it
    /// (Kernel: fib_get_table(); fib_new_table() makes one, and it stays until the namespace goes).
    public func hasTable(_ id: UInt32) -> Bool { tables.contains { $0.id == id } }

    /// Kernel: fib_table_insert(). Against a route of the same destination and metric (and TOS):
    /// `add` (NLM_F_EXCL) fails with EEXIST, `replace` swaps the first one, `change` too but
    /// fails with ENOENT when there is none (no NLM_F_CREATE), `append` goes after and
    /// `prepend` before them unless the same route exists already (EEXIST).
    public func add(_ r: Route, mode: RouteAddMode = .add) throws {
        var err: KernelError?
        withTable(r.table) { routes in
            if let i = routes.firstIndex(where: { $0.destination == r.destination && $0.metric == r.metric }) {
                switch mode {
                case .replace, .change: routes[i] = r
                case .add: err = KernelError(.EEXIST)
                case .append, .prepend:
                    let same = routes.indices.filter { routes[$0].destination == r.destination && routes[$0].metric == r.metric }
                    if same.contains(where: { FIB.sameKey(routes[$0], r) }) { err = KernelError(.EEXIST); return }
                    if mode == .prepend { routes.insert(r, at: i) } else { routes.insert(r, at: same.last! + 1) }
                }
                return
            }
            if mode == .change { err = KernelError(.ENOENT); return }
            routes.append(r)
        }
        if let err { throw err }
        namespace.kernel.trace(namespace, r.device, .route, "add \(r.destination) table \(r.table)")
    }

    /// Adds a route; EEXIST when the same destination, metric (and TOS) exists, as
    /// fib_table_insert() answers NLM_F_EXCL. `replace` swaps it instead.
    public func add(_ r: Route, replace: Bool = false, append: Bool = false) throws {
        try add(r, mode: replace ? .replace : (append ? .append : .add))
    }

    /// Deletes the first route matching the given fields (nil fields match anything).
    /// Kernel: fib_table_delete(): a protocol or scope given must match too; a table that
    /// does not exist is its own error.
    public func delete(destination: IPv4Prefix, table: UInt32 = RouteTable.main, device: NetDevice? = nil,
                       gateway: IPv4Address? = nil, metric: UInt32? = nil, type: RouteType? = nil,
                       proto: RouteProtocol? = nil, scope: RouteScope? = nil) throws {
        guard let t = tables.firstIndex(where: { $0.id == table }) else {
            throw KernelError(.ESRCH, "FIB table does not exist")
        }
        guard let i = tables[t].routes.firstIndex(where: { r in
            r.destination == destination.masked && (device == nil || r.device === device)
                && (gateway == nil || r.gateway == gateway) && (metric == nil || r.metric == metric)
                && (type == nil || r.type == type) && (proto == nil || r.proto == proto)
                && (scope == nil || r.scope == scope)
        }) else { throw KernelError(.ESRCH) }
        tables[t].routes.remove(at: i)
    }

    /// Deletes every route of table `id` that `match` accepts (what `ip route flush` asks
    /// for, one RTM_DELROUTE per dumped route).
    public func flush(table id: UInt32?, where match: (Route) -> Bool) {
        for t in tables.indices where id == nil || tables[t].id == id {
            tables[t].routes.removeAll(where: match)
        }
    }

    func removeAll(where pred: (Route) -> Bool) {
        for i in tables.indices { tables[i].routes.removeAll(where: pred) }
    }

    // MARK: - Lookup

    /// Kernel: fib_lookup() with the default rules: local, main, default. `minimumScope`
    /// is flowi4_scope: routes of a wider scope (a smaller number) do not match.
    public func lookup(_ dst: IPv4Address, oif: NetDevice? = nil, minimumScope: RouteScope = .universe) -> FibResult? {
        for id in [RouteTable.local, RouteTable.main, RouteTable.defaultTable] {
            if let r = lookup(dst, table: id, oif: oif, minimumScope: minimumScope) { return FibResult(route: r) }
        }
        return nil
    }

    /// Kernel: fib_table_lookup(): longest prefix, then lowest metric, skipping dead nexthops.
    func lookup(_ dst: IPv4Address, table id: UInt32, oif: NetDevice?, minimumScope: RouteScope = .universe) -> Route? {
        for t in tables.indices where tables[t].id == id {
            return tables[t].routes.withUnsafeBufferPointer { routes -> Route? in
                var best = -1
                for i in routes.indices where routes[i].destination.contains(dst) {
                    if let o = oif, let d = routes[i].device, d !== o, routes[i].type != .local { continue }
                    if routes[i].scope < minimumScope { continue }
                    if best < 0 { best = i; continue }
                    let r = routes[i].destination.length, b = routes[best].destination.length
                    if r > b || (r == b && routes[i].metric < routes[best].metric) { best = i }
                }
                return best < 0 ? nil : routes[best]
            }
        }
        return nil
    }

    // MARK: - Routes that follow addresses and devices

    /// Kernel: fib_add_ifaddr().
    func addInterfaceAddress(_ ifa: InetAddress, on dev: NetDevice) {
        let prim = dev.addresses.first { !$0.secondary && $0.prefix.contains(ifa.local) }?.local ?? ifa.local
        var local = Route(destination: IPv4Prefix(address: ifa.local, length: 32), device: dev)
        local.table = RouteTable.local
        local.type = .local
        local.scope = .host
        local.proto = .kernel
        local.preferredSource = prim
        addKernelRoute(local)
        guard dev.adminUp else { return }
        if let b = ifa.broadcast, b != .broadcast {
            addKernelRoute(broadcastRoute(b, dev: dev, src: prim))
        }
        let prefix = ifa.prefix.masked
        if !prefix.address.isZero && !ifa.secondary && (prefix.address != ifa.local || ifa.prefixLength < 32) {
            var net = Route(destination: prefix, device: dev)
            net.type = dev.isLoopback ? .local : .unicast
            net.table = dev.isLoopback ? RouteTable.local : RouteTable.main
            net.scope = dev.isLoopback ? .host : .link
            net.proto = .kernel
            net.preferredSource = prim
            addKernelRoute(net)
            if ifa.prefixLength < 31 {
                addKernelRoute(broadcastRoute(ifa.prefix.broadcast, dev: dev, src: prim))
            }
        }
    }

    private func broadcastRoute(_ b: IPv4Address, dev: NetDevice, src: IPv4Address) -> Route {
        var r = Route(destination: IPv4Prefix(address: b, length: 32), device: dev)
        r.table = RouteTable.local
        r.type = .broadcast
        r.scope = .link
        r.proto = .kernel
        r.preferredSource = src
        return r
    }

    private func addKernelRoute(_ r: Route) {
        withTable(r.table) { routes in
            if routes.contains(where: { $0.destination == r.destination && $0.type == r.type && $0.device === r.device && $0.metric == r.metric }) { return }
            routes.append(r)
        }
    }

    /// Kernel: fib_del_ifaddr(): the address's routes go, unless another address still needs them.
    func removeInterfaceAddress(_ ifa: InetAddress, from dev: NetDevice) {
        let others = namespace.devices.flatMap { $0.addresses }
        removeAll { r in
            guard r.device === dev, r.proto == .kernel else { return false }
            if r.type == .local && r.destination.length == 32 && r.destination.address == ifa.local {
                return !others.contains { $0.local == ifa.local }
            }
            if r.type == .broadcast {
                let stillUsed = dev.addresses.contains { a in
                    a.broadcast == r.destination.address || (a.prefixLength < 31 && a.prefix.broadcast == r.destination.address)
                }
                return !stillUsed
            }
            if r.destination == ifa.prefix.masked && !ifa.secondary {
                return !dev.addresses.contains { !$0.secondary && $0.prefix.masked == ifa.prefix.masked }
            }
            return false
        }
    }

    /// Kernel: NETDEV_UP: every address's routes are (re)installed.
    func deviceUp(_ dev: NetDevice) {
        for a in dev.addresses { addInterfaceAddress(a, on: dev) }
    }

    /// Kernel: fib_disable_ip() on NETDEV_DOWN: routes through the device die; the local
    /// routes of its addresses stay (an address on a down device is still local).
    func deviceDown(_ dev: NetDevice) {
        removeAll { r in r.device === dev && !(r.table == RouteTable.local && r.type == .local && r.proto == .kernel) }
    }

    /// Kernel: NETDEV_UNREGISTER: everything through the device goes.
    func deviceGone(_ dev: NetDevice) {
        removeAll { $0.device === dev }
    }
}

// MARK: - Route requests (RTM_NEWROUTE / SIOCADDRT)

public enum RouteAddMode: Sendable { case add, replace, append, change, prepend }

extension NetNamespace {
    /// Kernel: inet_rtm_newroute() / ip_rt_ioctl() -> fib_create_info() -> fib_table_insert().
    /// Validates the route as the kernel does and completes it (a gateway's device, the
    /// default scope) before inserting it.
    public func addRoute(_ route: Route, mode: RouteAddMode = .add) throws {
        var r = route
        if r.type == .unicast {
            guard r.device != nil || r.gateway != nil else { throw KernelError(.ENODEV) }
            if let g = r.gateway {
                if r.onlink {
                    guard r.device != nil else { throw KernelError(.EINVAL, "Nexthop device required for onlink") }
                } else {
                    // Kernel: fib_check_nh_v4_gw(): the gateway must be on a link: only routes
                    // of narrower scope than the new one (link, host) count.
                    // The route's own table first, then the whole lookup (so a gateway that
                    // is one of this host's addresses goes through its device, not lo).
                    let found0 = fib.lookup(g, table: r.table, oif: r.device, minimumScope: .link)
                        ?? fib.lookup(g, oif: r.device, minimumScope: .link)?.route
                    guard let found = found0 else {
                        throw KernelError(.ENETUNREACH, "Nexthop has invalid gateway")
                    }
                    guard found.type == .unicast || found.type == .local else {
                        throw KernelError(.EINVAL, "Nexthop has invalid gateway")
                    }
                    if r.device == nil { r.device = found.type == .local ? loopback : found.device }
                }
            }
            // fib_check_nh_v4_gw() and fib_check_nh_nongw() word it differently.
            if let d = r.device, !d.adminUp {
                throw KernelError(.ENETDOWN, r.gateway != nil ? "Nexthop device is not up" : "Device for nexthop is not up")
            }
        }
        if let s = r.preferredSource, !isLocalAddress(s) { throw KernelError(.EINVAL, "Invalid prefsrc address") }
        try fib.add(r, mode: mode)
    }
}
