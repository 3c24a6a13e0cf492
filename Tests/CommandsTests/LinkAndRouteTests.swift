// LinkAndRouteTests: ip link attributes, ip route changes and errors, brctl stp.
// Every expected text below was observed on Linux 6.18 / iproute2 6.1 / bridge-utils 1.7 on
// 2026-11-22 by running the same commands in ct_* namespaces (see Lab.swift for the setup).
// Generated from .recordings/ (see its README.md); regenerate rather than edit by hand.

import XCTest

final class LinkAndRouteTests: XCTestCase {

    /// ip link set: flags (promisc, arp, multicast, allmulticast), txqueuelen, mtu (a bridge follows
    /// the smallest port MTU), rename, and moving a bridge port into another namespace.
    func testLinkAttributes() {
        let lab = Lab()
        lab.run("""
            ip netns add ct_host
            ip netns add ct_c0
            ct_host> ip link add veth0 type veth peer name veth1
            ct_host> ip link add veth2 type veth peer name veth3
            ct_host> ip link set dev veth0 address 02:00:00:00:00:10
            ct_host> ip link set dev veth1 address 02:00:00:00:00:11
            ct_host> ip link set dev veth2 address 02:00:00:00:00:20
            ct_host> ip link set dev veth3 address 02:00:00:00:00:21
            ct_host> ip link set veth0 up
            ct_host> ip link set veth0 promisc on
            """)
        lab.check("ct_host> ip link show veth0", """
            3: veth0@veth1: <NO-CARRIER,BROADCAST,MULTICAST,PROMISC,UP,M-DOWN> mtu 1500 qdisc noqueue state LOWERLAYERDOWN mode DEFAULT group default qlen 1000
                link/ether 02:00:00:00:00:10 brd ff:ff:ff:ff:ff:ff
            """)
        lab.run("""
            ct_host> ip link set veth0 promisc off
            ct_host> ip link set veth0 arp off
            """)
        lab.check("ct_host> ip link show veth0", """
            3: veth0@veth1: <NO-CARRIER,BROADCAST,MULTICAST,NOARP,UP,M-DOWN> mtu 1500 qdisc noqueue state LOWERLAYERDOWN mode DEFAULT group default qlen 1000
                link/ether 02:00:00:00:00:10 brd ff:ff:ff:ff:ff:ff
            """)
        lab.check("ct_host> ip -br link show veth0", """
            veth0@veth1      LOWERLAYERDOWN 02:00:00:00:00:10 <NO-CARRIER,BROADCAST,MULTICAST,NOARP,UP,M-DOWN>\u{20}
            """)
        lab.run("ct_host> ip link set veth0 arp on")
        lab.check("ct_host> ip link set veth0 multicast off")
        lab.check("ct_host> ip link set veth0 allmulticast on")
        lab.check("ct_host> ip link show veth0", """
            3: veth0@veth1: <NO-CARRIER,BROADCAST,ALLMULTI,UP,M-DOWN> mtu 1500 qdisc noqueue state LOWERLAYERDOWN mode DEFAULT group default qlen 1000
                link/ether 02:00:00:00:00:10 brd ff:ff:ff:ff:ff:ff
            """)
        lab.check("ct_host> ip link set veth0 multicast on")
        lab.check("ct_host> ip link set veth0 allmulticast off")
        lab.run("ct_host> ip link set veth0 txqueuelen 500")
        lab.check("ct_host> ip link show veth0", """
            3: veth0@veth1: <NO-CARRIER,BROADCAST,MULTICAST,UP,M-DOWN> mtu 1500 qdisc noqueue state LOWERLAYERDOWN mode DEFAULT group default qlen 500
                link/ether 02:00:00:00:00:10 brd ff:ff:ff:ff:ff:ff
            """)
        lab.run("""
            ct_host> brctl addbr br0
            ct_host> brctl addif br0 veth1
            ct_host> brctl addif br0 veth3
            ct_host> ip link set veth1 mtu 9000
            """)
        lab.check("ct_host> ip link show br0", """
            6: br0: <BROADCAST,MULTICAST> mtu 1500 qdisc noop state DOWN mode DEFAULT group default qlen 1000
                link/ether 02:00:00:00:00:11 brd ff:ff:ff:ff:ff:ff
            """)
        lab.run("ct_host> ip link set veth3 mtu 1400")
        lab.check("ct_host> ip link show br0", """
            6: br0: <BROADCAST,MULTICAST> mtu 1400 qdisc noop state DOWN mode DEFAULT group default qlen 1000
                link/ether 02:00:00:00:00:11 brd ff:ff:ff:ff:ff:ff
            """)
        lab.check("ct_host> ip -o link show master br0", """
            2: veth1@veth0: <BROADCAST,MULTICAST> mtu 9000 qdisc noop master br0 state DOWN mode DEFAULT group default qlen 1000\\    link/ether 02:00:00:00:00:11 brd ff:ff:ff:ff:ff:ff
            4: veth3@veth2: <BROADCAST,MULTICAST,M-DOWN> mtu 1400 qdisc noop master br0 state DOWN mode DEFAULT group default qlen 1000\\    link/ether 02:00:00:00:00:21 brd ff:ff:ff:ff:ff:ff
            """)
        lab.check("ct_host> ip link show up", """
            3: veth0@veth1: <NO-CARRIER,BROADCAST,MULTICAST,UP,M-DOWN> mtu 1500 qdisc noqueue state LOWERLAYERDOWN mode DEFAULT group default qlen 500
                link/ether 02:00:00:00:00:10 brd ff:ff:ff:ff:ff:ff
            """)
        lab.run("ct_host> ip link set veth2 name eth0")
        lab.check("ct_host> ip link show", """
            1: lo: <LOOPBACK> mtu 65536 qdisc noop state DOWN mode DEFAULT group default qlen 1000
                link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00
            2: veth1@veth0: <BROADCAST,MULTICAST> mtu 9000 qdisc noop master br0 state DOWN mode DEFAULT group default qlen 1000
                link/ether 02:00:00:00:00:11 brd ff:ff:ff:ff:ff:ff
            3: veth0@veth1: <NO-CARRIER,BROADCAST,MULTICAST,UP,M-DOWN> mtu 1500 qdisc noqueue state LOWERLAYERDOWN mode DEFAULT group default qlen 500
                link/ether 02:00:00:00:00:10 brd ff:ff:ff:ff:ff:ff
            4: veth3@eth0: <BROADCAST,MULTICAST,M-DOWN> mtu 1400 qdisc noop master br0 state DOWN mode DEFAULT group default qlen 1000
                link/ether 02:00:00:00:00:21 brd ff:ff:ff:ff:ff:ff
            5: eth0@veth3: <BROADCAST,MULTICAST,M-DOWN> mtu 1500 qdisc noop state DOWN mode DEFAULT group default qlen 1000
                link/ether 02:00:00:00:00:20 brd ff:ff:ff:ff:ff:ff
            6: br0: <BROADCAST,MULTICAST> mtu 1400 qdisc noop state DOWN mode DEFAULT group default qlen 1000
                link/ether 02:00:00:00:00:11 brd ff:ff:ff:ff:ff:ff
            """)
        lab.run("ct_host> ip link set veth3 netns ct_c0")
        lab.check("ct_host> brctl show", """
            bridge name\tbridge id\t\tSTP enabled\tinterfaces
            br0\t\t8000.020000000011\tno\t\tveth1
            """)
        lab.check("ct_host> ip link show br0", """
            6: br0: <BROADCAST,MULTICAST> mtu 9000 qdisc noop state DOWN mode DEFAULT group default qlen 1000
                link/ether 02:00:00:00:00:11 brd ff:ff:ff:ff:ff:ff
            """)
        lab.check("ct_c0> ip link show veth3", """
            4: veth3@if5: <BROADCAST,MULTICAST> mtu 1400 qdisc noop state DOWN mode DEFAULT group default qlen 1000
                link/ether 02:00:00:00:00:21 brd ff:ff:ff:ff:ff:ff link-netns ct_host
            """)
        lab.run("""
            ct_host> ip link set br0 mtu 1300
            ct_host> brctl addif br0 veth0
            """)
        lab.check("ct_host> ip link show br0", """
            6: br0: <BROADCAST,MULTICAST> mtu 1300 qdisc noop state DOWN mode DEFAULT group default qlen 1000
                link/ether 02:00:00:00:00:10 brd ff:ff:ff:ff:ff:ff
            """)
        lab.check("ct_host> ip link show veth0", """
            3: veth0@veth1: <NO-CARRIER,BROADCAST,MULTICAST,UP,M-DOWN> mtu 1500 qdisc noqueue master br0 state LOWERLAYERDOWN mode DEFAULT group default qlen 500
                link/ether 02:00:00:00:00:10 brd ff:ff:ff:ff:ff:ff
            """)
    }

