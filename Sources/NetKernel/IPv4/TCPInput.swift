// TCPInput: net/ipv4/tcp_input.c, tcp_minisocks.c and the passive-open half of tcp_ipv4.c.
// What a socket does with a segment in each state: a listener's SYN becomes a SYN-RECV child
// (a request sock) answered with a SYN-ACK; SYN-SENT takes the SYN-ACK or a RST
// (ECONNREFUSED); synchronized states check the sequence, RST and SYN, take the ACK, then
// the data and FIN, and decide whether to ACK now or later; TIME-WAIT re-ACKs a FIN.
// Guarantees: the checks run in tcp_rcv_state_process()'s order; every discarded segment is
// traced with its SKB_DROP_REASON name; the program's callbacks run after the segment is fully
// processed (as a program wakes after the softirq), never in the middle of it.
// Leaves out: the out-of-order queue (see TCP.swift), PAWS, urgent data, simultaneous open.

import SimCore
import Wire

extension TCPSocket {
    /// Kernel: tcp_v4_do_rcv() in net/ipv4/tcp_ipv4.c / tcp_rcv_state_process() for a socket found by 4-tuple.
    func receive(_ seg: TCPSegment) {
        switch state {
        case .synSent: synSentReceive(seg)
        case .synRecv: synRecvReceive(seg)
        case .timeWait: timeWaitReceive(seg)
        case .listen, .close:
            kernel.trace(namespace, seg.device, .drop, "tcp: \(describe) segment in \(state.kernelName) (\(TCPDrop.close.rawValue))")
        default: synchronizedReceive(seg)
        }
    }

    func drop(_ seg: TCPSegment, _ reason: TCPDrop, _ why: String) {
        kernel.trace(namespace, seg.device, .drop, "tcp: \(describe) \(why) (\(reason.rawValue))")
    }

    /// Options of a SYN or SYN-ACK (tcp_parse_options), filtered by our sysctls.
    func takeSynOptions(_ h: TCPHeader) {
        let c = config
        peerMSS = Int(h.mss ?? 536)
        wscaleOK = c.windowScaling && h.windowScale != nil
        sndWscale = wscaleOK ? min(h.windowScale ?? 0, 14) : 0
        sackOK = c.sack && h.sackPermitted
        if c.timestamps, let ts = h.timestamp {
            tsOK = true
            tsRecent = ts.value
        } else {
            tsOK = false
        }
    }

    // MARK: - LISTEN (tcp_v4_conn_request)

    /// A segment for a listener: a SYN opens a request sock and gets a SYN-ACK; an ACK gets a
    /// RST; a RST or anything else is dropped.
    func listenReceive(_ seg: TCPSegment) {
        let ns = namespace
        let h = seg.header
        if h.flags.contains(.rst) { drop(seg, .flags, "RST for a listener"); return }
        if h.flags.contains(.ack) {
            drop(seg, .flags, "ACK without a request sock")
            ns.tcpSendReset(for: seg)
            return
        }
        guard h.flags.contains(.syn) else { drop(seg, .flags, "neither SYN nor ACK for a listener"); return }
        if seg.destination.isMulticast || seg.destination.isLimitedBroadcast {
            drop(seg, .invalidSyn, "SYN to a broadcast address")
            return
        }
        // sk_acceptq_is_full() and the request queue: backlog + 1 connections in all.
        if acceptQueue.count > backlog || pendingChildren > backlog {
            drop(seg, .listenOverflow, "accept queue full (backlog \(backlog))")
            return
        }
        let c = TCPSocket(namespace: ns)
        c.localAddress = seg.destination
        c.localPort = localPort
        c.remoteAddress = seg.source
        c.remotePort = h.sourcePort
        c.listener = self
        c.reuseAddress = reuseAddress
        c.noDelay = noDelay
        c.takeSynOptions(h)
        c.irs = h.sequence
        c.rcvNxt = h.sequence &+ 1
        c.rcvWup = c.rcvNxt
        c.sndWnd = UInt32(h.window)
        c.sndWl1 = h.sequence
        guard let route = try? ns.tcpRoute(to: seg.source, source: seg.destination) else {
            drop(seg, .noSocket, "no route back to \(seg.source)")
            return
        }
        c.advmss = TCPSocket.advmss(mtu: route.device.mtu)
        c.rcvbuf = c.config.rmem.1
        c.windowClamp = 0
        // tcp_openreq_init_rwin(): the MSS less the timestamp option when it is on.
        c.selectInitialWindow(space: c.fullSpace, mss: c.advmss - (c.tsOK ? 12 : 0), wscaleOK: c.wscaleOK)
        c.rcvSsthresh = c.rcvWnd
        if !c.wscaleOK { c.rcvWscale = 0 }
        c.iss = ns.tcpISN(c.tuple)
        c.tsOffset = ns.tcpTSOffset(c.tuple)
        c.sndUna = c.iss
        c.sndNxt = c.iss &+ 1
        c.writeSeq = c.iss &+ 1
        c.sndBufSeq = c.writeSeq
        c.sndSml = c.iss
        c.synSentAt = now
        c.state = .synRecv
        ns.tcp.all[c.id] = c
        requestSocks[c.id] = c
        ns.tcp.established[c.tuple] = c
        c.hashed = true
        ns.tcp.bound[localPort]?.owners[c.id] = c
        c.bindBucketPort = localPort
        pendingChildren += 1
        kernel.trace(ns, seg.device, .socket, "tcp: \(describe) SYN from \(seg.source):\(h.sourcePort): request sock (tcp_conn_request)")
        c.sendSYNACK()
        c.armSynAckTimer(timeouts: 0)
    }

