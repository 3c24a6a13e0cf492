// TCPOutput: net/ipv4/tcp_output.c and tcp_timer.c. Building segments (options, the
// advertised window, the checksum the device leaves), the write queue with Nagle, FIN, ACKs
// now or delayed, and the retransmission, delayed-ACK, FIN-WAIT-2 and TIME-WAIT timers.
// Guarantees: timers are jiffies timers on the machine's timer wheel (sk_reset_timer), so a
// 1 s retransmission fires 1.004-1.032 s later and a 40 ms delayed ACK on a tick; windows are
// tcp_select_window()'s (never shrinking, rounded up to the scale: 502 and 510 with wscale 7
// for the initial windows 64240 and 65160); a segment through a device with checksum offload
// carries the pseudo-header sum only, as on Linux.
// Leaves out: TSO/GSO: a write larger than the MSS leaves as MSS-sized segments, where Linux
// hands veth one GSO packet that tcpdump shows whole (observed: 5000 bytes as "seq 1:5001,
// length 5000", acknowledged with the window grown to 588); pacing, TSQ/autocorking,
// zero-window probes, tail loss probes, SACK-based recovery.

import SimCore
import Wire

extension TCPSocket {
    static let timeoutInit: Int64 = 1000        // TCP_TIMEOUT_INIT, ms
    static let rtoMinUS: Int64 = 200_000        // TCP_RTO_MIN
    static let rtoMaxMS: Int64 = 120_000        // TCP_RTO_MAX
    static let timeWaitLen = SimTime.seconds(60) // TCP_TIMEWAIT_LEN
    static let maxQuickAcks: UInt32 = 16        // TCP_MAX_QUICKACKS
    static let ackSched: UInt8 = 1, ackTimer: UInt8 = 2, ackPushed: UInt8 = 4, ackPushed2: UInt8 = 8, ackNow: UInt8 = 16

    var hz: Int64 { kernel.config.hz }
    /// TCP_ATO_MIN and TCP_DELACK_MIN: HZ/25 (40 ms); TCP_DELACK_MAX: HZ/5 (200 ms).
    var atoMin: Int64 { hz / 25 }
    var delackMax: Int64 { hz / 5 }
    func msToJiffies(_ ms: Int64) -> Int64 { (ms * hz + 999) / 1000 }
    func usToJiffies(_ us: Int64) -> Int64 { (us * hz + 999_999) / 1_000_000 }
    var jiffiesNow: Int64 { namespace.machine.jiffiesNow }

    // MARK: - Windows (tcp_select_initial_window, __tcp_select_window, tcp_select_window)

    /// Kernel: tcp_win_from_space() in include/net/tcp.h: the part of a buffer that becomes window.
    func winFromSpace(_ space: Int) -> Int { (max(0, space) * Int(scalingRatio)) >> 8 }

    /// Kernel: tcp_full_space() in include/net/tcp.h.
    var fullSpace: Int { winFromSpace(rcvbuf) }

    /// sk_rmem_alloc: the truesize of data received and not yet read.
    var rmemAlloc: Int { rmemCharged }

    /// An received skb's truesize (what sk_rmem_alloc is charged), calibrated on Linux 6.18:
    /// the ACK sent before the program reads advertises what is left (tcp_space() =
    /// (131072 - truesize) / 2, against rcv_ssthresh 65160). Over veth and the bridge it was
    /// 510 after 1 to 16 bytes, 509 after 21 and 37, 507 after 300, 505 after 600; over lo
    /// (65483) 512 after 6 bytes, 511 after 100, 510 after 300. Twice the payload plus 730
    /// bytes (veth) or 112 bytes (lo) fits all of them.
    static func skbTruesize(_ len: Int, loopback: Bool) -> Int { 2 * len + (loopback ? 112 : 730) }

    /// Kernel: tcp_space() in include/net/tcp.h.
    var freeSpace: Int { winFromSpace(rcvbuf - rmemAlloc) }

    /// Kernel: ipv4_default_advmss() in net/ipv4/route.c: the device MTU less 40, at most 65535 - 40.
    static func advmss(mtu: Int) -> Int { min(max(mtu - 40, 256), 65535 - 40) }

