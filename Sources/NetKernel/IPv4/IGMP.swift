// IGMP: net/ipv4/igmp.c, the host side. A device that comes up joins its groups (224.0.0.1
// always, never reported; a bridge also 224.0.0.106 for multicast router discovery), and each
// new group is announced by IGMPv3 state-change reports: robustness (2) reports, the first two
// jiffies after the join and the next a random time within unsolicited_report_interval (1 s).
// Guarantees: reports are real bytes (Router Alert, TTL 1, TOS 0xc0, DF, ID 0) from the
// device's primary address, or 0.0.0.0 without one, as Linux 6.18 was seen sending them.
// Sockets (a vxlan device's multicast group) join groups too; IPv4 input delivers a
// multicast packet only on a device that joined its group.
// Leaves out: queries and their responses, leave reports, source filters, IGMPv1/v2
// compatibility.

import SimCore
import Wire

/// Kernel: the multicast part of struct in_device.
struct IGMPState {
    /// Groups joined on the device (ip_mc_list), in join order.
    var groups: [IPv4Address] = []
    /// Groups sockets joined (IP_ADD_MEMBERSHIP, a vxlan device's `group`), with their
    /// users (im->users): kept across down and up, joined again on up.
    var socketGroups: [(group: IPv4Address, users: Int)] = []
    /// Groups whose state change still has to be reported, with reports left (im->crcount).
    var pendingChanges: [(group: IPv4Address, count: Int)] = []
    /// Kernel: in_dev->mr_ifc_count, reports left in the current burst.
    var ifcCount = 0
    var ifcTimer: EventID?
    static let allHosts = IPv4Address(224, 0, 0, 1)
    static let allRouters = IPv4Address(224, 0, 0, 22)
    static let robustness = 2
}

extension NetNamespace {
    /// Kernel: ip_mc_up(): on NETDEV_UP the device (re)joins its groups.
    func igmpDeviceUp(_ dev: NetDevice) {
        guard dev.linkTypeName == "ether" else { return }
        var groups = [IGMPState.allHosts]
        if dev is BridgeDevice { groups.append(IPv4Address(224, 0, 0, 106)) }
        groups += dev.igmp.socketGroups.map(\.group)
        for g in groups where !dev.igmp.groups.contains(g) { igmpGroupAdded(dev, g) }
    }

    /// Kernel: ip_mc_down(): timers stop; groups are forgotten until the next up.
    func igmpDeviceDown(_ dev: NetDevice) {
        if let t = dev.igmp.ifcTimer { clock.cancel(t) }
        let kept = dev.igmp.socketGroups
        dev.igmp = IGMPState()
        dev.igmp.socketGroups = kept
    }

    /// Kernel: ip_mc_join_group() -> ____ip_mc_inc_group(): one more user of `group` on
    /// `dev`; the first one joins (and reports) it while the device is up.
    func ipMcJoin(_ dev: NetDevice, _ group: IPv4Address) {
        if let i = dev.igmp.socketGroups.firstIndex(where: { $0.group == group }) {
            dev.igmp.socketGroups[i].users += 1
            return
        }
        dev.igmp.socketGroups.append((group, 1))
        if dev.adminUp && !dev.igmp.groups.contains(group) { igmpGroupAdded(dev, group) }
    }

    /// Kernel: ip_mc_leave_group() -> ip_mc_dec_group(): the last user leaves the group
    /// (without the leave reports, which are not modelled).
    func ipMcLeave(_ dev: NetDevice, _ group: IPv4Address) {
        guard let i = dev.igmp.socketGroups.firstIndex(where: { $0.group == group }) else { return }
        dev.igmp.socketGroups[i].users -= 1
        guard dev.igmp.socketGroups[i].users == 0 else { return }
        dev.igmp.socketGroups.remove(at: i)
        dev.igmp.groups.removeAll { $0 == group }
        dev.igmp.pendingChanges.removeAll { $0.group == group }
    }

    /// Kernel: ____ip_mc_inc_group() -> igmp_group_added() -> igmp_ifc_event().
    func igmpGroupAdded(_ dev: NetDevice, _ group: IPv4Address) {
        dev.igmp.groups.append(group)
        guard group != IGMPState.allHosts else { return }
        dev.igmp.pendingChanges.append((group, IGMPState.robustness))
        dev.igmp.ifcCount = IGMPState.robustness
        igmpStartTimer(dev, maxDelay: 1)
    }

    /// Kernel: igmp_ifc_start_timer(): random delay below `maxDelay` jiffies, plus 2.
    private func igmpStartTimer(_ dev: NetDevice, maxDelay: Int64) {
        if let t = dev.igmp.ifcTimer { clock.cancel(t) }
        let m = machine
        let tv = Int64(m.random(below: UInt64(max(maxDelay, 1))))
        dev.igmp.ifcTimer = m.addTimer(expires: m.jiffiesNow + tv + 2) { [self] in
            dev.igmp.ifcTimer = nil
            igmpIfcTimerExpired(dev)
        }
    }

    /// Kernel: igmp_ifc_timer_expire().
    private func igmpIfcTimerExpired(_ dev: NetDevice) {
        guard dev.adminUp else { return }
        igmpSendChangeReport(dev)
        if dev.igmp.ifcCount > 0 {
            dev.igmp.ifcCount -= 1
            igmpStartTimer(dev, maxDelay: machine.toJiffies(.seconds(1)))
        }
    }

    /// Kernel: igmpv3_send_cr(): one report with every pending change record.
    private func igmpSendChangeReport(_ dev: NetDevice) {
        var records: [IGMPv3GroupRecord] = []
        for i in dev.igmp.pendingChanges.indices where dev.igmp.pendingChanges[i].count > 0 {
            records.append(IGMPv3GroupRecord(type: .changeToExclude, group: dev.igmp.pendingChanges[i].group))
            dev.igmp.pendingChanges[i].count -= 1
        }
        dev.igmp.pendingChanges.removeAll { $0.count == 0 }
        guard !records.isEmpty else { return }
        let payload = IGMPv3Report(records: records).bytes
        let src = dev.primaryAddress?.local ?? .any
        var h = IPv4Header(totalLength: UInt16(IPv4Header.minimumLength + IPv4Options.routerAlert.count + payload.count),
                           dontFragment: true, ttl: 1, proto: .igmp, source: src, destination: IGMPState.allRouters, tos: 0xc0)
        h.options = IPv4Options.routerAlert
        h.identification = selectIdent(h, pmtuDo: true)
        kernel.trace(self, dev, .socket, "igmp v3 report for \(records.map { "\($0.group)" }.joined(separator: ", "))")
        let route = OutputRoute(device: dev, nextHop: IGMPState.allRouters, source: src, type: .multicast, route: nil)
        ipSendLocal(h, payload: payload, route: route)
    }
}
