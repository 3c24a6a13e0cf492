// Ethernet: a machine's physical NIC (what virtio_net or e1000 present), plugged into an
// EthernetSegment: the cable and switch of the underlay that joins machines.
// Guarantees: carrier while the NIC is up and plugged in; frames take the segment's wire
// latency; the default qdisc is fq_codel (net.core.default_qdisc on current distributions).
// Leaves out: offloads, link speed and duplex, the NIC's own queues.

import SimCore
import Wire

public final class EthernetDevice: NetDevice {
    public internal(set) weak var segment: EthernetSegment?

    init(name: String, namespace: NetNamespace, mac: MACAddress) {
        super.init(name: name, namespace: namespace, mac: mac, assign: .permanent, mtu: 1500)
    }

    public override var runningQdisc: String { "fq_codel" }
    public override var mtuRange: ClosedRange<Int> { 68...9000 }

    public override func startXmit(_ p: Packet) {
        guard let seg = segment else {
            stats.txDropped += 1
            return
        }
        seg.transmit(p.bytes, from: self)
    }

    public override func didOpen() { setCarrier(segment != nil) }
    public override func didStop() { setCarrier(false) }
    public override func willUnregister() { segment?.detach(self) }
}

/// A LAN segment: an ideal learning switch with a port per attached NIC.
/// Kernel: none (this is the world outside the machines); it behaves as a switch does.
public final class EthernetSegment {
    public let name: String
    unowned(unsafe) let kernel: Kernel
    private var ports: [EthernetDevice] = []
    private var table: [MACAddress: ObjectIdentifier] = [:]

    init(name: String, kernel: Kernel) {
        self.name = name
        self.kernel = kernel
    }

    public var attached: [EthernetDevice] { ports }

    func attach(_ nic: EthernetDevice) {
        ports.append(nic)
        nic.segment = self
        if nic.adminUp { nic.setCarrier(true) }
    }

    func detach(_ nic: EthernetDevice) {
        ports.removeAll { $0 === nic }
        table = table.filter { $0.value != ObjectIdentifier(nic) }
        nic.segment = nil
    }

    /// Learn the source, then deliver to the port the destination was seen on, or flood.
    func transmit(_ frame: [UInt8], from nic: EthernetDevice) {
        let src = EthernetView.source(frame), dst = EthernetView.destination(frame)
        if !src.isMulticast { table[src] = ObjectIdentifier(nic) }
        let at = kernel.clock.now + kernel.config.wireLatency
        if !dst.isMulticast, let out = table[dst], let port = ports.first(where: { ObjectIdentifier($0) == out }) {
            if port !== nic, port.isRunning { kernel.deliver(Packet(bytes: frame), to: port, at: at) }
            return
        }
        for port in ports where port !== nic && port.isRunning {
            kernel.deliver(Packet(bytes: frame), to: port, at: at)
        }
    }
}

extension Kernel {
    /// A new LAN segment (an underlay network of the scenario).
    public func addSegment(_ name: String) -> EthernetSegment {
        let s = EthernetSegment(name: name, kernel: self)
        segments.append(s)
        return s
    }
}

extension NetNamespace {
    /// Installs a NIC plugged into `segment` (the machine's hardware, present at boot).
    @discardableResult
    public func addNIC(name: String, segment: EthernetSegment, mac: MACAddress? = nil) throws -> EthernetDevice {
        guard validName(name) else { throw KernelError(.EINVAL, "Invalid device name") }
        if device(named: name) != nil { throw KernelError(.EEXIST) }
        let nic = EthernetDevice(name: name, namespace: self, mac: mac ?? machine.randomMAC())
        register(nic, preferredIndex: nil)
        segment.attach(nic)
        return nic
    }
}
