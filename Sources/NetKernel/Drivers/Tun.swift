// Tun: drivers/net/tun.c in IFF_TUN | IFF_NO_PI mode, the way flanneld's UDP backend and VPN
// daemons use it. A layer-3 device without a link-layer header (ARPHRD_NONE: `link/none`,
// POINTOPOINT, NOARP, qlen 500) whose other side is a file descriptor: what the stack transmits
// on the device waits in the descriptor's queue for read(); what the process write()s enters
// the namespace's receive path as if the device had received it.
// Guarantees, as observed on Linux 6.18 (`ip tuntap add`, TUNSETIFF from a process):
// - a device made by TUNSETIFF has carrier from the start, so once up its operstate stays
//   UNKNOWN; a persistent device (`ip tuntap add`) loses carrier when its creator exits
//   (operstate DOWN, NO-CARRIER) and gets it back, operstate UP, when a process attaches;
// - a device that is not persistent disappears when its descriptor is closed;
// - attaching to a device another descriptor holds fails with EBUSY, to a device of another
//   kind with EINVAL; a name pattern ("flannel%d") takes the lowest free number;
// - taps (tcpdump) see the bare IP packet both ways (DLT_RAW);
// - transmit drops, traced, when no descriptor is attached or its queue holds tx_queue_len
//   (500) packets; write() fails with EIO while the device is down, EINVAL for a packet that
//   is not IPv4.
// Leaves out: IFF_TAP, IFF_MULTI_QUEUE, the packet-information header, vnet headers and
// offloads, IPv6 packets written by the process, blocking reads (a reader is woken instead).

import SimCore
import Wire

public final class TunDevice: NetDevice {
    /// TUNSETPERSIST: the device outlives its descriptor.
    public internal(set) var persistent: Bool
    /// The descriptor attached to the device (tun->tfiles[0]); nil when detached.
    public internal(set) var file: TunFile?

    /// IFF_TAP: an Ethernet device whose frames the descriptor reads and writes whole.
    public let isTap: Bool

    init(name: String, namespace: NetNamespace, persistent: Bool, tap: Bool = false) {
        self.persistent = persistent
        isTap = tap
        super.init(name: name, namespace: namespace, mac: tap ? namespace.machine.randomMAC() : .zero,
                   assign: tap ? .random : .permanent, mtu: 1500)
        if tap {
            // Kernel: tun_net_initialize() for IFF_TAP: ether_setup() (BROADCAST|MULTICAST,
            // tx_queue_len 1000), a random address, max_mtu 65535 - ETH_HLEN.
        } else {
            broadcastMAC = .zero
            // Kernel: tun_net_initialize(): IFF_POINTOPOINT | IFF_NOARP | IFF_MULTICAST, tx_queue_len 500.
            noARP = true
            txQueueLen = 500
        }
        // A new net_device has carrier until someone says otherwise (no linkwatch event).
        carrier = true
    }

    public override var kind: String? { "tun" }
    public override var baseFlags: InterfaceFlags { isTap ? [.broadcast, .multicast] : [.pointToPoint, .multicast] }
    public override var linkTypeName: String { isTap ? "ether" : "none" }
    public override var mtuRange: ClosedRange<Int> { isTap ? 68...65521 : 68...65535 }
    /// A queued device: it gets net.core.default_qdisc when first opened (fq_codel on the
    /// distributions the labs come from, as for the machines' NICs).
    public override var runningQdisc: String { "fq_codel" }

    /// Kernel: tun_net_xmit(): the packet goes into the attached descriptor's ring and the
    /// reader is woken.
    public override func startXmit(_ p: Packet) {
        guard let f = file else {
            stats.txDropped += 1
            namespace.kernel.trace(namespace, self, .drop, "no process attached (\(DropReason.devReady.rawValue))")
            return
        }
        guard f.queuedCount < txQueueLen else {
            stats.txDropped += 1
            namespace.kernel.trace(namespace, self, .drop, "tun queue full (\(DropReason.fullRing.rawValue))")
            return
        }
        f.enqueue(isTap || p.network == 0 ? p.bytes : Array(p.bytes[p.network...]))
    }

    public override func willUnregister() {
        file?.device = nil
        file = nil
    }

    /// Kernel: tun_get_user() -> netif_rx() -> __netif_receive_skb_core(): a packet the process
    /// wrote is received on the device: taps, then IPv4 input (a tun is never a bridge port).
    func receiveFromUser(_ ip: [UInt8]) {
        let ns = namespace
        guard isRegistered, ns.alive else { return }
        guard adminUp else {
            ns.kernel.trace(ns, self, .drop, "device down (\(DropReason.devReady.rawValue))")
            return
        }
        ns.kernel.framesDelivered += 1
        stats.rxPackets += 1
        stats.rxBytes += ip.count
        ns.deliverToTaps(self, ip, .incoming)
        // The IP layers keep room for a link header in front of the packet (forwarding to an
        // Ethernet device writes it there).
        var bytes = [UInt8](repeating: 0, count: EthernetHeader.length)
        bytes.append(contentsOf: ip)
        var p = Packet(bytes: bytes, network: EthernetHeader.length)
        p.pktType = .host
        ns.ipReceive(self, p)
    }
}

