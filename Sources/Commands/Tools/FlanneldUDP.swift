// FlanneldUDP: flannel's udp backend (pkg/backend/udp, amd64): a TUN device "flannel%d" with
// the lease's first address as a /32 and a route for the whole network, and a user-space
// proxy (proxy_amd64.c) between the TUN and a UDP socket bound to the interface address,
// port 8285 (Backend.Port). The lease carries only the public IP.
// What the proxy does, as run_proxy() does it:
// - a packet read from the TUN goes to the machine whose lease covers its destination, as the
//   payload of a UDP datagram to that machine's PublicIP:port; its TTL is decremented first
//   (the checksum patched the way decrement_ttl() patches it, 16-bit little-endian arithmetic
//   on the network-order field), and a packet whose TTL reaches 0 is dropped;
// - a destination no lease covers gets an ICMP net unreachable written back into the TUN
//   (TTL 8, from the TUN's address), except for ICMP packets and non-first fragments;
// - a datagram received on the socket has its TTL decremented and is written to the TUN.
// Timing (the user-space hop the lab shows): the proxy handles a packet 15 us after the TUN
// queue or the socket wakes it (poll() wake-up, read, sendto or write), draining everything
// that waits in the same pass.
// Leaves out: the proxy's error log (only at -v=1), truncation at the MTU-sized buffer.

import SimCore
import NetKernel
import Wire

final class FlannelUDPBackend: FlannelBackend {
    /// pkg/backend/udp encapOverhead: IP + UDP headers.
    static let encapOverhead = 28
    static let defaultPort: UInt16 = 8285
    /// The proxy's turn-around for one wake-up (see the header).
    static let proxyLatency = SimTime.microseconds(15)

    unowned let daemon: Flanneld
    let ext: FlannelExternalInterface
    private(set) var port = FlannelUDPBackend.defaultPort
    private(set) var tun: TunFile?
    private(set) var socket: UDPSocket?
    private var tunAddress = IPv4Address.any
    private var subnetLen = 24
    /// The proxy's routes: lease subnet (network address) -> PublicIP:port.
    private var routes: [UInt32: (IPv4Address, UInt16)] = [:]
    private var tunWake: EventID?
    private var sockWake: EventID?
    private var pendingDatagrams: [[UInt8]] = []

    init(daemon: Flanneld, ext: FlannelExternalInterface) {
        self.daemon = daemon
        self.ext = ext
    }

    var mtu: Int { ext.device.mtu - FlannelUDPBackend.encapOverhead }

    func register(config: FlannelNetworkConfig) throws -> FlannelLease {
        if case let .number(p)? = config.backend?.member("Port") {
            guard let n = UInt16(p) else {
                throw FlannelBackendError(message: "error decoding UDP backend config: json: cannot unmarshal number \(p) into Go struct field .Port of type int")
            }
            port = n
        } else if let p = config.backend?.member("Port"), p != .null {
            throw FlannelBackendError(message: "error decoding UDP backend config: json: cannot unmarshal \(p.goKind) into Go struct field .Port of type int")
        }
        var attrs = FlannelLease(subnet: IPv4Prefix(address: .any, length: 0), publicIP: ext.externalAddress)
        attrs.backendType = nil
        let lease: FlannelLease
        do {
            lease = try daemon.manager.acquire(config: config, attrs: attrs, previous: daemon.previousSubnet(), rng: &daemon.rng)
        } catch let e as FlannelSubnetManager.AcquireError {
            throw FlannelBackendError(message: "failed to acquire lease: \(e.message)")
        }
        subnetLen = lease.subnet.length
        tunAddress = lease.subnet.address
        try initTun(network: config.network)
        let ns = daemon.ctx.namespace
        let s = ns.openUDPSocket()
        do {
            try s.bind(address: ext.ifaceAddress, port: port)
        } catch let e as KernelError {
            throw FlannelBackendError(message: "failed to start listening on UDP socket: listen udp4 \(ext.ifaceAddress):\(port): bind: \(e.errno.message)")
        }
        s.onReceive = { [weak self] data, _, _ in self?.datagramArrived(data) }
        socket = s
        return lease
    }

    /// initTun() + configureIface(): open flannel%d, address /32, MTU, up, route for the network.
    private func initTun(network: IPv4Prefix) throws {
        let ns = daemon.ctx.namespace
        let f: TunFile
        do {
            f = try ns.openTun(name: "flannel%d")
        } catch let e as KernelError {
            throw FlannelBackendError(message: "failed to open TUN device: ioctl failed with '\(e.errno.message.lowercased())'")
        }
        guard let dev = f.device else { throw FlannelBackendError(message: "failed to open TUN device") }
        tun = f
        let name = dev.name
        do {
            try ns.apply(.addressAdd(dev, IPv4Prefix(address: tunAddress, length: 32), broadcast: nil, scope: nil, label: nil))
        } catch let e as KernelError {
            throw FlannelBackendError(message: "failed to add IP address \(tunAddress)/32 to \(name): \(e.errno.message.lowercased())")
        }
        var change = LinkChange()
        change.mtu = mtu
        do { try ns.apply(.linkSet(dev, change)) } catch let e as KernelError {
            throw FlannelBackendError(message: "failed to set MTU for \(name): \(e.errno.message.lowercased())")
        }
        ns.setUp(dev, true)
        // netlink.RouteAdd() with scope universe and protocol boot; EEXIST is fine.
        do {
            try ns.addRoute(Route(destination: network, device: dev))
        } catch let e as KernelError where e.errno != .EEXIST {
            throw FlannelBackendError(message: "failed to add route (\(network) -> \(name)): \(e.errno.message.lowercased())")
        }
        f.onReadable = { [weak self] in self?.wakeForTun() }
    }