    /// Kernel: tcp_select_initial_window() in net/ipv4/tcp_output.c: the SYN's window (a multiple of the MSS within
    /// the full space) and the window scale from the largest buffer we may grow to.
    func selectInitialWindow(space: Int, mss: Int, wscaleOK: Bool) {
        var clamp: UInt32 = windowClamp == 0 ? UInt32(65535) << 14 : windowClamp
        var sp = UInt32(min(Int(clamp), max(space, 0)))
        if sp > UInt32(mss) { sp = sp / UInt32(mss) * UInt32(mss) }
        rcvWnd = min(sp, 65535)
        rcvWscale = 0
        if wscaleOK {
            var s = max(sp, UInt32(config.rmem.2))
            s = max(s, UInt32(config.coreRmemMax))
            s = min(s, clamp)
            let ilog = 31 - s.leadingZeroBitCount
            rcvWscale = UInt8(min(max(ilog - 15, 0), 14))
        }
        clamp = min(UInt32(65535) << UInt32(rcvWscale), clamp)
        windowClamp = clamp
    }

    /// Kernel: tcp_receive_window() in include/net/tcp.h: what is left of the window last advertised.
    var receiveWindow: UInt32 {
        let d = Int32(bitPattern: (rcvWup &+ rcvWnd) &- rcvNxt)
        return d < 0 ? 0 : UInt32(d)
    }

    /// Kernel: __tcp_select_window() in net/ipv4/tcp_output.c.
    func computeWindow() -> UInt32 {
        var mss = rcvMss
        let free = freeSpace
        let allowed = fullSpace
        let full = min(Int(windowClamp), allowed)
        if mss > full {
            mss = full
            if mss <= 0 { return 0 }
        }
        var freeSpace = free
        if freeSpace < full >> 1 {
            ackQuick = 0
            freeSpace = (freeSpace >> Int(rcvWscale)) << Int(rcvWscale)
            if freeSpace < allowed >> 4 || freeSpace < mss { return 0 }
        }
        // Observed on 6.18: once unread data has cut the window, it stays cut after the program
        // reads (300 bytes: 507 on their ACK, 507 again on the ACK of a byte sent a second
        // later and on the FIN), so the cut also lowers rcv_ssthresh here.
        if freeSpace < Int(rcvSsthresh) { rcvSsthresh = UInt32(freeSpace) }
        if freeSpace > Int(rcvSsthresh) { freeSpace = Int(rcvSsthresh) }
        if rcvWscale > 0 {
            let unit = 1 << Int(rcvWscale)
            return UInt32((freeSpace + unit - 1) / unit * unit)
        }
        var window = Int(rcvWnd)
        if window <= freeSpace - mss || window > freeSpace {
            window = freeSpace / mss * mss
        } else if mss == full && freeSpace > window + (full >> 1) {
            window = freeSpace
        }
        return UInt32(max(window, 0))
    }

    /// Kernel: tcp_select_window() in net/ipv4/tcp_output.c: never shrinks what was offered; updates rcv_wnd/rcv_wup.
    func selectWindow() -> UInt16 {
        let cur = receiveWindow
        var new = computeWindow()
        if new < cur {
            let unit = UInt32(1) << UInt32(rcvWscale)
            new = (cur + unit - 1) / unit * unit
        }
        rcvWnd = new
        rcvWup = rcvNxt
        new = min(new, UInt32(65535) << UInt32(rcvWscale))
        return UInt16(new >> UInt32(rcvWscale))
    }

    // MARK: - Connection set-up

    /// Kernel: tcp_connect_init() in net/ipv4/tcp_output.c: MSS from the route, the initial window and scale.
    func connectInit(route: OutputRoute) {
        advmss = TCPSocket.advmss(mtu: route.device.mtu)
        mssCache = advmss
        rcvbuf = config.rmem.1
        windowClamp = 0
        selectInitialWindow(space: fullSpace, mss: advmss, wscaleOK: config.windowScaling)
        rcvSsthresh = rcvWnd
        sndUna = iss
        sndNxt = iss
        writeSeq = iss &+ 1
        sndBufSeq = writeSeq
        sndSml = iss
        rcvNxt = 0
        rcvWup = 0
        rto = msToJiffies(TCPSocket.timeoutInit)
        retransmits = 0
        totalRTO = 0
        backoff = 0
    }

