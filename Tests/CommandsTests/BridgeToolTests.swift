// BridgeToolTests: brctl show/showmacs, bridge link and bridge fdb with several bridges; bridge carrier.
// Every expected text below was observed on Linux 6.18 / iproute2 6.1 / bridge-utils 1.7 on
// 2026-11-22 by running the same commands in ct_* namespaces (see Lab.swift for the setup).
// Generated from .recordings/ (see its README.md); regenerate rather than edit by hand.

import XCTest

final class BridgeToolTests: XCTestCase {

    /// brctl show with no bridge, then with five bridges made both ways: bridges and their
    /// ports are listed by name; an explicit bridge MAC is kept; bridge link and bridge fdb with
    /// and without the br/dev filters.
    func testSeveralBridgesShowSortedByName() {
        let lab = Lab()
        lab.run("""
            ip netns add ct_host
            ct_host> ip link add zz0 type veth peer name zz1
            ct_host> ip link add aa0 type veth peer name aa1
            ct_host> ip link add vb0 type veth peer name vb1
            ct_host> ip link set dev zz0 address 02:00:00:00:00:30
            ct_host> ip link set dev zz1 address 02:00:00:00:00:31
            ct_host> ip link set dev aa0 address 02:00:00:00:00:40
            ct_host> ip link set dev aa1 address 02:00:00:00:00:41
            ct_host> ip link set dev vb0 address 02:00:00:00:00:01
            ct_host> ip link set dev vb1 address 02:00:00:00:00:02
            """)
        // No bridge at all: no output, not even the header.
        lab.check("ct_host> brctl show")
        lab.run("""
            ct_host> brctl addbr br2
            ct_host> brctl addbr br0
            ct_host> ip link add br-0123456789ab type bridge
            ct_host> brctl addbr abr
            ct_host> ip link add br1 type bridge
            ct_host> ip link set br1 address 02:00:00:00:00:ff
            """)
        // Ports zz0 (port 1) then aa0 (port 2): listed aa0 first.
        lab.run("""
            ct_host> brctl addif br2 zz0
            ct_host> brctl addif br2 aa0
            """)
        // vb0 has a lower MAC than br1's explicit one: br1 keeps its own.
        lab.run("ct_host> ip link set vb0 master br1")
        lab.noteRandomMAC("ct_host", "br0")
        lab.noteRandomMAC("ct_host", "br-0123456789ab")
        lab.noteRandomMAC("ct_host", "abr")
        lab.check("ct_host> brctl show", """
            bridge name\tbridge id\t\tSTP enabled\tinterfaces
            abr\t\t8000.000000000000\tno\t\t
            br-0123456789ab\t\t8000.000000000000\tno\t\t
            br0\t\t8000.000000000000\tno\t\t
            br1\t\t8000.0200000000ff\tno\t\tvb0
            br2\t\t8000.020000000030\tno\t\taa0
            \t\t\t\t\t\t\tzz0
            """)
        lab.check("ct_host> brctl show br2", """
            bridge name\tbridge id\t\tSTP enabled\tinterfaces
            br2\t\t8000.020000000030\tno\t\taa0
            \t\t\t\t\t\t\tzz0
            """)
        lab.check("ct_host> brctl show br1", """
            bridge name\tbridge id\t\tSTP enabled\tinterfaces
            br1\t\t8000.0200000000ff\tno\t\tvb0
            """)
        lab.check("ct_host> brctl show br0 br2", """
            bridge name\tbridge id\t\tSTP enabled\tinterfaces
            br0\t\t8000.000000000000\tno\t\t
            br2\t\t8000.020000000030\tno\t\taa0
            \t\t\t\t\t\t\tzz0
            """)
        lab.check("ct_host> brctl showmacs br2", """
            port no\tmac addr\t\tis local?\tageing timer
              1\t02:00:00:00:00:30\tyes\t\t   0.00
              2\t02:00:00:00:00:40\tyes\t\t   0.00
            """)
        lab.check("ct_host> brctl showmacs br1", """
            port no\tmac addr\t\tis local?\tageing timer
              1\t02:00:00:00:00:01\tyes\t\t   0.00
            """)
        lab.check("ct_host> brctl showmacs br0", "port no\tmac addr\t\tis local?\tageing timer")
        lab.check("ct_host> bridge link", """
            3: zz0@zz1: <BROADCAST,MULTICAST,M-DOWN> mtu 1500 master br2 state disabled priority 32 cost 2\u{20}
            5: aa0@aa1: <BROADCAST,MULTICAST,M-DOWN> mtu 1500 master br2 state disabled priority 32 cost 2\u{20}
            7: vb0@vb1: <BROADCAST,MULTICAST,M-DOWN> mtu 1500 master br1 state disabled priority 32 cost 2\u{20}
            """)
        lab.check("ct_host> bridge link show dev aa0", """
            5: aa0@aa1: <BROADCAST,MULTICAST,M-DOWN> mtu 1500 master br2 state disabled priority 32 cost 2\u{20}
            """)
        lab.check("ct_host> bridge fdb show", """
            33:33:00:00:00:01 dev zz1 self permanent
            02:00:00:00:00:30 dev zz0 master br2 permanent
            33:33:00:00:00:01 dev zz0 self permanent
            33:33:00:00:00:01 dev aa1 self permanent
            02:00:00:00:00:40 dev aa0 master br2 permanent
            33:33:00:00:00:01 dev aa0 self permanent
            33:33:00:00:00:01 dev vb1 self permanent
            02:00:00:00:00:01 dev vb0 master br1 permanent
            33:33:00:00:00:01 dev vb0 self permanent
            33:33:00:00:00:01 dev br2 self permanent
            33:33:00:00:00:01 dev br0 self permanent
            <mac:br0> dev br0 master br0 permanent
            33:33:00:00:00:01 dev br-0123456789ab self permanent
            <mac:br-0123456789ab> dev br-0123456789ab master br-0123456789ab permanent
            33:33:00:00:00:01 dev abr self permanent
            <mac:abr> dev abr master abr permanent
            33:33:00:00:00:01 dev br1 self permanent
            02:00:00:00:00:ff dev br1 master br1 permanent
            """)
        lab.check("ct_host> bridge fdb", """
            33:33:00:00:00:01 dev zz1 self permanent
            02:00:00:00:00:30 dev zz0 master br2 permanent
            33:33:00:00:00:01 dev zz0 self permanent
            33:33:00:00:00:01 dev aa1 self permanent
            02:00:00:00:00:40 dev aa0 master br2 permanent
            33:33:00:00:00:01 dev aa0 self permanent
            33:33:00:00:00:01 dev vb1 self permanent
            02:00:00:00:00:01 dev vb0 master br1 permanent
            33:33:00:00:00:01 dev vb0 self permanent
            33:33:00:00:00:01 dev br2 self permanent
            33:33:00:00:00:01 dev br0 self permanent
            <mac:br0> dev br0 master br0 permanent
            33:33:00:00:00:01 dev br-0123456789ab self permanent
            <mac:br-0123456789ab> dev br-0123456789ab master br-0123456789ab permanent
            33:33:00:00:00:01 dev abr self permanent
            <mac:abr> dev abr master abr permanent
            33:33:00:00:00:01 dev br1 self permanent
            02:00:00:00:00:ff dev br1 master br1 permanent
            """)
        lab.check("ct_host> bridge fdb show br br1", """
            02:00:00:00:00:01 dev vb0 master br1 permanent
            33:33:00:00:00:01 dev vb0 self permanent
            33:33:00:00:00:01 dev br1 self permanent
            02:00:00:00:00:ff dev br1 master br1 permanent
            """)
        lab.check("ct_host> bridge fdb show br br2", """
            02:00:00:00:00:30 dev zz0 master br2 permanent
            33:33:00:00:00:01 dev zz0 self permanent
            02:00:00:00:00:40 dev aa0 master br2 permanent
            33:33:00:00:00:01 dev aa0 self permanent
            33:33:00:00:00:01 dev br2 self permanent
            """)
        lab.check("ct_host> bridge fdb show dev aa0", """
            02:00:00:00:00:40 master br2 permanent
            33:33:00:00:00:01 self permanent
            """)
        lab.check("ct_host> bridge fdb show dev br2", "33:33:00:00:00:01 self permanent")
        lab.check("ct_host> bridge fdb show dev br1", """
            33:33:00:00:00:01 self permanent
            02:00:00:00:00:ff master br1 permanent
            """)
        lab.check("ct_host> bridge fdb show dynamic")
        lab.check("ct_host> ip link show master br2", """
            3: zz0@zz1: <BROADCAST,MULTICAST,M-DOWN> mtu 1500 qdisc noop master br2 state DOWN mode DEFAULT group default qlen 1000
                link/ether 02:00:00:00:00:30 brd ff:ff:ff:ff:ff:ff
            5: aa0@aa1: <BROADCAST,MULTICAST,M-DOWN> mtu 1500 qdisc noop master br2 state DOWN mode DEFAULT group default qlen 1000
                link/ether 02:00:00:00:00:40 brd ff:ff:ff:ff:ff:ff
            """)
        lab.check("ct_host> ip -br link show type bridge", """
            br2              DOWN           02:00:00:00:00:30 <BROADCAST,MULTICAST>\u{20}
            br0              DOWN           <mac:br0> <BROADCAST,MULTICAST>\u{20}
            br-0123456789ab  DOWN           <mac:br-0123456789ab> <BROADCAST,MULTICAST>\u{20}
            abr              DOWN           <mac:abr> <BROADCAST,MULTICAST>\u{20}
            br1              DOWN           02:00:00:00:00:ff <BROADCAST,MULTICAST>\u{20}
            """)
        lab.run("ct_host> ip link set vb0 nomaster")
        lab.check("ct_host> brctl show br1", """
            bridge name\tbridge id\t\tSTP enabled\tinterfaces
            br1\t\t8000.0200000000ff\tno\t\t
            """)
        lab.check("ct_host> bridge fdb show br br1", """
            33:33:00:00:00:01 dev br1 self permanent
            02:00:00:00:00:ff dev br1 master br1 permanent
            """)
        lab.check("ct_host> ip link show br1", """
            12: br1: <BROADCAST,MULTICAST> mtu 1500 qdisc noop state DOWN mode DEFAULT group default qlen 1000
                link/ether 02:00:00:00:00:ff brd ff:ff:ff:ff:ff:ff
            """)
    }

