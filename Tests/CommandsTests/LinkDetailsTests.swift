// LinkDetailsTests: `ip -d link` for veth devices, bridges and bridge ports, and brctl's
// messages, compared with Linux 6.18, iproute2 6.1 and bridge-utils 1.7. Each expected text
// was observed by running the same commands in fid_* namespaces on that kernel; timer values
// are the simulated ones where the real run's typing speed differs (noted at each).

import XCTest
import SimCore
@testable import Commands

final class LinkDetailsTests: XCTestCase {

    func testVethBridgeAndPortDetails() {
        let lab = Lab()
        lab.run("""
            ip netns add fid_t
            fid_t> ip link add br0 type bridge
            fid_t> ip link add veth0 address 02:00:00:00:00:10 type veth peer name veth1 address 02:00:00:00:00:11
            fid_t> ip link set veth0 master br0
            """)
        // observed on Linux 6.18 (2 possible CPUs: a veth gets 2 queues):
        lab.check("fid_t> ip -d link show veth0", """
            4: veth0@veth1: <BROADCAST,MULTICAST,M-DOWN> mtu 1500 qdisc noop master br0 state DOWN mode DEFAULT group default qlen 1000
                link/ether 02:00:00:00:00:10 brd ff:ff:ff:ff:ff:ff promiscuity 1  allmulti 1 minmtu 68 maxmtu 65535\u{20}
                veth\u{20}
                bridge_slave state disabled priority 32 cost 2 hairpin off guard off root_block off fastleave off learning on flood on port_id 0x8001 port_no 0x1 designated_port 32769 designated_cost 0 designated_bridge 8000.2:0:0:0:0:10 designated_root 8000.2:0:0:0:0:10 hold_timer    0.00 message_age_timer    0.00 forward_delay_timer    0.00 topology_change_ack 0 config_pending 0 proxy_arp off proxy_arp_wifi off mcast_router 1 mcast_fast_leave off mcast_flood on bcast_flood on mcast_to_unicast off neigh_suppress off group_fwd_mask 0 group_fwd_mask_str 0x0 vlan_tunnel off isolated off locked off addrgenmode eui64 numtxqueues 2 numrxqueues 2 gso_max_size 65536 gso_max_segs 65535 tso_max_size 524280 tso_max_segs 65535 gro_max_size 65536\u{20}
            """)
        lab.run("""
            fid_t> ip link set br0 up
            fid_t> ip link set veth0 up
            fid_t> ip link set veth1 up
            fid_t> brctl setageing br0 10
            """)
        // observed on Linux 6.18: gc_timer 9.99 right after setageing (the gc ran at once and
        // waits the new ageing time).
        lab.check("fid_t> ip -d link show br0", """
            2: br0: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue state UP mode DEFAULT group default qlen 1000
                link/ether 02:00:00:00:00:10 brd ff:ff:ff:ff:ff:ff promiscuity 0  allmulti 0 minmtu 68 maxmtu 65535\u{20}
                bridge forward_delay 1500 hello_time 200 max_age 2000 ageing_time 1000 stp_state 0 priority 32768 vlan_filtering 0 bridge_id 8000.2:0:0:0:0:10 designated_root 8000.2:0:0:0:0:10 root_port 0 root_path_cost 0 topology_change 0 topology_change_detected 0 hello_timer    0.00 tcn_timer    0.00 topology_change_timer    0.00 gc_timer    9.99 group_fwd_mask 0 group_address 01:80:c2:00:00:00 mcast_snooping 1 no_linklocal_learn 0 mcast_vlan_snooping 0 mcast_router 1 mcast_query_use_ifaddr 0 mcast_querier 0 mcast_hash_elasticity 16 mcast_hash_max 4096 mcast_last_member_count 2 mcast_startup_query_count 2 mcast_last_member_interval 100 mcast_membership_interval 26000 mcast_querier_interval 25500 mcast_query_interval 12500 mcast_query_response_interval 1000 mcast_startup_query_interval 3124 mcast_stats_enabled 0 mcast_igmp_version 2 mcast_mld_version 1 nf_call_iptables 0 nf_call_ip6tables 0 nf_call_arptables 0 addrgenmode eui64 numtxqueues 1 numrxqueues 1 gso_max_size 65536 gso_max_segs 65535 tso_max_size 524280 tso_max_segs 65535 gro_max_size 65536\u{20}
            """)
        lab.check("fid_t> ip -d -o link show veth1", """
            3: veth1@veth0: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue state UP mode DEFAULT group default qlen 1000\\    link/ether 02:00:00:00:00:11 brd ff:ff:ff:ff:ff:ff promiscuity 0  allmulti 0 minmtu 68 maxmtu 65535 \\    veth addrgenmode eui64 numtxqueues 2 numrxqueues 2 gso_max_size 65536 gso_max_segs 65535 tso_max_size 524280 tso_max_segs 65535 gro_max_size 65536\u{20}
            """)
        // The forward-delay timer is armed with STP off too: 15 s from the port's forwarding
        // (observed on Linux 6.18: 12.98 two seconds later; here 14.96 after the lab's typing).
        let shown = lab.exec("fid_t> ip -d link show veth0").out
        XCTAssertTrue(shown.contains("forward_delay_timer   14.96 "), shown)
        lab.run("fid_t> ip link add vx0 type vxlan id 5 dstport 4789")
        lab.run("fid_t> ip link set vx0 master br0")
        // observed on Linux 6.18: a vxlan port (no link speed) costs 100.
        lab.check("fid_t> bridge link show dev vx0", """
            5: vx0: <BROADCAST,MULTICAST> mtu 1500 master br0 state disabled priority 32 cost 100\u{20}
            """)
    }