    /// The SYN's or SYN-ACK's options in the kernel's order (tcp_options_write): mss, then
    /// sackOK+TS (or NOP NOP TS, or NOP NOP sackOK), then NOP wscale.
    func synOptions(mss: Int, ts: (UInt32, UInt32)?, sack: Bool, wscale: UInt8?) -> [TCPOption] {
        var o: [TCPOption] = [.mss(UInt16(mss))]
        if let (v, e) = ts {
            o += sack ? [.sackPermitted, .timestamp(value: v, echoReply: e)] : [.nop, .nop, .timestamp(value: v, echoReply: e)]
        } else if sack {
            o += [.nop, .nop, .sackPermitted]
        }
        if let w = wscale { o += [.nop, .windowScale(w)] }
        return o
    }

    /// Kernel: tcp_connect() in net/ipv4/tcp_output.c -> tcp_transmit_skb(): the SYN, and the retransmission timer.
    func sendSYN() {
        let c = config
        let opts = synOptions(mss: advmss, ts: c.timestamps ? (tsVal, 0) : nil, sack: c.sack,
                              wscale: c.windowScaling ? rcvWscale : nil)
        let h = TCPHeader(sourcePort: localPort, destinationPort: remotePort, sequence: iss, acknowledgment: 0,
                          flags: [.syn], window: UInt16(min(rcvWnd, 65535)), options: opts)
        if inFlight.isEmpty {
            inFlight.append(TCPSentSegment(start: iss, end: iss &+ 1, syn: true, fin: false, sentAt: now))
            synSentAt = now
        }
        sndNxt = iss &+ 1
        kernel.trace(namespace, nil, .socket, "tcp: \(describe) SYN seq \(iss) (tcp_connect)")
        transmitRaw(h, payload: [], ipIDMode: .socket)
        if retransmitTimer == nil { resetRetransmitTimer() }
    }

    /// The SYN-ACK of a passive open (tcp_make_synack via ip_build_and_send_pkt: IP id 0).
    func sendSYNACK() {
        let opts = synOptions(mss: advmss, ts: tsOK ? (tsVal, tsRecent) : nil, sack: sackOK,
                              wscale: wscaleOK ? rcvWscale : nil)
        let h = TCPHeader(sourcePort: localPort, destinationPort: remotePort, sequence: iss, acknowledgment: rcvNxt,
                          flags: [.syn, .ack], window: UInt16(min(rcvWnd, 65535)), options: opts)
        kernel.trace(namespace, nil, .socket, "tcp: \(describe) SYN-ACK seq \(iss) ack \(rcvNxt) (tcp_v4_send_synack)")
        transmitRaw(h, payload: [], ipIDMode: .zero)
    }

    var now: SimTime { kernel.clock.now }

    /// TS val: tcp_clock_ms() plus the connection's offset.
    var tsVal: UInt32 { namespace.tcpClockMS &+ tsOffset }

    // MARK: - Transmission (tcp_transmit_skb)

    enum IPIDMode { case socket, zero }

    /// Options of a segment on an established connection: NOP NOP TS, then SACK blocks.
    func establishedOptions() -> [TCPOption] {
        var o: [TCPOption] = []
        if tsOK { o += [.nop, .nop, .timestamp(value: tsVal, echoReply: tsRecent)] }
        if let d = dsack, sackOK {
            o += [.nop, .nop, .sack([d])]
            dsack = nil
        }
        return o
    }

    /// Sends a non-SYN segment: ACK field, the window from tcp_select_window(), options;
    /// then the ACK bookkeeping (tcp_event_ack_sent) and, for data, tcp_event_data_sent.
    func transmit(seq: UInt32, flags: TCPFlags, payload: [UInt8]) {
        var f = flags
        f.insert(.ack)
        let win = selectWindow()
        let h = TCPHeader(sourcePort: localPort, destinationPort: remotePort, sequence: seq, acknowledgment: rcvNxt,
                          flags: f, window: win, options: establishedOptions())
        transmitRaw(h, payload: payload, ipIDMode: .socket)
        ackSent()
        if !payload.isEmpty || flags.contains(.fin) { dataSent() }
    }