    /// A bridge's carrier: on while it never had a port (state UNKNOWN once up); after that, on
    /// only while some port forwards; a port forwards when its device is up with carrier.
    func testBridgeCarrierAndPortStates() {
        let lab = Lab()
        lab.run("""
            ip netns add ct_host
            ct_host> ip link add vA type veth peer name vB
            ct_host> ip link set dev vA address 02:00:00:00:00:aa
            ct_host> ip link set dev vB address 02:00:00:00:00:bb
            ct_host> ip link add br1 type bridge
            ct_host> ip link set br1 up
            """)
        lab.noteRandomMAC("ct_host", "br1")
        lab.check("ct_host> ip link show br1", """
            4: br1: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue state UNKNOWN mode DEFAULT group default qlen 1000
                link/ether <mac:br1> brd ff:ff:ff:ff:ff:ff
            """)
        lab.check("ct_host> ip -br link show br1", """
            br1              UNKNOWN        <mac:br1> <BROADCAST,MULTICAST,UP,LOWER_UP>\u{20}
            """)
        lab.check("ct_host> bridge fdb show br br1", """
            33:33:00:00:00:01 dev br1 self permanent
            01:00:5e:00:00:6a dev br1 self permanent
            33:33:00:00:00:6a dev br1 self permanent
            01:00:5e:00:00:01 dev br1 self permanent
            <mac:br1> dev br1 master br1 permanent
            """)
        // A port that is down: the bridge loses carrier.
        lab.run("""
            ct_host> ip link set vB master br1
            sleep 1.5
            """)
        lab.check("ct_host> ip link show br1", """
            4: br1: <NO-CARRIER,BROADCAST,MULTICAST,UP> mtu 1500 qdisc noqueue state DOWN mode DEFAULT group default qlen 1000
                link/ether 02:00:00:00:00:bb brd ff:ff:ff:ff:ff:ff
            """)
        lab.check("ct_host> ip link show vB", """
            2: vB@vA: <BROADCAST,MULTICAST,M-DOWN> mtu 1500 qdisc noop master br1 state DOWN mode DEFAULT group default qlen 1000
                link/ether 02:00:00:00:00:bb brd ff:ff:ff:ff:ff:ff
            """)
        lab.check("ct_host> bridge link", """
            2: vB@vA: <BROADCAST,MULTICAST,M-DOWN> mtu 1500 master br1 state disabled priority 32 cost 2\u{20}
            """)
        lab.check("ct_host> brctl show br1", """
            bridge name\tbridge id\t\tSTP enabled\tinterfaces
            br1\t\t8000.0200000000bb\tno\t\tvB
            """)
        // Port up, but its peer is down: still no carrier.
        lab.run("""
            ct_host> ip link set vB up
            sleep 1.5
            """)
        lab.check("ct_host> ip link show", """
            1: lo: <LOOPBACK> mtu 65536 qdisc noop state DOWN mode DEFAULT group default qlen 1000
                link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00
            2: vB@vA: <NO-CARRIER,BROADCAST,MULTICAST,UP,M-DOWN> mtu 1500 qdisc noqueue master br1 state LOWERLAYERDOWN mode DEFAULT group default qlen 1000
                link/ether 02:00:00:00:00:bb brd ff:ff:ff:ff:ff:ff
            3: vA@vB: <BROADCAST,MULTICAST> mtu 1500 qdisc noop state DOWN mode DEFAULT group default qlen 1000
                link/ether 02:00:00:00:00:aa brd ff:ff:ff:ff:ff:ff
            4: br1: <NO-CARRIER,BROADCAST,MULTICAST,UP> mtu 1500 qdisc noqueue state DOWN mode DEFAULT group default qlen 1000
                link/ether 02:00:00:00:00:bb brd ff:ff:ff:ff:ff:ff
            """)
        lab.check("ct_host> bridge link", """
            2: vB@vA: <NO-CARRIER,BROADCAST,MULTICAST,UP,M-DOWN> mtu 1500 master br1 state disabled priority 32 cost 2\u{20}
            """)
        // Peer up: the port forwards, the bridge is UP.
        lab.run("ct_host> ip link set vA up")
        lab.check("ct_host> ip link show", """
            1: lo: <LOOPBACK> mtu 65536 qdisc noop state DOWN mode DEFAULT group default qlen 1000
                link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00
            2: vB@vA: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue master br1 state UP mode DEFAULT group default qlen 1000
                link/ether 02:00:00:00:00:bb brd ff:ff:ff:ff:ff:ff
            3: vA@vB: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue state UP mode DEFAULT group default qlen 1000
                link/ether 02:00:00:00:00:aa brd ff:ff:ff:ff:ff:ff
            4: br1: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue state UP mode DEFAULT group default qlen 1000
                link/ether 02:00:00:00:00:bb brd ff:ff:ff:ff:ff:ff
            """)
        lab.check("ct_host> ip -br link", """
            lo               DOWN           00:00:00:00:00:00 <LOOPBACK>\u{20}
            vB@vA            UP             02:00:00:00:00:bb <BROADCAST,MULTICAST,UP,LOWER_UP>\u{20}
            vA@vB            UP             02:00:00:00:00:aa <BROADCAST,MULTICAST,UP,LOWER_UP>\u{20}
            br1              UP             02:00:00:00:00:bb <BROADCAST,MULTICAST,UP,LOWER_UP>\u{20}
            """)
        lab.check("ct_host> bridge link", """
            2: vB@vA: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 master br1 state forwarding priority 32 cost 2\u{20}
            """)
        lab.check("ct_host> bridge fdb show", """
            02:00:00:00:00:bb dev vB master br1 permanent
            33:33:00:00:00:01 dev vB self permanent
            01:00:5e:00:00:01 dev vB self permanent
            33:33:00:00:00:01 dev vA self permanent
            01:00:5e:00:00:01 dev vA self permanent
            33:33:00:00:00:01 dev br1 self permanent
            01:00:5e:00:00:6a dev br1 self permanent
            33:33:00:00:00:6a dev br1 self permanent
            01:00:5e:00:00:01 dev br1 self permanent
            """)
        // Peer down again.
        lab.run("""
            ct_host> ip link set vA down
            sleep 1.5
            """)
        lab.check("ct_host> ip link show", """
            1: lo: <LOOPBACK> mtu 65536 qdisc noop state DOWN mode DEFAULT group default qlen 1000
                link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00
            2: vB@vA: <NO-CARRIER,BROADCAST,MULTICAST,UP,M-DOWN> mtu 1500 qdisc noqueue master br1 state LOWERLAYERDOWN mode DEFAULT group default qlen 1000
                link/ether 02:00:00:00:00:bb brd ff:ff:ff:ff:ff:ff
            3: vA@vB: <BROADCAST,MULTICAST> mtu 1500 qdisc noqueue state DOWN mode DEFAULT group default qlen 1000
                link/ether 02:00:00:00:00:aa brd ff:ff:ff:ff:ff:ff
            4: br1: <NO-CARRIER,BROADCAST,MULTICAST,UP> mtu 1500 qdisc noqueue state DOWN mode DEFAULT group default qlen 1000
                link/ether 02:00:00:00:00:bb brd ff:ff:ff:ff:ff:ff
            """)
        lab.check("ct_host> bridge link", """
            2: vB@vA: <NO-CARRIER,BROADCAST,MULTICAST,UP,M-DOWN> mtu 1500 master br1 state disabled priority 32 cost 2\u{20}
            """)
        // The port leaves: MAC 00:00:00:00:00:00, and no way back to UNKNOWN.
        lab.run("""
            ct_host> ip link set vB nomaster
            sleep 1.5
            """)
        lab.check("ct_host> ip link show br1", """
            4: br1: <NO-CARRIER,BROADCAST,MULTICAST,UP> mtu 1500 qdisc noqueue state DOWN mode DEFAULT group default qlen 1000
                link/ether 00:00:00:00:00:00 brd ff:ff:ff:ff:ff:ff
            """)
        lab.check("ct_host> brctl show br1", """
            bridge name\tbridge id\t\tSTP enabled\tinterfaces
            br1\t\t8000.000000000000\tno\t\t
            """)
        lab.check("ct_host> bridge fdb show br br1", """
            33:33:00:00:00:01 dev br1 self permanent
            01:00:5e:00:00:6a dev br1 self permanent
            33:33:00:00:00:6a dev br1 self permanent
            01:00:5e:00:00:01 dev br1 self permanent
            """)
        lab.run("ct_host> ip link set br1 down")
        lab.check("ct_host> ip link show br1", """
            4: br1: <BROADCAST,MULTICAST> mtu 1500 qdisc noqueue state DOWN mode DEFAULT group default qlen 1000
                link/ether 00:00:00:00:00:00 brd ff:ff:ff:ff:ff:ff
            """)
        lab.check("ct_host> ip -br link", """
            lo               DOWN           00:00:00:00:00:00 <LOOPBACK>\u{20}
            vB@vA            LOWERLAYERDOWN 02:00:00:00:00:bb <NO-CARRIER,BROADCAST,MULTICAST,UP,M-DOWN>\u{20}
            vA@vB            DOWN           02:00:00:00:00:aa <BROADCAST,MULTICAST>\u{20}
            br1              DOWN           00:00:00:00:00:00 <BROADCAST,MULTICAST>\u{20}
            """)
        // Setting a port-less bridge's MAC runs br_stp_change_bridge_id() -> br_port_state_selection(): no port forwards, carrier off.
        lab.run("""
            ct_host> ip link add br2 type bridge
            ct_host> ip link set br2 address 02:00:00:00:00:ff
            ct_host> ip link set br2 up
            """)
        lab.check("ct_host> ip link show br2", """
            5: br2: <NO-CARRIER,BROADCAST,MULTICAST,UP> mtu 1500 qdisc noqueue state DOWN mode DEFAULT group default qlen 1000
                link/ether 02:00:00:00:00:ff brd ff:ff:ff:ff:ff:ff
            """)
    }
}