    /// Kernel: reqsk_timer_handler() in net/ipv4/inet_connection_sock.c: SYN-ACK again after 1, 2, 4, 8, 16 s
    /// (tcp_synack_retries), then the request is dropped.
    func armSynAckTimer(timeouts: Int) {
        let delay = Int64(TCPSocket.timeoutInit) << Int64(timeouts)
        let expires = jiffiesNow + msToJiffies(min(delay, TCPSocket.rtoMaxMS))
        retransmitTimer = namespace.machine.addTimer(expires: expires) { [weak self] in
            guard let self, !self.isGone, self.state == .synRecv else { return }
            self.retransmitTimer = nil
            if timeouts >= self.config.synackRetries {
                self.kernel.trace(self.namespace, nil, .socket, "tcp: \(self.describe) request sock expired after \(timeouts) SYN-ACK retransmissions")
                self.done()
                return
            }
            self.kernel.trace(self.namespace, nil, .socket, "tcp: \(self.describe) SYN-ACK retransmission \(timeouts + 1) (inet_rtx_syn_ack)")
            self.synSentAt = nil
            self.sendSYNACK()
            self.armSynAckTimer(timeouts: timeouts + 1)
        }
    }

    // MARK: - SYN-RECV (tcp_check_req)

    func synRecvReceive(_ seg: TCPSegment) {
        let h = seg.header
        if h.flags.contains(.rst) {
            if seqBetween(h.sequence, rcvNxt, rcvNxt &+ rcvWnd) {
                kernel.trace(namespace, seg.device, .socket, "tcp: \(describe) RST for a request sock")
                done()
            } else {
                drop(seg, .invalidSequence, "RST out of window for a request sock")
            }
            return
        }
        if h.flags.contains(.syn) && !h.flags.contains(.ack) {
            if h.sequence == irs {
                kernel.trace(namespace, seg.device, .socket, "tcp: \(describe) retransmitted SYN: SYN-ACK again")
                sendSYNACK()
            } else {
                drop(seg, .invalidSyn, "SYN with another ISN for a request sock")
            }
            return
        }
        guard h.flags.contains(.ack) else { drop(seg, .flags, "no ACK for a request sock"); return }
        if h.acknowledgment != iss &+ 1 {
            // tcp_check_req() hands it back to the listener, which resets an ACK.
            drop(seg, .flags, "ACK \(h.acknowledgment) does not match SYN-ACK \(iss)")
            namespace.tcpSendReset(for: seg)
            return
        }
        if !seqBetween(h.sequence, rcvNxt, rcvNxt &+ rcvWnd) {
            drop(seg, .invalidSequence, "ACK out of window for a request sock")
            return
        }
        if let l = listener, l.acceptQueue.count > l.backlog {
            drop(seg, .listenOverflow, "accept queue full: the request waits for the next ACK")
            return
        }
        stopRetransmitTimer()
        // tcp_create_openreq_child(): the child takes over.
        if tsOK, let ts = seg.header.timestamp {
            tsRecent = ts.value
            let rttMS = Int64(namespace.tcpClockMS &- (ts.echoReply &- tsOffset))
            if synSentAt != nil { rttSample(max(rttMS * 1000, Int64((now - synSentAt!).ns / 1000))) }
        } else if let t = synSentAt {
            rttSample((now - t).ns / 1000)
        }
        sndUna = h.acknowledgment
        sndWnd = UInt32(h.window) << UInt32(sndWscale)
        sndWl1 = h.sequence
        maxWindow = sndWnd
        ipID = UInt16(truncatingIfNeeded: namespace.tcpRandom())
        mssCache = min(peerMSS, advmss) - (tsOK ? 12 : 0)
        initTransfer()
        state = .established
        let l = listener
        l?.requestSocks[id] = nil
        if let l {
            l.acceptQueue.append(self)
            kernel.trace(namespace, seg.device, .socket, "tcp: \(describe) established, queued for accept on \(l.localAddress):\(l.localPort)")
        }
        // The ACK may carry data already.
        if !seg.payload.isEmpty || h.flags.contains(.fin) {
            synchronizedReceive(seg)
        }
        if let l, let cb = l.onAccept, let i = l.acceptQueue.firstIndex(where: { $0 === self }) {
            l.acceptQueue.remove(at: i)
            l.pendingChildren -= 1
            listener = nil
            cb(self)
            deliverQueuedToProgram()
        }
    }

