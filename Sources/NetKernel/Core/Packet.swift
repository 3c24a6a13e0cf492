// Packet: the sk_buff of this model: real frame bytes plus the metadata the stack keeps
// beside them. Copies share bytes until one is written (Swift arrays are copy-on-write), so
// flooding a frame to many ports costs no copying.

import Wire

/// Kernel: skb->pkt_type (include/uapi/linux/if_packet.h).
public enum PacketType: UInt8, Sendable {
    case host = 0, broadcast = 1, multicast = 2, otherHost = 3, outgoing = 4, loopback = 5
}

public struct Packet {
    /// The frame as it is on the device: Ethernet header first for Ethernet devices, the IP
    /// header first for raw-IP devices (tun).
    public var bytes: [UInt8]
    /// Offset of the network header in `bytes`.
    public var network: Int
    public var pktType: PacketType = .host
    /// skb->mark, for netfilter and policy routing.
    public var mark: UInt32 = 0
    /// Hops taken; a guard against loops in addition to the event budget.
    public var hops: Int = 0
    /// Whether bridged traffic was already seen by br_netfilter (later).
    public var bridged = false
    /// skb->_nfct: the conntrack entry and how this packet relates to it.
    public var ct: ConntrackEntry? {
        get { nf?.ct }
        set {
            if newValue == nil && nf == nil { return }
            nfForWriting().ct = newValue
        }
    }
    public var ctInfo: CTInfo?
    /// Conntrack looked at the packet and found it invalid (no entry attached).
    public var ctInvalid = false
    /// OUTPUT DNAT changed the destination: the route must be looked up again.
    public var needsReroute = false
    /// IPCB(skb)->frag_max_size: the largest fragment of a reassembled datagram (0: none);
    /// forwarding cuts it again to that size.
    public var fragMaxSize = 0
    /// skb->nf_trace: set by the TRACE target, logged at every rule the packet matches.
    public var nfTrace = false
    /// skb->nf_bridge: br_netfilter's record of a bridged IPv4 packet (its ports).
    public var nfBridge: BridgeNFInfo? {
        get { nf?.bridge }
        set {
            if newValue == nil && nf == nil { return }
            nfForWriting().bridge = newValue
        }
    }

    /// The references netfilter attaches, boxed: a packet is copied several times on its
    /// way (once per port of a flood), and each copy retains every reference it holds;
    /// most packets never carry these. Copied on write, so a Packet stays a value.
    private var nf: PacketNF?

    private mutating func nfForWriting() -> PacketNF {
        if nf == nil {
            nf = PacketNF()
        } else if !isKnownUniquelyReferenced(&nf) {
            nf = nf!.copy()
        }
        return nf!
    }

    public init(bytes: [UInt8], network: Int = EthernetHeader.length) {
        self.bytes = bytes
        self.network = network
    }

    public var length: Int { bytes.count }
}

/// A packet's netfilter references (see Packet.nf).
final class PacketNF {
    var ct: ConntrackEntry?
    var bridge: BridgeNFInfo?

    func copy() -> PacketNF {
        let c = PacketNF()
        c.ct = ct
        c.bridge = bridge
        return c
    }
}
