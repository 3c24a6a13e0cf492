// ICMP: net/ipv4/icmp.c. Answering echo requests, and sending the errors the stack raises
// (unreachable, time exceeded, fragmentation needed) with the kernel's addressing and limits.
// Models, as Linux 6.18 does them:
// - __icmp_send(): no error about a broadcast or multicast, a non-first fragment or an ICMP
//   error; the error quotes the offending IP header plus data up to 576 bytes in all; TOS is
//   the offender's (tos & 0x1e) | 0xc0; the source is the offender's destination when that is
//   ours, else the route back chooses it (icmp_errors_use_inbound_ifaddr 0);
// - the two rate limits of errors whose type is in icmp_ratemask (0x1818: unreachable but not
//   "fragmentation needed", source quench, time exceeded, parameter problem), in the kernel's
//   order: icmp_global_allow() (a namespace-wide bucket of icmp_msgs_burst 50 credits,
//   refilled at icmp_msgs_per_sec 1000 but only once 20 ms have passed, each error consuming
//   0-2 credits at random), then icmpv4_xrlim_allow() (a token bucket per destination in the
//   inet_peer of that address: icmp_ratelimit 1000 ms a token, at most 6 (XRLIM_BURST_FACTOR),
//   a new peer starting full). Errors about packets that came in on lo, or leaving through
//   lo, are not limited. Observed on Linux 6.18: 16 traceroute probes to a host get 6 port
//   unreachables, then one a second;
// - ip_error() in route.c: a packet with no usable route (no route, unreachable, prohibit)
//   passes a second bucket in the same inet_peer first (error_cost 1 s, error_burst 5 s), so
//   a burst gets only two "net unreachable" errors (observed on Linux 6.18);
// - icmp_unreach(): a received error goes to raw sockets and the transport protocol.
// Guarantees: every refusal is traced with the kernel's counter name; the credit draws come
// from the namespace's seeded stream "icmp/<machine>/<namespace>".
// Leaves out: redirects, timestamps, RFC 4884 extensions, PMTU caching, inet_peer garbage
// collection (a peer idle for 6 s is full either way).

import SimCore
import Wire

// MARK: - Per-namespace ICMP state

/// Kernel: the rate-limit half of struct inet_peer (net/ipv4/inetpeer.c), one per remote
/// address, shared by icmpv4_xrlim_allow() and ip_error().
final class InetPeer {
    var rateTokens: Int64 = 0
    var rateLast: Int64

    /// Kernel: inet_getpeer() starts rate_last 60 s in the past, "so that the first
    /// calculation of tokens is at its maximum".
    init(jiffies: Int64, hz: Int64) { rateLast = jiffies - 60 * hz }
}

/// The ICMP fields of struct netns_ipv4: the peers tree and the global credit.
final class ICMPNamespaceState {
    var peers: [IPv4Address: InetPeer] = [:]
    /// Kernel: net->ipv4.icmp_global_credit / icmp_global_stamp (u32 jiffies, starts at 0).
    var globalCredit = 0
    var globalStamp: UInt32 = 0
    var rng: SplitMix64

    init(rng: SplitMix64) { self.rng = rng }
}

/// State of the ICMP and UDP layers that struct net holds on Linux and NetNamespace does not
/// (yet): kept beside each namespace, found by identity, and dropped with it.
final class InetNamespaceState {
    let icmp: ICMPNamespaceState
    let udp: UDPTable
    /// IPv4 reassembly queues (IPFragment.swift).
    let frags = IPFragQueues()

    init(_ ns: NetNamespace) {
        let base = "\(ns.machine.name)/\(ns.serial)"
        icmp = ICMPNamespaceState(rng: SplitMix64(seed: ns.kernel.seed, stream: "icmp/" + base))
        udp = UDPTable(rng: SplitMix64(seed: ns.kernel.seed, stream: "udp/" + base))
    }
}

extension NetNamespace {

    /// Kernel: inet_getpeer_v4(net->ipv4.peers, addr, vif, create=1).
    func inetPeer(_ addr: IPv4Address) -> InetPeer {
        let st = inetState.icmp
        if let p = st.peers[addr] { return p }
        let p = InetPeer(jiffies: machine.jiffiesNow, hz: kernel.config.hz)
        st.peers[addr] = p
        return p
    }
}

