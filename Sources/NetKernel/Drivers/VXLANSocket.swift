// VXLANSocket: struct vxlan_sock, the kernel UDP socket a vxlan device receives on. One socket
// per (link namespace, port), bound to 0.0.0.0:port when the first device using it comes up
// and shared by every device on that port (vxlan_sock_add() finds it again); received
// datagrams go to its encap_rcv hook, which finds the device by VNI (vxlan_vs_find_vni()).
// Guarantees: a port some other socket holds makes the device fail to come up with EADDRINUSE,
// as udp_sock_create() does; the socket goes when its last device goes down.
// Leaves out: the IPv6 socket, GRO for tunnels, sockets bound to a VRF.

import SimCore
import Wire

final class VXLANSocket {
    let udp: UDPSocket
    let port: UInt16
    /// Devices using the socket, by VNI (Kernel: vs->vni_list).
    private var byVNI: [UInt32: VXLANDevice] = [:]
    private var users = 0

    private init(udp: UDPSocket, port: UInt16) {
        self.udp = udp
        self.port = port
    }

    /// Kernel: vxlan_find_sock().
    static func find(in ns: NetNamespace, port: UInt16) -> VXLANSocket? {
        for s in ns.inetState.udp.bound where s.localPort == port {
            if let v = s.tunnelOwner as? VXLANSocket { return v }
        }
        return nil
    }

    /// What binding a new socket on `port` would fail with (nil when the port is free or a
    /// vxlan socket already holds it).
    static func bindError(in ns: NetNamespace, port: UInt16) -> KernelError? {
        if find(in: ns, port: port) != nil { return nil }
        if ns.inetState.udp.bound.contains(where: { $0.localPort == port }) { return KernelError(.EADDRINUSE) }
        return nil
    }

    /// Kernel: vxlan_sock_add() -> __vxlan_sock_add(): reuse the port's socket or create one
    /// (vxlan_socket_create(): udp_sock_create() bound to INADDR_ANY, setup_udp_tunnel_sock()),
    /// then hang the device on it by VNI.
    static func add(_ dev: VXLANDevice) -> VXLANSocket? {
        let ns = dev.linkNamespace
        let vs: VXLANSocket
        if let found = find(in: ns, port: dev.dstPort) {
            vs = found
        } else {
            let s = ns.openUDPSocket()
            do {
                try s.bind(address: .any, port: dev.dstPort)
            } catch {
                s.close()
                return nil
            }
            vs = VXLANSocket(udp: s, port: dev.dstPort)
            s.tunnelOwner = vs
            s.encapReceive = { [unowned vs] p, inDev in vs.receive(p, inDevice: inDev) }
        }
        vs.users += 1
        // vxlan_vs_add_dev(): at the head of the VNI's chain, so the newest device wins.
        vs.byVNI[dev.vni] = dev
        return vs
    }

    /// Kernel: vxlan_vs_del_dev() + vxlan_sock_release(): the last user closes the socket.
    func remove(_ dev: VXLANDevice) {
        if byVNI[dev.vni] === dev { byVNI[dev.vni] = nil }
        users -= 1
        if users <= 0 {
            udp.tunnelOwner = nil
            udp.encapReceive = nil
            udp.close()
        }
    }

    /// Kernel: vxlan_vs_find_vni().
    func device(vni: UInt32) -> VXLANDevice? { byVNI.isEmpty ? nil : byVNI[vni] }
}