    /// Kernel: tcp_init_transfer() in net/ipv4/tcp_input.c -> tcp_init_buffer_space(), tcp_initialize_rcv_mss().
    /// On 6.18 the initial window is not cut by tcp_app_win's reservation (the first ACKs
    /// advertise 502 and 510 with wscale 7, i.e. the initial 64240 and 65160 rounded up), so
    /// the clamp is the full space but never below the window already offered.
    func initTransfer() {
        let maxwin = UInt32(fullSpace)
        if windowClamp >= maxwin { windowClamp = max(maxwin, rcvWnd) }
        rcvSsthresh = min(rcvSsthresh, windowClamp)
        var hint = min(advmss, mssCache)
        hint = min(hint, Int(rcvWnd) / 2)
        hint = min(hint, 536)
        rcvMss = max(hint, 88)
        cwnd = 10
    }

    // MARK: - SYN-SENT (tcp_rcv_synsent_state_process)

    func synSentReceive(_ seg: TCPSegment) {
        let h = seg.header
        if h.flags.contains(.ack) {
            if !seqAfter(h.acknowledgment, iss) || seqAfter(h.acknowledgment, sndNxt) {
                drop(seg, .flags, "ACK \(h.acknowledgment) not for our SYN")
                if !h.flags.contains(.rst) { namespace.tcpSendReset(for: seg) }
                return
            }
            if h.flags.contains(.rst) {
                fail(.ECONNREFUSED, "RST in SYN-SENT (tcp_reset)")
                return
            }
            guard h.flags.contains(.syn) else { drop(seg, .flags, "ACK without SYN in SYN-SENT"); return }
            takeSynOptions(h)
            if !wscaleOK {
                rcvWscale = 0
                sndWscale = 0
                windowClamp = min(windowClamp, 65535)
            }
            irs = h.sequence
            rcvNxt = h.sequence &+ 1
            rcvWup = rcvNxt
            sndWnd = UInt32(h.window)
            sndWl1 = h.sequence
            maxWindow = sndWnd
            // The SYN is acknowledged: RTT from its first transmission (or the echoed TS).
            if let s = inFlight.first, s.syn, let t = s.sentAt {
                rttSample((now - t).ns / 1000)
            } else if tsOK, let ts = h.timestamp {
                rttSample(Int64(namespace.tcpClockMS &- (ts.echoReply &- tsOffset)) * 1000)
            }
            inFlight.removeAll()
            sndUna = h.acknowledgment
            stopRetransmitTimer()
            retransmits = 0
            if tsOK { advmss -= 12 }
            mssCache = min(peerMSS, TCPSocket.advmss(mtu: routeMTU)) - (tsOK ? 12 : 0)
            initTransfer()
            state = .established
            kernel.trace(namespace, seg.device, .socket, "tcp: \(describe) SYN-ACK: established (tcp_finish_connect)")
            sendAck()
            pushPendingFrames()
            let cb = onConnected
            onConnected = nil
            cb?()
            return
        }
        if h.flags.contains(.rst) { drop(seg, .flags, "RST without ACK in SYN-SENT"); return }
        if h.flags.contains(.syn) {
            drop(seg, .flags, "simultaneous open is not modelled")
            return
        }
        drop(seg, .flags, "segment without SYN or ACK in SYN-SENT")
    }

