// UDP: net/ipv4/udp.c. Sockets bound to ports, datagrams in and out, ICMP port unreachable for
// a closed port, and ICMP errors reported to the sockets that caused them.
// (Skeleton: the transport layer fills this in.)

import SimCore
import Wire

extension NetNamespace {
    /// Kernel: udp_rcv(). Called from ip_local_deliver for protocol 17.
    func udpReceive(_ dev: NetDevice, _ p: Packet, hadRawSocket: Bool) {
        if !hadRawSocket { icmpSendError(p, type: .destinationUnreachable, code: 3, inDevice: dev) }
    }

    /// Kernel: udp_err(): an ICMP error about a datagram we sent.
    func udpError(_ e: SocketError) {}
}