    /// Kernel: __tcp_transmit_skb() in net/ipv4/tcp_output.c -> ip_queue_xmit(): route, IP header (DF, the socket's
    /// id counter or 0), checksum as the device leaves it.
    func transmitRaw(_ h: TCPHeader, payload: [UInt8], ipIDMode: IPIDMode) {
        let ns = namespace
        let route: OutputRoute
        do {
            route = try ns.tcpRoute(to: remoteAddress, source: localAddress)
        } catch {
            kernel.trace(ns, nil, .drop, "tcp: \(describe) no route to \(remoteAddress): \(error) (\(DropReason.ipOutNoRoutes.rawValue))")
            return
        }
        var ih = IPv4Header(totalLength: UInt16(IPv4Header.minimumLength + h.headerLength + payload.count),
                            dontFragment: true, ttl: ns.ipv4.defaultTTL, proto: .tcp,
                            source: localAddress, destination: remoteAddress)
        switch ipIDMode {
        case .socket:
            ih.identification = ipID
            ipID = ipID &+ 1
        case .zero:
            ih.identification = 0
        }
        ns.tcpIPSend(ih, h, payload: payload,
                     checksum: tcpDeviceOffloadsChecksum(route.device) ? .partial : .full, route: route)
    }

    // MARK: - ACKs (tcp_send_ack, tcp_send_delayed_ack, tcp_event_ack_sent)

    /// Kernel: tcp_acceptable_seq() in net/ipv4/tcp_output.c.
    var acceptableSeq: UInt32 {
        !seqBefore(sndUna &+ sndWnd, sndNxt) ? sndNxt : sndUna &+ sndWnd
    }

    /// Kernel: __tcp_send_ack() in net/ipv4/tcp_output.c: a pure ACK now.
    func sendAck() {
        guard state != .close, state != .listen, state != .synSent else { return }
        transmit(seq: acceptableSeq, flags: [.ack], payload: [])
    }

    /// Kernel: tcp_event_ack_sent() in net/ipv4/tcp_output.c: one quick ACK used up, the delayed ACK cancelled.
    func ackSent() {
        if ackQuick > 0 {
            ackQuick -= 1
            if ackQuick == 0 { ackATO = atoMin }
        }
        ackPending = 0
        if let t = delackTimer { kernel.clock.cancel(t); delackTimer = nil }
    }

    /// Kernel: tcp_event_data_sent() in net/ipv4/tcp_output.c: a reply within ato of the last receive counts towards
    /// interactive (pingpong) mode.
    func dataSent() {
        if jiffiesNow - ackLrcvtime < ackATO, ackPingpong < 255 { ackPingpong += 1 }
    }

    var inPingpong: Bool { ackPingpong >= config.pingpongThresh }
    var inQuickack: Bool { ackQuick > 0 && !inPingpong }

    /// Kernel: tcp_incr_quickack() in net/ipv4/tcp_input.c.
    func incrQuickack(_ maxQuick: UInt32) {
        var q = rcvWnd / UInt32(2 * max(rcvMss, 1))
        if q == 0 { q = 2 }
        q = min(q, maxQuick)
        if q > ackQuick { ackQuick = q }
    }

    /// Kernel: tcp_enter_quickack_mode() in net/ipv4/tcp_input.c.
    func enterQuickack(_ maxQuick: UInt32) {
        incrQuickack(maxQuick)
        ackPingpong = 0
        ackATO = atoMin
    }

