// Tracepoints: every decision the kernel takes, with a reason, for event logs and the explain
// view. Names follow the kernel's own (SKB_DROP_REASON_*, NUD states, br_fdb_* events).

import SimCore

public struct KernelEvent: Sendable, CustomStringConvertible {
    public enum Kind: String, Sendable {
        case rx, tx, drop, deliver, forward, flood, fdbLearn = "fdb-learn", fdbAge = "fdb-age"
        case neigh, route, arp, icmp, netfilter, conntrack, socket
    }
    public let time: SimTime
    public let machine: String
    public let namespace: String
    public let device: String?
    public let kind: Kind
    public let detail: String

    public var description: String {
        let dev = device.map { " dev \($0)" } ?? ""
        return "\(time) \(machine)/\(namespace)\(dev) \(kind.rawValue): \(detail)"
    }
}

public protocol KernelObserver: AnyObject {
    func record(_ event: KernelEvent)
}

/// Why a packet was dropped; raw values are the kernel's SKB_DROP_REASON_* suffixes.
public enum DropReason: String, Sendable {
    case notSpecified = "NOT_SPECIFIED"
    case otherHost = "OTHERHOST"
    case pktTooSmall = "PKT_TOO_SMALL"
    case ipChecksum = "IP_CSUM"
    case ipInvalidHeader = "IP_INHDR"
    case ipInvalidSource = "IP_INVALID_SOURCE"
    case ipInNoRoutes = "IP_INNOROUTES"
    case ipOutNoRoutes = "IP_OUTNOROUTES"
    case ipRPFilter = "IP_RPFILTER"
    case ipLocalSource = "IP_LOCAL_SOURCE"
    case unhandledProto = "UNHANDLED_PROTO"
    case noSocket = "NO_SOCKET"
    case devReady = "DEV_READY"
    case qdiscDrop = "QDISC_DROP"
    case fullRing = "FULL_RING"
    case neighFailed = "NEIGH_FAILED"
    case neighQueueFull = "NEIGH_QUEUEFULL"
    case neighDead = "NEIGH_DEAD"
    case arpNotForUs = "ARP_NOT_FOR_US"
    case bridgeSamePort = "BRIDGE_SAME_PORT"
    case bridgePortState = "BRIDGE_PORT_STATE"
    case ipForwardDisabled = "IP_FORWARDING_DISABLED"
    case ipTTLExpired = "IP_TTL_EXPIRED"
    case dupFrag = "DUP_FRAG"
    case pktTooBig = "PKT_TOO_BIG"
    case fragReasmTimeout = "FRAG_REASM_TIMEOUT"
    case netfilterDrop = "NETFILTER_DROP"
    case loopDetected = "LOOP_BUDGET"
}
