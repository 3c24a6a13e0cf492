// VXLANCommandTests: `ip link add ... type vxlan`, `ip -d link show`, `bridge fdb` on vxlan
// devices and their errors. Every expected text below was observed on Linux 6.18 with
// iproute2 6.1 by running the same commands in namespaces (vtst_a with a veth pair eth0/eth1,
// both up), on 2026-11-22.

import XCTest
import SimCore
@testable import Commands

final class VXLANCommandTests: XCTestCase {
    func lab() -> Lab {
        let lab = Lab()
        lab.run("""
            ip netns add ct_a
            ct_a> ip link add eth0 type veth peer name eth1
            ct_a> ip link set eth0 up
            ct_a> ip link set eth1 up
            """)
        return lab
    }

    /// Bad input to `ip link add ... type vxlan`: iproute2's own checks, then the kernel's.
    func testLinkAddErrors() {
        let lab = lab()
        lab.check("ct_a> ip link add v type vxlan id 16777216", status: 255, stderr: """
            Error: argument "16777216" is wrong: invalid id
            """)
        lab.check("ct_a> ip link add v type vxlan id abc", status: 255, stderr: """
            Error: argument "abc" is wrong: invalid id
            """)
        lab.check("ct_a> ip link add v2 type vxlan id 5 dev nosuch", status: 255, stderr: "Cannot find device \"nosuch\"")
        lab.check("ct_a> ip link add v3 type vxlan id 5 dstport 4789 dev nosuch", status: 255, stderr: "Cannot find device \"nosuch\"")
        lab.check("ct_a> ip link add vt type vxlan", status: 2, stderr: "Error: Required attributes not provided to perform the operation.")
        lab.check("ct_a> ip link add vt type vxlan dstport 4789", status: 1, stderr: "vxlan: missing virtual network identifier")
        lab.check("ct_a> ip link add vt type vxlan id 5 dstport 4789 remote 1.2.3.4 group 239.1.1.1", status: 1,
                  stderr: "vxlan: both group and remote cannot be specified")
        lab.check("ct_a> ip link add vt type vxlan id 5 dstport 4789 group 1.2.3.4", status: 255, stderr: """
            Error: argument "1.2.3.4" is wrong: invalid group address
            """)
        lab.check("ct_a> ip link add vt type vxlan id 5 dstport 4789 remote 239.1.1.1", status: 255, stderr: """
            Error: argument "239.1.1.1" is wrong: invalid remote address
            """)
        lab.check("ct_a> ip link add vt type vxlan id 5 dstport 4789 group 239.1.1.1", status: 1,
                  stderr: "vxlan: 'group' requires 'dev' to be specified")
        lab.check("ct_a> ip link add vt type vxlan id 7 dstport 70000", status: 255, stderr: """
            Error: argument "70000" is wrong: dst port
            """)
        lab.check("ct_a> ip link add vt type vxlan id 7 dstport 4789 ttl 300", status: 255, stderr: """
            Error: argument "300" is wrong: TTL must be <= 255
            """)
        lab.check("ct_a> ip link add vt type vxlan id 7 dstport 4789 srcport 100 50", status: 2,
                  stderr: "Error: Invalid source port range.")
        lab.check("ct_a> ip link add vt type vxlan id 6 dstport 4789 foo", status: 1, stderr: """
            vxlan: unknown command "foo"?
            Usage: ... vxlan id VNI
            \t\t[ { group | remote } IP_ADDRESS ]
            \t\t[ local ADDR ]
            \t\t[ ttl TTL ]
            \t\t[ tos TOS ]
            \t\t[ df DF ]
            \t\t[ flowlabel LABEL ]
            \t\t[ dev PHYS_DEV ]
            \t\t[ dstport PORT ]
            \t\t[ srcport MIN MAX ]
            \t\t[ [no]learning ]
            \t\t[ [no]proxy ]
            \t\t[ [no]rsc ]
            \t\t[ [no]l2miss ]
            \t\t[ [no]l3miss ]
            \t\t[ ageing SECONDS ]
            \t\t[ maxaddress NUMBER ]
            \t\t[ [no]udpcsum ]
            \t\t[ [no]udp6zerocsumtx ]
            \t\t[ [no]udp6zerocsumrx ]
            \t\t[ [no]remcsumtx ] [ [no]remcsumrx ]
            \t\t[ [no]external ] [ gbp ] [ gpe ]
            \t\t[ [no]vnifilter ]

            Where:\tVNI\t:= 0-16777215
            \tADDR\t:= { IP_ADDRESS | any }
            \tTOS\t:= { NUMBER | inherit }
            \tTTL\t:= { 1..255 | auto | inherit }
            \tDF\t:= { unset | set | inherit }
            \tLABEL := 0-1048575
            """)
        // Without dstport: iproute2's warning, and the kernel's 8472.
        lab.check("ct_a> ip link add vx0 type vxlan id 42 dev eth0", status: 0, stderr: """
            vxlan: destination port not specified
            Will use Linux kernel default (non-standard value)
            Use 'dstport 4789' to get the IANA assigned value
            Use 'dstport 0' to get default and quiet this message
            """)
        lab.check("ct_a> ip link add vx1 type vxlan id 42 dstport 0", status: 2,
                  stderr: "Error: A VXLAN device with the specified VNI already exists.")
        lab.check("ct_a> ip link set vx0 mtu 1451", status: 2, stderr: "RTNETLINK answers: Invalid argument")
        lab.check("ct_a> ip link set vx0 mtu 1400")
    }

