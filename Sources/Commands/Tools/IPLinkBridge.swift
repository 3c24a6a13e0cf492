// IPLinkBridge: the `type bridge` options of `ip link add|set` (iproute2 6.1's
// ip/iplink_bridge.c) for what the bridge model keeps: forward_delay, hello_time, max_age and
// ageing_time (in hundredths of a second, as the kernel takes clock_t), stp_state, priority,
// mcast_snooping and nf_call_* (kept for display), and vlan_filtering 0. Its messages: invarg("invalid NAME"), and "unknown command" followed
// by the usage (exit status 1).
// Leaves out: the other multicast snooping options, group masks
// and addresses, VLAN protocol and defaults, fdb_flush.

import NetKernel
import SimCore

enum IPLinkBridge {
    /// One parsed option, applied to the bridge after creation or on `set`.
    enum Option {
        case forwardDelay(SimTime), helloTime(SimTime), maxAge(SimTime), ageingTime(SimTime)
        case stpState(Bool), priority(UInt16)
        case flag(ReferenceWritableKeyPath<BridgeDevice, Bool>, Bool)
    }

    /// bridge_parse_opt(). Observed on Linux 6.18: `ageing_time abc` is
    /// `Error: argument "abc" is wrong: invalid ageing_time` (255, no empty line after it).
    static func parse(_ args: [String]) throws -> [Option] {
        var out: [Option] = []
        var it = args.makeIterator()
        func number(_ key: String) throws -> UInt64 {
            let v = try IPCommand.next(&it)
            guard let n = IPCommand.strtoul0(v), n <= UInt64(UInt32.max) else {
                throw IPCommand.invarg("invalid \(key)", v, extraNewline: false)
            }
            return n
        }
        func centis(_ n: UInt64) -> SimTime { .milliseconds(Int64(n) * 10) }
        while let a = it.next() {
            switch a {
            case "forward_delay": out.append(.forwardDelay(centis(try number("forward_delay"))))
            case "hello_time": out.append(.helloTime(centis(try number("hello_time"))))
            case "max_age": out.append(.maxAge(centis(try number("max_age"))))
            case "ageing_time": out.append(.ageingTime(centis(try number("ageing_time"))))
            case "stp_state": out.append(.stpState(try number("stp_state") != 0))
            case "priority":
                let n = try number("priority")
                guard n <= 0xffff else { throw IPCommand.invarg("invalid priority", String(n), extraNewline: false) }
                out.append(.priority(UInt16(n)))
            case "vlan_filtering":
                // This kernel is built without CONFIG_BRIDGE_VLAN_FILTERING: br_changelink()
                // answers EOPNOTSUPP to vlan_filtering 1.
                if try number("vlan_filtering") != 0 { throw KernelError(.ENOTSUP) }
            case "mcast_snooping": out.append(.flag(\.multicastSnooping, try number("mcast_snooping") != 0))
            case "nf_call_iptables": out.append(.flag(\.nfCallIptables, try number("nf_call_iptables") != 0))
            case "nf_call_ip6tables": out.append(.flag(\.nfCallIp6tables, try number("nf_call_ip6tables") != 0))
            case "nf_call_arptables": out.append(.flag(\.nfCallArptables, try number("nf_call_arptables") != 0))
            case "mcast_querier", "mcast_router", "no_linklocal_learn", "mcast_stats_enabled":
                let v = try IPCommand.next(&it)
                throw ToolFailure(message: "ip link ... type bridge \(a) \(v): not modelled by swnetsim", status: 1)
            default:
                throw ToolFailure(message: "bridge: unknown command \"\(a)\"?\n" + usage, status: 1)
            }
        }
        return out
    }

    /// br_changelink(): each option in turn.
    static func apply(_ opts: [Option], to br: BridgeDevice) {
        for o in opts {
            switch o {
            case let .forwardDelay(t): br.forwardDelay = t
            case let .helloTime(t): br.helloTime = t
            case let .maxAge(t): br.maxAge = t
            case let .ageingTime(t): br.setAgeingTime(t)
            case let .stpState(on): br.stpEnabled = on
            case let .priority(p): br.priority = p
            case let .flag(k, v): br[keyPath: k] = v
            }
        }
    }

    static let usage = """
        Usage: ... bridge [ fdb_flush ]
        \t\t  [ forward_delay FORWARD_DELAY ]
        \t\t  [ hello_time HELLO_TIME ]
        \t\t  [ max_age MAX_AGE ]
        \t\t  [ ageing_time AGEING_TIME ]
        \t\t  [ stp_state STP_STATE ]
        \t\t  [ priority PRIORITY ]
        \t\t  [ group_fwd_mask MASK ]
        \t\t  [ group_address ADDRESS ]
        \t\t  [ no_linklocal_learn NO_LINKLOCAL_LEARN ]
        \t\t  [ vlan_filtering VLAN_FILTERING ]
        \t\t  [ vlan_protocol VLAN_PROTOCOL ]
        \t\t  [ vlan_default_pvid VLAN_DEFAULT_PVID ]
        \t\t  [ vlan_stats_enabled VLAN_STATS_ENABLED ]
        \t\t  [ vlan_stats_per_port VLAN_STATS_PER_PORT ]
        \t\t  [ mcast_snooping MULTICAST_SNOOPING ]
        \t\t  [ mcast_vlan_snooping MULTICAST_VLAN_SNOOPING ]
        \t\t  [ mcast_router MULTICAST_ROUTER ]
        \t\t  [ mcast_query_use_ifaddr MCAST_QUERY_USE_IFADDR ]
        \t\t  [ mcast_querier MULTICAST_QUERIER ]
        \t\t  [ mcast_hash_elasticity HASH_ELASTICITY ]
        \t\t  [ mcast_hash_max HASH_MAX ]
        \t\t  [ mcast_last_member_count LAST_MEMBER_COUNT ]
        \t\t  [ mcast_startup_query_count STARTUP_QUERY_COUNT ]
        \t\t  [ mcast_last_member_interval LAST_MEMBER_INTERVAL ]
        \t\t  [ mcast_membership_interval MEMBERSHIP_INTERVAL ]
        \t\t  [ mcast_querier_interval QUERIER_INTERVAL ]
        \t\t  [ mcast_query_interval QUERY_INTERVAL ]
        \t\t  [ mcast_query_response_interval QUERY_RESPONSE_INTERVAL ]
        \t\t  [ mcast_startup_query_interval STARTUP_QUERY_INTERVAL ]
        \t\t  [ mcast_stats_enabled MCAST_STATS_ENABLED ]
        \t\t  [ mcast_igmp_version IGMP_VERSION ]
        \t\t  [ mcast_mld_version MLD_VERSION ]
        \t\t  [ nf_call_iptables NF_CALL_IPTABLES ]
        \t\t  [ nf_call_ip6tables NF_CALL_IP6TABLES ]
        \t\t  [ nf_call_arptables NF_CALL_ARPTABLES ]

        Where: VLAN_PROTOCOL := { 802.1Q | 802.1ad }
        """
}