    func testBrctlMessages() {
        let lab = Lab()
        lab.run("""
            ip netns add fid_t
            fid_t> brctl addbr br1
            fid_t> ip link add veth0 type veth peer name veth1
            """)
        // observed on Linux 6.18 (bridge-utils 1.7):
        lab.run("fid_t> brctl addbr 0123456789abcdef")
        XCTAssertNotNil(lab.machine.namespace(named: "fid_t")?.device(named: "0123456789abcde"))
        lab.check("fid_t> brctl stp br1 maybe", status: 1, stderr: "expect on/off for argument")
        lab.check("fid_t> brctl stp nosuch on", status: 1, stderr: "set stp status failed: No such device")
        lab.check("fid_t> brctl setageing nosuch 10", status: 1, stderr: "set ageing time failed: No such device")
        lab.check("fid_t> brctl showmacs veth1", status: 1, stderr: "read of forward table failed: Operation not supported")
        lab.check("fid_t> brctl hairpin br1 veth0 on", status: 1, stderr: """
            can't set veth0 to hairpin on bridge br1: No such file or directory
            """)
        lab.check("fid_t> brctl show br1 nosuch", """
            bridge name\tbridge id\t\tSTP enabled\tinterfaces
            br1\t\t8000.000000000000\tno\t\t
            """, status: 1, stderr: "bridge nosuch does not exist!")
        let r = lab.exec("fid_t> brctl foo")
        XCTAssertEqual(r.err, "never heard of command [foo]\n")
        XCTAssertEqual(r.status, 1)
    }

    /// Runs a command that keeps running (ping) for `seconds` of virtual time.
    private func runFor(_ lab: Lab, _ line: String, seconds: Int64 = 5) {
        var held: SimProcess?
        if case let .process(p) = Shell.run(Lab.argv(line), lab.ctx) { held = p }
        try! lab.kernel.clock.run(until: lab.kernel.clock.now + .seconds(seconds))
        _ = held
    }

    /// `ip -s link`; a device without carrier drops what it is given before the taps.
    func testLinkStatistics() {
        let lab = Lab()
        lab.run("""
            ip netns add fid_t
            fid_t> ip link add veth0 address 02:00:00:00:00:10 type veth peer name veth1 address 02:00:00:00:00:11
            fid_t> ip addr add 10.0.0.1/24 dev veth0
            fid_t> ip link set veth0 up
            """)
        // observed on Linux 6.18: the peer is down, so the three ARP requests never leave.
        runFor(lab, "fid_t> ping -c 2 10.0.0.2")
        lab.check("fid_t> ip -s link show veth0", """
            3: veth0@veth1: <NO-CARRIER,BROADCAST,MULTICAST,UP,M-DOWN> mtu 1500 qdisc noqueue state LOWERLAYERDOWN mode DEFAULT group default qlen 1000
                link/ether 02:00:00:00:00:10 brd ff:ff:ff:ff:ff:ff
                RX:  bytes packets errors dropped  missed   mcast          \u{20}
                         0       0      0       0       0       0\u{20}
                TX:  bytes packets errors dropped carrier collsns          \u{20}
                         0       0      0       3       0       0\u{20}
            """)
    }

    /// Frames a bridge passes up count without their Ethernet header.
    func testBridgeReceiveBytes() {
        let lab = Lab()
        lab.run("""
            ip netns add fid_t
            ip netns add fid_c1
            fid_t> ip link add br0 type bridge
            fid_t> ip link set br0 up
            fid_t> ip addr add 10.0.0.254/24 dev br0
            fid_t> ip link add va type veth peer name eth0 netns fid_c1
            fid_t> ip link set va master br0
            fid_t> ip link set va up
            fid_c1> ip link set eth0 up
            fid_c1> ip addr add 10.0.0.1/24 dev eth0
            """)
        runFor(lab, "fid_c1> ping -c 1 10.0.0.254", seconds: 2)
        // observed on Linux 6.18: the ARP request and the echo request, 28 + 84 bytes.
        let out = lab.exec("fid_t> ip -s link show br0").out
        XCTAssertTrue(out.contains("    RX:  bytes packets errors dropped  missed   mcast           \n"
                                   + "           112       2      0       0       0       0 \n"), out)
    }

