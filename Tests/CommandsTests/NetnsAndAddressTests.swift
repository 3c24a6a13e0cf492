// NetnsAndAddressTests: ip netns list ids, address ordering and the routes addresses bring.
// Every expected text below was observed on Linux 6.18 / iproute2 6.1 / bridge-utils 1.7 on
// 2026-11-22 by running the same commands in ct_* namespaces (see Lab.swift for the setup).
// Generated from .recordings/ (see its README.md); regenerate rather than edit by hand.

import XCTest

final class NetnsAndAddressTests: XCTestCase {

    /// ip netns list: newest first (tmpfs /run/netns), with ` (id: N)` once the namespace the
    /// command runs in has given that namespace an id (moving a veth end there does).
    func testNetnsListWithIds() {
        let lab = Lab()
        lab.run("""
            ip netns add ct_host
            ip netns add ct_c0
            ip netns add ct_c1
            """)
        lab.check("ip netns list", """
            ct_c1
            ct_c0
            ct_host
            """)
        lab.check("ip netns", """
            ct_c1
            ct_c0
            ct_host
            """)
        lab.check("ip netns ls", """
            ct_c1
            ct_c0
            ct_host
            """)
        lab.check("ct_host> ip netns list", """
            ct_c1
            ct_c0
            ct_host
            """)
        lab.check("ct_host> ip netns list-id")
        lab.run("""
            ct_host> ip link add veth0 type veth peer name veth1
            ct_host> ip link add veth2 type veth peer name veth3
            ct_host> ip link set dev veth0 address 02:00:00:00:00:10
            ct_host> ip link set dev veth1 address 02:00:00:00:00:11
            ct_host> ip link set dev veth2 address 02:00:00:00:00:20
            ct_host> ip link set dev veth3 address 02:00:00:00:00:21
            ct_host> ip link set veth0 netns ct_c0
            ct_host> ip link set veth2 netns ct_c1
            """)
        lab.check("ip netns list", """
            ct_c1
            ct_c0
            ct_host
            """)
        lab.check("ct_host> ip netns list", """
            ct_c1 (id: 1)
            ct_c0 (id: 0)
            ct_host
            """)
        lab.check("ct_c0> ip netns list", """
            ct_c1
            ct_c0
            ct_host (id: 0)
            """)
        lab.check("ct_c1> ip netns list", """
            ct_c1
            ct_c0
            ct_host (id: 0)
            """)
        lab.check("ct_host> ip netns list-id", """
            nsid 0 (iproute2 netns name: ct_c0)
            nsid 1 (iproute2 netns name: ct_c1)
            """)
        lab.check("ct_c0> ip netns list-id", "nsid 0 (iproute2 netns name: ct_host)")
        // A pair created straight into another namespace.
        lab.run("""
            ip netns add ct_t2
            ct_host> ip link add e0 type veth peer name e1 netns ct_t2
            ct_host> ip link set dev e0 address 02:00:00:00:00:e0
            ct_t2> ip link set dev e1 address 02:00:00:00:00:e1
            """)
        lab.check("ct_host> ip netns list", """
            ct_t2 (id: 2)
            ct_c1 (id: 1)
            ct_c0 (id: 0)
            ct_host
            """)
        lab.check("ct_host> ip netns list-id", """
            nsid 0 (iproute2 netns name: ct_c0)
            nsid 1 (iproute2 netns name: ct_c1)
            nsid 2 (iproute2 netns name: ct_t2)
            """)
        lab.check("ct_host> ip link show e0", """
            6: e0@if2: <BROADCAST,MULTICAST> mtu 1500 qdisc noop state DOWN mode DEFAULT group default qlen 1000
                link/ether 02:00:00:00:00:e0 brd ff:ff:ff:ff:ff:ff link-netns ct_t2
            """)
        lab.check("ct_t2> ip link show", """
            1: lo: <LOOPBACK> mtu 65536 qdisc noop state DOWN mode DEFAULT group default qlen 1000
                link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00
            2: e1@if6: <BROADCAST,MULTICAST> mtu 1500 qdisc noop state DOWN mode DEFAULT group default qlen 1000
                link/ether 02:00:00:00:00:e1 brd ff:ff:ff:ff:ff:ff link-netns ct_host
            """)
        lab.check("ct_t2> ip netns list", """
            ct_t2
            ct_c1
            ct_c0
            ct_host (id: 0)
            """)
        // Deleting a namespace takes the veth ends in it, and their peers, along.
        lab.run("ip netns del ct_c1")
        lab.check("ip netns list", """
            ct_t2
            ct_c0
            ct_host
            """)
        lab.check("ct_host> ip netns list", """
            ct_t2 (id: 2)
            ct_c0 (id: 0)
            ct_host
            """)
        lab.check("ct_host> ip netns list-id", """
            nsid 0 (iproute2 netns name: ct_c0)
            nsid 2 (iproute2 netns name: ct_t2)
            """)
        lab.check("ct_host> ip -br link", """
            lo               DOWN           00:00:00:00:00:00 <LOOPBACK>\u{20}
            veth1@if3        DOWN           02:00:00:00:00:11 <BROADCAST,MULTICAST>\u{20}
            e0@if2           DOWN           02:00:00:00:00:e0 <BROADCAST,MULTICAST>\u{20}
            """)
    }

