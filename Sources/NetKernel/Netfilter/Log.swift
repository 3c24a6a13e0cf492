// Log: the machine's kernel log (printk's ring buffer, what dmesg reads) and the netfilter
// packet logger that writes to it (net/netfilter/nf_log_syslog.c), used by the LOG target.
// (TRACE writes nothing here: with the nf_tables backend its trace goes to nfnetlink, see
// NFTablesTrace.swift.)
// Guarantees: a record's time is the virtual clock (the machine boots at time zero); the
// packet line is nf_log_ip_packet()'s, field by field: "IN= OUT= " (PHYSIN=/PHYSOUT= for
// bridged packets), "MAC=" with the received link header, then SRC DST LEN TOS PREC TTL ID
// flags and the transport part (TCP SPT/DPT/WINDOW/RES/flags/URGP, optional SEQ/ACK and
// OPT; UDP SPT/DPT/LEN; ICMP TYPE/CODE and ID/SEQ, or the quoted packet in brackets),
// MARK= when set, each field followed by a space. As in the kernel, only init_net (the
// machine's root namespace) logs, unless net.netfilter.nf_log_all_netns is 1 there.
// Leaves out: UID=/GID= (no socket owner is modelled), --log-macdecode's MACSRC form is
// printed but VLAN tags are not.

import SimCore
import Wire

/// printk's ring buffer of one machine.
public final class KernelLog {
    public struct Record: Sendable {
        /// Time since boot (the virtual clock).
        public let time: SimTime
        /// 0 (emerg) ... 7 (debug).
        public let level: Int
        public let text: String
    }
    public private(set) var records: [Record] = []
    /// Ring size in records (a 256 KiB buffer holds a few thousand lines).
    public var capacity = 4096

    public init() {}

    public func append(_ time: SimTime, level: Int, _ text: String) {
        records.append(Record(time: time, level: level, text: text))
        if records.count > capacity { records.removeFirst(records.count - capacity) }
    }

    /// `dmesg -C`.
    public func clear() { records.removeAll() }
}

extension Machine {
    /// Kernel: printk() at `level`.
    public func printk(level: Int, _ text: String) {
        kernelLog.append(kernel.clock.now, level: level, text)
    }
}

extension NetNamespace {
    /// Kernel: nf_log_allowed(): init_net, or any namespace with nf_log_all_netns set.
    var nfLogAllowed: Bool { isRoot || machine.root.xtables?.logAllNetns == true }

    /// Kernel: nf_log_ip_packet() for the LOG target.
    func nfLogPacket(_ p: Packet, _ s: NFHookState, level: UInt8, prefix: String, flags: UInt8) {
        guard nfLogAllowed else {
            kernel.trace(self, s.inDevice ?? s.outDevice, .netfilter,
                         "LOG suppressed: not init_net and net.netfilter.nf_log_all_netns is 0")
            return
        }
        let line = nfLogLine(p, s, prefix: prefix, flags: flags)
        machine.printk(level: Int(level), line)
        kernel.trace(self, s.inDevice ?? s.outDevice, .netfilter, "LOG: \(line)")
    }

    /// The text nf_log_dump_packet_common() + dump_mac_header() + dump_ipv4_packet() build.
    func nfLogLine(_ p: Packet, _ s: NFHookState, prefix: String, flags: UInt8) -> String {
        var m = prefix
        m += "IN=\(s.inDevice?.name ?? "") OUT=\(s.outDevice?.name ?? "") "
        if let nb = p.nfBridge {
            if let pi = nb.physIn, pi !== s.inDevice { m += "PHYSIN=\(pi.name) " }
            if let po = nb.physOut, po !== s.outDevice { m += "PHYSOUT=\(po.name) " }
        }
        if s.inDevice != nil {
            if flags & 0x20 != 0 && p.network >= EthernetHeader.length {
                m += "MACSRC=\(EthernetView.source(p.bytes)) MACDST=\(EthernetView.destination(p.bytes)) "
                m += "MACPROTO=" + NetNamespace.hex(p.bytes.u16(at: 12), width: 4) + " "
            } else {
                m += "MAC="
                if p.network > 0 {
                    m += p.bytes[0..<p.network].map { NetNamespace.hex(UInt16($0), width: 2) }.joined(separator: ":")
                }
                m += " "
            }
        }
        NetNamespace.dumpIPv4(&m, p.bytes, at: p.network, end: p.bytes.count, flags: flags, outer: true)
        if p.mark != 0 { m += "MARK=0x\(String(p.mark, radix: 16)) " }
        return m
    }

    static func hex(_ v: UInt16, width: Int, upper: Bool = false) -> String {
        let s = String(v, radix: 16, uppercase: upper)
        return String(repeating: "0", count: max(0, width - s.count)) + s
    }