    /// A vxlan device counts the inner frames without their Ethernet header.
    func testVXLANByteCounters() {
        let lab = Lab()
        lab.run("""
            ip netns add fid_a
            ip netns add fid_b
            fid_a> ip link add u0 type veth peer name u1 netns fid_b
            fid_a> ip addr add 192.168.1.11/24 dev u0
            fid_b> ip addr add 192.168.1.12/24 dev u1
            fid_a> ip link set u0 up
            fid_b> ip link set u1 up
            fid_a> ip link add vxlan0 type vxlan id 7 remote 192.168.1.12 dev u0 dstport 4789
            fid_b> ip link add vxlan0 type vxlan id 7 remote 192.168.1.11 dev u1 dstport 4789
            fid_a> ip addr add 10.20.0.1/24 dev vxlan0
            fid_b> ip addr add 10.20.0.2/24 dev vxlan0
            fid_a> ip link set vxlan0 up
            fid_b> ip link set vxlan0 up
            """)
        runFor(lab, "fid_a> ping -c 1 10.20.0.2", seconds: 2)
        // observed on Linux 6.18 (two machines on a LAN): ARP request + echo request out,
        // ARP reply + echo reply in: 28 + 84 bytes each way.
        let out = lab.exec("fid_a> ip -s link show vxlan0").out
        XCTAssertTrue(out.contains("""
                RX:  bytes packets errors dropped  missed   mcast          \u{20}
                       112       2      0       0       0       0\u{20}
                TX:  bytes packets errors dropped carrier collsns          \u{20}
                       112       2      0       0       0       0\u{20}
            """), out)
    }

    /// `ip tuntap add ... mode tap`: an Ethernet device without carrier until a process opens
    /// it; the descriptor's type must match the device's.
    func testTapDevices() {
        let lab = Lab()
        lab.run("""
            ip netns add fid_t
            fid_t> ip tuntap add mode tap
            fid_t> ip tuntap add tap9 mode tap
            fid_t> ip link set tap0 address 02:00:00:00:00:0a
            fid_t> ip link set tap0 up
            """)
        // observed on Linux 6.18 (where net.core.default_qdisc gave pfifo_fast; the model's
        // queued devices take fq_codel, see TunDevice):
        lab.check("fid_t> ip tuntap show", """
            tap0: tap persist
            tap9: tap persist
            """)
        lab.check("fid_t> ip -d link show tap0", """
            2: tap0: <NO-CARRIER,BROADCAST,MULTICAST,UP> mtu 1500 qdisc fq_codel state DOWN mode DEFAULT group default qlen 1000
                link/ether 02:00:00:00:00:0a brd ff:ff:ff:ff:ff:ff promiscuity 0  allmulti 0 minmtu 68 maxmtu 65521\u{20}
                tun type tap pi off vnet_hdr off persist on addrgenmode eui64 numtxqueues 1 numrxqueues 1 gso_max_size 65536 gso_max_segs 65535 tso_max_size 65536 tso_max_segs 65535 gro_max_size 65536\u{20}
            """)
        lab.check("fid_t> ip tuntap add tap0 mode tun", status: 1, stderr: "ioctl(TUNSETIFF): Device or resource busy")
        lab.check("fid_t> ip tuntap del tap0 mode tun", status: 1, stderr: "ioctl(TUNSETIFF): Invalid argument")
        lab.check("fid_t> ip link set tap9 mtu 65522", status: 2, stderr: "Error: mtu greater than device maximum.")
        lab.run("fid_t> ip tuntap del tap0 mode tap")
        lab.check("fid_t> ip tuntap show", "tap9: tap persist")
    }

    /// `ip -s -s link`: the error breakdowns; transns counts carrier changes, the first being
    /// the carrier a new veth loses at creation.
    func testLinkErrorStatistics() {
        let lab = Lab()
        lab.run("""
            ip netns add fid_t
            fid_t> ip link add veth0 address 02:00:00:00:00:10 type veth peer name veth1 address 02:00:00:00:00:11
            fid_t> ip link set veth0 up
            fid_t> ip link set veth1 up
            """)
        // observed on Linux 6.18:
        lab.check("fid_t> ip -s -s link show veth0", """
            3: veth0@veth1: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue state UP mode DEFAULT group default qlen 1000
                link/ether 02:00:00:00:00:10 brd ff:ff:ff:ff:ff:ff
                RX:  bytes packets errors dropped  missed   mcast          \u{20}
                         0       0      0       0       0       0\u{20}
                RX errors:  length    crc   frame    fifo overrun
                                 0      0       0       0       0\u{20}
                TX:  bytes packets errors dropped carrier collsns          \u{20}
                         0       0      0       0       0       0\u{20}
                TX errors: aborted   fifo  window heartbt transns
                                 0      0       0       0       2\u{20}
            """)
    }
}