    /// ip addr: brd, label, secondary, scope and their order; the kernel routes each address
    /// brings (main and local tables), static routes, linkdown, and deleting a primary.
    func testAddressOrderingAndRoutes() {
        let lab = Lab()
        lab.run("""
            ip netns add ct_host
            ct_host> ip link add vA type veth peer name vB
            ct_host> ip link set dev vA address 02:00:00:00:00:aa
            ct_host> ip link set dev vB address 02:00:00:00:00:bb
            ct_host> ip link set vA up
            ct_host> ip link set vB up
            ct_host> ip addr add 10.1.0.1/24 brd + dev vA
            ct_host> ip addr add 10.1.0.2/24 dev vA
            ct_host> ip addr add 10.1.0.3/24 dev vA label vA:foo
            ct_host> ip addr add 10.2.0.1/16 brd 10.2.255.255 dev vA
            ct_host> ip addr add 10.3.0.1/32 dev vA
            ct_host> ip addr add 10.4.0.1/24 broadcast 10.4.0.7 dev vA label vA:x
            """)
        lab.check("ct_host> ip addr show dev vA", """
            3: vA@vB: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue state UP group default qlen 1000
                link/ether 02:00:00:00:00:aa brd ff:ff:ff:ff:ff:ff
                inet 10.1.0.1/24 brd 10.1.0.255 scope global vA
                   valid_lft forever preferred_lft forever
                inet 10.2.0.1/16 brd 10.2.255.255 scope global vA
                   valid_lft forever preferred_lft forever
                inet 10.3.0.1/32 scope global vA
                   valid_lft forever preferred_lft forever
                inet 10.4.0.1/24 brd 10.4.0.7 scope global vA:x
                   valid_lft forever preferred_lft forever
                inet 10.1.0.2/24 scope global secondary vA
                   valid_lft forever preferred_lft forever
                inet 10.1.0.3/24 scope global secondary vA:foo
                   valid_lft forever preferred_lft forever
            """)
        lab.check("ct_host> ip -br addr show dev vA", """
            vA@vB            UP             10.1.0.1/24 10.2.0.1/16 10.3.0.1/32 10.4.0.1/24 10.1.0.2/24 10.1.0.3/24\u{20}
            """)
        lab.check("ct_host> ip -o addr show dev vA", """
            3: vA    inet 10.1.0.1/24 brd 10.1.0.255 scope global vA\\       valid_lft forever preferred_lft forever
            3: vA    inet 10.2.0.1/16 brd 10.2.255.255 scope global vA\\       valid_lft forever preferred_lft forever
            3: vA    inet 10.3.0.1/32 scope global vA\\       valid_lft forever preferred_lft forever
            3: vA    inet 10.4.0.1/24 brd 10.4.0.7 scope global vA:x\\       valid_lft forever preferred_lft forever
            3: vA    inet 10.1.0.2/24 scope global secondary vA\\       valid_lft forever preferred_lft forever
            3: vA    inet 10.1.0.3/24 scope global secondary vA:foo\\       valid_lft forever preferred_lft forever
            """)
        lab.check("ct_host> ip addr show label vA:foo", """
                inet 10.1.0.3/24 scope global secondary vA:foo
                   valid_lft forever preferred_lft forever
            """)
        lab.check("ct_host> ip addr show label vA:*", """
                inet 10.4.0.1/24 brd 10.4.0.7 scope global vA:x
                   valid_lft forever preferred_lft forever
                inet 10.1.0.3/24 scope global secondary vA:foo
                   valid_lft forever preferred_lft forever
            """)
        lab.check("ct_host> ip route show", """
            10.1.0.0/24 dev vA proto kernel scope link src 10.1.0.1\u{20}
            10.2.0.0/16 dev vA proto kernel scope link src 10.2.0.1\u{20}
            10.4.0.0/24 dev vA proto kernel scope link src 10.4.0.1\u{20}
            """)
        lab.check("ct_host> ip route show dev vA", """
            10.1.0.0/24 proto kernel scope link src 10.1.0.1\u{20}
            10.2.0.0/16 proto kernel scope link src 10.2.0.1\u{20}
            10.4.0.0/24 proto kernel scope link src 10.4.0.1\u{20}
            """)
        lab.check("ct_host> ip route show table local", """
            local 10.1.0.1 dev vA proto kernel scope host src 10.1.0.1\u{20}
            local 10.1.0.2 dev vA proto kernel scope host src 10.1.0.1\u{20}
            local 10.1.0.3 dev vA proto kernel scope host src 10.1.0.1\u{20}
            broadcast 10.1.0.255 dev vA proto kernel scope link src 10.1.0.1\u{20}
            local 10.2.0.1 dev vA proto kernel scope host src 10.2.0.1\u{20}
            broadcast 10.2.255.255 dev vA proto kernel scope link src 10.2.0.1\u{20}
            local 10.3.0.1 dev vA proto kernel scope host src 10.3.0.1\u{20}
            local 10.4.0.1 dev vA proto kernel scope host src 10.4.0.1\u{20}
            broadcast 10.4.0.7 dev vA proto kernel scope link src 10.4.0.1\u{20}
            broadcast 10.4.0.255 dev vA proto kernel scope link src 10.4.0.1\u{20}
            """)
        lab.run("""
            ct_host> ip route add 192.168.5.0/24 via 10.2.0.254
            ct_host> ip route add default via 10.2.0.254
            ct_host> ip route add 192.0.2.0/24 dev vA metric 100
            """)
        lab.check("ct_host> ip route show", """
            default via 10.2.0.254 dev vA\u{20}
            10.1.0.0/24 dev vA proto kernel scope link src 10.1.0.1\u{20}
            10.2.0.0/16 dev vA proto kernel scope link src 10.2.0.1\u{20}
            10.4.0.0/24 dev vA proto kernel scope link src 10.4.0.1\u{20}
            192.0.2.0/24 dev vA scope link metric 100\u{20}
            192.168.5.0/24 via 10.2.0.254 dev vA\u{20}
            """)
        lab.check("ct_host> ip route", """
            default via 10.2.0.254 dev vA\u{20}
            10.1.0.0/24 dev vA proto kernel scope link src 10.1.0.1\u{20}
            10.2.0.0/16 dev vA proto kernel scope link src 10.2.0.1\u{20}
            10.4.0.0/24 dev vA proto kernel scope link src 10.4.0.1\u{20}
            192.0.2.0/24 dev vA scope link metric 100\u{20}
            192.168.5.0/24 via 10.2.0.254 dev vA\u{20}
            """)
        // The peer goes down: vA keeps its routes, marked linkdown.
        lab.run("ct_host> ip link set vB down")
        lab.check("ct_host> ip route show", """
            default via 10.2.0.254 dev vA linkdown\u{20}
            10.1.0.0/24 dev vA proto kernel scope link src 10.1.0.1 linkdown\u{20}
            10.2.0.0/16 dev vA proto kernel scope link src 10.2.0.1 linkdown\u{20}
            10.4.0.0/24 dev vA proto kernel scope link src 10.4.0.1 linkdown\u{20}
            192.0.2.0/24 dev vA scope link metric 100 linkdown\u{20}
            192.168.5.0/24 via 10.2.0.254 dev vA linkdown\u{20}
            """)
        lab.check("ct_host> ip route show table local", """
            local 10.1.0.1 dev vA proto kernel scope host src 10.1.0.1\u{20}
            local 10.1.0.2 dev vA proto kernel scope host src 10.1.0.1\u{20}
            local 10.1.0.3 dev vA proto kernel scope host src 10.1.0.1\u{20}
            broadcast 10.1.0.255 dev vA proto kernel scope link src 10.1.0.1 linkdown\u{20}
            local 10.2.0.1 dev vA proto kernel scope host src 10.2.0.1\u{20}
            broadcast 10.2.255.255 dev vA proto kernel scope link src 10.2.0.1 linkdown\u{20}
            local 10.3.0.1 dev vA proto kernel scope host src 10.3.0.1\u{20}
            local 10.4.0.1 dev vA proto kernel scope host src 10.4.0.1\u{20}
            broadcast 10.4.0.7 dev vA proto kernel scope link src 10.4.0.1 linkdown\u{20}
            broadcast 10.4.0.255 dev vA proto kernel scope link src 10.4.0.1 linkdown\u{20}
            """)
        lab.run("ct_host> ip link set vB up")
        // Deleting a primary deletes its secondaries (promote_secondaries is 0).
        lab.run("ct_host> ip addr del 10.1.0.1/24 dev vA")
        lab.check("ct_host> ip -o addr show dev vA", """
            3: vA    inet 10.2.0.1/16 brd 10.2.255.255 scope global vA\\       valid_lft forever preferred_lft forever
            3: vA    inet 10.3.0.1/32 scope global vA\\       valid_lft forever preferred_lft forever
            3: vA    inet 10.4.0.1/24 brd 10.4.0.7 scope global vA:x\\       valid_lft forever preferred_lft forever
            """)
        lab.check("ct_host> ip route show", """
            default via 10.2.0.254 dev vA\u{20}
            10.2.0.0/16 dev vA proto kernel scope link src 10.2.0.1\u{20}
            10.4.0.0/24 dev vA proto kernel scope link src 10.4.0.1\u{20}
            192.0.2.0/24 dev vA scope link metric 100\u{20}
            192.168.5.0/24 via 10.2.0.254 dev vA\u{20}
            """)
        // Host- and link-scope primaries go before the global ones.
        lab.run("""
            ct_host> ip addr add 10.5.0.1/24 scope host dev vA
            ct_host> ip addr add 10.6.0.1/24 scope link dev vA
            """)
        lab.check("ct_host> ip -o addr show dev vA", """
            3: vA    inet 10.5.0.1/24 scope host vA\\       valid_lft forever preferred_lft forever
            3: vA    inet 10.6.0.1/24 scope link vA\\       valid_lft forever preferred_lft forever
            3: vA    inet 10.2.0.1/16 brd 10.2.255.255 scope global vA\\       valid_lft forever preferred_lft forever
            3: vA    inet 10.3.0.1/32 scope global vA\\       valid_lft forever preferred_lft forever
            3: vA    inet 10.4.0.1/24 brd 10.4.0.7 scope global vA:x\\       valid_lft forever preferred_lft forever
            """)
        lab.check("ct_host> ip route show", """
            default via 10.2.0.254 dev vA\u{20}
            10.2.0.0/16 dev vA proto kernel scope link src 10.2.0.1\u{20}
            10.4.0.0/24 dev vA proto kernel scope link src 10.4.0.1\u{20}
            10.5.0.0/24 dev vA proto kernel scope link src 10.5.0.1\u{20}
            10.6.0.0/24 dev vA proto kernel scope link src 10.6.0.1\u{20}
            192.0.2.0/24 dev vA scope link metric 100\u{20}
            192.168.5.0/24 via 10.2.0.254 dev vA\u{20}
            """)
        // Down: the routes go, the addresses stay.
        lab.run("ct_host> ip link set vA down")
        lab.check("ct_host> ip route show")
        lab.check("ct_host> ip -br addr", """
            lo               DOWN          \u{20}
            vB@vA            LOWERLAYERDOWN\u{20}
            vA@vB            DOWN           10.5.0.1/24 10.6.0.1/24 10.2.0.1/16 10.3.0.1/32 10.4.0.1/24\u{20}
            """)
    }
}
