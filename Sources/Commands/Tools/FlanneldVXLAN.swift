// FlanneldVXLAN: flannel's vxlan backend (pkg/backend/vxlan). RegisterNetwork() creates
// flannel.<VNI> (VNI 1 by default) before it takes the lease: vxlan id 1, local <public IP>,
// dev <iface>, nolearning, no dstport (the kernel's default, 8472), MTU iface MTU - 50, a
// random locally administered MAC set explicitly (mac.NewHardwareAddr()); the lease's
// BackendData is {"VNI":1,"VtepMAC":"<that MAC>"}. Then the device gets the lease's network
// address as a /32 (other addresses inside the network removed) and comes up. For every
// other machine's vxlan lease (handleSubnetEvents(), in that order, each with NeighSet /
// RouteReplace semantics):
//   ip neigh replace 10.244.Y.0 lladdr <VtepMAC> dev flannel.1 nud permanent
//   bridge fdb replace <VtepMAC> dev flannel.1 dst <PublicIP> self permanent
//   ip route replace 10.244.Y.0/24 via 10.244.Y.0 dev flannel.1 onlink
// and the reverse when a lease goes away. subnet.env's MTU is the interface MTU - 50.
// Leaves out: DirectRouting, GBP, IPv6, recreating a deleted flannel.1.

import SimCore
import NetKernel
import Wire

func makeVXLANBackend(daemon: Flanneld, ext: FlannelExternalInterface) -> FlannelBackend? {
    FlannelVXLANBackend(daemon: daemon, ext: ext)
}

final class FlannelVXLANBackend: FlannelBackend {
    /// pkg/backend/vxlan encapOverhead.
    static let encapOverhead = 50

    unowned let daemon: Flanneld
    let ext: FlannelExternalInterface
    private(set) var device: NetDevice?
    private var vni = 1
    /// VXLANConfig.MTU: the interface's MTU unless the config names one.
    private var configMTU: Int

    init(daemon: Flanneld, ext: FlannelExternalInterface) {
        self.daemon = daemon
        self.ext = ext
        configMTU = ext.device.mtu
    }

    var mtu: Int { configMTU - FlannelVXLANBackend.encapOverhead }

    func register(config: FlannelNetworkConfig) throws -> FlannelLease {
        var port: UInt16 = 0
        var learning = false
        // parseVXLANConfig(): Go matches "VNI", "vni", "Vni"... alike.
        if let b = config.backend {
            func int(_ key: String) throws -> Int? {
                guard let v = b.member(key), v != .null else { return nil }
                guard case let .number(t) = v, let n = Int(t) else {
                    throw FlannelBackendError(message: "error decoding VXLAN backend config: json: cannot unmarshal \(v.goKind) into Go struct field VXLANConfig.\(key.lowercased()) of type int")
                }
                return n
            }
            if let n = try int("VNI") { vni = n }
            if let n = try int("Port") { port = UInt16(truncatingIfNeeded: n) }
            if let n = try int("MTU") { configMTU = n }
            if case let .bool(l)? = b.member("Learning") { learning = l }
        }
        let ns = daemon.ctx.namespace
        let name = "flannel.\(vni)"
        // newVXLANDevice() -> ensureLink(): an existing compatible device is kept.
        let dev: NetDevice
        if let existing = ns.device(named: name) {
            dev = existing
        } else {
            var cfg = VXLANConfig(vni: UInt32(truncatingIfNeeded: vni), dstPort: port, local: ext.externalAddress,
                                  lowerDevice: ext.device, learning: learning)
            cfg.ttl = 0
            do {
                try ns.apply(.linkAdd(name: name, kind: .vxlan(cfg), address: daemon.ctx.machine.randomMAC(),
                                      mtu: configMTU - FlannelVXLANBackend.encapOverhead))
            } catch let e as KernelError {
                throw FlannelBackendError(message: "failed to create vxlan device: \(e.errno.message.lowercased())")
            }
            guard let d = ns.device(named: name) else { throw FlannelBackendError(message: "failed to create vxlan device") }
            dev = d
        }
        device = dev
        var attrs = FlannelLease(subnet: IPv4Prefix(address: .any, length: 0), publicIP: ext.externalAddress)
        attrs.backendType = "vxlan"
        attrs.backendData = "{\"VNI\":\(vni),\"VtepMAC\":\"\(dev.mac)\"}"
        let lease: FlannelLease
        do {
            lease = try daemon.manager.acquire(config: config, attrs: attrs, previous: daemon.previousSubnet(), rng: &daemon.rng)
        } catch let e as FlannelSubnetManager.AcquireError {
            throw FlannelBackendError(message: "failed to acquire lease: \(e.message)")
        }
        // Configure(): EnsureV4AddressOnLink(), then up.
        let mine = IPv4Prefix(address: lease.subnet.address, length: 32)
        for a in dev.addresses where a.prefix != mine && config.network.contains(a.local) {
            try? ns.apply(.addressDelete(dev, a.prefix))
        }
        if !dev.addresses.contains(where: { $0.prefix == mine }) {
            do {
                try ns.apply(.addressAdd(dev, mine, broadcast: nil, scope: nil, label: nil))
            } catch let e as KernelError {
                throw FlannelBackendError(message: "failed to configure interface \(name): failed to ensure address of interface \(name): failed to add IP address \(mine) to \(name): \(e.errno.message.lowercased())")
            }
        }
        ns.setUp(dev, true)
        return lease
    }

    func leaseAdded(_ l: FlannelLease) {
        guard l.backendType == "vxlan" else { return }  // "ignoring non-vxlan v4Subnet(...)"
        guard let dev = device, let attrs = l.vxlanAttrs else { return }
        let ns = daemon.ctx.namespace
        do {
            try ns.apply(.neighbourSet(dev, l.subnet.address, lladdr: attrs.vtepMAC, state: .permanent, mode: .replace))
        } catch {
            daemon.klog("E", "vxlan_network.go", 359, "AddARP failed: \(error)")
            return
        }
        do {
            try ns.apply(.fdbAdd(dev, FDBRequest(mac: attrs.vtepMAC, dst: l.publicIP, flags: .self, state: .permanent), mode: .replace))
        } catch {
            daemon.klog("E", "vxlan_network.go", 366, "AddFDB failed: \(error)")
            try? ns.apply(.neighbourDelete(dev, l.subnet.address))
            return
        }
        var r = Route(destination: l.subnet, device: dev)
        r.gateway = l.subnet.address
        r.onlink = true
        do {
            try ns.apply(.routeAdd(r, mode: .replace))
        } catch {
            daemon.klog("E", "vxlan_network.go", 383, "failed to add vxlanRoute (\(l.subnet) -> \(l.subnet.address)): \(error)")
            try? ns.apply(.neighbourDelete(dev, l.subnet.address))
            try? ns.apply(.fdbDelete(dev, FDBRequest(mac: attrs.vtepMAC, dst: l.publicIP)))
        }
    }

    /// EventRemoved: DelARP, DelFDB, RouteDel.
    func leaseRemoved(_ l: FlannelLease) {
        guard l.backendType == "vxlan", let dev = device, let attrs = l.vxlanAttrs else { return }
        let ns = daemon.ctx.namespace
        try? ns.apply(.neighbourDelete(dev, l.subnet.address))
        try? ns.apply(.fdbDelete(dev, FDBRequest(mac: attrs.vtepMAC, dst: l.publicIP)))
        _ = try? ns.fib.delete(destination: l.subnet, device: dev)
    }

    /// flannel.1 outlives flanneld.
    func stop() {}
}
