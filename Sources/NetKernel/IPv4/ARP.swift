// ARP: net/ipv4/arp.c. Answering requests for local addresses (any address of the namespace
// on any device: Linux's weak host model with arp_ignore 0), learning from what arrives, and
// sending the solicitations the neighbour layer asks for.
// Guarantees: a request for us creates a STALE entry for the asker and is answered by unicast;
// a solicited unicast reply makes the entry REACHABLE; replies and requests never create an
// entry for a third party (arp_accept 0); requests carry a zero target hardware address.

import SimCore
import Wire

extension NetNamespace {
    /// Kernel: arp_rcv() + arp_process().
    func arpReceive(_ dev: NetDevice, _ p: Packet) {
        if p.pktType == .otherHost || p.pktType == .loopback || dev.flags.contains(.noARP) {
            kernel.trace(self, dev, .drop, "arp not for this host (\(DropReason.otherHost.rawValue))")
            return
        }
        guard let arp = try? ARPPacket.parse(p.bytes, at: p.network), arp.isEthernetIPv4 else {
            kernel.trace(self, dev, .drop, "malformed arp (\(DropReason.pktTooSmall.rawValue))")
            return
        }
        guard arp.operation == .request || arp.operation == .reply else { return }
        let sip = arp.senderIP, tip = arp.targetIP, sha = arp.senderMAC
        if tip.isMulticast || tip.isLoopback {
            kernel.trace(self, dev, .drop, "arp for \(tip) (\(DropReason.arpNotForUs.rawValue))")
            return
        }
        if sip.isZero {
            // Duplicate address detection probe: answer if the address is ours.
            if arp.operation == .request && isLocalAddress(tip) {
                arpSend(.reply, dev: dev, targetIP: sip, senderIP: tip, ethDestination: sha, targetMAC: sha)
            }
            return
        }
        if arp.operation == .request {
            if isLocalAddress(tip) && !arpIgnore(dev, sip: sip, tip: tip) {
                kernel.trace(self, dev, .arp, "who-has \(tip) from \(sip): answering")
                _ = neighbours.eventNS(sip, lladdr: sha, dev: dev)
                arpSend(.reply, dev: dev, targetIP: sip, senderIP: tip, ethDestination: sha, targetMAC: sha)
                return
            }
            kernel.trace(self, dev, .arp, "who-has \(tip) from \(sip): not ours")
        }
        // Update our ARP tables, but never create an entry here.
        if let n = neighbours.lookup(sip, dev) {
            let m = machine
            let override = m.jiffiesNow > n.updated + m.toJiffies(dev.neighParms.locktime)
            let state: NUDState = (arp.operation == .reply && p.pktType == .host) ? .reachable : .stale
            neighbours.update(n, lladdr: sha, state: state, flags: override ? .override : [])
        }
    }

    /// Kernel: arp_ignore(): mode 0 answers for any local address; 1 only for addresses
    /// configured on the receiving device; 2 also requires the sender to be on its subnet.
    private func arpIgnore(_ dev: NetDevice, sip: IPv4Address, tip: IPv4Address) -> Bool {
        let mode = max(dev.ipv4Conf.arpIgnore, ipv4.allConf.arpIgnore)
        switch mode {
        case 1: return !dev.addresses.contains { $0.local == tip }
        case 2: return !dev.addresses.contains { $0.local == tip && $0.prefix.contains(sip) }
        case 8: return true
        default: return false
        }
    }

    /// Kernel: arp_solicit(): broadcast while the entry has no address (probes counted from
    /// ucast_probes), unicast to the known address while re-probing (PROBE state).
    func arpSolicit(_ n: Neighbour, queued: Packet?) {
        let dev = n.device
        var saddr: IPv4Address?
        if let q = queued, q.bytes.count >= q.network + IPv4Header.minimumLength {
            let s = IPv4View.source(q.bytes, at: q.network)
            if isLocalAddress(s) { saddr = s }
        }
        if saddr == nil { saddr = selectSourceAddress(dev: dev, dst: n.address, scope: .link) }
        let probes = n.probes - dev.neighParms.ucastProbes
        var dst: MACAddress? = nil
        if probes < 0 {
            dst = n.lladdr
        } else if probes - dev.neighParms.appProbes < 0 {
            return // would ask the user-space ARP daemon
        }
        arpSend(.request, dev: dev, targetIP: n.address, senderIP: saddr ?? .any, ethDestination: dst, targetMAC: nil)
    }

    /// Kernel: arp_create() + arp_xmit().
    func arpSend(_ op: ARPOperation, dev: NetDevice, targetIP: IPv4Address, senderIP: IPv4Address,
                 ethDestination: MACAddress?, targetMAC: MACAddress?) {
        var frame = [UInt8](repeating: 0, count: EthernetHeader.length + ARPPacket.length)
        EthernetHeader(destination: ethDestination ?? dev.broadcastMAC, source: dev.mac, etherType: .arp).emit(into: &frame)
        ARPPacket(operation: op, senderMAC: dev.mac, senderIP: senderIP,
                  targetMAC: targetMAC ?? .zero, targetIP: targetIP).emit(into: &frame, at: EthernetHeader.length)
        devQueueXmit(dev, Packet(bytes: frame))
    }
}