    /// `ip -d link show` for vxlan devices: the options as vxlan_print_opt() prints them.
    func testDetails() {
        let lab = lab()
        lab.run("""
            ct_a> ip link add vn type vxlan id 9 dstport 4789
            ct_a> ip link add vr type vxlan id 10 dstport 4789 remote 192.168.1.12 local 192.168.1.11 dev eth0 nolearning ttl 10 tos 0x10 srcport 1000 2000 l2miss
            ct_a> ip link add vm mtu 1500 type vxlan id 99 dstport 4789 dev eth0
            """)
        lab.noteRandomMAC("ct_a", "vn")
        lab.noteRandomMAC("ct_a", "vr")
        lab.noteRandomMAC("ct_a", "vm")
        lab.check("ct_a> ip -d link show vn", """
            4: vn: <BROADCAST,MULTICAST> mtu 1500 qdisc noop state DOWN mode DEFAULT group default qlen 1000
                link/ether <mac:vn> brd ff:ff:ff:ff:ff:ff promiscuity 0  allmulti 0 minmtu 68 maxmtu 65535\u{20}
                vxlan id 9 srcport 0 0 dstport 4789 ttl auto ageing 300 udpcsum noudp6zerocsumtx noudp6zerocsumrx addrgenmode eui64 numtxqueues 1 numrxqueues 1 gso_max_size 65536 gso_max_segs 65535 tso_max_size 65536 tso_max_segs 65535 gro_max_size 65536\u{20}
            """)
        lab.check("ct_a> ip -d link show vr", """
            5: vr: <BROADCAST,MULTICAST> mtu 1450 qdisc noop state DOWN mode DEFAULT group default qlen 1000
                link/ether <mac:vr> brd ff:ff:ff:ff:ff:ff promiscuity 0  allmulti 0 minmtu 68 maxmtu 65535\u{20}
                vxlan id 10 remote 192.168.1.12 local 192.168.1.11 dev eth0 srcport 1000 2000 dstport 4789 nolearning l2miss tos 0x10 ttl 10 ageing 300 udpcsum noudp6zerocsumtx noudp6zerocsumrx addrgenmode eui64 numtxqueues 1 numrxqueues 1 gso_max_size 65536 gso_max_segs 65535 tso_max_size 524280 tso_max_segs 65535 gro_max_size 65536\u{20}
            """)
        // An explicit MTU above eth0's minus 50 is cut to 1450.
        lab.check("ct_a> ip link show vm", """
            6: vm: <BROADCAST,MULTICAST> mtu 1450 qdisc noop state DOWN mode DEFAULT group default qlen 1000
                link/ether <mac:vm> brd ff:ff:ff:ff:ff:ff
            """)
        lab.run("""
            ct_a> ip link set vr up
            ct_a> ip link set vn up
            """)
        lab.check("ct_a> ip link show vr", """
            5: vr: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1450 qdisc noqueue state UNKNOWN mode DEFAULT group default qlen 1000
                link/ether <mac:vr> brd ff:ff:ff:ff:ff:ff
            """)
        // A vxlan device has its own FDB dump: no multicast "self" lines, a dst on each line.
        lab.check("ct_a> bridge fdb show", """
            33:33:00:00:00:01 dev eth1 self permanent
            01:00:5e:00:00:01 dev eth1 self permanent
            33:33:00:00:00:01 dev eth0 self permanent
            01:00:5e:00:00:01 dev eth0 self permanent
            00:00:00:00:00:00 dev vr dst 192.168.1.12 via eth0 self permanent
            """)
    }