    /// Kernel: tcp_send_delayed_ack() in net/ipv4/tcp_output.c: arm the delayed-ACK timer for ato (bounded by 200 ms
    /// in pingpong or pushed mode and by the RTT), or ACK now if it is about to fire anyway.
    func sendDelayedAck() {
        var ato = ackATO
        if ato > atoMin {
            var maxATO = hz / 2
            if inPingpong || ackPending & TCPSocket.ackPushed != 0 { maxATO = delackMax }
            if srttUS > 0 {
                let rtt = max(usToJiffies(srttUS >> 3), atoMin)
                if rtt < maxATO { maxATO = rtt }
            }
            ato = min(ato, maxATO)
        }
        ato = min(ato, delackMax)
        var timeout = jiffiesNow + ato
        if ackPending & TCPSocket.ackTimer != 0 {
            if ackTimeout <= jiffiesNow + (ato >> 2) {
                sendAck()
                return
            }
            if timeout >= ackTimeout { timeout = ackTimeout }
        }
        ackPending |= TCPSocket.ackSched | TCPSocket.ackTimer
        ackTimeout = timeout
        if let t = delackTimer { kernel.clock.cancel(t) }
        kernel.trace(namespace, nil, .socket, "tcp: \(describe) delayed ack in \(timeout - jiffiesNow) jiffies")
        delackTimer = namespace.machine.addTimer(expires: timeout) { [weak self] in self?.delackTimerFired() }
    }

    /// Kernel: tcp_delack_timer_handler() in net/ipv4/tcp_timer.c.
    func delackTimerFired() {
        delackTimer = nil
        guard !isGone, namespace.alive else { return }
        guard ackPending & TCPSocket.ackTimer != 0 else { return }
        ackPending &= ~TCPSocket.ackTimer
        guard ackPending & TCPSocket.ackSched != 0 else { return }
        if !inPingpong {
            ackATO = min(ackATO << 1, rto)
        } else {
            ackPingpong = 0
            ackATO = atoMin
        }
        kernel.trace(namespace, nil, .socket, "tcp: \(describe) delayed ack timer fired")
        sendAck()
    }

    /// Kernel: __tcp_ack_snd_check() in net/ipv4/tcp_input.c: ACK now (more than a full segment unacknowledged,
    /// quickack mode, or ICSK_ACK_NOW) or later.
    func ackSndCheck() {
        guard ackPending & TCPSocket.ackSched != 0 else { return }
        if (rcvNxt &- rcvWup) > UInt32(rcvMss) && computeWindow() >= rcvWnd
            || inQuickack || ackPending & TCPSocket.ackNow != 0 {
            sendAck()
            return
        }
        sendDelayedAck()
    }

    /// Kernel: tcp_cleanup_rbuf() in net/ipv4/tcp.c: after the program read `copied` bytes, ACK now if a small
    /// pushed segment was drained outside pingpong mode, or the window grew a lot.
    func cleanupRbuf(copied: Int) {
        guard state == .established || state == .finWait1 || state == .finWait2 else { return }
        var timeToAck = false
        if ackPending & TCPSocket.ackSched != 0 {
            if rcvNxt &- rcvWup > UInt32(rcvMss)
                || (copied > 0 && (ackPending & TCPSocket.ackPushed2 != 0
                    || (ackPending & TCPSocket.ackPushed != 0 && !inPingpong)) && rmemAlloc == 0) {
                timeToAck = true
            }
        }
        if copied > 0 && !timeToAck && !shutdownReceive {
            let now = receiveWindow
            if 2 * now <= windowClamp {
                let nw = computeWindow()
                if nw != 0 && nw >= 2 * now { timeToAck = true }
            }
        }
        if timeToAck { sendAck() }
    }

    // MARK: - Data and FIN (tcp_write_xmit, tcp_send_fin)

    var bufferEnd: UInt32 { sndBufSeq &+ UInt32(sndBuf.count) }