    func leaseAdded(_ l: FlannelLease) {
        routes[l.subnet.address.raw & IPv4Prefix.mask(subnetLen)] = (l.publicIP, port)
    }

    func leaseRemoved(_ l: FlannelLease) {
        routes[l.subnet.address.raw & IPv4Prefix.mask(subnetLen)] = nil
    }

    func stop() {
        if let w = tunWake { daemon.ctx.kernel.clock.cancel(w) }
        if let w = sockWake { daemon.ctx.kernel.clock.cancel(w) }
        tunWake = nil
        sockWake = nil
        tun?.close()
        tun = nil
        socket?.close()
        socket = nil
    }

    // MARK: - The proxy (run_proxy)

    private func wakeForTun() {
        guard tunWake == nil else { return }
        tunWake = daemon.ctx.kernel.clock.schedule(after: FlannelUDPBackend.proxyLatency) { [weak self] in
            self?.tunWake = nil
            self?.drainTun()
        }
    }

    private func datagramArrived(_ data: [UInt8]) {
        pendingDatagrams.append(data)
        guard sockWake == nil else { return }
        sockWake = daemon.ctx.kernel.clock.schedule(after: FlannelUDPBackend.proxyLatency) { [weak self] in
            self?.sockWake = nil
            self?.drainSocket()
        }
    }

    /// tun_to_udp() until the TUN is empty.
    private func drainTun() {
        guard let f = tun else { return }
        while var pkt = f.read() {
            guard pkt.count >= IPv4Header.minimumLength else { continue }
            let dst = IPv4View.destination(pkt, at: 0)
            guard let hop = routes[dst.raw & IPv4Prefix.mask(subnetLen)] else {
                sendNetUnreachable(pkt)
                continue
            }
            guard FlannelUDPBackend.decrementTTL(&pkt) else { continue }
            _ = try? socket?.send(pkt, to: hop.0, port: hop.1)
        }
    }

    /// udp_to_tun() for every datagram received.
    private func drainSocket() {
        let batch = pendingDatagrams
        pendingDatagrams.removeAll()
        for var pkt in batch {
            guard pkt.count >= IPv4Header.minimumLength else { continue }
            guard FlannelUDPBackend.decrementTTL(&pkt) else { continue }
            _ = try? tun?.write(pkt)
        }
    }

    /// decrement_ttl(): TTL - 1; false when it reaches 0. The checksum is patched as the C code
    /// does on a little-endian machine: the 16-bit field loaded as stored (network order) gets
    /// htons(0x100) added, or htons(0x100) + 1 when it is at least htons(0xFEFF).
    static func decrementTTL(_ p: inout [UInt8]) -> Bool {
        p[8] &-= 1
        if p[8] == 0 { return false }
        var le = UInt16(p[10]) | UInt16(p[11]) << 8
        le = le >= 0xFFFE ? le &+ 2 : le &+ 1
        p[10] = UInt8(le & 0xff)
        p[11] = UInt8(le >> 8)
        return true
    }

    /// send_net_unreachable(): ICMP destination unreachable (net) back into the TUN.
    private func sendNetUnreachable(_ offender: [UInt8]) {
        let ihl = Int(offender[0] & 0x0f) * 4
        guard ihl < 60, offender.count >= ihl + 8 else { return }
        if offender[9] == IPProtocol.icmp.rawValue { return }
        if (UInt16(offender[6]) << 8 | UInt16(offender[7])) & 0x1fff != 0 { return }
        let total = 20 + 8 + ihl + 8
        var b = [UInt8](repeating: 0, count: total)
        b[0] = 0x45
        b[2] = UInt8(total >> 8)
        b[3] = UInt8(total & 0xff)
        b[8] = 8
        b[9] = IPProtocol.icmp.rawValue
        b.replaceSubrange(12..<16, with: ipBytes(tunAddress))
        b.replaceSubrange(16..<20, with: offender[12..<16])
        let ipSum = internetChecksum(b, 0, 20)
        b[10] = UInt8(ipSum >> 8)
        b[11] = UInt8(ipSum & 0xff)
        b[20] = 3
        b[21] = 0
        b.replaceSubrange(28..<total, with: offender[0..<(ihl + 8)])
        let icmpSum = internetChecksum(b, 20, total - 20)
        b[22] = UInt8(icmpSum >> 8)
        b[23] = UInt8(icmpSum & 0xff)
        _ = try? tun?.write(b)
    }

    private func ipBytes(_ a: IPv4Address) -> [UInt8] {
        [UInt8(a.raw >> 24), UInt8(a.raw >> 16 & 0xff), UInt8(a.raw >> 8 & 0xff), UInt8(a.raw & 0xff)]
    }

    private func internetChecksum(_ b: [UInt8], _ start: Int, _ count: Int) -> UInt16 {
        var sum: UInt32 = 0
        var i = start
        while i + 1 < start + count {
            sum += UInt32(b[i]) << 8 | UInt32(b[i + 1])
            i += 2
        }
        if i < start + count { sum += UInt32(b[i]) << 8 }
        while sum >> 16 != 0 { sum = (sum & 0xffff) + (sum >> 16) }
        return ~UInt16(sum)
    }
}
