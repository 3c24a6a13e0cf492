// TCP: net/ipv4/tcp*.c. (Skeleton: the transport layer fills this in.)

import SimCore
import Wire

extension NetNamespace {
    /// Kernel: tcp_v4_rcv(). Called from ip_local_deliver for protocol 6.
    func tcpReceive(_ dev: NetDevice, _ p: Packet) {}

    /// Kernel: tcp_v4_err(): an ICMP error about a segment we sent.
    func tcpError(_ e: SocketError) {}
}
