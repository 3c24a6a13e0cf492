// Devinet: net/ipv4/devinet.c. IPv4 addresses on devices: primary and secondary addresses,
// labels, scopes, lo's automatic 127.0.0.1/8, and the source-address choice every locally
// generated packet makes.
// Guarantees: adding an existing address fails with EEXIST; the first address of a subnet is
// primary and later ones in it are secondary; deleting a primary deletes its secondaries
// (promote_secondaries is 0 in a new namespace; with it, the first secondary is promoted);
// routes preferring a deleted address as source go, and so does every route through a device
// that lost its last address.

import SimCore
import Wire

extension NetNamespace {
    /// Kernel: inet_rtm_newaddr() -> __inet_insert_ifa().
    public func addAddress(_ prefix: IPv4Prefix, broadcast: IPv4Address?, scope: RouteScope?, label: String?, to dev: NetDevice) throws {
        let newScope = scope ?? (prefix.address.isLoopback ? .host : .universe)
        // Kernel: __inet_insert_ifa(): an address in the subnet of one with the same mask is
        // secondary; a new primary goes after the last primary of the same or a wider scope
        // number (so host and link scope primaries stay before global ones); secondaries go last.
        var secondary = false
        var insertAt = 0
        for (i, a) in dev.addresses.enumerated() {
            if !a.secondary && newScope.rawValue <= a.scope.rawValue { insertAt = i + 1 }
            if a.prefixLength == prefix.length && a.prefix.contains(prefix.address) {
                if a.local == prefix.address { throw KernelError(.EEXIST) }
                if a.scope != newScope { throw KernelError(.EINVAL) }
                secondary = true
            }
        }
        let a = InetAddress(local: prefix.address, prefixLength: prefix.length, broadcast: broadcast,
                            scope: newScope, label: label ?? dev.name, secondary: secondary)
        dev.addresses.insert(a, at: secondary ? dev.addresses.count : insertAt)
        fib.addInterfaceAddress(a, on: dev)
        kernel.trace(self, dev, .route, "address \(prefix) added")
    }

    /// Kernel: inet_rtm_deladdr() -> __inet_del_ifa().
    public func deleteAddress(_ prefix: IPv4Prefix, from dev: NetDevice) throws {
        guard let i = dev.addresses.firstIndex(where: { $0.local == prefix.address && $0.prefixLength == prefix.length }) else {
            throw KernelError(.EADDRNOTAVAIL)
        }
        let a = dev.addresses.remove(at: i)
        var removed = [a]
        var promoted: InetAddress?
        if !a.secondary {
            let subnet = a.prefix.masked
            func sameSubnet(_ x: InetAddress) -> Bool { x.secondary && x.prefixLength == a.prefixLength && x.prefix.masked == subnet }
            if ipv4.allConf.promoteSecondaries != 0 || dev.ipv4Conf.promoteSecondaries != 0 {
                // The first secondary takes the primary's place.
                if let j = dev.addresses.firstIndex(where: sameSubnet) {
                    var p = dev.addresses.remove(at: j)
                    p.secondary = false
                    dev.addresses.insert(p, at: min(i, dev.addresses.count))
                    promoted = p
                }
            } else {
                removed += dev.addresses.filter(sameSubnet)
                dev.addresses.removeAll(where: sameSubnet)
            }
        }
        for r in removed {
            fib.removeInterfaceAddress(r, from: dev)
            // Kernel: fib_del_ifaddr() -> fib_sync_down_addr(): once the address is nowhere
            // local, every route that prefers it as source goes, in any table.
            if !isLocalAddress(r.local) {
                fib.removeAll { $0.preferredSource == r.local }
            }
        }
        if let p = promoted {
            // Kernel: __inet_del_ifa(): the promoted address and the other secondaries of its
            // subnet get their routes again, now with it as preferred source.
            fib.addInterfaceAddress(p, on: dev)
            for x in dev.addresses where x.secondary && x.prefix.masked == p.prefix.masked {
                fib.addInterfaceAddress(x, on: dev)
            }
        }
        if dev.addresses.isEmpty {
            // Kernel: fib_inetaddr_event(): the last address gone disables IP on the device
            // (fib_disable_ip(): every route through it goes, gateway routes too).
            fib.removeAll { $0.device === dev }
        }
    }

    /// Removes every address of a device (`ip addr flush dev X`).
    public func flushAddresses(_ dev: NetDevice) {
        while let a = dev.addresses.last {
            try? deleteAddress(a.prefix, from: dev)
        }
    }

    /// Kernel: inetdev_event(NETDEV_UP) for loopback: lo gets 127.0.0.1/8 scope host.
    func loopbackUp(_ lo: NetDevice) {
        guard !lo.addresses.contains(where: { $0.local == IPv4Address(127, 0, 0, 1) }) else {
            fib.deviceUp(lo)
            return
        }
        try? addAddress(IPv4Prefix(address: IPv4Address(127, 0, 0, 1), length: 8), broadcast: nil,
                        scope: .host, label: "lo", to: lo)
    }

    /// Kernel: inet_addr_type(): is `a` one of this namespace's local addresses?
    public func isLocalAddress(_ a: IPv4Address) -> Bool {
        if let r = fib.lookup(a, table: RouteTable.local, oif: nil), r.type == .local { return true }
        return false
    }

    /// Kernel: inet_select_addr(): a primary address of `dev` with scope <= `scope`, preferring
    /// one on the same subnet as `dst`; else any suitable address in the namespace.
    public func selectSourceAddress(dev: NetDevice?, dst: IPv4Address, scope: RouteScope) -> IPv4Address? {
        if let dev {
            var first: IPv4Address?
            for a in dev.addresses where !a.secondary && a.scope <= scope {
                if a.prefix.contains(dst) { return a.local }
                if first == nil { first = a.local }
            }
            if let f = first { return f }
        }
        for d in devices {
            for a in d.addresses where !a.secondary && a.scope < .link && a.scope <= scope {
                return a.local
            }
        }
        return nil
    }
}
