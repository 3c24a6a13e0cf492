// Sysctl: the per-namespace and per-device knobs under /proc/sys/net that change behaviour.
// Guarantees: defaults are those of a fresh namespace on Linux 6.x; `sysctl` reads and writes
// them through one table of keys, so every knob is reachable by its real name.

import SimCore

/// net.ipv4.* of one namespace.
public struct IPv4NetConfig: Sendable {
    /// net.ipv4.ip_forward: non-zero conf.all.forwarding (the same int in the kernel).
    public var forwarding = false
    public var defaultTTL: UInt8 = 64
    public var icmpEchoIgnoreAll = false
    public var icmpEchoIgnoreBroadcasts = true
    /// net.ipv4.icmp_ratelimit (ms) and the token bucket burst.
    public var icmpRateLimitMS = 1000
    /// net.ipv4.icmp_ratemask: ICMP types whose errors are rate limited (bit n = type n;
    /// 0x1818 = destination unreachable, source quench, time exceeded, parameter problem).
    public var icmpRatemask: UInt32 = 0x1818
    /// net.ipv4.icmp_msgs_per_sec and icmp_msgs_burst: the namespace-wide ICMP token bucket.
    public var icmpMsgsPerSec = 1000
    public var icmpMsgsBurst = 50
    /// net.ipv4.icmp_errors_use_inbound_ifaddr: source errors from the incoming device's
    /// address instead of the route back's.
    public var icmpErrorsUseInboundIfaddr = false
    public var ipLocalPortRange = (32768, 60999)
    /// net.ipv4.tcp_* (IPv4/TCP.swift).
    public var tcp = TCPNetConfig()
    /// net.ipv4.conf.all.* where "all" is combined with the device's own value.
    public var allConf = IPv4DeviceConfig()
    /// net.ipv4.conf.default.*: copied into devices created later.
    public var defaultConf = IPv4DeviceConfig()
    /// net.ipv4.neigh.default.*
    public var neighDefault = NeighbourDefaults()
    public init() {}
}

/// net.ipv4.conf.DEV.*
public struct IPv4DeviceConfig: Sendable {
    /// proc_dointvec keys hold any int the user wrote (2 and -1 read back as written); the
    /// stack only asks whether they are non-zero.
    public var forwardingValue = 0
    public var acceptLocalValue = 0
    public var sendRedirectsValue = 1
    public var proxyARPValue = 0
    public var forwarding: Bool {
        get { forwardingValue != 0 }
        set { forwardingValue = newValue ? 1 : 0 }
    }
    public var acceptLocal: Bool {
        get { acceptLocalValue != 0 }
        set { acceptLocalValue = newValue ? 1 : 0 }
    }
    public var sendRedirects: Bool {
        get { sendRedirectsValue != 0 }
        set { sendRedirectsValue = newValue ? 1 : 0 }
    }
    public var proxyARP: Bool {
        get { proxyARPValue != 0 }
        set { proxyARPValue = newValue ? 1 : 0 }
    }
    /// 0 off, 1 strict, 2 loose. A new namespace has 0 in "all" and "default" on Debian-less
    /// kernels (the init_net value 1 comes from systemd's sysctl.d, not the kernel).
    public var rpFilter = 0
    public var arpIgnore = 0
    public var arpAnnounce = 0
    public var arpAccept = 0
    /// Deleting a primary address promotes its first secondary instead of deleting them all
    /// (0 in a new namespace; combined with "all" by OR).
    public var promoteSecondaries = 0
    /// Keys written for this device (bit i: SysctlTable.conf[i]; Kernel: ipv4_devconf.state):
    /// a later conf.default write leaves them alone.
    public var writtenKeys: UInt64 = 0
    public init() {}
}

/// net.ipv4.neigh.default.* in their kernel units.
public struct NeighbourDefaults: Sendable {
    public var baseReachableTime = SimTime.seconds(30)
    public var retransTime = SimTime.seconds(1)
    public var delayFirstProbeTime = SimTime.seconds(5)
    public var gcStaleTime = SimTime.seconds(60)
    public var ucastSolicit = 3
    public var mcastSolicit = 3
    public var mcastResolicit = 0
    public var appSolicit = 0
    public var unresQlenBytes = 212_992
    public var locktime = SimTime.seconds(1)
    public init() {}
}
