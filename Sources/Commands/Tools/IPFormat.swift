// IPFormat: iproute2's text output (ip link, ip addr, ip neigh, ip netns), byte for byte as
// iproute2 6.1 prints it (see docs/fidelity.md for the observations behind each rule).

import NetKernel
import SimCore
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
        var kindLines: [String] = []
        if let vx = dev as? VXLANDevice {
            kindLines.append("vxlan " + IPLinkVXLAN.details(vx, viewer: viewer))
        } else if let tun = dev as? TunDevice {
            kindLines.append("tun type \(tun.isTap ? "tap" : "tun") pi off vnet_hdr off persist \(tun.persistent ? "on" : "off") ")
        } else if dev is VethDevice {
            kindLines.append("veth ")
        } else if let br = dev as? BridgeDevice {
            kindLines.append("bridge " + bridgeDetails(br))
        } else if !dev.isLoopback {
            return nil
        }
        if let br = dev.master, let p = br.port(for: dev) { kindLines.append("bridge_slave " + bridgeSlaveDetails(p)) }
        let allmulti = (dev.master != nil ? 1 : 0) + (dev.userAllMulti ? 1 : 0)
        let range = dev.isLoopback ? (0, 0) : (dev.mtuRange.lowerBound, dev.mtuRange.upperBound)
        var s = " promiscuity \(dev.promiscuity)  allmulti \(allmulti) minmtu \(range.0) maxmtu \(range.1) "
        for k in kindLines { s += "\n    " + k }
        let queues = dev is VethDevice ? dev.namespace.kernel.config.possibleCPUs : 1
        s += "addrgenmode eui64 numtxqueues \(queues) numrxqueues \(queues) gso_max_size 65536 gso_max_segs 65535 "
        s += "tso_max_size \(dev.tsoMaxSize) tso_max_segs 65535 gro_max_size 65536 "
        return s
    }

    /// br_dump_bridge_id(): the priority in hex, then ether_ntoa_r()'s unpadded bytes
    /// ("8000.2e:ba:c8:0:40:b0").
    static func bridgeID(_ br: BridgeDevice) -> String {
        let p = String(br.priority, radix: 16)
        let mac = br.bridgeIDMAC.bytes.map { String($0, radix: 16) }.joined(separator: ":")
        return String(repeating: "0", count: 4 - p.count) + p + "." + mac
    }

    /// print_timer(): whole seconds in four columns, then hundredths.
    static func timer(_ jiffies: Int64, hz: Int64) -> String {
        let cs = max(0, jiffies) * 100 / hz
        let frac = cs % 100
        return CFormat.padLeft(String(cs / 100), 4) + "." + (frac < 10 ? "0" : "") + String(frac)
    }

    /// bridge_print_opt() for a bridge with STP off (no STP timers run; the bridge is its own
    /// root) and multicast snooping at its defaults. Observed on Linux 6.18 for a new bridge:
    /// `bridge forward_delay 1500 hello_time 200 max_age 2000 ageing_time 30000 stp_state 0 ...`.
    static func bridgeDetails(_ br: BridgeDevice) -> String {
        let m = br.namespace.machine
        let hz = m.kernel.config.hz
        func cs(_ t: SimTime) -> String { String(t.ns / 10_000_000) }
        let id = bridgeID(br)
        let gc: Int64 = br.gcExpires.map { $0 - m.jiffiesNow } ?? 0
        let parts: [String] = [
            "forward_delay", cs(br.forwardDelay), "hello_time", cs(br.helloTime), "max_age", cs(br.maxAge),
            "ageing_time", cs(br.ageingTime), "stp_state", br.stpEnabled ? "1" : "0",
            "priority", String(br.priority), "vlan_filtering 0 bridge_id", id, "designated_root", id,
            "root_port 0 root_path_cost 0 topology_change 0 topology_change_detected 0",
            "hello_timer    0.00 tcn_timer    0.00 topology_change_timer    0.00 gc_timer", timer(gc, hz: hz),
            "group_fwd_mask 0 group_address 01:80:c2:00:00:00 mcast_snooping", br.multicastSnooping ? "1" : "0",
            "no_linklocal_learn 0",
            "mcast_vlan_snooping 0 mcast_router 1 mcast_query_use_ifaddr 0 mcast_querier 0",
            "mcast_hash_elasticity 16 mcast_hash_max 4096 mcast_last_member_count 2",
            "mcast_startup_query_count 2 mcast_last_member_interval 100 mcast_membership_interval 26000",
            "mcast_querier_interval 25500 mcast_query_interval 12500 mcast_query_response_interval 1000",
            "mcast_startup_query_interval 3124 mcast_stats_enabled 0 mcast_igmp_version 2 mcast_mld_version 1",
            "nf_call_iptables", br.nfCallIptables ? "1" : "0", "nf_call_ip6tables", br.nfCallIp6tables ? "1" : "0",
            "nf_call_arptables", br.nfCallArptables ? "1" : "0",
        ]
        return parts.joined(separator: " ") + " "
    }

    /// bridge_slave_print_opt(): the port is its segment's designated port (br_init_port() with
    /// STP off). Observed on Linux 6.18: `bridge_slave state forwarding priority 32 cost 2 ...
    /// port_id 0x8001 port_no 0x1 designated_port 32769 ... forward_delay_timer   14.98 ...`.
    static func bridgeSlaveDetails(_ p: BridgePort) -> String {
        let br = p.bridge
        let m = br.namespace.machine
        func o(_ b: Bool) -> String { b ? "on" : "off" }
        let id = bridgeID(br)
        let fd: Int64 = p.forwardDelayExpires.map { $0 - m.jiffiesNow } ?? 0
        let parts: [String] = [
            "state", p.state.name, "priority 32 cost", String(p.pathCost), "hairpin", o(p.hairpin),
            "guard off root_block off fastleave off learning", o(p.learning), "flood", o(p.flood),
            "port_id", "0x" + String(p.portID, radix: 16), "port_no", "0x" + String(p.portNumber, radix: 16),
            "designated_port", String(p.portID), "designated_cost 0 designated_bridge", id, "designated_root", id,
            "hold_timer    0.00 message_age_timer    0.00 forward_delay_timer", timer(fd, hz: m.kernel.config.hz),
            "topology_change_ack 0 config_pending 0 proxy_arp off proxy_arp_wifi off mcast_router 1",
            "mcast_fast_leave off mcast_flood", o(p.mcastFlood), "bcast_flood", o(p.bcastFlood),
            "mcast_to_unicast off neigh_suppress off group_fwd_mask 0 group_fwd_mask_str 0x0",
            "vlan_tunnel off isolated off locked off",
        ]
        return parts.joined(separator: " ") + " "
    }

    /// `ip -s link`: print_link_stats64()'s RX and TX blocks. The columns are shared by both
    /// blocks and widen to the longest number; an empty compressed column still takes its
    /// width in the titles. Observed on Linux 6.18 for a fresh veth:
    /// `    RX:  bytes packets errors dropped  missed   mcast           ` then
    /// `             0       0      0       0       0       0 `.
    /// With -s -s (`errors`), each block is followed by its error breakdown, sized by the same
    /// columns: the receive errors the model never has, and the carrier changes (transns).
    /// Observed on Linux 6.18 for a veth whose peer came up: `    TX errors: aborted   fifo
    /// window heartbt transns` over `                     0      0       0       0       2 `.
    static func linkStats(_ dev: NetDevice, errors: Bool = false) -> [String] {
        let st = dev.stats
        let rx = [st.rxBytes, st.rxPackets, 0, st.rxDropped, 0, 0]
        let tx = [st.txBytes, st.txPackets, 0, st.txDropped, 0, 0]
        let rxErrors = [0, 0, 0, 0, 0, 0], txErrors = [0, 0, 0, 0, 0, dev.carrierChanges]
        var cols = [10, 7, 6, 7, 7, 7]
        for row in [rx, tx] + (errors ? [rxErrors, txErrors] : []) {
            for (i, v) in row.enumerated() { cols[i] = max(cols[i], String(v).count) }
        }
        func errorTitles(_ head: String, _ names: [String]) -> String {
            var s = "    " + CFormat.padRight(head, cols[0])
            for i in 1..<6 { s += " " + CFormat.padLeft(names[i - 1], cols[i]) }
            return s
        }
        func errorValues(_ row: [Int]) -> String {
            var s = "    " + String(repeating: " ", count: cols[0])
            for i in 1..<6 { s += " " + CFormat.padLeft(String(row[i]), cols[i]) }
            return s + " "
        }
        func titles(_ dir: String, _ names: [String]) -> String {
            var s = "    \(dir): " + CFormat.padLeft(names[0], cols[0] - 4)
            for i in 1..<6 { s += " " + CFormat.padLeft(names[i], cols[i]) }
            return s + " " + String(repeating: " ", count: 10)
        }
        func values(_ row: [Int]) -> String {
            var s = "    " + CFormat.padLeft(String(row[0]), cols[0])
            for i in 1..<6 { s += " " + CFormat.padLeft(String(row[i]), cols[i]) }
            return s + " "
        }
        var lines = [titles("RX", ["bytes", "packets", "errors", "dropped", "missed", "mcast"]), values(rx)]
        if errors {
            lines += [errorTitles("RX errors:", ["length", "crc", "frame", "fifo", "overrun"]), errorValues(rxErrors)]
        }
        lines += [titles("TX", ["bytes", "packets", "errors", "dropped", "carrier", "collsns"]), values(tx)]
        if errors {
            lines += [errorTitles("TX errors:", ["aborted", "fifo", "window", "heartbt", "transns"]), errorValues(txErrors)]
        }
        return lines
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
