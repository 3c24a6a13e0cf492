// Conntrack: net/netfilter/nf_conntrack_core.c, nf_conntrack_proto_{tcp,udp,icmp}.c. Each
// flow a namespace sees gets an entry with its original and reply tuples, a protocol state
// and a timeout; packets carry their entry and direction so that the state and conntrack
// matches and NAT can use them.
// Guarantees: entries are created on the first packet (PREROUTING/OUTPUT, priority -200),
// confirmed when it leaves (POSTROUTING/INPUT, last), found in O(1) by either tuple; TCP
// follows the kernel's transition table; a connection whose only answer is a RST is deleted;
// ICMP errors about a tracked flow are RELATED; timeouts are Linux's defaults.
// Leaves out: TCP window tracking (every segment is in window), helpers and expectations,
// zones, events (-E).

import SimCore
import Wire

/// Kernel: IP_CT_* as the conntrack/state matches see them (xt_conntrack's ctstate bits).
public struct CTStateSet: OptionSet, Sendable, Hashable {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }
    public static let invalid = CTStateSet(rawValue: 1)
    public static let established = CTStateSet(rawValue: 2)
    public static let related = CTStateSet(rawValue: 4)
    public static let new = CTStateSet(rawValue: 8)
    public static let untracked = CTStateSet(rawValue: 16)
    public static let snat = CTStateSet(rawValue: 32)
    public static let dnat = CTStateSet(rawValue: 64)
}

/// Kernel: enum ip_conntrack_info, reduced to what matches and NAT use.
public enum CTInfo: Sendable, Equatable {
    case new, established, related, establishedReply, relatedReply
    public var isReply: Bool { self == .establishedReply || self == .relatedReply }
}

/// Kernel: enum tcp_conntrack.
public enum TCPConntrackState: Int, Sendable {
    case none = 0, synSent, synRecv, established, finWait, closeWait, lastAck, timeWait, close, synSent2
    public var name: String {
        ["NONE", "SYN_SENT", "SYN_RECV", "ESTABLISHED", "FIN_WAIT", "CLOSE_WAIT", "LAST_ACK", "TIME_WAIT", "CLOSE", "SYN_SENT2"][rawValue]
    }
    /// Kernel: tcp_timeouts[].
    var timeout: SimTime {
        switch self {
        case .synSent, .synSent2, .finWait, .timeWait: return .seconds(120)
        case .synRecv, .closeWait: return .seconds(60)
        case .established: return .seconds(432_000)
        case .lastAck: return .seconds(30)
        case .close: return .seconds(10)
        case .none: return .seconds(120)
        }
    }
}

/// Kernel: struct nf_conn.
public final class ConntrackEntry {
    /// [original, reply]; the reply tuple changes when NAT binds the flow.
    public internal(set) var tuples: [CTTuple]
    public internal(set) var confirmed = false
    public internal(set) var seenReply = false
    public internal(set) var assured = false
    public internal(set) var srcNAT = false
    public internal(set) var dstNAT = false
    /// Which NAT manips have been decided (nf_nat_initialized()).
    var natInitialized: (src: Bool, dst: Bool) = (false, false)
    /// IPS_SRC_NAT_DONE / IPS_DST_NAT_DONE: the NAT hook set up a binding (a null one too).
    public var natDone: (src: Bool, dst: Bool) { natInitialized }
    public internal(set) var tcpState: TCPConntrackState = .none
    /// Absolute jiffies of expiry.
    var expires: Int64 = 0
    public var mark: UInt32 = 0
    let stamp: Int
    /// Jiffies when the flow was first seen.
    var created: Int64 = 0

    init(tuple: CTTuple, stamp: Int) {
        tuples = [tuple, tuple.inverted]
        self.stamp = stamp
    }

    public var original: CTTuple { tuples[0] }
    public var reply: CTTuple { tuples[1] }

    /// The timeout column of /proc/net/nf_conntrack: whole seconds left.
    public func secondsLeft(now: Int64, hz: Int64) -> Int64 { max(0, expires - now) / hz }
}

