// Capture: one running tcpdump. It taps a device (promiscuous unless -p, which changes what a
// bridge passes up, as on Linux), filters with BPF, and keeps each packet with its virtual
// time so that the text trace and the pcap are written from the same records. A tun device
// is captured as raw IP (DLT_RAW), an Ethernet-like one as EN10MB.
// Guarantees: the text is what `tcpdump -n` prints and what `tcpdump -r FILE -n` prints of
// the pcap we write.

import SimCore
import NetKernel
import Wire

public final class Capture {
    public struct Record {
        public let time: SimTime
        public let bytes: [UInt8]
    }

    public let name: String
    public let interface: String
    public let options: PrintOptions
    public let filter: CaptureFilter?
    public let linkType: LinkType
    /// Stop after this many packets (-c).
    public let limit: Int?
    public private(set) var records: [Record] = []
    public private(set) var stopped = false
    private var tap: PacketTap?
    private weak var device: NetDevice?
    /// Offset added to virtual time to get wall-clock time (the scenario's start).
    public let epoch: SimTime
    /// Called when -c is reached.
    public var onLimitReached: (() -> Void)?

    public init(name: String, device: NetDevice, promiscuous: Bool, filter: CaptureFilter?,
                options: PrintOptions, limit: Int?, epoch: SimTime) {
        self.name = name
        self.interface = device.name
        self.filter = filter
        self.options = options
        self.limit = limit
        self.linkType = LinkType.of(device)
        self.epoch = epoch
        self.device = device
        let t = PacketTap(promiscuous: promiscuous) { [weak self] time, bytes, _ in
            self?.receive(time: time, bytes: bytes)
        }
        tap = t
        device.addTap(t)
    }

    private func receive(time: SimTime, bytes: [UInt8]) {
        guard !stopped else { return }
        if let f = filter, !f.matches(bytes) { return }
        records.append(Record(time: epoch + time, bytes: bytes))
        if let l = limit, records.count >= l {
            stop()
            onLimitReached?()
        }
    }

    public func stop() {
        guard !stopped else { return }
        stopped = true
        if let t = tap { device?.removeTap(t) }
        tap = nil
    }

    /// tcpdump's stderr header for a live capture.
    public var startBanner: [String] {
        let listening = "listening on \(interface), link-type \(linkType.description), snapshot length 262144 bytes"
        if options.verbose > 0 { return ["tcpdump: " + listening] }
        return ["tcpdump: verbose output suppressed, use -v[v]... for full protocol decode", listening]
    }

    /// tcpdump's stderr summary when it stops.
    public var summary: [String] {
        let n = records.count
        let p = n == 1 ? "packet" : "packets"
        return ["\(n) \(p) captured", "\(n) \(p) received by filter", "0 packets dropped by kernel"]
    }

    /// The text trace: one line per packet, as `tcpdump -n` prints it.
    public var text: String {
        var out = ""
        // One tcpdump process: TCP's relative sequence numbers carry from packet to packet.
        let state = PrinterState()
        for r in records {
            let line = linkType == .raw ? PacketPrinter.raw(r.bytes, options: options, state: state)
                : PacketPrinter.ethernet(r.bytes, options: options, state: state)
            out += Timestamp.timeOfDay(r.time) + " " + line + "\n"
        }
        return out
    }

    public func writePcap(to path: String) throws {
        let w = try PcapWriter(path: path, linkType: linkType)
        for r in records { w.write(r.bytes, at: r.time) }
        w.close()
    }
}