    /// A vxlan device moved into another namespace (as Docker moves its overlay's vxlan
    /// device): its name shows its own ifindex, its link line the namespace of its sockets, and
    /// `dev` the lower device's index as this namespace names it.
    func testMovedDevice() {
        let lab = lab()
        lab.run("""
            ip netns add ct_b
            ct_a> ip link add vm mtu 1500 type vxlan id 99 dstport 4789 dev eth0
            ct_a> ip link set vm netns ct_b
            """)
        lab.noteRandomMAC("ct_b", "vm")
        lab.check("ct_b> ip -d link show vm", """
            4: vm@if4: <BROADCAST,MULTICAST> mtu 1450 qdisc noop state DOWN mode DEFAULT group default qlen 1000
                link/ether <mac:vm> brd ff:ff:ff:ff:ff:ff link-netns ct_a promiscuity 0  allmulti 0 minmtu 68 maxmtu 65535\u{20}
                vxlan id 99 dev if3 srcport 0 0 dstport 4789 ttl auto ageing 300 udpcsum noudp6zerocsumtx noudp6zerocsumrx addrgenmode eui64 numtxqueues 1 numrxqueues 1 gso_max_size 65536 gso_max_segs 65535 tso_max_size 524280 tso_max_segs 65535 gro_max_size 65536\u{20}
            """)
    }

    /// `bridge fdb add|append|replace|del` on a vxlan device, the listing, and the errors.
    func testBridgeFDB() {
        let lab = lab()
        lab.run("ct_a> ip link add vxlan0 type vxlan id 42 dstport 4789 remote 10.1.1.2 dev eth0")
        lab.check("ct_a> bridge fdb del 00:11:22:33:44:55 dev vxlan0", status: 255, stderr: "RTNETLINK answers: No such file or directory")
        lab.check("ct_a> bridge fdb replace 00:00:00:00:00:00 dev vxlan0 dst 10.9.9.9", status: 255,
                  stderr: "Error: Cannot replace non-unicast fdb entries.")
        lab.check("ct_a> bridge fdb replace 01:00:00:00:00:00 dev vxlan0 dst 10.9.9.9", status: 255,
                  stderr: "RTNETLINK answers: Operation not supported")
        lab.check("ct_a> bridge fdb add 00:11:22:33:44:55 dev vxlan0", status: 255, stderr: "RTNETLINK answers: Invalid argument")
        lab.check("ct_a> bridge fdb add dev vxlan0", status: 255, stderr: "Device and address are required arguments.")
        lab.check("ct_a> bridge fdb add 00:11:22:33:44:zz dev vxlan0 dst 1.2.3.4", status: 255,
                  stderr: "Invalid mac address 00:11:22:33:44:zz")
        lab.check("ct_a> bridge fdb add 00:11:22:33:44:55 dev vxlan0 dst 1.2.3.4 port 70000", status: 255, stderr: """
            Error: argument "70000" is wrong: invalid port

            """)
        lab.check("ct_a> bridge fdb add 00:11:22:33:44:55 dev vxlan0 dst 1.2.3.4 vni 16777216", status: 255, stderr: """
            Error: argument "16777216" is wrong: invalid VNI

            """)
        lab.check("ct_a> bridge fdb add 00:11:22:33:44:55 dev vxlan0 dst 1.2.3.4 via nosuch", status: 255,
                  stderr: "Cannot find device \"nosuch\"")
        lab.check("ct_a> bridge fdb bogus", status: 255, stderr: "Command \"bogus\" is unknown, try \"bridge fdb help\".")
        // A destination without `via` is not the default entry's (its remote has eth0's
        // index): nothing is deleted, and no error.
        lab.check("ct_a> bridge fdb del 00:00:00:00:00:00 dev vxlan0 dst 10.1.1.2")
        lab.run("""
            ct_a> bridge fdb add 00:11:22:33:44:55 dev vxlan0 dst 1.2.3.0
            ct_a> bridge fdb add 00:11:22:33:44:66 dev vxlan0 dst 1.2.3.4 static
            ct_a> bridge fdb add 00:11:22:33:44:77 dev vxlan0 dst 1.2.3.4 dynamic
            ct_a> bridge fdb add 00:11:22:33:44:88 dev vxlan0 dst 1.2.3.4 router sticky
            """)
        lab.check("ct_a> bridge fdb add 00:11:22:33:44:55 dev vxlan0 dst 1.2.3.0", status: 255, stderr: "RTNETLINK answers: File exists")
        lab.check("ct_a> bridge fdb show dev vxlan0", """
            00:11:22:33:44:88 dst 1.2.3.4 self router sticky permanent
            00:11:22:33:44:77 dst 1.2.3.4 self\u{20}
            00:11:22:33:44:66 dst 1.2.3.4 self static
            00:11:22:33:44:55 dst 1.2.3.0 self permanent
            00:00:00:00:00:00 dst 10.1.1.2 via eth0 self permanent
            """)
        lab.check("ct_a> bridge fdb show dev vxlan0 dynamic", """
            00:11:22:33:44:77 dst 1.2.3.4 self\u{20}
            00:11:22:33:44:66 dst 1.2.3.4 self static
            """)
    }

