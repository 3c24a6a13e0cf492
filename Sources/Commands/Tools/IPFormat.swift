// IPFormat: iproute2's text output (ip link, ip addr, ip neigh, ip netns), byte for byte as
// iproute2 6.1 prints it (see docs/fidelity.md for the observations behind each rule).

import NetKernel
import Wire

enum IPFormat {
    /// Kernel flags in iproute2's print_link_flags() order, plus NO-CARRIER and M-DOWN.
    static func flags(_ dev: NetDevice, viewer: NetNamespace) -> String {
        let f = dev.flags
        var parts: [String] = []
        if f.contains(.up) && !f.contains(.running) { parts.append("NO-CARRIER") }
        let named: [(InterfaceFlags, String)] = [
            (.loopback, "LOOPBACK"), (.broadcast, "BROADCAST"), (.pointToPoint, "POINTOPOINT"),
            (.multicast, "MULTICAST"), (.noARP, "NOARP"), (.allMulti, "ALLMULTI"), (.promisc, "PROMISC"),
            (.master, "MASTER"), (.slave, "SLAVE"), (.up, "UP"), (.lowerUp, "LOWER_UP"), (.dormant, "DORMANT"),
        ]
        for (flag, name) in named where f.contains(flag) { parts.append(name) }
        if let v = dev as? VethDevice, let p = v.peer, p.namespace === dev.namespace, !p.adminUp {
            parts.append("M-DOWN")
        }
        return parts.joined(separator: ",")
    }

    /// "veth1@veth0", "veth1@if3" or "br0". A vxlan device moved out of the namespace it was
    /// created in names its own ifindex ("vxlan0@if9", observed on Linux 6.18).
    static func nameWithLink(_ dev: NetDevice) -> String {
        if dev is VXLANDevice, dev.linkNetNamespace != nil { return "\(dev.name)@if\(dev.ifindex)" }
        guard let v = dev as? VethDevice, let p = v.peer else { return dev.name }
        return p.namespace === dev.namespace ? "\(dev.name)@\(p.name)" : "\(dev.name)@if\(p.ifindex)"
    }

    /// " link-netns NAME" or " link-netnsid N" for a device linked into another namespace (a
    /// veth's peer, the sockets of a moved vxlan device).
    static func linkNetns(_ dev: NetDevice) -> String {
        guard let other = dev.linkNetNamespace else { return "" }
        let id = dev.namespace.peerID(for: other)
        if let n = other.name { return " link-netns \(n)" }
        return " link-netnsid \(id)"
    }

    /// What `ip -d` adds to the link-layer line: promiscuity, allmulti, the MTU range, the
    /// kind's own line, then the IPv6 address generation mode, queues and offload sizes, as
    /// iproute2 6.1 prints them from Linux 6.18. Nil for devices whose details are not
    /// modelled (veth, bridge, physical NICs and bridge ports, whose bridge_slave line is long).
    static func details(_ dev: NetDevice, viewer: NetNamespace) -> String? {
        var kindLine: String?
        if let vx = dev as? VXLANDevice {
            guard vx.master == nil else { return nil }
            kindLine = "vxlan " + IPLinkVXLAN.details(vx, viewer: viewer)
        } else if let tun = dev as? TunDevice {
            guard tun.master == nil else { return nil }
            kindLine = "tun type tun pi off vnet_hdr off persist \(tun.persistent ? "on" : "off") "
        } else if !dev.isLoopback {
            return nil
        }
        let allmulti = (dev.master != nil ? 1 : 0) + (dev.userAllMulti ? 1 : 0)
        let range = dev.isLoopback ? (0, 0) : (dev.mtuRange.lowerBound, dev.mtuRange.upperBound)
        var s = " promiscuity \(dev.promiscuity)  allmulti \(allmulti) minmtu \(range.0) maxmtu \(range.1) "
        if let k = kindLine { s += "\n    " + k }
        s += "addrgenmode eui64 numtxqueues 1 numrxqueues 1 gso_max_size 65536 gso_max_segs 65535 "
        s += "tso_max_size \(dev.tsoMaxSize) tso_max_segs 65535 gro_max_size 65536 "
        return s
    }