/// A namespace's conntrack table (net->ct).
public final class ConntrackTable {
    private var byTuple: [CTTuple: (entry: ConntrackEntry, reply: Bool)] = [:]
    private var nextStamp = 0
    var enabled = false

    /// Confirmed, unexpired entries in creation order.
    public func entries(now: Int64) -> [ConntrackEntry] {
        var seen = Set<ObjectIdentifier>()
        var out: [ConntrackEntry] = []
        for (_, v) in byTuple where v.entry.expires > now && seen.insert(ObjectIdentifier(v.entry)).inserted {
            out.append(v.entry)
        }
        return out.sorted { $0.stamp < $1.stamp }
    }

    public var count: Int { byTuple.count / 2 }

    func find(_ t: CTTuple, now: Int64) -> (entry: ConntrackEntry, reply: Bool)? {
        guard let f = byTuple[t] else { return nil }
        if f.entry.expires <= now {
            remove(f.entry)
            return nil
        }
        return f
    }

    func make(_ t: CTTuple) -> ConntrackEntry {
        defer { nextStamp += 1 }
        return ConntrackEntry(tuple: t, stamp: nextStamp)
    }

    /// Kernel: __nf_conntrack_confirm(): the entry becomes findable by both tuples.
    func insert(_ e: ConntrackEntry) {
        e.confirmed = true
        byTuple[e.tuples[0]] = (e, false)
        byTuple[e.tuples[1]] = (e, true)
    }

    func remove(_ e: ConntrackEntry) {
        for (i, t) in e.tuples.enumerated() where byTuple[t]?.entry === e {
            byTuple[t] = nil
            _ = i
        }
    }

    func flush() { byTuple.removeAll() }

    /// Invariant for tests: both tuples of every entry lead back to it.
    public func checkInvariants() -> [String] {
        var problems: [String] = []
        for (t, v) in byTuple.sorted(by: { $0.value.entry.stamp < $1.value.entry.stamp }) {
            if v.entry.tuples[v.reply ? 1 : 0] != t { problems.append("tuple \(t) filed under the wrong direction") }
            if byTuple[v.entry.tuples[v.reply ? 0 : 1]]?.entry !== v.entry { problems.append("entry for \(t) missing its other tuple") }
        }
        return problems
    }
}

extension NetNamespace {
    /// Kernel: nf_ct_netns_get() / nf_ct_netns_put() as the rules that need conntrack (state
    /// and conntrack matches, NAT targets) come and go: tracking runs while one exists. Entries
    /// already made stay until they time out.
    func syncConntrack(needed: Bool) {
        if needed {
            enableConntrack()
        } else if conntrack.enabled {
            conntrack.enabled = false
            unregisterHooks(named: "conntrack")
            unregisterHooks(named: "conntrack-confirm")
            unregisterHooks(named: "defrag")  // nf_defrag_ipv4_disable() with the last user
            kernel.trace(self, nil, .netfilter, "conntrack: no rule needs it any more, hooks unregistered")
        }
    }

    /// Kernel: nf_ct_netns_get(): the first rule that needs conntrack turns tracking on in this
    /// namespace, from then on for every packet.
    public func enableConntrack() {
        guard !conntrack.enabled else { return }
        conntrack.enabled = true
        registerConntrackDefrag()
        for hook in [NFHook.preRouting, .localOut] {
            registerHook(NFHookOps(hook: hook, priority: NFPriority.conntrack, name: "conntrack") { [unowned(unsafe) self] p, s in
                self.conntrackIn(&p, s)
            })
        }
        for hook in [NFHook.postRouting, .localIn] {
            registerHook(NFHookOps(hook: hook, priority: NFPriority.conntrackConfirm, name: "conntrack-confirm") { [unowned(unsafe) self] p, s in
                self.conntrackConfirm(&p, s)
            })
        }
    }

    /// `conntrack -F`.
    public func flushConntrack() { conntrack.flush() }

    /// Kernel: nf_ct_delete(), as ctnetlink_del_conntrack() calls it for `conntrack -D`.
    public func deleteConntrack(_ e: ConntrackEntry) { conntrack.remove(e) }