    /// `route -n` for the route types without a device: unreachable and prohibit carry
    /// RTF_REJECT ("!" and dashes), a blackhole route is a plain up route on "*"; an onlink
    /// route keeps its gateway. Recorded on Linux 6.18 with net-tools 2.10.
    func testRouteListingOfRejectAndBlackholeRoutes() {
        let lab = Lab()
        lab.run("""
            ip netns add ct_rt
            ct_rt> ip link add br0 type bridge
            ct_rt> ip addr add 10.0.0.1/24 dev br0
            ct_rt> ip link set br0 up
            ct_rt> ip route add blackhole 10.9.0.0/16
            ct_rt> ip route add unreachable 10.8.0.0/16
            ct_rt> ip route add prohibit 10.7.0.0/16
            ct_rt> ip route add 10.6.0.0/16 via 10.5.0.1 dev br0 onlink
            """)
        lab.check("ct_rt> ip route add 10.6.0.0/16 via 10.5.0.1", status: 2, stderr: "Error: Nexthop has invalid gateway.")
        lab.check("ct_rt> ip route get 10.8.1.1", status: 2, stderr: "RTNETLINK answers: No route to host")
        lab.check("ct_rt> route -n", """
            Kernel IP routing table
            Destination     Gateway         Genmask         Flags Metric Ref    Use Iface
            10.0.0.0        0.0.0.0         255.255.255.0   U     0      0        0 br0
            10.6.0.0        10.5.0.1        255.255.0.0     UG    0      0        0 br0
            10.7.0.0        -               255.255.0.0     !     0      -        0 -
            10.8.0.0        -               255.255.0.0     !     0      -        0 -
            10.9.0.0        0.0.0.0         255.255.0.0     U     0      0        0 *
            """)
        // What connect() returns for each type, as ping (iputils 20221126) and nc report it.
        lab.check("ct_rt> ping -c 1 10.9.1.1", status: 2, stderr: "ping: connect: Invalid argument")
        lab.check("ct_rt> ping -c 1 10.8.1.1", status: 2, stderr: "ping: connect: No route to host")
        lab.check("ct_rt> ping -c 1 10.7.1.1", status: 2,
                  stderr: "ping: Do you want to ping broadcast? Then -b. If not, check your local firewall rules")
        lab.check("ct_rt> ping -b -c 1 10.7.1.1", status: 2,
                  stderr: "WARNING: pinging broadcast address\nping: connect: Permission denied")
        lab.check("ct_rt> nc -zv -w 1 10.7.1.1 80", status: 1,
                  stderr: "nc: connect to 10.7.1.1 port 80 (tcp) failed: Permission denied")
    }

