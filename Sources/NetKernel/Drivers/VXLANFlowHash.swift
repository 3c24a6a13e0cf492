// VXLANFlowHash: the outer UDP source port of an encapsulated frame, as udp_flow_src_port()
// derives it: the flow hash of the inner frame (net/core/flow_dissector.c: the dissected flow
// keys, ordered so that both directions of a flow hash alike, SipHash-2-4 with a key drawn once
// per boot), spread over the source port range.
// Guarantees: every frame of one inner flow (addresses, protocol, TCP/UDP ports) leaves with the
// same source port, in both directions, on one machine; the key is the machine's own seeded
// stream "flowhash/<machine>", so two machines pick different ports for the same flow, as two
// hosts do. All ARP frames of a machine share one port (the keys hold only the EtherType).
// Leaves out: a socket's own random hash (sk_txhash), which Linux uses instead for locally
// generated TCP and connected UDP; VLAN tags and tunnels inside the inner frame.

import SimCore
import Wire

/// Kernel: hashrnd in net/core/flow_dissector.c, the siphash key of one boot.
struct FlowHashKey {
    let k0: UInt64
    let k1: UInt64

    init(machine: Machine) {
        var rng = SplitMix64(seed: machine.kernel.seed, stream: "flowhash/\(machine.name)")
        k0 = rng.next()
        k1 = rng.next()
    }

    /// Kernel: skb_get_hash() -> __skb_get_hash_net() for an Ethernet frame: dissect, then
    /// __flow_hash_from_keys() (0 becomes 1).
    func hash(frame b: [UInt8]) -> UInt32 {
        // struct flow_keys from `basic` on, as x86_64 lays it out, read as the little-endian
        // words siphash takes: basic (n_proto, ip_proto, padding) and tags; vlan; cvlan;
        // keyid and ports; icmp and the source address; the destination address and the
        // struct's tail padding. Without addresses the hash stops after the fifth word.
        guard b.count >= EthernetHeader.length else { return 1 }
        let o = EthernetHeader.length
        var w0 = UInt64(b[12]) | UInt64(b[13]) << 8
        var w3: UInt64 = 0, w4: UInt64 = 0, w5: UInt64 = 0
        var words = 5
        if b.u16(at: 12) == EtherType.ipv4.rawValue, b.count >= o + IPv4Header.minimumLength, b[o] >> 4 == 4 {
            let ihl = Int(b[o] & 0x0f) * 4
            let ipProto = b[o + 9]
            w0 |= UInt64(ipProto) << 16
            // __flow_hash_consistentify(): compared as the CPU reads the big-endian words.
            var src = b.u32(at: o + 12), dst = b.u32(at: o + 16)
            if dst.byteSwapped < src.byteSwapped { swap(&src, &dst) }
            w4 = UInt64(src.byteSwapped) << 32
            w5 = UInt64(dst.byteSwapped)
            words = 6
            let fragment = b.u16(at: o + 6) & 0x3fff != 0
            // proto_ports_offset(): TCP, UDP, DCCP, SCTP and UDP-Lite carry ports first.
            if !fragment, ipProto == 6 || ipProto == 17 || ipProto == 33 || ipProto == 132 || ipProto == 136,
               b.count >= o + ihl + 4 {
                var sport = b.u16(at: o + ihl), dport = b.u16(at: o + ihl + 2)
                if dport.byteSwapped < sport.byteSwapped { swap(&sport, &dport) }
                w3 = UInt64(sport.byteSwapped) << 32 | UInt64(dport.byteSwapped) << 48
            }
        }
        let h = UInt32(truncatingIfNeeded: FlowHashKey.siphash24(w0, 0, 0, w3, w4, w5, words: words, k0: k0, k1: k1))
        return h == 0 ? 1 : h
    }

    /// Kernel: udp_flow_src_port(): the hash, folded so that its upper half matters, scaled
    /// into [min, max) (the namespace's ip_local_port_range when the device names none).
    func sourcePort(frame: [UInt8], min: UInt16, max: UInt16) -> UInt16 {
        var h = hash(frame: frame)
        h ^= h << 16
        return UInt16(truncatingIfNeeded: (UInt64(h) * UInt64(max &- min)) >> 32) &+ min
    }

    /// SipHash-2-4 over the first `words` of six little-endian words (a whole number of
    /// words, so the last block holds only the length): the flow keys without an array.
    static func siphash24(_ a: UInt64, _ b: UInt64, _ c: UInt64, _ d: UInt64, _ e: UInt64, _ f: UInt64,
                          words: Int, k0: UInt64, k1: UInt64) -> UInt64 {
        var h = SipHash24(k0: k0, k1: k1)
        h.compress(a); h.compress(b); h.compress(c); h.compress(d); h.compress(e)
        if words > 5 { h.compress(f) }
        return h.finish(UInt64(words * 8 & 0xff) << 56)
    }

    /// SipHash-2-4 (Aumasson and Bernstein) over `length` bytes, words read little-endian as
    /// lib/siphash.c does.
    static func siphash24(_ m: [UInt8], length: Int, k0: UInt64, k1: UInt64) -> UInt64 {
        func word(_ i: Int, _ n: Int) -> UInt64 {
            var w: UInt64 = 0
            for j in 0..<n { w |= UInt64(m[i + j]) << (8 * UInt64(j)) }
            return w
        }
        var h = SipHash24(k0: k0, k1: k1)
        var i = 0
        while i + 8 <= length {
            h.compress(word(i, 8))
            i += 8
        }
        return h.finish(UInt64(length & 0xff) << 56 | word(i, length - i))
    }
}

/// SipHash-2-4's state: two compression rounds per 8-byte word, four to finish.
struct SipHash24 {
    private var v0, v1, v2, v3: UInt64

    init(k0: UInt64, k1: UInt64) {
        v0 = 0x736f_6d65_7073_6575 ^ k0
        v1 = 0x646f_7261_6e64_6f6d ^ k1
        v2 = 0x6c79_6765_6e65_7261 ^ k0
        v3 = 0x7465_6462_7974_6573 ^ k1
    }

    @inline(__always) private static func rotl(_ x: UInt64, _ n: UInt64) -> UInt64 { (x << n) | (x >> (64 - n)) }

    @inline(__always) private mutating func round() {
        v0 = v0 &+ v1; v1 = Self.rotl(v1, 13); v1 ^= v0; v0 = Self.rotl(v0, 32)
        v2 = v2 &+ v3; v3 = Self.rotl(v3, 16); v3 ^= v2
        v0 = v0 &+ v3; v3 = Self.rotl(v3, 21); v3 ^= v0
        v2 = v2 &+ v1; v1 = Self.rotl(v1, 17); v1 ^= v2; v2 = Self.rotl(v2, 32)
    }

    @inline(__always) mutating func compress(_ m: UInt64) {
        v3 ^= m
        round(); round()
        v0 ^= m
    }

    /// The last block (the length in its top byte, the tail bytes below), then finalisation.
    @inline(__always) mutating func finish(_ last: UInt64) -> UInt64 {
        compress(last)
        v2 ^= 0xff
        round(); round(); round(); round()
        return v0 ^ v1 ^ v2 ^ v3
    }
}
