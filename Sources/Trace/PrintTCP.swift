// PrintTCP: tcpdump 4.99.3's print-tcp.c for IPv4, with the payload printers it picks by port
// (telnet 23, SMTP 25, whois 43, SSH 22, FTP 21, HTTP 80 and 8080, RTSP 554 and 8554) and the
// text-protocol helpers of util-print.c they share. Writes the addresses with their ports.
// Guarantees: relative sequence numbers follow tcpdump's per-conversation table, which lives
// in a `PrinterState` for the whole capture (one tcpdump process): the first segment with ACK
// of a conversation (or any with SYN) prints absolute numbers and sets the base, later ones
// print relative to it; segments without ACK are never rebased. -v adds the checksum
// ("(correct)" or "(incorrect -> 0x....)", what a CHECKSUM_PARTIAL segment shows) and the text
// of RST payloads and text protocols; -vv prints seq on every segment.
// Leaves out: the binary protocols tcpdump decodes on other ports (BGP 179, PPTP 1723, Redis
// 6379, SMB 139/445, BEEP, OpenFlow, DNS 53, MSDP, RPKI-RTR, LDP, NFS 2049): their payloads print
// only as "length N"; the MPTCP, TFO, TCP-AO, MD5 and experimental options are not decoded
// (printed as their raw bytes, where tcpdump decodes them).

import Wire

/// What one tcpdump process remembers between packets.
public final class PrinterState {
    struct TCPConversation: Hashable {
        let src: UInt32
        let dst: UInt32
        let ports: UInt32
    }
    /// tcpdump's tcp_seq_hash4: per conversation, the base sequence numbers.
    var tcpSeq: [TCPConversation: (seq: UInt32, ack: UInt32)] = [:]
    public init() {}
}

enum TCPPrinter {
    static func print(_ b: [UInt8], at o: Int, end: Int, ip: IPv4Header, options: PrintOptions,
                      state: PrinterState, fragmented: Bool = false) -> String {
        let length = end - o
        guard length >= 4 else { return "\(ip.source) > \(ip.destination): [|tcp]" }
        let sport = b.u16(at: o)
        let dport = b.u16(at: o + 2)
        var s = "\(ip.source).\(sport) > \(ip.destination).\(dport): "
        guard length >= TCPHeader.minimumLength else { return s + " [|tcp]" }
        var hlen = Int(b[o + 12] >> 4) * 4
        if hlen < TCPHeader.minimumLength {
            return s + " tcp \(length - hlen) [bad hdr length \(hlen) - too short, < 20]"
        }
        var seq = b.u32(at: o + 4)
        var ack = b.u32(at: o + 8)
        let win = b.u16(at: o + 14)
        let urp = b.u16(at: o + 18)
        let flags = TCPFlags(rawValue: b[o + 13])
        s += "Flags [\(flagString(flags))]"

        var thseq: UInt32 = 0, thack: UInt32 = 0
        var rev = false
        if flags.contains(.ack) {
            if sport > dport { rev = true } else if sport == dport { rev = ip.source.raw > ip.destination.raw }
            let key = rev
                ? PrinterState.TCPConversation(src: ip.destination.raw, dst: ip.source.raw, ports: UInt32(dport) << 16 | UInt32(sport))
                : PrinterState.TCPConversation(src: ip.source.raw, dst: ip.destination.raw, ports: UInt32(sport) << 16 | UInt32(dport))
            if let th = state.tcpSeq[key], !flags.contains(.syn) {
                if rev { seq = seq &- th.ack; ack = ack &- th.seq } else { seq = seq &- th.seq; ack = ack &- th.ack }
                thseq = th.seq; thack = th.ack
            } else {
                let th = rev ? (seq: ack &- 1, ack: seq) : (seq: seq, ack: ack &- 1)
                state.tcpSeq[key] = th
                thseq = th.seq; thack = th.ack
            }
        }
        if hlen > length { return s + " [bad hdr length \(hlen) - too long, > \(length)]" }

        if options.verbose > 0 && !fragmented {
            let field = b.u16(at: o + 16)
            var sum = IPv4Header.pseudoHeaderSum(source: ip.source, destination: ip.destination, proto: .tcp, length: length)
            sum = InternetChecksum.sum(b, o..<end, initial: sum)
            let computed = ~UInt16(truncatingIfNeeded: sum)
            s += ", cksum 0x\(hex4(field))"
            if computed != 0 {
                var should = UInt32(field) + UInt32(computed)
                should = (should & 0xffff) + (should >> 16)
                should = (should & 0xffff) + (should >> 16)
                s += " (incorrect -> 0x\(hex4(UInt16(truncatingIfNeeded: should))))"
            } else {
                s += " (correct)"
            }
        }

        let dataLength = length - hlen
        if options.verbose > 1 || dataLength > 0 || !flags.intersection([.syn, .fin, .rst]).isEmpty {
            s += ", seq \(seq)"
            if dataLength > 0 { s += ":\(seq &+ UInt32(dataLength))" }
        }
        if flags.contains(.ack) { s += ", ack \(ack)" }
        s += ", win \(win)"
        if flags.contains(.urg) { s += ", urg \(urp)" }

        if hlen > TCPHeader.minimumLength {
            let opts = optionsText(b, from: o + TCPHeader.minimumLength, count: hlen - TCPHeader.minimumLength,
                                   rev: rev, thseq: thseq, thack: thack)
            s += ", options [" + opts.text
            if opts.bad { return s }
            s += "]"
        }
        hlen = Int(b[o + 12] >> 4) * 4
        s += ", length \(dataLength)"
        if dataLength == 0 { return s }

        let p = Array(b[(o + hlen)..<end])
        if flags.contains(.rst) && options.verbose > 0 { return s + rstData(p) }
        func isPort(_ x: UInt16) -> Bool { sport == x || dport == x }
        if isPort(23) {
            s += TextProtocols.telnet(p)
        } else if isPort(25) {
            s += ": " + TextProtocols.txtproto(p, name: "smtp", commands: nil, verbose: options.verbose)
        } else if isPort(43) {
            s += ": " + TextProtocols.txtproto(p, name: "whois", commands: nil, verbose: options.verbose)
        } else if isPort(179) || isPort(1723) || isPort(6379) {
            // bgp, pptp, redis: not decoded here.
        } else if isPort(22) {
            s += TextProtocols.sshVersion(p)
        } else if isPort(139) || isPort(445) || isPort(10288) || isPort(6633) || isPort(6653) {
            // smb, beep, openflow: not decoded here.
        } else if isPort(21) {
            s += ": " + TextProtocols.txtproto(p, name: "ftp", commands: nil, verbose: options.verbose)
        } else if isPort(80) || isPort(8080) {
            s += ": " + TextProtocols.txtproto(p, name: "http", commands: TextProtocols.httpCommands,
                                               secondTokenIsCode: true, verbose: options.verbose)
        } else if isPort(554) || isPort(8554) {
            s += ": " + TextProtocols.txtproto(p, name: "rtsp", commands: TextProtocols.rtspCommands,
                                               secondTokenIsCode: true, verbose: options.verbose)
        }
        return s
    }