    /// The same commands against other devices: lo refuses, a veth keeps the address on its
    /// unicast list (`dst` is ignored), `master` needs a bridge port.
    func testBridgeFDBOnOtherDevices() {
        let lab = lab()
        lab.check("ct_a> bridge fdb add 00:11:22:33:44:55 dev lo dst 10.0.0.2", status: 255,
                  stderr: "Error: FDB add only supported for Ethernet devices.")
        lab.check("ct_a> bridge fdb add 00:11:22:33:44:55 dev nosuch dst 10.0.0.2", status: 255, stderr: "Cannot find device \"nosuch\"")
        lab.check("ct_a> bridge fdb add 00:11:22:33:44:55 dev eth0 dst 10.0.0.2")
        lab.check("ct_a> bridge fdb show dev eth0", """
            00:11:22:33:44:55 self permanent
            33:33:00:00:00:01 self permanent
            01:00:5e:00:00:01 self permanent
            """)
        lab.check("ct_a> bridge fdb add 00:11:22:33:44:55 dev eth0 dst 10.0.0.2 self permanent", status: 255,
                  stderr: "RTNETLINK answers: File exists")
        lab.check("ct_a> bridge fdb del 00:11:22:33:44:55 dev eth0")
        lab.check("ct_a> bridge fdb add 00:11:22:33:44:66 dev eth0 dst 10.0.0.2 master", status: 255,
                  stderr: "RTNETLINK answers: Operation not supported")
    }

    /// A routed packet bigger than the vxlan device's MTU, with DF: the router answers
    /// "fragmentation needed" with the vxlan MTU (ip_forward()); a packet that fits crosses.
    func testFragNeededForARoutedPacketIntoVXLAN() throws {
        let lab = Lab()
        lab.run("""
            ip netns add ct_a
            ip netns add ct_b
            ip netns add ct_c
            ct_a> ip link add eth0 type veth peer name eth0 netns ct_b
            ct_a> ip addr add 192.168.1.11/24 dev eth0
            ct_b> ip addr add 192.168.1.12/24 dev eth0
            ct_a> ip link set eth0 up
            ct_b> ip link set eth0 up
            ct_a> ip link add vxlan0 type vxlan id 42 dstport 4789 remote 192.168.1.12 dev eth0
            ct_b> ip link add vxlan0 type vxlan id 42 dstport 4789 remote 192.168.1.11 dev eth0
            ct_a> ip addr add 10.10.0.1/24 dev vxlan0
            ct_b> ip addr add 10.10.0.2/24 dev vxlan0
            ct_a> ip link set vxlan0 up
            ct_b> ip link set vxlan0 up
            ct_a> ip link add veth0 type veth peer name eth0 netns ct_c
            ct_a> ip addr add 172.16.0.1/24 dev veth0
            ct_a> ip link set veth0 up
            ct_c> ip addr add 172.16.0.2/24 dev eth0
            ct_c> ip link set eth0 up
            ct_c> ip route add default via 172.16.0.1
            ct_b> ip route add 172.16.0.0/24 via 10.10.0.1
            """)
        XCTAssertEqual(lab.exec("ct_a> sysctl -w net.ipv4.ip_forward=1").out, "net.ipv4.ip_forward = 1\n")
        func ping(_ line: String) throws -> (String, Int32) {
            lab.sink.out = ""
            lab.sink.err = ""
            guard case let .process(p) = Shell.run(Lab.argv(line), lab.ctx) else { XCTFail("no process"); return ("", -1) }
            _ = try lab.kernel.clock.run(while: { !p.isFinished }, deadline: lab.kernel.clock.now + .seconds(30))
            return (lab.sink.out + lab.sink.err, p.exitStatus)
        }
        let (big, s1) = try ping("ct_c> ping -c 1 -s 1472 10.10.0.2")
        XCTAssertEqual(big, """
            PING 10.10.0.2 (10.10.0.2) 1472(1500) bytes of data.
            From 172.16.0.1 icmp_seq=1 Frag needed and DF set (mtu = 1450)

            --- 10.10.0.2 ping statistics ---
            1 packets transmitted, 0 received, +1 errors, 100% packet loss, time 0ms


            """)
        XCTAssertEqual(s1, 1)
        let (fits, s2) = try ping("ct_c> ping -c 1 -s 1400 10.10.0.2")
        XCTAssertTrue(fits.contains("1408 bytes from 10.10.0.2: icmp_seq=1 ttl=63 time="), fits)
        XCTAssertEqual(s2, 0)
    }