extension NetNamespace {
    /// Kernel: icmp_rcv() in net/ipv4/icmp.c.
    func icmpReceive(_ dev: NetDevice, _ p: Packet) {
        let o = p.network
        let ihl = IPv4View.headerLength(p.bytes, at: o)
        let end = o + IPv4View.totalLength(p.bytes, at: o)
        guard let (icmp, ok) = try? ICMPv4Packet.parse(p.bytes, at: o + ihl, end: end), ok else {
            kernel.trace(self, dev, .drop, "bad icmp checksum (ICMP_CSUM)")
            return
        }
        let dst = IPv4View.destination(p.bytes, at: o)
        let src = IPv4View.source(p.bytes, at: o)
        switch icmp.type {
        case .echoRequest:
            if ipv4.icmpEchoIgnoreAll { return }
            if !isLocalAddress(dst) && ipv4.icmpEchoIgnoreBroadcasts { return }
            icmpEchoReply(to: src, from: dst, request: icmp, tos: p.bytes[o + 1])
        case .destinationUnreachable, .timeExceeded, .parameterProblem:
            kernel.trace(self, dev, .icmp, "icmp type \(icmp.type.rawValue) code \(icmp.code) from \(src)")
            // Kernel: icmp_unreach(): reassembly timeouts are not reported to sockets.
            if icmp.type == .timeExceeded && icmp.code == 1 { return }
            icmpUnreach(icmp, from: src, ttl: IPv4View.ttl(p.bytes, at: o))
        default:
            kernel.trace(self, dev, .icmp, "icmp type \(icmp.type.rawValue) code \(icmp.code) from \(src)")
        }
    }

    /// Kernel: icmp_unreach() -> icmp_socket_deliver(): hand the error to the raw sockets of
    /// the quoted packet's protocol, then to that protocol (udp_err, tcp_v4_err). `ttl` is the
    /// error's own TTL, which IP_RECVTTL reports with the error-queue message.
    func icmpUnreach(_ icmp: ICMPv4Packet, from src: IPv4Address, ttl: UInt8 = 0) {
        guard let (inner, _) = try? IPv4Header.parse(icmp.payload, at: 0),
              icmp.payload.count >= inner.headerLength + 8 else { return }
        let e = SocketError(offender: src, type: icmp.type.rawValue, code: icmp.code,
                            info: icmp.type == .destinationUnreachable && icmp.code == 4 ? icmp.rest & 0xffff : (icmp.type == .parameterProblem ? icmp.rest : 0),
                            originalProto: inner.proto, original: Array(icmp.payload[inner.headerLength...]),
                            originalDestination: inner.destination)
        rawError(e)
        if inner.proto == .udp {
            udpError(e, source: inner.source, errorTTL: ttl)
        } else {
            transportError(e)
        }
    }

    /// Kernel: icmp_echo() -> icmp_reply(): same payload, the request's destination as source.
    func icmpEchoReply(to dst: IPv4Address, from src: IPv4Address, request: ICMPv4Packet, tos: UInt8) {
        guard let route = try? routeOutput(to: dst, source: isLocalAddress(src) ? src : nil) else {
            kernel.trace(self, nil, .drop, "no route for echo reply to \(dst)")
            return
        }
        let payload = ICMPv4Packet(type: .echoReply, code: 0, rest: request.rest, payload: request.payload).bytes
        var h = IPv4Header(totalLength: UInt16(IPv4Header.minimumLength + payload.count), dontFragment: false,
                           ttl: ipv4.defaultTTL, proto: .icmp, source: route.source, destination: dst, tos: tos)
        h.identification = selectIdent(h)
        ipSendLocal(h, payload: payload, route: route)
    }