    /// bittok2str_nosep over F S R P . U E W, "none" for no flag.
    static func flagString(_ f: TCPFlags) -> String {
        let table: [(TCPFlags, String)] = [(.fin, "F"), (.syn, "S"), (.rst, "R"), (.psh, "P"),
                                           (.ack, "."), (.urg, "U"), (.ece, "E"), (.cwr, "W")]
        let s = table.filter { f.contains($0.0) }.map(\.1).joined()
        return s.isEmpty ? "none" : s
    }

    static func hex4(_ v: UInt16) -> String {
        let h = String(v, radix: 16)
        return String(repeating: "0", count: 4 - h.count) + h
    }

    static func hex2(_ v: UInt8) -> String {
        let h = String(v, radix: 16)
        return h.count == 1 ? "0" + h : h
    }

    static let optionNames: [UInt8: String] = [
        0: "eol", 1: "nop", 2: "mss", 3: "wscale", 4: "sackOK", 5: "sack", 6: "echo", 7: "echoreply",
        8: "TS", 11: "cc", 12: "ccnew", 13: "", 19: "md5", 20: "scps", 28: "uto", 29: "tcp-ao",
        30: "mptcp", 34: "tfo", 254: "exp",
    ]

    /// The option loop of tcp_print(): names and values separated by commas; "[len N]" when
    /// an option's length differs from its kind's; "[bad opt]" ends the list early.
    static func optionsText(_ b: [UInt8], from start: Int, count: Int, rev: Bool, thseq: UInt32, thack: UInt32)
        -> (text: String, bad: Bool) {
        var s = ""
        var hlen = count
        var cp = start
        var ch = false
        while hlen > 0 {
            if ch { s += "," }
            let opt = b[cp]
            cp += 1
            var len: Int
            if opt == 0 || opt == 1 {
                len = 1
            } else {
                len = Int(b[cp])
                cp += 1
                if len < 2 || len > hlen { return (s + "[bad opt]" + (ch ? "]" : ""), true) }
                hlen -= 1
            }
            hlen -= 1
            var datalen = 0
            s += optionNames[opt] ?? "unknown-\(opt)"
            func check(_ l: Int) -> Bool { l <= hlen }
            switch opt {
            case 2:
                datalen = 2
                guard check(datalen) else { return (s + "[bad opt]" + (ch ? "]" : ""), true) }
                s += " \(b.u16(at: cp))"
            case 3:
                datalen = 1
                guard check(datalen) else { return (s + "[bad opt]" + (ch ? "]" : ""), true) }
                s += " \(b[cp])"
            case 5:
                datalen = len - 2
                if datalen % 8 != 0 {
                    s += " invalid sack"
                } else {
                    s += " \(datalen / 8) "
                    var i = 0
                    while i < datalen {
                        guard check(i + 8) else { return (s + "[bad opt]" + (ch ? "]" : ""), true) }
                        var st = b.u32(at: cp + i)
                        var en = b.u32(at: cp + i + 4)
                        if rev { st = st &- thseq; en = en &- thseq } else { st = st &- thack; en = en &- thack }
                        s += "{\(st):\(en)}"
                        i += 8
                    }
                }
            case 11, 12, 13, 6, 7:
                datalen = 4
                guard check(datalen) else { return (s + "[bad opt]" + (ch ? "]" : ""), true) }
                s += " \(b.u32(at: cp))"
            case 8:
                datalen = 8
                guard check(datalen) else { return (s + "[bad opt]" + (ch ? "]" : ""), true) }
                s += " val \(b.u32(at: cp)) ecr \(b.u32(at: cp + 4))"
            case 0, 1, 4:
                break
            case 20:
                datalen = 2
                guard check(datalen) else { return (s + "[bad opt]" + (ch ? "]" : ""), true) }
                s += " cap \(hex2(b[cp])) id \(b[cp + 1])"
            case 28:
                datalen = 2
                guard check(datalen) else { return (s + "[bad opt]" + (ch ? "]" : ""), true) }
                var uto = Int(b.u16(at: cp))
                s += " 0x\(String(uto, radix: 16))"
                uto = uto & 1 == 1 ? (uto >> 1) * 60 : uto >> 1
                s += " \(uto)"
            default:
                datalen = len - 2
                if datalen > 0 { s += " 0x" }
                for i in 0..<max(datalen, 0) {
                    guard check(i + 1) else { return (s + "[bad opt]" + (ch ? "]" : ""), true) }
                    s += hex2(b[cp + i])
                }
            }
            cp += datalen
            hlen -= datalen
            datalen += 1
            if opt != 0 && opt != 1 { datalen += 1 }
            if datalen != len { s += "[len \(len)]" }
            ch = true
            if opt == 0 { break }
        }
        return (s, false)
    }