    /// The conntrack state of a packet as the state/conntrack matches test it.
    public func conntrackState(of p: Packet) -> CTStateSet {
        guard let info = p.ctInfo else { return p.ctInvalid ? .invalid : .untracked }
        var s: CTStateSet
        switch info {
        case .new: s = .new
        case .established, .establishedReply: s = .established
        case .related, .relatedReply: s = .related
        }
        if let e = p.ct {
            if e.srcNAT { s.insert(.snat) }
            if e.dstNAT { s.insert(.dnat) }
        }
        return s
    }

    /// Kernel: nf_conntrack_in().
    func conntrackIn(_ p: inout Packet, _ s: NFHookState) -> NFVerdict {
        // Loopback traffic keeps the entry it got on the way out.
        if p.ct != nil || p.ctInvalid { return .accept }
        guard let info = CTParse.info(p.bytes, ip: p.network) else { return .accept }
        let now = machine.jiffiesNow
        if let err = info.icmpError {
            // Kernel: icmp_error_message(): an error about a tracked flow is RELATED to it.
            guard let f = conntrack.find(err.inner.inverted, now: now) else {
                p.ctInvalid = true
                return .accept
            }
            p.ct = f.entry
            p.ctInfo = f.reply ? .relatedReply : .related
            return .accept
        }
        if let f = conntrack.find(info.tuple, now: now) {
            p.ct = f.entry
            if f.reply {
                p.ctInfo = .establishedReply
            } else {
                p.ctInfo = f.entry.seenReply ? .established : .new
            }
            return conntrackUpdate(&p, info, entry: f.entry, reply: f.reply, now: now)
        }
        // A new flow.
        if info.tuple.proto == .tcp {
            let index = CTParse.tcpIndex(info.tcpFlags)
            if index != .syn && index != .ack {
                // Kernel: tcp_new(): only a SYN (or, loosely, an ACK) starts a connection.
                p.ctInvalid = true
                kernel.trace(self, s.inDevice ?? s.outDevice, .conntrack, "tcp \(info.tuple.src):\(info.tuple.srcPort) -> \(info.tuple.dst):\(info.tuple.dstPort) invalid as a new connection")
                return .accept
            }
        }
        let e = conntrack.make(info.tuple)
        e.created = now
        p.ct = e
        p.ctInfo = .new
        return conntrackUpdate(&p, info, entry: e, reply: false, now: now)
    }

    /// The per-protocol packet handling (nf_conntrack_{tcp,udp,icmp}_packet()): state and timeout.
    private func conntrackUpdate(_ p: inout Packet, _ info: CTPacketInfo, entry e: ConntrackEntry, reply: Bool, now: Int64) -> NFVerdict {
        let m = machine
        if reply && !e.seenReply {
            e.seenReply = true
        }
        let timeout: SimTime
        switch info.tuple.proto {
        case .tcp:
            let index = CTParse.tcpIndex(info.tcpFlags)
            let old = e.tcpState
            // A connection whose only answer is a RST is deleted at once.
            if reply && index == .rst && old == .synSent {
                conntrack.remove(e)
                e.expires = now
                kernel.trace(self, nil, .conntrack, "tcp \(e.original.src):\(e.original.srcPort) -> \(e.original.dst):\(e.original.dstPort) refused: entry deleted")
                return .accept
            }
            guard let new = CTParse.tcpTransition(reply: reply, index: index, from: old) else {
                if reply && index == .synAck || index == .syn {
                    return .accept // ignored segment (sIG)
                }
                p.ctInvalid = true
                p.ct = nil
                p.ctInfo = nil
                return .accept
            }
            if new != old {
                kernel.trace(self, nil, .conntrack, "tcp \(e.original.src):\(e.original.srcPort) -> \(e.original.dst):\(e.original.dstPort) \(old.name) -> \(new.name)")
            }
            if !e.assured && (old == .synRecv || old == .established) && new == .established && e.seenReply {
                e.assured = true
            }
            e.tcpState = new
            // Kernel: a retransmitted SYN of an unanswered connection does not renew the
            // timeout (else port reuse could keep the entry alive forever).
            if !e.seenReply && index == .syn && old == .synSent { return .accept }
            timeout = new.timeout
        case .udp:
            // Kernel: nf_conntrack_udp_packet(): 30 s while unreplied or young; a flow still
            // active two seconds after it began becomes a stream: ASSURED, 120 s.
            if e.seenReply && now > e.created + 2 * m.kernel.config.hz {
                e.assured = true
                timeout = .seconds(120)
            } else {
                timeout = .seconds(30)
            }
        case .icmp:
            timeout = .seconds(30)
        default:
            // Kernel: nf_ct_generic_timeout.
            timeout = .seconds(600)
        }
        e.expires = now + m.toJiffies(timeout)
        return .accept
    }