    /// Kernel: __icmp_send() in net/ipv4/icmp.c: an error about packet `p` (which starts at p.network).
    /// `inDevice` is the device `p` came in on (nil for a packet of our own); `skbDevice` is
    /// skb->dev when that differs (the output device of a packet of ours whose neighbour failed).
    func icmpSendError(_ p: Packet, type: ICMPv4Type, code: UInt8, inDevice: NetDevice?, nextHopMTU: UInt16 = 0,
                       skbDevice: NetDevice? = nil) {
        let o = p.network
        guard let (orig, _) = try? IPv4Header.parse(p.bytes, at: o) else { return }
        // Never about a broadcast/multicast, a non-first fragment, or an ICMP error.
        if orig.destination.isMulticast || orig.destination.isLimitedBroadcast || orig.fragmentOffset != 0 { return }
        if p.pktType == .broadcast || p.pktType == .multicast { return }
        if inDevice != nil, fib.lookup(orig.destination, table: RouteTable.local, oif: nil)?.type == .broadcast { return }
        if orig.proto == .icmp {
            let t = p.bytes.count > o + orig.headerLength ? p.bytes[o + orig.headerLength] : 0
            if t > 18 || ICMPv4Type(rawValue: t).isError || [1, 2, 6, 7, 9, 10].contains(t) { return }
        }
        let what = "icmp type \(type.rawValue) code \(code) to \(orig.source)"
        // ip_error(): the input route's own limit comes first.
        if let d = inDevice, type == .destinationUnreachable, [0, 1, 13].contains(code),
           inputRouteIsError(orig.destination), !ipErrorAllow(orig.source) {
            kernel.trace(self, d, .icmp, "not sending \(what): ip_error rate limit (error_cost)")
            return
        }
        let dev = inDevice ?? skbDevice
        var applyRateLimit = false
        if !(dev?.isLoopback ?? false) {
            guard icmpGlobalAllow(type: type, code: code, apply: &applyRateLimit) else {
                kernel.trace(self, dev, .icmp, "not sending \(what): global rate limit (OutRateLimitGlobal)")
                return
            }
        }
        var saddr: IPv4Address?
        if isLocalAddress(orig.destination) {
            saddr = orig.destination  // RTCF_LOCAL: the address the offender was sent to
        } else if ipv4.icmpErrorsUseInboundIfaddr, let d = inDevice {
            saddr = selectSourceAddress(dev: d, dst: orig.source, scope: .link)
        }
        guard let route = try? routeOutput(to: orig.source, source: saddr) else {
            kernel.trace(self, dev, .icmp, "not sending \(what): no route back")
            return
        }
        guard icmpXrlimAllow(route: route, destination: orig.source, apply: applyRateLimit) else {
            kernel.trace(self, route.device, .icmp, "not sending \(what): per-destination rate limit (OutRateLimitHost)")
            return
        }
        let room = 576 - IPv4Header.minimumLength - ICMPv4Packet.headerLength
        let quoted = Array(p.bytes[o..<min(p.bytes.count, o + room)])
        let rest: UInt32 = (type == .destinationUnreachable && code == 4) ? UInt32(nextHopMTU) : 0
        let payload = ICMPv4Packet(type: type, code: code, rest: rest, payload: quoted).bytes
        var h = IPv4Header(totalLength: UInt16(IPv4Header.minimumLength + payload.count), dontFragment: false,
                           ttl: ipv4.defaultTTL, proto: .icmp, source: route.source, destination: orig.source,
                           tos: (orig.tos & 0x1e) | 0xc0)
        h.identification = selectIdent(h)
        kernel.trace(self, route.device, .icmp, "sending \(what)")
        ipSendLocal(h, payload: payload, route: route)
    }

    /// Kernel: arp_error_report() -> ipv4_link_failure(): the sender of a packet whose next hop
    /// never answered learns it through ICMP host unreachable.
    func neighbourFailed(_ p: Packet, device: NetDevice) {
        icmpSendError(p, type: .destinationUnreachable, code: 1, inDevice: nil, skbDevice: device)
    }

    // MARK: - Rate limits

    /// Kernel: icmpv4_mask_allow(): true when errors of this type are never limited.
    func icmpMaskAllow(type: ICMPv4Type, code: UInt8) -> Bool {
        if type.rawValue > 18 { return true }
        if type == .destinationUnreachable && code == 4 { return true }  // never limit PMTU discovery
        return (UInt32(1) << UInt32(type.rawValue)) & ipv4.icmpRatemask == 0
    }

    /// Kernel: icmpv4_global_allow() -> icmp_global_allow(): the namespace-wide bucket.
    /// Sets `apply` when the per-destination limit must be applied too.
    func icmpGlobalAllow(type: ICMPv4Type, code: UInt8, apply: inout Bool) -> Bool {
        if icmpMaskAllow(type: type, code: code) { return true }
        let st = inetState.icmp
        if st.globalCredit > 0 {
            apply = true
            return true
        }
        let hz = kernel.config.hz
        let now = UInt32(truncatingIfNeeded: machine.jiffiesNow)
        let delta = Int64(min(now &- st.globalStamp, UInt32(hz)))
        if delta < hz / 50 { return false }
        let incr = Int(Int64(ipv4.icmpMsgsPerSec) * delta / hz)
        if incr == 0 { return false }
        st.globalStamp = now
        st.globalCredit = min(st.globalCredit + incr, ipv4.icmpMsgsBurst)
        apply = true
        return true
    }