    var routeMTU: Int {
        (try? namespace.tcpRoute(to: remoteAddress, source: localAddress))?.device.mtu ?? 1500
    }

    // MARK: - Synchronized states (tcp_rcv_state_process, tcp_rcv_established)

    func synchronizedReceive(_ seg: TCPSegment) {
        let h = seg.header
        // tcp_sequence(): the segment must overlap the receive window.
        let window = receiveWindow
        if seqBefore(seg.endSeq, rcvWup) || seqAfter(h.sequence, rcvNxt &+ window) {
            if !h.flags.contains(.rst) {
                if seg.length > 0 && seqBefore(h.sequence, rcvNxt) {
                    dsack = TCPSackBlock(start: h.sequence, end: seg.endSeq)
                    enterQuickack(TCPSocket.maxQuickAcks)
                }
                drop(seg, seqBefore(seg.endSeq, rcvWup) ? .oldData : .invalidSequence,
                     "seq \(h.sequence) outside window \(rcvNxt)+\(window): duplicate ACK")
                sendAck()
            } else {
                drop(seg, .invalidSequence, "RST outside the window")
            }
            return
        }
        if h.flags.contains(.rst) {
            if h.sequence == rcvNxt {
                let err: Errno? = state == .closeWait ? .EPIPE : .ECONNRESET
                kernel.trace(namespace, seg.device, .socket, "tcp: \(describe) reset by peer in \(state.kernelName) (tcp_reset)")
                if isClosedByUser || err == nil {
                    done()
                } else {
                    fail(err!, "connection reset by peer")
                }
            } else {
                drop(seg, .reset, "RST in window but not at rcv_nxt: challenge ACK")
                sendAck()
            }
            return
        }
        if h.flags.contains(.syn) {
            drop(seg, .invalidSyn, "SYN in \(state.kernelName): challenge ACK")
            sendAck()
            return
        }
        guard h.flags.contains(.ack) else { drop(seg, .flags, "no ACK flag"); return }
        // tcp_replace_ts_recent()
        if tsOK, let ts = h.timestamp, !seqAfter(h.sequence, rcvWup) { tsRecent = ts.value }
        guard processAck(seg) else { return }
        if isGone { return }

        // State changes an ACK of our FIN brings.
        if let f = finSeq, finSent, !seqBefore(sndUna, f &+ 1) {
            switch state {
            case .finWait1:
                state = .finWait2
                shutdownSend = true
                if isClosedByUser && !h.flags.contains(.fin) { armFinWait2Timer() }
            case .closing:
                enterTimeWait()
                return
            case .lastAck:
                kernel.trace(namespace, seg.device, .socket, "tcp: \(describe) FIN acknowledged in LAST_ACK")
                done()
                return
            default: break
            }
        }

        var delivered: [UInt8] = []
        var peerClosed = false
        switch state {
        case .closeWait, .closing, .lastAck:
            if !seqBefore(h.sequence, rcvNxt) && (!seg.payload.isEmpty || h.flags.contains(.fin)) {
                drop(seg, .oldData, "data after the peer's FIN")
                break
            }
            fallthrough
        case .finWait1, .finWait2, .established:
            if isClosedByUser && shutdownReceive && !seg.payload.isEmpty
                && seqAfter(seg.endSeq &- (h.flags.contains(.fin) ? 1 : 0), rcvNxt)
                && (state == .finWait1 || state == .finWait2) {
                drop(seg, .tcpAbortOnData, "data for a closed socket: reset")
                sendActiveReset()
                done()
                return
            }
            (delivered, peerClosed) = dataQueue(seg)
        default: break
        }
        if isGone { return }
        pushPendingFrames()
        ackSndCheck()
        deliverToProgram(delivered, peerClosed: peerClosed)
    }