    /// Kernel: tcp_write_xmit() in net/ipv4/tcp_output.c: send what cwnd, the peer's window and Nagle allow.
    func pushPendingFrames(nagleOff: Bool = false) {
        switch state {
        case .established, .closeWait, .finWait1, .lastAck, .closing: break
        default: return
        }
        while true {
            let unsent = seqBefore(sndNxt, bufferEnd) ? Int(bufferEnd &- sndNxt) : 0
            let finPending = finSeq != nil && !finSent
            if unsent == 0 && !finPending { break }
            if UInt32(inFlight.count) >= cwnd {
                kernel.trace(namespace, nil, .socket, "tcp: \(describe) cwnd \(cwnd) full")
                break
            }
            let len = min(unsent, mssCache)
            if len > 0 && seqAfter(sndNxt &+ UInt32(len), sndUna &+ sndWnd) {
                kernel.trace(namespace, nil, .socket, "tcp: \(describe) peer window \(sndWnd) full")
                break
            }
            let isLast = len == unsent
            let withFin = isLast && finPending
            if len > 0 && len < mssCache && !withFin && !nagleOff && !noDelay && !inFlight.isEmpty
                && seqAfter(sndSml, sndUna) && !seqAfter(sndSml, sndNxt) {
                kernel.trace(namespace, nil, .socket, "tcp: \(describe) nagle holds \(len) bytes")
                break
            }
            let start = Int(sndNxt &- sndBufSeq)
            let payload = Array(sndBuf[start..<(start + len)])
            var flags: TCPFlags = [.ack]
            if isLast && len > 0 { flags.insert(.psh) }
            if withFin { flags.insert(.fin) }
            let seq = sndNxt
            let end = seq &+ UInt32(len) &+ (withFin ? 1 : 0)
            inFlight.append(TCPSentSegment(start: seq, end: end, syn: false, fin: withFin, sentAt: now))
            if withFin { finSent = true }
            sndNxt = end
            if len < mssCache { sndSml = end }
            transmit(seq: seq, flags: flags, payload: payload)
            if retransmitTimer == nil { resetRetransmitTimer() }
            if withFin { break }
        }
    }

    /// Kernel: tcp_send_fin() in net/ipv4/tcp_output.c: the FIN rides on unsent data or goes alone, Nagle off.
    func queueFIN() {
        guard finSeq == nil else { return }
        finSeq = writeSeq
        writeSeq = writeSeq &+ 1
        kernel.trace(namespace, nil, .socket, "tcp: \(describe) FIN queued at \(finSeq!)")
        pushPendingFrames(nagleOff: true)
    }

    /// Kernel: tcp_send_active_reset() in net/ipv4/tcp_output.c: RST|ACK at tcp_acceptable_seq().
    func sendActiveReset() {
        guard state != .close, state != .listen, state != .synSent, state != .timeWait else { return }
        let h = TCPHeader(sourcePort: localPort, destinationPort: remotePort, sequence: acceptableSeq,
                          acknowledgment: rcvNxt, flags: [.rst, .ack], window: selectWindow(),
                          options: establishedOptions())
        transmitRaw(h, payload: [], ipIDMode: .socket)
    }

    // MARK: - Retransmission (tcp_retransmit_timer, tcp_write_timeout)

    func resetRetransmitTimer() {
        if let t = retransmitTimer { kernel.clock.cancel(t) }
        let expires = jiffiesNow + min(rto, msToJiffies(TCPSocket.rtoMaxMS))
        retransmitTimer = namespace.machine.addTimer(expires: expires) { [weak self] in self?.retransmitTimerFired() }
    }

    func stopRetransmitTimer() {
        if let t = retransmitTimer { kernel.clock.cancel(t); retransmitTimer = nil }
    }

    /// Kernel: tcp_retransmit_timer() in net/ipv4/tcp_timer.c: give up after the retries (ETIMEDOUT, or the soft
    /// error an ICMP message left), else resend the oldest segment and back off. A SYN keeps
    /// its 1 s RTO for tcp_syn_linear_timeouts retransmissions.
    func retransmitTimerFired() {
        retransmitTimer = nil
        guard !isGone, namespace.alive, let head = inFlight.first else { return }
        let c = config
        let limit: Int
        switch state {
        case .synSent: limit = c.synRetries + c.synLinearTimeouts
        default: limit = c.retries2
        }
        if retransmits >= limit {
            fail(softError ?? .ETIMEDOUT, "retransmission limit \(limit) reached (tcp_write_timeout)")
            return
        }
        retransmits += 1
        totalRTO += 1
        kernel.trace(namespace, nil, .socket, "tcp: \(describe) retransmission \(retransmits) of \(head.start)-\(head.end) (tcp_retransmit_timer)")
        inFlight[0].sentAt = nil
        if state != .synSent {
            ssthresh = max(cwnd / 2, 2)
            cwnd = 1
        }
        if head.syn {
            sendSYN()
        } else {
            let dataEnd = head.fin ? head.end &- 1 : head.end
            // A segment the peer acknowledged in part resends only the rest.
            let from = seqBefore(head.start, sndUna) ? sndUna : head.start
            let s = Int(from &- sndBufSeq)
            let e = Int(dataEnd &- sndBufSeq)
            let payload = s >= 0 && e <= sndBuf.count && s <= e ? Array(sndBuf[s..<e]) : []
            var flags: TCPFlags = [.ack]
            if !payload.isEmpty && dataEnd == bufferEnd { flags.insert(.psh) }
            if head.fin { flags.insert(.fin) }
            transmit(seq: from, flags: flags, payload: payload)
        }
        if state == .synSent && totalRTO <= c.synLinearTimeouts {
            backoff = 0
        } else {
            backoff += 1
            rto = min(rto << 1, msToJiffies(TCPSocket.rtoMaxMS))
        }
        resetRetransmitTimer()
    }