    /// print_tcp_rst_data(): " [RST text]" (at most 30 characters, "+" when cut).
    static func rstData(_ p: [UInt8]) -> String {
        var s = " [RST"
        var d = p
        if d.count > 30 {
            d = Array(d.prefix(30))
            s += "+"
        }
        s += " "
        for c in d { s += TextProtocols.printChar(c) }
        return s + "]"
    }
}

/// The text-protocol printers (util-print.c txtproto_print, print-telnet.c, print-ssh.c).
enum TextProtocols {
    static let httpCommands = [
        "GET", "PUT", "COPY", "HEAD", "LOCK", "MOVE", "POLL", "POST", "BCOPY", "BMOVE", "MKCOL", "TRACE",
        "LABEL", "MERGE", "DELETE", "SEARCH", "UNLOCK", "REPORT", "UPDATE", "NOTIFY", "BDELETE", "CONNECT",
        "OPTIONS", "CHECKIN", "PROPFIND", "CHECKOUT", "CCM_POST", "SUBSCRIBE", "PROPPATCH", "BPROPFIND",
        "BPROPPATCH", "UNCHECKOUT", "MKACTIVITY", "MKWORKSPACE", "UNSUBSCRIBE", "RPC_CONNECT",
        "VERSION-CONTROL", "BASELINE-CONTROL",
    ]
    static let rtspCommands = [
        "DESCRIBE", "ANNOUNCE", "GET_PARAMETER", "OPTIONS", "PAUSE", "PLAY", "RECORD", "REDIRECT", "SETUP",
        "SET_PARAMETER", "TEARDOWN",
    ]
    static let maxToken = 128