    /// ip route add/del errors, and ip addr flush.
    func testRouteAndAddressChanges() {
        let lab = Lab()
        lab.run("""
            ip netns add ct_host
            ct_host> ip link add vA type veth peer name vB
            ct_host> ip link set dev vA address 02:00:00:00:00:aa
            ct_host> ip link set dev vB address 02:00:00:00:00:bb
            ct_host> ip link set vA up
            ct_host> ip link set vB up
            ct_host> ip addr add 10.1.0.1/24 dev vA
            ct_host> ip addr add 10.9.0.1/24 dev vB
            ct_host> ip route add 192.168.5.0/24 via 10.1.0.254
            """)
        lab.check("ct_host> ip route add 192.168.5.0/24 via 10.1.0.254", status: 2, stderr: "RTNETLINK answers: File exists")
        lab.check("ct_host> ip route add 192.168.6.0/24 via 10.77.0.1", status: 2, stderr: "Error: Nexthop has invalid gateway.")
        lab.check("ct_host> ip route add 192.168.7.1/24 dev vA", status: 2, stderr: "Error: Invalid prefix for given prefix length.")
        lab.check("ct_host> ip route del 192.168.9.0/24", status: 2, stderr: "RTNETLINK answers: No such process")
        lab.check("ct_host> ip route add 192.168.8.0/24 via 10.1.0.254 dev vB", status: 2, stderr: "Error: Nexthop has invalid gateway.")
        lab.check("ct_host> ip route add default via nosuch", status: 1, stderr: """
            Error: any valid address is expected rather than "nosuch".
            """)
        lab.check("ct_host> ip route add 1.2.3.300/24 dev vA", status: 1, stderr: """
            Error: any valid prefix is expected rather than "1.2.3.300/24".
            """)
        lab.check("ct_host> ip route add 10.0.0.0/24 via 10.1.0.254 src nosuch", status: 1, stderr: """
            Error: inet address is expected rather than "nosuch".
            """)
        lab.check("ct_host> ip route add 10.0.0.0/24 via 10.1.0.254 src 10.1.0.99", status: 2, stderr: "Error: Invalid prefsrc address.")
        lab.check("ct_host> ip route add 10.0.0.0/24 dev vA table nosuch", status: 255, stderr: """
            Error: argument "nosuch" is wrong: "table" value is invalid

            """)
        lab.check("ct_host> ip route add 10.0.0.0/24", status: 2, stderr: "RTNETLINK answers: No such device")
        lab.check("ct_host> ip route del 10.1.0.0/24 dev vB", status: 2, stderr: "RTNETLINK answers: No such process")
        lab.check("ct_host> ip route foo", status: 255, stderr: """
            Command "foo" is unknown, try "ip route help".
            """)
        lab.check("ct_host> ip route show", """
            10.1.0.0/24 dev vA proto kernel scope link src 10.1.0.1\u{20}
            10.9.0.0/24 dev vB proto kernel scope link src 10.9.0.1\u{20}
            192.168.5.0/24 via 10.1.0.254 dev vA\u{20}
            """)
        lab.check("ct_host> ip route show dev vA", """
            10.1.0.0/24 proto kernel scope link src 10.1.0.1\u{20}
            192.168.5.0/24 via 10.1.0.254\u{20}
            """)
        lab.run("""
            ct_host> ip route del 192.168.5.0/24
            ct_host> ip addr flush dev vA
            """)
        lab.check("ct_host> ip addr show dev vA", """
            3: vA@vB: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue state UP group default qlen 1000
                link/ether 02:00:00:00:00:aa brd ff:ff:ff:ff:ff:ff
            """)
        lab.check("ct_host> ip route show", "10.9.0.0/24 dev vB proto kernel scope link src 10.9.0.1\u{20}")
        lab.check("ct_host> ip route show table local", """
            local 10.9.0.1 dev vB proto kernel scope host src 10.9.0.1\u{20}
            broadcast 10.9.0.255 dev vB proto kernel scope link src 10.9.0.1\u{20}
            """)
    }

    /// brctl stp: the STP column of brctl show.
    func testStpFlagInBrctlShow() {
        let lab = Lab()
        lab.run("""
            ip netns add ct_host
            ct_host> brctl addbr br0
            ct_host> brctl stp br0 on
            """)
        lab.check("ct_host> brctl show", """
            bridge name\tbridge id\t\tSTP enabled\tinterfaces
            br0\t\t8000.000000000000\tyes\t\t
            """)
        lab.run("ct_host> brctl stp br0 off")
        lab.check("ct_host> brctl show", """
            bridge name\tbridge id\t\tSTP enabled\tinterfaces
            br0\t\t8000.000000000000\tno\t\t
            """)
        lab.run("ct_host> brctl setageing br0 10")
        lab.check("ct_host> brctl show", """
            bridge name\tbridge id\t\tSTP enabled\tinterfaces
            br0\t\t8000.000000000000\tno\t\t
            """)
    }
}