    /// Kernel: tcp_rtt_estimator() in net/ipv4/tcp_input.c and tcp_set_rto(): Jacobson/Karels with the 200 ms floor
    /// on the variance.
    func rttSample(_ us: Int64) {
        var m = max(us, 1)
        if srttUS != 0 {
            m -= srttUS >> 3
            srttUS += m
            if m < 0 {
                m = -m
                m -= mdevUS >> 2
                if m > 0 { m >>= 3 }
            } else {
                m -= mdevUS >> 2
            }
            mdevUS += m
            if mdevUS > mdevMaxUS {
                mdevMaxUS = mdevUS
                if mdevMaxUS > rttvarUS { rttvarUS = mdevMaxUS }
            }
        } else {
            srttUS = m << 3
            mdevUS = m << 1
            mdevMaxUS = max(mdevUS, TCPSocket.rtoMinUS)
            rttvarUS = mdevMaxUS
        }
        let rtoUS = (srttUS >> 3) + rttvarUS
        rto = min(max(usToJiffies(rtoUS), usToJiffies(TCPSocket.rtoMinUS)), msToJiffies(TCPSocket.rtoMaxMS))
    }

    // MARK: - Closing timers

    /// Kernel: tcp_time_wait() in net/ipv4/tcp_minisocks.c: TIME-WAIT for TCP_TIMEWAIT_LEN, then gone.
    func enterTimeWait() {
        stopRetransmitTimer()
        if let t = delackTimer { kernel.clock.cancel(t); delackTimer = nil }
        if let t = finWait2Timer { kernel.clock.cancel(t); finWait2Timer = nil }
        state = .timeWait
        sndBuf.removeAll()
        inFlight.removeAll()
        scheduleTimeWait()
        let cb = onClosed
        onClosed = nil
        cb?()
    }

    /// Kernel: inet_twsk_schedule() in net/ipv4/inet_timewait_sock.c / inet_twsk_reschedule().
    func scheduleTimeWait() {
        if let t = timeWaitTimer { kernel.clock.cancel(t) }
        let expires = jiffiesNow + namespace.machine.toJiffies(TCPSocket.timeWaitLen)
        timeWaitTimer = namespace.machine.addTimer(expires: expires) { [weak self] in
            guard let self, !self.isGone else { return }
            self.timeWaitTimer = nil
            self.kernel.trace(self.namespace, nil, .socket, "tcp: \(self.describe) TIME-WAIT over")
            self.done()
        }
    }

    /// An orphaned FIN-WAIT-2 socket lives tcp_fin_timeout (tcp_time_wait(TCP_FIN_WAIT2)).
    func armFinWait2Timer() {
        guard finWait2Timer == nil else { return }
        let expires = jiffiesNow + namespace.machine.toJiffies(config.finTimeout)
        finWait2Timer = namespace.machine.addTimer(expires: expires) { [weak self] in
            guard let self, !self.isGone, self.state == .finWait2 else { return }
            self.finWait2Timer = nil
            self.kernel.trace(self.namespace, nil, .socket, "tcp: \(self.describe) FIN-WAIT-2 timeout")
            self.done()
        }
    }
}