    /// Kernel: nf_conntrack_confirm().
    func conntrackConfirm(_ p: inout Packet, _ s: NFHookState) -> NFVerdict {
        guard let e = p.ct, !e.confirmed, e.expires > machine.jiffiesNow || e.expires == 0 else { return .accept }
        if conntrack.find(e.original, now: machine.jiffiesNow) != nil || conntrack.find(e.reply, now: machine.jiffiesNow) != nil {
            // Kernel: the tuple was taken meanwhile (a clash): the packet is dropped.
            return .drop("conntrack insert clash")
        }
        conntrack.insert(e)
        kernel.trace(self, s.outDevice ?? s.inDevice, .conntrack, "new \(CTFormat.protoName(e.original.proto)) flow \(e.original.src) -> \(e.original.dst)")
        return .accept
    }
}

extension CTParse {
    enum TCPIndex: Int { case syn = 0, synAck, fin, ack, rst, none }

    /// Kernel: get_conntrack_index().
    static func tcpIndex(_ f: UInt8) -> TCPIndex {
        if f & tcpRST != 0 { return .rst }
        if f & tcpSYN != 0 { return f & tcpACK != 0 ? .synAck : .syn }
        if f & tcpFIN != 0 { return .fin }
        if f & tcpACK != 0 { return .ack }
        return .none
    }

    private typealias S = TCPConntrackState
    /// nil = invalid (sIV) or ignored (sIG): the caller tells them apart.
    private static let ignore: S? = nil
    /// Kernel: tcp_conntracks[dir][index][state] (columns NONE, SYN_SENT, SYN_RECV, ESTABLISHED,
    /// FIN_WAIT, CLOSE_WAIT, LAST_ACK, TIME_WAIT, CLOSE, SYN_SENT2).
    private static let original: [[S?]] = [
        /* syn    */ [.synSent, .synSent, nil, nil, nil, nil, nil, .synSent, .synSent, .synSent2],
        /* synack */ [nil, nil, nil, nil, nil, nil, nil, nil, nil, .synRecv],
        /* fin    */ [nil, nil, .finWait, .finWait, .lastAck, .lastAck, .lastAck, .timeWait, .close, nil],
        /* ack    */ [.established, nil, .established, .established, .closeWait, .closeWait, .timeWait, .timeWait, .close, nil],
        /* rst    */ [nil, .close, .close, .close, .close, .close, .close, .close, .close, .close],
        /* none   */ [nil, nil, nil, nil, nil, nil, nil, nil, nil, nil],
    ]
    private static let replyTable: [[S?]] = [
        /* syn    */ [nil, .synSent2, nil, nil, nil, nil, nil, nil, nil, .synSent2],
        /* synack */ [nil, .synRecv, nil, nil, nil, nil, nil, nil, nil, .synRecv],
        /* fin    */ [nil, nil, .finWait, .finWait, .lastAck, .lastAck, .lastAck, .timeWait, .close, nil],
        /* ack    */ [nil, nil, .synRecv, .established, .closeWait, .closeWait, .timeWait, .timeWait, .close, nil],
        /* rst    */ [nil, .close, .close, .close, .close, .close, .close, .close, .close, .close],
        /* none   */ [nil, nil, nil, nil, nil, nil, nil, nil, nil, nil],
    ]

    static func tcpTransition(reply: Bool, index: TCPIndex, from s: TCPConntrackState) -> TCPConntrackState? {
        (reply ? replyTable : original)[index.rawValue][s.rawValue]
    }
}