    @inline(__always) static func isPrint(_ c: UInt8) -> Bool { c >= 0x20 && c <= 0x7e }

    /// fn_print_char(): printable ASCII as is, others as M- and ^ escapes.
    static func printChar(_ c0: UInt8) -> String {
        var c = c0
        var s = ""
        if c >= 0x80 { c &= 0x7f; s += "M-" }
        if !isPrint(c) { c ^= 0x40; s += "^" }
        s.unicodeScalars.append(Unicode.Scalar(c))
        return s
    }

    static func text(_ p: [UInt8], _ r: Range<Int>) -> String {
        var s = ""
        for c in p[r] { s.unicodeScalars.append(Unicode.Scalar(c)) }
        return s
    }

    /// fetch_token(): the token at `idx` and the index past the blanks after it (0: none).
    static func fetchToken(_ p: [UInt8], _ idx0: Int) -> (token: [UInt8], next: Int) {
        var idx = idx0
        var tok: [UInt8] = []
        while idx < p.count {
            let c = p[idx]
            if c >= 0x80 { return ([], 0) }
            if c == 0x20 || c == 0x09 || c == 0x0d || c == 0x0a { break }
            if !isPrint(c) { return ([], 0) }
            if tok.count + 2 > maxToken + 1 { return ([], 0) }
            tok.append(c)
            idx += 1
        }
        if tok.isEmpty { return ([], 0) }
        while idx < p.count {
            let c = p[idx]
            if c == 0x0d || c == 0x0a { break }
            if !isPrint(c) { break }
            if c != 0x20 && c != 0x09 { break }
            idx += 1
        }
        return (tok, idx)
    }

    /// print_txt_line(): one line without its CR LF; nil when the line is not text (or not
    /// ended, in which case it is printed with " [|proto]").
    static func txtLine(_ p: [UInt8], from start: Int, prefix: String, proto: String, out: inout String) -> Int? {
        var idx = start
        while idx < p.count {
            let c = p[idx]
            if c == 0x0a {
                out += prefix + text(p, start..<idx)
                return idx + 1
            } else if c == 0x0d {
                if idx + 1 >= p.count { return nil }
                if p[idx + 1] == 0x0a {
                    out += prefix + text(p, start..<idx)
                    return idx + 2
                }
                return nil
            } else if !isPrint(c) && c != 0x09 {
                return nil
            }
            idx += 1
        }
        out += prefix + text(p, start..<idx) + " [|\(proto)]"
        return nil
    }