    /// Kernel: tcp_ack() in net/ipv4/tcp_input.c: the peer's window, what it acknowledges, RTT, cwnd, the timer.
    /// False when the segment must be dropped.
    func processAck(_ seg: TCPSegment) -> Bool {
        let h = seg.header
        let ack = h.acknowledgment
        if seqAfter(ack, sndNxt) {
            drop(seg, .ackUnsentData, "ACK \(ack) for data not sent (snd_nxt \(sndNxt))")
            sendAck()
            return false
        }
        if seqBefore(ack, sndUna) {
            // An old duplicate ACK: nothing to learn, but the data is still processed.
            return true
        }
        // tcp_ack_update_window()
        let nwin = UInt32(h.window) << UInt32(sndWscale)
        if seqAfter(ack, sndUna) || seqAfter(h.sequence, sndWl1) || (h.sequence == sndWl1 && nwin > sndWnd) {
            sndWl1 = h.sequence
            sndWnd = nwin
            if nwin > maxWindow { maxWindow = nwin }
        }
        guard seqAfter(ack, sndUna) else { return true }
        // tcp_clean_rtx_queue()
        var acked = 0
        var sample: Int64?
        while let s = inFlight.first, !seqAfter(s.end, ack) {
            if let t = s.sentAt, sample == nil { sample = (now - t).ns / 1000 }
            inFlight.removeFirst()
            acked += 1
        }
        if sample == nil, tsOK, let ts = h.timestamp, ts.echoReply != 0 {
            sample = Int64(namespace.tcpClockMS &- (ts.echoReply &- tsOffset)) * 1000
        }
        if let s = sample { rttSample(s) }
        let dataAcked = min(Int(ack &- sndBufSeq), sndBuf.count)
        if dataAcked > 0 {
            sndBuf.removeFirst(dataAcked)
            sndBufSeq = sndBufSeq &+ UInt32(dataAcked)
        }
        if sndBuf.isEmpty { sndBufSeq = finSeq ?? writeSeq }
        sndUna = ack
        retransmits = 0
        backoff = 0
        if cwnd < ssthresh { cwnd += UInt32(acked) } else if acked > 0 { cwnd += 1 }
        if inFlight.isEmpty {
            stopRetransmitTimer()
        } else {
            resetRetransmitTimer()
        }
        return true
    }

    /// Kernel: tcp_data_queue() in net/ipv4/tcp_input.c: in-order data and FIN are taken; a duplicate is answered at
    /// once with a D-SACK; data past rcv_nxt (never produced by the model's links) is dropped
    /// with a duplicate ACK.
    func dataQueue(_ seg: TCPSegment) -> ([UInt8], Bool) {
        let h = seg.header
        let fin = h.flags.contains(.fin)
        if seg.payload.isEmpty && !fin { return ([], false) }
        var payload = seg.payload
        var seq = h.sequence
        if seqBefore(seq, rcvNxt) {
            if !seqAfter(seg.endSeq, rcvNxt) {
                dsack = TCPSackBlock(start: seq, end: seg.endSeq)
                enterQuickack(TCPSocket.maxQuickAcks)
                ackPending |= TCPSocket.ackSched
                drop(seg, .oldData, "duplicate segment \(seq)-\(seg.endSeq): immediate ACK")
                return ([], false)
            }
            let skip = Int(rcvNxt &- seq)
            if skip >= payload.count {
                payload = []
            } else {
                payload.removeFirst(skip)
            }
            seq = rcvNxt
        }
        if seq != rcvNxt {
            enterQuickack(TCPSocket.maxQuickAcks)
            ackPending |= TCPSocket.ackSched
            drop(seg, .ofoDrop, "segment at \(seq) after rcv_nxt \(rcvNxt) (out of order): duplicate ACK")
            return ([], false)
        }
        if receiveWindow == 0 && !payload.isEmpty {
            enterQuickack(TCPSocket.maxQuickAcks)
            ackPending |= TCPSocket.ackSched
            drop(seg, .overWindow, "zero window")
            return ([], false)
        }
        var peerClosed = false
        if !payload.isEmpty {
            rcvNxt = rcvNxt &+ UInt32(payload.count)
            rmemCharged += TCPSocket.skbTruesize(payload.count, loopback: seg.device?.isLoopback ?? false)
            eventDataRecv(seg, length: payload.count)
        }
        if fin {
            rcvNxt = rcvNxt &+ 1
            peerClosed = tcpFin()
        }
        return (payload, peerClosed)
    }