    static func headerLine(_ dev: NetDevice, mode: Bool) -> String {
        let master = dev.master.map { " master \($0.name)" } ?? ""
        let modeText = mode ? " mode DEFAULT" : ""
        return "\(dev.ifindex): \(nameWithLink(dev)): <\(flags(dev, viewer: dev.namespace))> mtu \(dev.mtu) qdisc \(dev.qdiscName)\(master) state \(dev.operState.rawValue)\(modeText) group default qlen \(dev.txQueueLen)"
    }

    /// A device without a hardware address (ARPHRD_NONE: tun) shows only its type.
    static func linkLayerLine(_ dev: NetDevice) -> String {
        if dev.linkTypeName == "none" { return "    link/none \(linkNetns(dev))" }
        return "    link/\(dev.linkTypeName) \(dev.mac) brd \(dev.broadcastMAC)\(linkNetns(dev))"
    }

    static func addressLines(_ a: InetAddress) -> [String] {
        var s = "    inet \(a.local)/\(a.prefixLength) "
        if let b = a.broadcast { s += "brd \(b) " }
        s += "scope \(a.scope.name) "
        if a.secondary { s += "secondary " }
        s += a.label
        return [s, "       valid_lft forever preferred_lft forever"]
    }

    static func brief(_ dev: NetDevice) -> String {
        CFormat.padRight(nameWithLink(dev), 16) + " " + CFormat.padRight(dev.operState.rawValue, 14) + " "
    }

    /// fnmatch(3) without flags, for `label PATTERN`: `*`, `?` and literal characters.
    static func fnmatch(_ pattern: String, _ s: String) -> Bool {
        let p = Array(pattern), t = Array(s)
        func match(_ i: Int, _ j: Int) -> Bool {
            if i == p.count { return j == t.count }
            switch p[i] {
            case "*": return (j...t.count).contains { match(i + 1, $0) }
            case "?": return j < t.count && match(i + 1, j + 1)
            default: return j < t.count && p[i] == t[j] && match(i + 1, j + 1)
            }
        }
        return match(0, 0)
    }

    /// One entry of `ip neigh`; with `-s` (`stats` = the machine's jiffies and HZ) iproute2's
    /// print_cacheinfo(): " ref N" while a timer holds the entry (ndm_refcnt = refcount - 1),
    /// then the ages of the last use, confirmation and update in whole seconds, and the probes.
    /// Observed on Linux 6.18: `10.0.0.6 dev veth0 lladdr 02:00:00:00:00:06  used 0/60/0probes 0 STALE `.
    static func neighbourLine(_ n: Neighbour, showDevice: Bool, stats: (now: Int64, hz: Int64)? = nil) -> String {
        var s = "\(n.address) "
        if showDevice { s += "dev \(n.device.name) " }
        if let ll = n.lladdr, !n.state.isDisjoint(with: NUDState.valid) { s += "lladdr \(ll) " }
        if let (now, hz) = stats {
            if n.hasTimer { s += " ref 1" }
            s += " used \((now - n.used) / hz)/\((now - n.confirmed) / hz)/\((now - n.updated) / hz)"
            s += "probes \(n.probes) "
        }
        if n.state != .none { s += n.state.name + " " }
        return s
    }

    /// `ip -br neigh`: the address in 39 columns, the device in 16, then the link-layer address.
    /// Observed on Linux 6.18: `10.0.0.11` + 31 spaces + `veth0` + 12 spaces for an INCOMPLETE one.
    static func neighbourBrief(_ n: Neighbour) -> String {
        var s = CFormat.padRight(n.address.description, 39) + " " + CFormat.padRight(n.device.name, 16) + " "
        if let ll = n.lladdr, !n.state.isDisjoint(with: NUDState.valid) { s += ll.description }
        return s
    }
}