    /// Kernel: icmpv4_xrlim_allow(): the per-destination bucket (not for errors leaving
    /// through lo); an allowed error consumes 0-2 global credits (icmp_global_consume()).
    func icmpXrlimAllow(route: OutputRoute, destination: IPv4Address, apply: Bool) -> Bool {
        guard apply else { return true }
        var rc = true
        if !route.device.isLoopback {
            let timeout = machine.toJiffies(.milliseconds(Int64(ipv4.icmpRateLimitMS)))
            rc = inetPeerXrlimAllow(inetPeer(destination), timeout: timeout)
        }
        if rc {
            let st = inetState.icmp
            st.globalCredit -= Int(st.rng.below(3))
        }
        return rc
    }

    /// Kernel: inet_peer_xrlim_allow() in net/ipv4/inetpeer.c: a token bucket in jiffies, `timeout` per message,
    /// at most XRLIM_BURST_FACTOR (6) messages' worth.
    func inetPeerXrlimAllow(_ peer: InetPeer, timeout: Int64) -> Bool {
        let now = machine.jiffiesNow
        var token = peer.rateTokens
        let delta = now - peer.rateLast
        if delta != 0 {
            peer.rateLast = now
            token += delta
            if token > 6 * timeout { token = 6 * timeout }
        }
        var rc = false
        if token >= timeout {
            token -= timeout
            rc = true
        }
        peer.rateTokens = token
        return rc
    }

    /// Kernel: ip_error() in net/ipv4/route.c, its check: ip_rt_error_cost (HZ) a message, up to ip_rt_error_burst
    /// (5 * HZ), in the peer of the offender's source.
    func ipErrorAllow(_ source: IPv4Address) -> Bool {
        let hz = kernel.config.hz
        let peer = inetPeer(source)
        let now = machine.jiffiesNow
        peer.rateTokens += now - peer.rateLast
        if peer.rateTokens > 5 * hz { peer.rateTokens = 5 * hz }
        peer.rateLast = now
        if peer.rateTokens >= hz {
            peer.rateTokens -= hz
            return true
        }
        return false
    }

    /// Whether the input route for `dst` is one that dst_input() hands to ip_error(): no
    /// route, or an unreachable, prohibit or throw route.
    func inputRouteIsError(_ dst: IPv4Address) -> Bool {
        guard let r = fib.lookup(dst) else { return true }
        switch r.type {
        case .unreachable, .prohibit, .throwRoute: return true
        default: return false
        }
    }
}

// MARK: - sysctl keys (net.ipv4.icmp_*)

extension SysctlTable {
    static func icmpInt(_ name: String, _ kp: WritableKeyPath<IPv4NetConfig, Int>) -> Global {
        Global(name: name, get: { String($0.ipv4[keyPath: kp]) }, set: { ns, v in
            let n = try int(v)
            guard n >= 0 else { throw KernelError(.EINVAL) }
            ns.ipv4[keyPath: kp] = n
        })
    }

    /// The knobs of the error rate limits, with the ranges Linux 6.18 accepts (checked with
    /// sysctl -w in a namespace: the mask takes any int and prints it signed; msgs_per_sec and
    /// msgs_burst refuse negative values; use_inbound_ifaddr takes 0 or 1).
    static let icmpGlobals: [Global] = [
        Global(name: "net.ipv4.icmp_ratemask", get: { String(Int32(bitPattern: $0.ipv4.icmpRatemask)) }, set: { ns, v in
            guard let n = Int32(exactly: try int(v)) else { throw KernelError(.EINVAL) }
            ns.ipv4.icmpRatemask = UInt32(bitPattern: n)
        }),
        icmpInt("net.ipv4.icmp_msgs_per_sec", \.icmpMsgsPerSec),
        icmpInt("net.ipv4.icmp_msgs_burst", \.icmpMsgsBurst),
        Global(name: "net.ipv4.icmp_errors_use_inbound_ifaddr", get: { $0.ipv4.icmpErrorsUseInboundIfaddr ? "1" : "0" }, set: { ns, v in
            let n = try int(v)
            guard (0...1).contains(n) else { throw KernelError(.EINVAL) }
            ns.ipv4.icmpErrorsUseInboundIfaddr = n == 1
        }),
    ]
}