    /// Kernel: tcp_event_data_recv() in net/ipv4/tcp_input.c with tcp_measure_rcv_mss() and tcp_grow_window(): the ACK
    /// is scheduled, and the delayed-ACK engine learns the segment size and the spacing.
    func eventDataRecv(_ seg: TCPSegment, length len: Int) {
        ackPending |= TCPSocket.ackSched
        // tcp_measure_rcv_mss()
        let lss = lastSegSize
        lastSegSize = 0
        if len >= rcvMss {
            if len != rcvMss {
                let truesize = len + 712  // a full-sized segment in a page fragment
                let ratio = UInt32(max(1, min(255, (len << 8) / truesize)))
                if ratio != scalingRatio {
                    scalingRatio = ratio
                    let clamp = UInt32(winFromSpace(rcvbuf))
                    windowClamp = max(clamp, rcvWnd)
                    if windowClamp < rcvSsthresh { rcvSsthresh = windowClamp }
                }
            }
            rcvMss = min(len, advmss)
            if len == rcvMss && seg.header.flags.contains(.psh) { ackPending |= TCPSocket.ackPushed }
        } else {
            var l = len + seg.header.headerLength
            if l >= 536 + 20 || (l >= 88 + 20 && !seg.header.flags.contains(.psh) && seg.header.urgentPointer == 0) {
                l -= tsOK ? 32 : 20
                lastSegSize = l
                if l == lss {
                    rcvMss = l
                    finishEventDataRecv(seg, length: len)
                    return
                }
            }
            if ackPending & TCPSocket.ackPushed != 0 { ackPending |= TCPSocket.ackPushed2 }
            ackPending |= TCPSocket.ackPushed
        }
        finishEventDataRecv(seg, length: len)
    }

    private func finishEventDataRecv(_ seg: TCPSegment, length len: Int) {
        let nowJ = jiffiesNow
        if ackATO == 0 {
            incrQuickack(TCPSocket.maxQuickAcks)
            ackATO = atoMin
        } else {
            let m = nowJ - ackLrcvtime
            if m <= atoMin / 2 {
                ackATO = (ackATO >> 1) + atoMin / 2
            } else if m < ackATO {
                ackATO = (ackATO >> 1) + m
                if ackATO > rto { ackATO = rto }
            } else if m > rto {
                incrQuickack(TCPSocket.maxQuickAcks)
            }
        }
        ackLrcvtime = nowJ
        if len >= 128 { growWindow(length: len) }
    }

    /// Kernel: tcp_grow_window() in net/ipv4/tcp_input.c: a well-filled segment lets rcv_ssthresh (and so the window)
    /// grow by two segments, up to the clamp.
    func growWindow(length len: Int) {
        guard rcvSsthresh < windowClamp, Int(rcvSsthresh) < freeSpace else { return }
        let truesize = len + 712
        var incr = 0
        if winFromSpace(truesize) <= len {
            incr = 2 * advmss
        } else {
            var ts = winFromSpace(truesize) >> 1
            var window = winFromSpace(config.rmem.2) >> 1
            while Int(rcvSsthresh) <= window {
                if ts <= len { incr = 2 * rcvMss; break }
                ts >>= 1
                window >>= 1
            }
        }
        if incr > 0 {
            rcvSsthresh = min(rcvSsthresh + UInt32(incr), windowClamp)
        }
    }

    /// Kernel: tcp_fin() in net/ipv4/tcp_input.c: the peer is done sending. Returns true (EOF for the program).
    func tcpFin() -> Bool {
        ackPending |= TCPSocket.ackSched
        shutdownReceive = true
        switch state {
        case .synRecv, .established:
            state = .closeWait
            ackPingpong = config.pingpongThresh
        case .finWait1:
            sendAck()
            state = .closing
        case .finWait2:
            sendAck()
            enterTimeWait()
        default: break
        }
        return true
    }

    /// Hands data and EOF to the program (the read() that was waiting), then lets the read
    /// update the window (tcp_cleanup_rbuf).
    func deliverToProgram(_ data: [UInt8], peerClosed: Bool) {
        if !data.isEmpty {
            if let cb = onData, receiveQueue.isEmpty {
                rmemCharged = 0
                cb(data)
                if !isGone { cleanupRbuf(copied: data.count) }
            } else if !isClosedByUser {
                receiveQueue.append(contentsOf: data)
            } else {
                rmemCharged = 0
            }
        }
        if peerClosed, let cb = onPeerClosed {
            onPeerClosed = nil
            cb()
        }
    }