/// The descriptor a process holds after open("/dev/net/tun") + TUNSETIFF (struct tun_file).
public final class TunFile {
    /// The device, until it is unregistered or the descriptor closed.
    public internal(set) weak var device: TunDevice?
    /// Called when a packet is queued and the queue was empty (poll() reports POLLIN).
    public var onReadable: (() -> Void)?
    private var queue: [[UInt8]] = []
    private var head = 0
    public private(set) var isClosed = false

    init(device: TunDevice) { self.device = device }

    /// Packets waiting to be read.
    public var queuedCount: Int { queue.count - head }

    func enqueue(_ ip: [UInt8]) {
        let wasEmpty = queuedCount == 0
        queue.append(ip)
        if wasEmpty { onReadable?() }
    }

    /// Kernel: tun_do_read(): the oldest queued packet, nil when none waits (EAGAIN).
    public func read() -> [UInt8]? {
        guard head < queue.count else { return nil }
        let p = queue[head]
        head += 1
        if head == queue.count {
            queue.removeAll(keepingCapacity: true)
            head = 0
        } else if head >= 64 && head * 2 >= queue.count {
            queue.removeFirst(head)
            head = 0
        }
        return p
    }

    /// Kernel: tun_get_user(): the IP packet enters the device's receive path (netif_rx(), run
    /// as soon as the writing system call returns). Returns the bytes written.
    @discardableResult
    public func write(_ ip: [UInt8]) throws -> Int {
        guard !isClosed, let dev = device else { throw KernelError(.EBADF) }
        guard dev.adminUp else { throw KernelError(.EIO) }
        if dev.isTap {
            // A tap takes a whole Ethernet frame (eth_type_trans() in tun_get_user()).
            guard ip.count >= EthernetHeader.length else {
                dev.stats.rxDropped += 1
                throw KernelError(.EINVAL)
            }
            let ns = dev.namespace
            ns.clock.schedule(after: .zero) { [weak dev] in
                guard let dev, dev.isRegistered, dev.namespace.alive else { return }
                dev.namespace.netifReceive(dev, Packet(bytes: ip))
            }
            return ip.count
        }
        guard let first = ip.first, first >> 4 == 4, ip.count >= IPv4Header.minimumLength else {
            dev.stats.rxDropped += 1
            throw KernelError(.EINVAL)
        }
        let ns = dev.namespace
        ns.clock.schedule(after: .zero) { [weak dev] in dev?.receiveFromUser(ip) }
        return ip.count
    }

    /// Kernel: tun_chr_close() -> tun_detach(): a persistent device loses carrier, any other
    /// is unregistered.
    public func close() {
        guard !isClosed else { return }
        isClosed = true
        queue.removeAll()
        head = 0
        guard let dev = device else { return }
        device = nil
        dev.file = nil
        if dev.persistent {
            dev.setCarrier(false)
        } else {
            dev.namespace.unregister(dev)
        }
    }
}

extension NetNamespace {
    /// Kernel: open("/dev/net/tun") + ioctl(TUNSETIFF, IFF_TUN | IFF_NO_PI) -> tun_set_iff():
    /// attaches to the named tun device, creating it (not persistent) when it does not exist.
    /// `name` may be a pattern such as "flannel%d".
    public func openTun(name: String, tap: Bool = false) throws -> TunFile {
        let n = name.contains("%d") ? allocateName(name) : name
        guard validName(n) else { throw KernelError(.EINVAL) }
        if let existing = device(named: n) {
            // tun_set_iff(): the descriptor's type must be the device's (observed on Linux
            // 6.18: `ip tuntap del tap0 mode tun` is EINVAL).
            guard let tun = existing as? TunDevice, tun.isTap == tap else { throw KernelError(.EINVAL) }
            guard tun.file == nil else { throw KernelError(.EBUSY) }
            let f = TunFile(device: tun)
            tun.file = f
            tun.setCarrier(true)
            return f
        }
        let tun = TunDevice(name: n, namespace: self, persistent: false, tap: tap)
        register(tun, preferredIndex: nil)
        let f = TunFile(device: tun)
        tun.file = f
        kernel.trace(self, tun, .rx, "tun \(n) created")
        return f
    }

    /// Kernel: what `ip tuntap add dev NAME mode tun` does: TUNSETIFF, TUNSETPERSIST, close.
    @discardableResult
    public func addPersistentTun(name: String, tap: Bool = false) throws -> TunDevice {
        if let existing = device(named: name) {
            // iproute2's TUNSETIFF on a held or foreign device: EBUSY / EINVAL as above.
            guard let tun = existing as? TunDevice else { throw KernelError(.EINVAL) }
            guard tun.file == nil else { throw KernelError(.EBUSY) }
        }
        let f = try openTun(name: name, tap: tap)
        guard let tun = f.device else { throw KernelError(.ENODEV) }
        tun.persistent = true
        f.close()
        return tun
    }

    /// Kernel: `ip tuntap del`: TUNSETIFF then TUNSETPERSIST 0, close.
    public func deletePersistentTun(name: String, tap: Bool = false) throws {
        let f = try openTun(name: name, tap: tap)
        f.device?.persistent = false
        f.close()
    }
}