    /// Kernel: dump_ipv4_packet().
    static func dumpIPv4(_ m: inout String, _ b: [UInt8], at o: Int, end: Int, flags: UInt8, outer: Bool) {
        guard end - o >= 20 else {
            m += "TRUNCATED"
            return
        }
        let src = IPv4Address(bytes: b, at: o + 12), dst = IPv4Address(bytes: b, at: o + 16)
        m += "SRC=\(src) DST=\(dst) "
        let tos = b[o + 1]
        let fragWord = b.u16(at: o + 6)
        m += "LEN=\(b.u16(at: o + 2)) TOS=0x\(hex(UInt16(tos & 0x1e), width: 2, upper: true)) "
        m += "PREC=0x\(hex(UInt16(tos & 0xe0), width: 2, upper: true)) TTL=\(b[o + 8]) ID=\(b.u16(at: o + 4)) "
        if fragWord & 0x8000 != 0 { m += "CE " }
        if fragWord & 0x4000 != 0 { m += "DF " }
        if fragWord & 0x2000 != 0 { m += "MF " }
        let fragOff = fragWord & 0x1fff
        if fragOff != 0 { m += "FRAG:\(fragOff) " }
        let ihl = Int(b[o] & 0x0f) * 4
        if flags & 0x04 != 0 && ihl > 20 {
            guard end - o >= ihl else {
                m += "TRUNCATED"
                return
            }
            m += "OPT (" + b[(o + 20)..<(o + ihl)].map { hex(UInt16($0), width: 2, upper: true) }.joined() + ") "
        }
        let t = o + ihl
        let avail = end - t
        switch b[o + 9] {
        case 6:
            m += "PROTO=TCP "
            if fragOff != 0 { break }
            guard avail >= 20 else {
                m += "INCOMPLETE [\(max(0, avail)) bytes] "
                return
            }
            m += "SPT=\(b.u16(at: t)) DPT=\(b.u16(at: t + 2)) "
            if flags & 0x01 != 0 { m += "SEQ=\(b.u32(at: t + 4)) ACK=\(b.u32(at: t + 8)) " }
            m += "WINDOW=\(b.u16(at: t + 14)) "
            let word = b.u32(at: t + 12)
            m += "RES=0x\(hex(UInt16((word & 0x0E00_0000) >> 22), width: 2)) "
            let f = b[t + 13]
            if word & 0x0100_0000 != 0 { m += "AE " }
            if f & 0x80 != 0 { m += "CWR " }
            if f & 0x40 != 0 { m += "ECE " }
            if f & 0x20 != 0 { m += "URG " }
            if f & 0x10 != 0 { m += "ACK " }
            if f & 0x08 != 0 { m += "PSH " }
            if f & 0x04 != 0 { m += "RST " }
            if f & 0x02 != 0 { m += "SYN " }
            if f & 0x01 != 0 { m += "FIN " }
            m += "URGP=\(b.u16(at: t + 18)) "
            let doff = Int(b[t + 12] >> 4) * 4
            if flags & 0x02 != 0 && doff > 20 {
                guard avail >= doff else {
                    m += "OPT (TRUNCATED)"
                    return
                }
                m += "OPT (" + b[(t + 20)..<(t + doff)].map { hex(UInt16($0), width: 2, upper: true) }.joined() + ") "
            }
        case 17, 136:
            m += b[o + 9] == 17 ? "PROTO=UDP " : "PROTO=UDPLITE "
            if fragOff != 0 { break }
            guard avail >= 8 else {
                m += "INCOMPLETE [\(max(0, avail)) bytes] "
                return
            }
            m += "SPT=\(b.u16(at: t)) DPT=\(b.u16(at: t + 2)) LEN=\(b.u16(at: t + 4)) "
        case 1:
            m += "PROTO=ICMP "
            if fragOff != 0 { break }
            guard avail >= 8 else {
                m += "INCOMPLETE [\(max(0, avail)) bytes] "
                break
            }
            let type = b[t], code = b[t + 1]
            m += "TYPE=\(type) CODE=\(code) "
            let required: [UInt8: Int] = [0: 4, 3: 28, 4: 28, 5: 28, 8: 4, 11: 28, 12: 28, 13: 20, 14: 20, 17: 12, 18: 12]
            if let need = required[type], avail < need {
                m += "INCOMPLETE [\(avail) bytes] "
                break
            }
            switch type {
            case 0, 8:
                m += "ID=\(b.u16(at: t + 4)) SEQ=\(b.u16(at: t + 6)) "
            case 12:
                m += "PARAMETER=\(b[t + 4]) "
            case 3, 4, 5, 11:
                if type == 5 { m += "GATEWAY=\(IPv4Address(bytes: b, at: t + 4)) " }
                if outer {
                    m += "["
                    dumpIPv4(&m, b, at: t + 8, end: end, flags: flags, outer: false)
                    m += "] "
                }
                if type == 3 && code == 4 { m += "MTU=\(b.u16(at: t + 6)) " }
            default:
                break
            }
        case 51:
            if fragOff != 0 { break }
            m += "PROTO=AH "
            guard avail >= 8 else {
                m += "INCOMPLETE [\(max(0, avail)) bytes] "
                break
            }
            m += "SPI=0x\(String(b.u32(at: t + 4), radix: 16)) "
        case 50:
            m += "PROTO=ESP "
            if fragOff != 0 { break }
            guard avail >= 8 else {
                m += "INCOMPLETE [\(max(0, avail)) bytes] "
                break
            }
            m += "SPI=0x\(String(b.u32(at: t), radix: 16)) "
        default:
            m += "PROTO=\(b[o + 9]) "
        }
    }
}
