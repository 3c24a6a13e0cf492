// Dev: net/core/dev.c: the two places every frame passes. Receive: taps, then the device's
// rx_handler (a bridge port), then the protocol handler by EtherType. Transmit: taps, then
// the driver.
// Guarantees: the order of taps, handlers and drops is the kernel's; each drop is traced with
// a named reason.

import SimCore
import Wire

extension NetNamespace {
    /// Kernel: __netif_receive_skb_core(). Called when `dev` receives a frame.
    func netifReceive(_ dev: NetDevice, _ p: Packet) {
        guard dev.adminUp, dev.namespace === self else {
            kernel.trace(self, dev, .drop, "device down (\(DropReason.devReady.rawValue))")
            return
        }
        kernel.framesDelivered += 1
        dev.stats.rxPackets += 1
        dev.stats.rxBytes += p.bytes.count - dev.statsHeaderBytes
        deliverToTaps(dev, p.bytes, .incoming)
        if let handler = dev.rxHandler {
            // Only a device with an rx_handler (a bridge port) needs a copy it can change.
            var p = p
            if handler(&p) == .consumed { return }
            deliverUp(dev, p)
            return
        }
        deliverUp(dev, p)
    }

    /// Hands a frame to the protocol layer of this namespace (after any rx_handler).
    func deliverUp(_ dev: NetDevice, _ p: Packet) {
        var p = p
        guard p.bytes.count >= EthernetHeader.length else {
            kernel.trace(self, dev, .drop, "runt frame (\(DropReason.pktTooSmall.rawValue))")
            return
        }
        // Kernel: eth_type_trans(): classify by destination MAC.
        let dst = EthernetView.destination(p.bytes)
        if dst.isMulticast {
            p.pktType = dst.isBroadcast ? .broadcast : .multicast
        } else if dst == dev.mac || dev.isLoopback {
            p.pktType = .host
        } else {
            p.pktType = .otherHost
        }
        p.network = EthernetHeader.length
        switch EthernetView.etherType(p.bytes) {
        case .arp: arpReceive(dev, p)
        case .ipv4: ipReceive(dev, p)
        default:
            kernel.trace(self, dev, .drop, "ethertype 0x\(String(EthernetView.etherType(p.bytes).rawValue, radix: 16)) (\(DropReason.unhandledProto.rawValue))")
        }
    }

    func deliverToTaps(_ dev: NetDevice, _ bytes: [UInt8], _ dir: PacketTap.Direction) {
        guard !dev.taps.isEmpty else { return }
        let t = now
        for tap in dev.taps { tap.deliver(t, bytes, dir) }
    }

    /// Kernel: dev_queue_xmit(): taps (dev_queue_xmit_nit), then the driver.
    func devQueueXmit(_ dev: NetDevice, _ p: Packet) {
        guard dev.adminUp else {
            kernel.trace(self, dev, .drop, "transmit on down device (\(DropReason.devReady.rawValue))")
            dev.stats.txDropped += 1
            return
        }
        // Without carrier, linkwatch's dev_deactivate() has given the device the noop qdisc:
        // __dev_queue_xmit() drops the frame before the taps and counts it in tx_dropped.
        // Observed on Linux 6.18: a veth whose peer is down sends nothing tcpdump can see and
        // `ip -s link` counts 0 packets, 3 dropped for three ARP requests. (Linkwatch applies a
        // carrier loss within a second; here it is at once.)
        guard dev.carrier else {
            kernel.trace(self, dev, .drop, "no carrier (\(DropReason.qdiscDrop.rawValue))")
            dev.stats.txDropped += 1
            return
        }
        dev.stats.txPackets += 1
        dev.stats.txBytes += p.bytes.count - dev.statsHeaderBytes
        if !dev.taps.isEmpty {
            // A device without a link-layer header (tun: no header_ops, so neigh_direct_output())
            // carries the bare IP packet; the link header room in front of it is not sent.
            deliverToTaps(dev, dev is TunDevice && p.network > 0 ? Array(p.bytes[p.network...]) : p.bytes, .outgoing)
        }
        dev.startXmit(p)
    }
}
