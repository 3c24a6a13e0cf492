// Pcap: capture files and capture filters through libpcap itself, so that what we write is
// what tcpdump and Wireshark read, and a filter means what it means to tcpdump.
// Guarantees: files carry the header `tcpdump -w` writes (v2.4, snaplen 262144, microsecond
// timestamps); filters are compiled by pcap_compile() for the capture's link type.

import CPcap
import SimCore

public enum LinkType: Int32, Sendable {
    case ethernet = 1       // DLT_EN10MB
    case raw = 12           // DLT_RAW (tun devices), written as LINKTYPE_RAW 101 by libpcap
    public var description: String {
        switch self {
        case .ethernet: return "EN10MB (Ethernet)"
        case .raw: return "RAW (Raw IP)"
        }
    }
}

public struct PcapError: Error, CustomStringConvertible {
    public let message: String
    public var description: String { message }
}

/// A compiled BPF program (pcap_compile) applied with pcap_offline_filter.
public final class CaptureFilter {
    public let expression: String
    private var program = bpf_program()

    /// Compiles `expression` for `linkType`; throws libpcap's own error text.
    public init(_ expression: String, linkType: LinkType, snaplen: Int32 = 262144) throws {
        self.expression = expression
        guard let dead = pcap_open_dead(linkType.rawValue, snaplen) else {
            throw PcapError(message: "pcap_open_dead failed")
        }
        defer { pcap_close(dead) }
        if pcap_compile(dead, &program, expression, 1, PCAP_NETMASK_UNKNOWN) != 0 {
            throw PcapError(message: String(cString: pcap_geterr(dead)))
        }
    }

    deinit { pcap_freecode(&program) }

    public func matches(_ bytes: [UInt8]) -> Bool {
        var hdr = pcap_pkthdr()
        hdr.caplen = bpf_u_int32(bytes.count)
        hdr.len = bpf_u_int32(bytes.count)
        return bytes.withUnsafeBufferPointer { buf in
            pcap_offline_filter(&program, &hdr, buf.baseAddress!) != 0
        }
    }
}

/// Writes packets with pcap_dump into a file.
public final class PcapWriter {
    private var handle: OpaquePointer?
    private var dumper: OpaquePointer?

    public init(path: String, linkType: LinkType, snaplen: Int32 = 262144) throws {
        guard let h = pcap_open_dead(linkType.rawValue, snaplen) else { throw PcapError(message: "pcap_open_dead failed") }
        handle = h
        guard let d = pcap_dump_open(h, path) else {
            let msg = String(cString: pcap_geterr(h))
            pcap_close(h)
            handle = nil
            throw PcapError(message: msg)
        }
        dumper = d
    }

    /// `time` is the absolute virtual wall-clock instant.
    public func write(_ bytes: [UInt8], at time: SimTime) {
        guard let d = dumper else { return }
        var hdr = pcap_pkthdr()
        hdr.ts.tv_sec = Int(time.ns / 1_000_000_000)
        hdr.ts.tv_usec = Int((time.ns % 1_000_000_000) / 1000)
        hdr.caplen = bpf_u_int32(bytes.count)
        hdr.len = bpf_u_int32(bytes.count)
        bytes.withUnsafeBufferPointer { buf in
            let user = UnsafeMutableRawPointer(d).assumingMemoryBound(to: UInt8.self)
            pcap_dump(user, &hdr, buf.baseAddress!)
        }
    }

    public func close() {
        if let d = dumper { pcap_dump_close(d) }
        if let h = handle { pcap_close(h) }
        dumper = nil
        handle = nil
    }

    deinit { close() }
}