    /// txtproto_print(): "PROTO" and, if the payload looks like a request or response, its
    /// first line (-v: ", length: N" and every text line on its own tab-indented line).
    static func txtproto(_ p: [UInt8], name: String, commands: [String]?, secondTokenIsCode: Bool = false,
                         verbose: Int) -> String {
        var printThis = false
        if let cmds = commands {
            var (tok, idx) = fetchToken(p, 0)
            if idx != 0 {
                let t = String(decoding: tok, as: UTF8.self).uppercased()
                if cmds.contains(t) { printThis = true }
                if secondTokenIsCode { (tok, idx) = fetchToken(p, idx) }
                if idx != 0 {
                    if tok.count == 3 && tok.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) { printThis = true }
                }
            }
        } else {
            printThis = true
        }
        var out = name.uppercased()
        guard printThis else { return out }
        if verbose > 0 {
            out += ", length: \(p.count)"
            var idx = 0
            while idx < p.count, let eol = txtLine(p, from: idx, prefix: "\n\t", proto: name, out: &out) {
                idx = eol
            }
        } else {
            _ = txtLine(p, from: 0, prefix: ": ", proto: name, out: &out)
        }
        return out
    }

    /// ssh_print(): ": SSH: SSH-2.0-..." for a version line.
    static func sshVersion(_ p: [UInt8]) -> String {
        guard p.count >= 4, p[0] == 0x53, p[1] == 0x53, p[2] == 0x48, p[3] == 0x2d else { return "" }
        var idx = 4
        while idx < p.count {
            let c = p[idx]
            if c == 0x0a { return ": SSH: " + text(p, 0..<idx) }
            if c == 0x0d {
                if idx + 1 >= p.count || p[idx + 1] != 0x0a { return "" }
                return ": SSH: " + text(p, 0..<idx)
            }
            if !isPrint(c) { return "" }
            idx += 1
        }
        return ""
    }

    static let telCmds = ["EOF", "SUSP", "ABORT", "EOR", "SE", "NOP", "DMARK", "BRK", "IP", "AO", "AYT", "EC",
                          "EL", "GA", "SB", "WILL", "WONT", "DO", "DONT", "IAC"]
    static let telOpts = ["BINARY", "ECHO", "RCP", "SUPPRESS GO AHEAD", "NAME", "STATUS", "TIMING MARK", "RCTE",
                          "NAOL", "NAOP", "NAOCRD", "NAOHTS", "NAOHTD", "NAOFFD", "NAOVTS", "NAOVTD", "NAOLFD",
                          "EXTEND ASCII", "LOGOUT", "BYTE MACRO", "DATA ENTRY TERMINAL", "SUPDUP", "SUPDUP OUTPUT",
                          "SEND LOCATION", "TERMINAL TYPE", "END OF RECORD", "TACACS UID", "OUTPUT MARKING",
                          "TTYLOC", "3270 REGIME", "X.3 PAD", "NAWS", "TSPEED", "LFLOW", "LINEMODE", "XDISPLOC",
                          "OLD-ENVIRON", "AUTHENTICATION", "ENCRYPT", "NEW-ENVIRON"]
    static let telSubCmds = ["IS", "SEND", "INFO"]
    static let authCmd = ["IS", "SEND", "REPLY", "NAME"]
    static let authType: [String?] = ["NULL", "KERBEROS_V4", "KERBEROS_V5", "SPX", "MINK", "SRP", "RSA", "SSL", nil,
                                      nil, "LOKI", "SSA", "KEA_SJ", "KEA_SJ_INTEG", "DSS", "NTLM"]
    static let encCmd = ["IS", "SUPPORT", "REPLY", "START", "END", "REQUEST-START", "REQUEST-END", "END_KEYID",
                         "DEC_KEYID"]
    static let encType: [String?] = ["NULL", "DES_CFB64", "DES_OFB64", "DES3_CFB64", "DES3_OFB64", nil,
                                     "CAST5_40_CFB64", "CAST5_40_OFB64", "CAST128_CFB64", "CAST128_OFB64"]

    static func strOrID(_ x: UInt8, _ tab: [String?]) -> String {
        if Int(x) < tab.count, let s = tab[Int(x)] { return s }
        return x == 0 ? "0" : "0x" + String(x, radix: 16)
    }

    /// telnet_parse(): the length of the command at `start`, and its text; nil at packet end.
    static func telnetParse(_ p: [UInt8], _ start: Int) -> (length: Int, text: String)? {
        var sp = start
        func fetch() -> UInt8? {
            guard sp < p.count else { return nil }
            defer { sp += 1 }
            return p[sp]
        }
        guard let c0 = fetch(), c0 == 255, let c = fetch() else { return nil }
        if c == 255 { return (sp - start, "IAC IAC") }
        let i = Int(c) - 236
        guard i >= 0 && i <= 255 - 236 else { return nil }
        var s = ""
        switch c {
        case 254, 253, 252, 251, 250:
            guard let x = fetch() else { return nil }
            s += Int(x) < telOpts.count ? "\(telCmds[i]) \(telOpts[Int(x)])" : "\(telCmds[i]) 0x\(String(x, radix: 16))"
            if c != 250 { break }
            // IAC SB ... IAC SE
            var q = sp
            while p.count - sp > q + 1 - sp {
                if p[q] == 255 && p[q + 1] == 240 { break }
                q += 1
            }
            guard q < p.count, p[q] == 255 else { return nil }
            func more(_ tab: [String?]) -> Bool {
                guard q > sp, let v = fetch() else { return false }
                s += " " + strOrID(v, tab)
                return true
            }
            switch x {
            case 37:
                if more(authCmd.map { $0 }) { _ = more(authType) }
            case 38:
                if more(encCmd.map { $0 }) { _ = more(encType) }
            default:
                _ = more(telSubCmds.map { $0 })
            }
            while q > sp {
                guard let v = fetch() else { return nil }
                s += v == 0 ? " 0" : " 0x" + String(v, radix: 16)
            }
            s += " SE"
            sp += 2
        default:
            s += telCmds[i]
        }
        return (sp - start, s)
    }

    /// telnet_print(): the commands at the start of the payload, " [telnet A, B]".
    static func telnet(_ p: [UInt8]) -> String {
        var s = ""
        var idx = 0
        var first = true
        while idx < p.count && p[idx] == 255 {
            let rest = Array(p[idx...])
            guard let (l, t) = telnetParse(rest, 0) else { break }
            s += first ? " [telnet " : ", "
            s += t
            first = false
            idx += l
        }
        if !first { s += "]" }
        return s
    }
}