    /// What flanneld programs for a remote subnet, typed as commands: flannel.1 (VNI 1, local
    /// address, nolearning, port 8472), its /32 address, an onlink route, a permanent neighbour
    /// and the FDB entry to the remote host.
    func testFlannelStyleProgramming() {
        let lab = Lab()
        lab.run("""
            ip netns add ct_a
            ct_a> ip link add eth0 type veth peer name eth1
            ct_a> ip addr add 192.168.1.11/24 dev eth0
            ct_a> ip link set eth0 up
            ct_a> ip link set eth1 up
            ct_a> ip link add flannel.1 mtu 1450 type vxlan id 1 local 192.168.1.11 dev eth0 nolearning dstport 8472
            ct_a> ip addr add 10.244.1.0/32 dev flannel.1
            ct_a> ip link set flannel.1 up
            ct_a> ip route add 10.244.2.0/24 via 10.244.2.0 dev flannel.1 onlink
            ct_a> ip neigh replace 10.244.2.0 lladdr 0a:58:0a:f4:02:00 nud permanent dev flannel.1
            ct_a> bridge fdb replace 0a:58:0a:f4:02:00 dev flannel.1 dst 192.168.1.12 self permanent
            """)
        lab.noteRandomMAC("ct_a", "flannel.1")
        lab.check("ct_a> ip route", """
            10.244.2.0/24 via 10.244.2.0 dev flannel.1 onlink\u{20}
            192.168.1.0/24 dev eth0 proto kernel scope link src 192.168.1.11\u{20}
            """)
        lab.check("ct_a> ip neigh show dev flannel.1", "10.244.2.0 lladdr 0a:58:0a:f4:02:00 PERMANENT\u{20}")
        lab.check("ct_a> bridge fdb show dev flannel.1", "0a:58:0a:f4:02:00 dst 192.168.1.12 self permanent")
        lab.check("ct_a> ip -d link show flannel.1", """
            4: flannel.1: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1450 qdisc noqueue state UNKNOWN mode DEFAULT group default qlen 1000
                link/ether <mac:flannel.1> brd ff:ff:ff:ff:ff:ff promiscuity 0  allmulti 0 minmtu 68 maxmtu 65535\u{20}
                vxlan id 1 local 192.168.1.11 dev eth0 srcport 0 0 dstport 8472 nolearning ttl auto ageing 300 udpcsum noudp6zerocsumtx noudp6zerocsumrx addrgenmode eui64 numtxqueues 1 numrxqueues 1 gso_max_size 65536 gso_max_segs 65535 tso_max_size 524280 tso_max_segs 65535 gro_max_size 65536\u{20}
            """)
        lab.check("ct_a> ip addr show flannel.1", """
            4: flannel.1: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1450 qdisc noqueue state UNKNOWN group default qlen 1000
                link/ether <mac:flannel.1> brd ff:ff:ff:ff:ff:ff
                inet 10.244.1.0/32 scope global flannel.1
                   valid_lft forever preferred_lft forever
            """)
    }
}