    /// Data that arrived before the program took the connection (accept()).
    func deliverQueuedToProgram() {
        guard let cb = onData, !receiveQueue.isEmpty else { return }
        let d = receiveQueue
        receiveQueue.removeAll()
        rmemCharged = 0
        cb(d)
        if !isGone { cleanupRbuf(copied: d.count) }
        if shutdownReceive, let pc = onPeerClosed {
            onPeerClosed = nil
            pc()
        }
    }

    // MARK: - TIME-WAIT (tcp_timewait_state_process)

    func timeWaitReceive(_ seg: TCPSegment) {
        let h = seg.header
        if h.sequence == rcvNxt && (seg.length == 0 || h.flags.contains(.rst)) && !h.flags.contains(.syn) {
            if h.flags.contains(.rst) {
                kernel.trace(namespace, seg.device, .socket, "tcp: \(describe) RST kills TIME-WAIT")
                done()
            } else {
                scheduleTimeWait()
            }
            return
        }
        if h.flags.contains(.syn) && !h.flags.contains(.rst) && !h.flags.contains(.ack)
            && (seqAfter(h.sequence, rcvNxt) || (tsOK && h.timestamp.map { Int32(bitPattern: tsRecent &- $0.value) < 0 } == true)) {
            // TCP_TW_SYN: a new incarnation; the listener takes it.
            kernel.trace(namespace, seg.device, .socket, "tcp: \(describe) new SYN recycles TIME-WAIT")
            done()
            if let l = namespace.tcpLookupListener(seg.destination, h.destinationPort) {
                l.listenReceive(seg)
            } else {
                namespace.tcpSendReset(for: seg)
            }
            return
        }
        if h.flags.contains(.rst) { return }
        if h.flags.contains(.ack) { scheduleTimeWait() }
        // TCP_TW_ACK: tcp_v4_timewait_ack() through the control socket.
        kernel.trace(namespace, seg.device, .socket, "tcp: \(describe) segment in TIME-WAIT: ACK again")
        let opts: [TCPOption] = tsOK ? [.nop, .nop, .timestamp(value: tsVal, echoReply: tsRecent)] : []
        let th = TCPHeader(sourcePort: localPort, destinationPort: remotePort, sequence: sndNxt, acknowledgment: rcvNxt,
                           flags: [.ack], window: UInt16(min(rcvWnd >> UInt32(rcvWscale), 65535)), options: opts)
        namespace.tcpSendControl(th, payload: [], from: localAddress, to: remoteAddress)
    }

    // MARK: - ICMP errors (tcp_v4_err)

    /// Kernel: tcp_v4_err() in net/ipv4/tcp_ipv4.c: in SYN-SENT and SYN-RECV an unreachable ends the attempt; on a
    /// connection it is a soft error, reported if the retransmissions time out.
    func icmpError(type: UInt8, code: UInt8, seq: UInt32, info: UInt32) {
        if state != .listen && !seqBetween(seq, sndUna, sndNxt) {
            kernel.trace(namespace, nil, .icmp, "tcp: \(describe) icmp error for seq \(seq) outside \(sndUna)-\(sndNxt): ignored")
            return
        }
        var err: Errno
        switch type {
        case 3:
            if code == 4 {
                kernel.trace(namespace, nil, .icmp, "tcp: \(describe) fragmentation needed (mtu \(info)): not modelled")
                return
            }
            switch code {
            case 0, 6, 9, 11: err = .ENETUNREACH
            case 3: err = .ECONNREFUSED
            case 5: err = .ENOTSUP
            case 7: err = .EHOSTDOWN
            default: err = .EHOSTUNREACH
            }
        case 11: err = .EHOSTUNREACH
        case 12: err = .EINVAL
        default: return
        }
        switch state {
        case .synSent:
            fail(err, "icmp type \(type) code \(code) during connect (tcp_v4_err)")
        case .synRecv:
            kernel.trace(namespace, nil, .icmp, "tcp: \(describe) icmp error drops the request sock")
            done()
        default:
            kernel.trace(namespace, nil, .icmp, "tcp: \(describe) soft error \(err) (tcp_v4_err)")
            softError = err
        }
    }
}
