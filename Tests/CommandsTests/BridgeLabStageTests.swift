// BridgeLabStageTests: ip/brctl/bridge output at each stage of the bridge lab.
// Every expected text below was observed on Linux 6.18 / iproute2 6.1 / bridge-utils 1.7 on
// 2026-11-22 by running the same commands in ct_* namespaces (see Lab.swift for the setup).
// Generated from .recordings/ (see its README.md); regenerate rather than edit by hand.

import XCTest

final class BridgeLabStageTests: XCTestCase {

    /// Bridge lab stages 0-3: a fresh namespace (only lo, down), lo up, two veth pairs with
    /// explicit MACs, then one end of each moved into a container namespace.
    func testStages0to3FreshNamespaceVethPairsMovedEnds() {
        let lab = Lab()
        lab.run("""
            ip netns add ct_host
            ip netns add ct_c0
            ip netns add ct_c1
            """)
        // Stage 0: fresh namespace.
        lab.check("ct_host> ip link show", """
            1: lo: <LOOPBACK> mtu 65536 qdisc noop state DOWN mode DEFAULT group default qlen 1000
                link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00
            """)
        lab.check("ct_host> ip link", """
            1: lo: <LOOPBACK> mtu 65536 qdisc noop state DOWN mode DEFAULT group default qlen 1000
                link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00
            """)
        lab.check("ct_host> ip addr show", """
            1: lo: <LOOPBACK> mtu 65536 qdisc noop state DOWN group default qlen 1000
                link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00
            """)
        lab.check("ct_host> ip a", """
            1: lo: <LOOPBACK> mtu 65536 qdisc noop state DOWN group default qlen 1000
                link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00
            """)
        lab.check("ct_host> ip -br link", "lo               DOWN           00:00:00:00:00:00 <LOOPBACK>\u{20}")
        lab.check("ct_host> ip -br addr", "lo               DOWN          \u{20}")
        lab.check("ct_host> ip -o link", """
            1: lo: <LOOPBACK> mtu 65536 qdisc noop state DOWN mode DEFAULT group default qlen 1000\\    link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00
            """)
        lab.check("ct_host> ip -o addr")
        lab.check("ct_host> ip route show")
        lab.check("ct_host> brctl show")
        lab.check("ct_host> bridge fdb show")
        lab.check("ct_host> bridge link show")
        // Stage 1: lo up (it gets 127.0.0.1/8).
        lab.run("ct_host> ip link set lo up")
        lab.check("ct_host> ip link show", """
            1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536 qdisc noqueue state UNKNOWN mode DEFAULT group default qlen 1000
                link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00
            """)
        lab.check("ct_host> ip addr show", """
            1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536 qdisc noqueue state UNKNOWN group default qlen 1000
                link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00
                inet 127.0.0.1/8 scope host lo
                   valid_lft forever preferred_lft forever
            """)
        lab.check("ct_host> ip addr show dev lo", """
            1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536 qdisc noqueue state UNKNOWN group default qlen 1000
                link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00
                inet 127.0.0.1/8 scope host lo
                   valid_lft forever preferred_lft forever
            """)
        lab.check("ct_host> ip -br link", """
            lo               UNKNOWN        00:00:00:00:00:00 <LOOPBACK,UP,LOWER_UP>\u{20}
            """)
        lab.check("ct_host> ip -br addr", "lo               UNKNOWN        127.0.0.1/8\u{20}")
        lab.check("ct_host> ip -o link", """
            1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536 qdisc noqueue state UNKNOWN mode DEFAULT group default qlen 1000\\    link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00
            """)
        lab.check("ct_host> ip -o addr", """
            1: lo    inet 127.0.0.1/8 scope host lo\\       valid_lft forever preferred_lft forever
            """)
        // Stage 2: two veth pairs (the peer gets the lower ifindex), MACs set explicitly.
        lab.run("""
            ct_host> ip link add veth0 type veth peer name veth1
            ct_host> ip link add veth2 type veth peer name veth3
            ct_host> ip link set dev veth0 address 02:00:00:00:00:10
            ct_host> ip link set dev veth1 address 02:00:00:00:00:11
            ct_host> ip link set dev veth2 address 02:00:00:00:00:20
            ct_host> ip link set dev veth3 address 02:00:00:00:00:21
            """)
        lab.check("ct_host> ip link show", """
            1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536 qdisc noqueue state UNKNOWN mode DEFAULT group default qlen 1000
                link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00
            2: veth1@veth0: <BROADCAST,MULTICAST,M-DOWN> mtu 1500 qdisc noop state DOWN mode DEFAULT group default qlen 1000
                link/ether 02:00:00:00:00:11 brd ff:ff:ff:ff:ff:ff
            3: veth0@veth1: <BROADCAST,MULTICAST,M-DOWN> mtu 1500 qdisc noop state DOWN mode DEFAULT group default qlen 1000
                link/ether 02:00:00:00:00:10 brd ff:ff:ff:ff:ff:ff
            4: veth3@veth2: <BROADCAST,MULTICAST,M-DOWN> mtu 1500 qdisc noop state DOWN mode DEFAULT group default qlen 1000
                link/ether 02:00:00:00:00:21 brd ff:ff:ff:ff:ff:ff
            5: veth2@veth3: <BROADCAST,MULTICAST,M-DOWN> mtu 1500 qdisc noop state DOWN mode DEFAULT group default qlen 1000
                link/ether 02:00:00:00:00:20 brd ff:ff:ff:ff:ff:ff
            """)
        lab.check("ct_host> ip addr show", """
            1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536 qdisc noqueue state UNKNOWN group default qlen 1000
                link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00
                inet 127.0.0.1/8 scope host lo
                   valid_lft forever preferred_lft forever
            2: veth1@veth0: <BROADCAST,MULTICAST,M-DOWN> mtu 1500 qdisc noop state DOWN group default qlen 1000
                link/ether 02:00:00:00:00:11 brd ff:ff:ff:ff:ff:ff
            3: veth0@veth1: <BROADCAST,MULTICAST,M-DOWN> mtu 1500 qdisc noop state DOWN group default qlen 1000
                link/ether 02:00:00:00:00:10 brd ff:ff:ff:ff:ff:ff
            4: veth3@veth2: <BROADCAST,MULTICAST,M-DOWN> mtu 1500 qdisc noop state DOWN group default qlen 1000
                link/ether 02:00:00:00:00:21 brd ff:ff:ff:ff:ff:ff
            5: veth2@veth3: <BROADCAST,MULTICAST,M-DOWN> mtu 1500 qdisc noop state DOWN group default qlen 1000
                link/ether 02:00:00:00:00:20 brd ff:ff:ff:ff:ff:ff
            """)
        lab.check("ct_host> ip -br link", """
            lo               UNKNOWN        00:00:00:00:00:00 <LOOPBACK,UP,LOWER_UP>\u{20}
            veth1@veth0      DOWN           02:00:00:00:00:11 <BROADCAST,MULTICAST,M-DOWN>\u{20}
            veth0@veth1      DOWN           02:00:00:00:00:10 <BROADCAST,MULTICAST,M-DOWN>\u{20}
            veth3@veth2      DOWN           02:00:00:00:00:21 <BROADCAST,MULTICAST,M-DOWN>\u{20}
            veth2@veth3      DOWN           02:00:00:00:00:20 <BROADCAST,MULTICAST,M-DOWN>\u{20}
            """)
        lab.check("ct_host> ip -br addr", """
            lo               UNKNOWN        127.0.0.1/8\u{20}
            veth1@veth0      DOWN          \u{20}
            veth0@veth1      DOWN          \u{20}
            veth3@veth2      DOWN          \u{20}
            veth2@veth3      DOWN          \u{20}
            """)
        lab.check("ct_host> ip -o link", """
            1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536 qdisc noqueue state UNKNOWN mode DEFAULT group default qlen 1000\\    link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00
            2: veth1@veth0: <BROADCAST,MULTICAST,M-DOWN> mtu 1500 qdisc noop state DOWN mode DEFAULT group default qlen 1000\\    link/ether 02:00:00:00:00:11 brd ff:ff:ff:ff:ff:ff
            3: veth0@veth1: <BROADCAST,MULTICAST,M-DOWN> mtu 1500 qdisc noop state DOWN mode DEFAULT group default qlen 1000\\    link/ether 02:00:00:00:00:10 brd ff:ff:ff:ff:ff:ff
            4: veth3@veth2: <BROADCAST,MULTICAST,M-DOWN> mtu 1500 qdisc noop state DOWN mode DEFAULT group default qlen 1000\\    link/ether 02:00:00:00:00:21 brd ff:ff:ff:ff:ff:ff
            5: veth2@veth3: <BROADCAST,MULTICAST,M-DOWN> mtu 1500 qdisc noop state DOWN mode DEFAULT group default qlen 1000\\    link/ether 02:00:00:00:00:20 brd ff:ff:ff:ff:ff:ff
            """)
        lab.check("ct_host> ip -o addr", """
            1: lo    inet 127.0.0.1/8 scope host lo\\       valid_lft forever preferred_lft forever
            """)
        lab.check("ct_host> ip link show dev veth0", """
            3: veth0@veth1: <BROADCAST,MULTICAST,M-DOWN> mtu 1500 qdisc noop state DOWN mode DEFAULT group default qlen 1000
                link/ether 02:00:00:00:00:10 brd ff:ff:ff:ff:ff:ff
            """)
        lab.check("ct_host> ip link show veth1", """
            2: veth1@veth0: <BROADCAST,MULTICAST,M-DOWN> mtu 1500 qdisc noop state DOWN mode DEFAULT group default qlen 1000
                link/ether 02:00:00:00:00:11 brd ff:ff:ff:ff:ff:ff
            """)
        lab.check("ct_host> ip addr show dev veth0", """
            3: veth0@veth1: <BROADCAST,MULTICAST,M-DOWN> mtu 1500 qdisc noop state DOWN group default qlen 1000
                link/ether 02:00:00:00:00:10 brd ff:ff:ff:ff:ff:ff
            """)
        lab.check("ct_host> ip link show type veth", """
            2: veth1@veth0: <BROADCAST,MULTICAST,M-DOWN> mtu 1500 qdisc noop state DOWN mode DEFAULT group default qlen 1000
                link/ether 02:00:00:00:00:11 brd ff:ff:ff:ff:ff:ff
            3: veth0@veth1: <BROADCAST,MULTICAST,M-DOWN> mtu 1500 qdisc noop state DOWN mode DEFAULT group default qlen 1000
                link/ether 02:00:00:00:00:10 brd ff:ff:ff:ff:ff:ff
            4: veth3@veth2: <BROADCAST,MULTICAST,M-DOWN> mtu 1500 qdisc noop state DOWN mode DEFAULT group default qlen 1000
                link/ether 02:00:00:00:00:21 brd ff:ff:ff:ff:ff:ff
            5: veth2@veth3: <BROADCAST,MULTICAST,M-DOWN> mtu 1500 qdisc noop state DOWN mode DEFAULT group default qlen 1000
                link/ether 02:00:00:00:00:20 brd ff:ff:ff:ff:ff:ff
            """)
        lab.check("ct_host> ip link show type bridge")
        lab.check("ct_host> bridge fdb show", """
            33:33:00:00:00:01 dev veth1 self permanent
            33:33:00:00:00:01 dev veth0 self permanent
            33:33:00:00:00:01 dev veth3 self permanent
            33:33:00:00:00:01 dev veth2 self permanent
            """)
        lab.check("ct_host> bridge link show")
        // Stage 3: one end of each pair moved into a container namespace.
        lab.run("""
            ct_host> ip link set veth0 netns ct_c0
            ct_host> ip link set veth2 netns ct_c1
            """)
        lab.check("ct_host> ip link show", """
            1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536 qdisc noqueue state UNKNOWN mode DEFAULT group default qlen 1000
                link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00
            2: veth1@if3: <BROADCAST,MULTICAST> mtu 1500 qdisc noop state DOWN mode DEFAULT group default qlen 1000
                link/ether 02:00:00:00:00:11 brd ff:ff:ff:ff:ff:ff link-netns ct_c0
            4: veth3@if5: <BROADCAST,MULTICAST> mtu 1500 qdisc noop state DOWN mode DEFAULT group default qlen 1000
                link/ether 02:00:00:00:00:21 brd ff:ff:ff:ff:ff:ff link-netns ct_c1
            """)
        lab.check("ct_host> ip addr show", """
            1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536 qdisc noqueue state UNKNOWN group default qlen 1000
                link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00
                inet 127.0.0.1/8 scope host lo
                   valid_lft forever preferred_lft forever
            2: veth1@if3: <BROADCAST,MULTICAST> mtu 1500 qdisc noop state DOWN group default qlen 1000
                link/ether 02:00:00:00:00:11 brd ff:ff:ff:ff:ff:ff link-netns ct_c0
            4: veth3@if5: <BROADCAST,MULTICAST> mtu 1500 qdisc noop state DOWN group default qlen 1000
                link/ether 02:00:00:00:00:21 brd ff:ff:ff:ff:ff:ff link-netns ct_c1
            """)
        lab.check("ct_host> ip -br link", """
            lo               UNKNOWN        00:00:00:00:00:00 <LOOPBACK,UP,LOWER_UP>\u{20}
            veth1@if3        DOWN           02:00:00:00:00:11 <BROADCAST,MULTICAST>\u{20}
            veth3@if5        DOWN           02:00:00:00:00:21 <BROADCAST,MULTICAST>\u{20}
            """)
        lab.check("ct_host> ip -br addr", """
            lo               UNKNOWN        127.0.0.1/8\u{20}
            veth1@if3        DOWN          \u{20}
            veth3@if5        DOWN          \u{20}
            """)
        lab.check("ct_host> ip -o link", """
            1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536 qdisc noqueue state UNKNOWN mode DEFAULT group default qlen 1000\\    link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00
            2: veth1@if3: <BROADCAST,MULTICAST> mtu 1500 qdisc noop state DOWN mode DEFAULT group default qlen 1000\\    link/ether 02:00:00:00:00:11 brd ff:ff:ff:ff:ff:ff link-netns ct_c0
            4: veth3@if5: <BROADCAST,MULTICAST> mtu 1500 qdisc noop state DOWN mode DEFAULT group default qlen 1000\\    link/ether 02:00:00:00:00:21 brd ff:ff:ff:ff:ff:ff link-netns ct_c1
            """)
        lab.check("ct_host> bridge fdb show", """
            33:33:00:00:00:01 dev veth1 self permanent
            33:33:00:00:00:01 dev veth3 self permanent
            """)
        lab.check("ct_c0> ip link show", """
            1: lo: <LOOPBACK> mtu 65536 qdisc noop state DOWN mode DEFAULT group default qlen 1000
                link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00
            3: veth0@if2: <BROADCAST,MULTICAST> mtu 1500 qdisc noop state DOWN mode DEFAULT group default qlen 1000
                link/ether 02:00:00:00:00:10 brd ff:ff:ff:ff:ff:ff link-netns ct_host
            """)
        lab.check("ct_c0> ip addr show", """
            1: lo: <LOOPBACK> mtu 65536 qdisc noop state DOWN group default qlen 1000
                link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00
            3: veth0@if2: <BROADCAST,MULTICAST> mtu 1500 qdisc noop state DOWN group default qlen 1000
                link/ether 02:00:00:00:00:10 brd ff:ff:ff:ff:ff:ff link-netns ct_host
            """)
        lab.check("ct_c0> ip -br link", """
            lo               DOWN           00:00:00:00:00:00 <LOOPBACK>\u{20}
            veth0@if2        DOWN           02:00:00:00:00:10 <BROADCAST,MULTICAST>\u{20}
            """)
        lab.check("ct_c0> ip -br addr", """
            lo               DOWN          \u{20}
            veth0@if2        DOWN          \u{20}
            """)
        lab.check("ct_c0> ip -o link", """
            1: lo: <LOOPBACK> mtu 65536 qdisc noop state DOWN mode DEFAULT group default qlen 1000\\    link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00
            3: veth0@if2: <BROADCAST,MULTICAST> mtu 1500 qdisc noop state DOWN mode DEFAULT group default qlen 1000\\    link/ether 02:00:00:00:00:10 brd ff:ff:ff:ff:ff:ff link-netns ct_host
            """)
        lab.check("ct_c1> ip link show", """
            1: lo: <LOOPBACK> mtu 65536 qdisc noop state DOWN mode DEFAULT group default qlen 1000
                link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00
            5: veth2@if4: <BROADCAST,MULTICAST> mtu 1500 qdisc noop state DOWN mode DEFAULT group default qlen 1000
                link/ether 02:00:00:00:00:20 brd ff:ff:ff:ff:ff:ff link-netns ct_host
            """)
        lab.check("ct_c1> ip -br link", """
            lo               DOWN           00:00:00:00:00:00 <LOOPBACK>\u{20}
            veth2@if4        DOWN           02:00:00:00:00:20 <BROADCAST,MULTICAST>\u{20}
            """)
    }

    /// Bridge lab stages 4-8: bridges made with brctl and with ip link, ports added (both
    /// ways), host side up, container side up, addresses, and the routes they bring.
    func testStages4to8BridgesPortsUpAddresses() {
        let lab = Lab()
        lab.run("""
            ip netns add ct_host
            ip netns add ct_c0
            ip netns add ct_c1
            ct_host> ip link set lo up
            ct_host> ip link add veth0 type veth peer name veth1
            ct_host> ip link add veth2 type veth peer name veth3
            ct_host> ip link set dev veth0 address 02:00:00:00:00:10
            ct_host> ip link set dev veth1 address 02:00:00:00:00:11
            ct_host> ip link set dev veth2 address 02:00:00:00:00:20
            ct_host> ip link set dev veth3 address 02:00:00:00:00:21
            ct_host> ip link set veth0 netns ct_c0
            ct_host> ip link set veth2 netns ct_c1
            """)
        // Stage 4: br0 with brctl, br1 with ip link; a new bridge has a random MAC, bridge id 8000.000000000000.
        lab.run("ct_host> brctl addbr br0")
        lab.noteRandomMAC("ct_host", "br0")
        lab.check("ct_host> ip link show dev br0", """
            6: br0: <BROADCAST,MULTICAST> mtu 1500 qdisc noop state DOWN mode DEFAULT group default qlen 1000
                link/ether <mac:br0> brd ff:ff:ff:ff:ff:ff
            """)
        lab.check("ct_host> brctl show", """
            bridge name\tbridge id\t\tSTP enabled\tinterfaces
            br0\t\t8000.000000000000\tno\t\t
            """)
        lab.run("ct_host> ip link add br1 type bridge")
        lab.noteRandomMAC("ct_host", "br1")
        lab.check("ct_host> ip link show type bridge", """
            6: br0: <BROADCAST,MULTICAST> mtu 1500 qdisc noop state DOWN mode DEFAULT group default qlen 1000
                link/ether <mac:br0> brd ff:ff:ff:ff:ff:ff
            7: br1: <BROADCAST,MULTICAST> mtu 1500 qdisc noop state DOWN mode DEFAULT group default qlen 1000
                link/ether <mac:br1> brd ff:ff:ff:ff:ff:ff
            """)
        lab.check("ct_host> ip -br link", """
            lo               UNKNOWN        00:00:00:00:00:00 <LOOPBACK,UP,LOWER_UP>\u{20}
            veth1@if3        DOWN           02:00:00:00:00:11 <BROADCAST,MULTICAST>\u{20}
            veth3@if5        DOWN           02:00:00:00:00:21 <BROADCAST,MULTICAST>\u{20}
            br0              DOWN           <mac:br0> <BROADCAST,MULTICAST>\u{20}
            br1              DOWN           <mac:br1> <BROADCAST,MULTICAST>\u{20}
            """)
        lab.check("ct_host> brctl show", """
            bridge name\tbridge id\t\tSTP enabled\tinterfaces
            br0\t\t8000.000000000000\tno\t\t
            br1\t\t8000.000000000000\tno\t\t
            """)
        lab.check("ct_host> brctl show br0", """
            bridge name\tbridge id\t\tSTP enabled\tinterfaces
            br0\t\t8000.000000000000\tno\t\t
            """)
        lab.check("ct_host> brctl showmacs br0", "port no\tmac addr\t\tis local?\tageing timer")
        lab.check("ct_host> bridge fdb show", """
            33:33:00:00:00:01 dev veth1 self permanent
            33:33:00:00:00:01 dev veth3 self permanent
            33:33:00:00:00:01 dev br0 self permanent
            <mac:br0> dev br0 master br0 permanent
            33:33:00:00:00:01 dev br1 self permanent
            <mac:br1> dev br1 master br1 permanent
            """)
        lab.check("ct_host> bridge link show")
        // Stage 5: ports (brctl addif, then ip link set master); the bridge takes the lowest port MAC.
        lab.run("ct_host> brctl addif br0 veth1")
        lab.check("ct_host> ip link show", """
            1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536 qdisc noqueue state UNKNOWN mode DEFAULT group default qlen 1000
                link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00
            2: veth1@if3: <BROADCAST,MULTICAST> mtu 1500 qdisc noop master br0 state DOWN mode DEFAULT group default qlen 1000
                link/ether 02:00:00:00:00:11 brd ff:ff:ff:ff:ff:ff link-netns ct_c0
            4: veth3@if5: <BROADCAST,MULTICAST> mtu 1500 qdisc noop state DOWN mode DEFAULT group default qlen 1000
                link/ether 02:00:00:00:00:21 brd ff:ff:ff:ff:ff:ff link-netns ct_c1
            6: br0: <BROADCAST,MULTICAST> mtu 1500 qdisc noop state DOWN mode DEFAULT group default qlen 1000
                link/ether 02:00:00:00:00:11 brd ff:ff:ff:ff:ff:ff
            7: br1: <BROADCAST,MULTICAST> mtu 1500 qdisc noop state DOWN mode DEFAULT group default qlen 1000
                link/ether <mac:br1> brd ff:ff:ff:ff:ff:ff
            """)
        lab.check("ct_host> brctl show", """
            bridge name\tbridge id\t\tSTP enabled\tinterfaces
            br0\t\t8000.020000000011\tno\t\tveth1
            br1\t\t8000.000000000000\tno\t\t
            """)
        lab.check("ct_host> bridge fdb show", """
            02:00:00:00:00:11 dev veth1 master br0 permanent
            33:33:00:00:00:01 dev veth1 self permanent
            33:33:00:00:00:01 dev veth3 self permanent
            33:33:00:00:00:01 dev br0 self permanent
            33:33:00:00:00:01 dev br1 self permanent
            <mac:br1> dev br1 master br1 permanent
            """)
        lab.run("ct_host> ip link set veth3 master br0")
        lab.check("ct_host> ip link show", """
            1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536 qdisc noqueue state UNKNOWN mode DEFAULT group default qlen 1000
                link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00
            2: veth1@if3: <BROADCAST,MULTICAST> mtu 1500 qdisc noop master br0 state DOWN mode DEFAULT group default qlen 1000
                link/ether 02:00:00:00:00:11 brd ff:ff:ff:ff:ff:ff link-netns ct_c0
            4: veth3@if5: <BROADCAST,MULTICAST> mtu 1500 qdisc noop master br0 state DOWN mode DEFAULT group default qlen 1000
                link/ether 02:00:00:00:00:21 brd ff:ff:ff:ff:ff:ff link-netns ct_c1
            6: br0: <BROADCAST,MULTICAST> mtu 1500 qdisc noop state DOWN mode DEFAULT group default qlen 1000
                link/ether 02:00:00:00:00:11 brd ff:ff:ff:ff:ff:ff
            7: br1: <BROADCAST,MULTICAST> mtu 1500 qdisc noop state DOWN mode DEFAULT group default qlen 1000
                link/ether <mac:br1> brd ff:ff:ff:ff:ff:ff
            """)
        lab.check("ct_host> ip addr show", """
            1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536 qdisc noqueue state UNKNOWN group default qlen 1000
                link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00
                inet 127.0.0.1/8 scope host lo
                   valid_lft forever preferred_lft forever
            2: veth1@if3: <BROADCAST,MULTICAST> mtu 1500 qdisc noop master br0 state DOWN group default qlen 1000
                link/ether 02:00:00:00:00:11 brd ff:ff:ff:ff:ff:ff link-netns ct_c0
            4: veth3@if5: <BROADCAST,MULTICAST> mtu 1500 qdisc noop master br0 state DOWN group default qlen 1000
                link/ether 02:00:00:00:00:21 brd ff:ff:ff:ff:ff:ff link-netns ct_c1
            6: br0: <BROADCAST,MULTICAST> mtu 1500 qdisc noop state DOWN group default qlen 1000
                link/ether 02:00:00:00:00:11 brd ff:ff:ff:ff:ff:ff
            7: br1: <BROADCAST,MULTICAST> mtu 1500 qdisc noop state DOWN group default qlen 1000
                link/ether <mac:br1> brd ff:ff:ff:ff:ff:ff
            """)
        lab.check("ct_host> ip -br link", """
            lo               UNKNOWN        00:00:00:00:00:00 <LOOPBACK,UP,LOWER_UP>\u{20}
            veth1@if3        DOWN           02:00:00:00:00:11 <BROADCAST,MULTICAST>\u{20}
            veth3@if5        DOWN           02:00:00:00:00:21 <BROADCAST,MULTICAST>\u{20}
            br0              DOWN           02:00:00:00:00:11 <BROADCAST,MULTICAST>\u{20}
            br1              DOWN           <mac:br1> <BROADCAST,MULTICAST>\u{20}
            """)
        lab.check("ct_host> ip link show master br0", """
            2: veth1@if3: <BROADCAST,MULTICAST> mtu 1500 qdisc noop master br0 state DOWN mode DEFAULT group default qlen 1000
                link/ether 02:00:00:00:00:11 brd ff:ff:ff:ff:ff:ff link-netns ct_c0
            4: veth3@if5: <BROADCAST,MULTICAST> mtu 1500 qdisc noop master br0 state DOWN mode DEFAULT group default qlen 1000
                link/ether 02:00:00:00:00:21 brd ff:ff:ff:ff:ff:ff link-netns ct_c1
            """)
        lab.check("ct_host> brctl show", """
            bridge name\tbridge id\t\tSTP enabled\tinterfaces
            br0\t\t8000.020000000011\tno\t\tveth1
            \t\t\t\t\t\t\tveth3
            br1\t\t8000.000000000000\tno\t\t
            """)
        lab.check("ct_host> brctl show br0", """
            bridge name\tbridge id\t\tSTP enabled\tinterfaces
            br0\t\t8000.020000000011\tno\t\tveth1
            \t\t\t\t\t\t\tveth3
            """)
        lab.check("ct_host> brctl showmacs br0", """
            port no\tmac addr\t\tis local?\tageing timer
              1\t02:00:00:00:00:11\tyes\t\t   0.00
              2\t02:00:00:00:00:21\tyes\t\t   0.00
            """)
        lab.check("ct_host> bridge fdb show", """
            02:00:00:00:00:11 dev veth1 master br0 permanent
            33:33:00:00:00:01 dev veth1 self permanent
            02:00:00:00:00:21 dev veth3 master br0 permanent
            33:33:00:00:00:01 dev veth3 self permanent
            33:33:00:00:00:01 dev br0 self permanent
            33:33:00:00:00:01 dev br1 self permanent
            <mac:br1> dev br1 master br1 permanent
            """)
        lab.check("ct_host> bridge link show", """
            2: veth1@if3: <BROADCAST,MULTICAST> mtu 1500 master br0 state disabled priority 32 cost 2\u{20}
            4: veth3@if5: <BROADCAST,MULTICAST> mtu 1500 master br0 state disabled priority 32 cost 2\u{20}
            """)
        lab.check("ct_host> bridge link", """
            2: veth1@if3: <BROADCAST,MULTICAST> mtu 1500 master br0 state disabled priority 32 cost 2\u{20}
            4: veth3@if5: <BROADCAST,MULTICAST> mtu 1500 master br0 state disabled priority 32 cost 2\u{20}
            """)
        // Stage 6: host side up, container ends still down.
        lab.run("ct_host> ip link set veth1 up")
        lab.check("ct_host> ip link show dev veth1", """
            2: veth1@if3: <NO-CARRIER,BROADCAST,MULTICAST,UP> mtu 1500 qdisc noqueue master br0 state LOWERLAYERDOWN mode DEFAULT group default qlen 1000
                link/ether 02:00:00:00:00:11 brd ff:ff:ff:ff:ff:ff link-netns ct_c0
            """)
        lab.run("""
            ct_host> ip link set veth3 up
            ct_host> ip link set br0 up
            """)
        lab.check("ct_host> ip link show", """
            1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536 qdisc noqueue state UNKNOWN mode DEFAULT group default qlen 1000
                link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00
            2: veth1@if3: <NO-CARRIER,BROADCAST,MULTICAST,UP> mtu 1500 qdisc noqueue master br0 state LOWERLAYERDOWN mode DEFAULT group default qlen 1000
                link/ether 02:00:00:00:00:11 brd ff:ff:ff:ff:ff:ff link-netns ct_c0
            4: veth3@if5: <NO-CARRIER,BROADCAST,MULTICAST,UP> mtu 1500 qdisc noqueue master br0 state LOWERLAYERDOWN mode DEFAULT group default qlen 1000
                link/ether 02:00:00:00:00:21 brd ff:ff:ff:ff:ff:ff link-netns ct_c1
            6: br0: <NO-CARRIER,BROADCAST,MULTICAST,UP> mtu 1500 qdisc noqueue state DOWN mode DEFAULT group default qlen 1000
                link/ether 02:00:00:00:00:11 brd ff:ff:ff:ff:ff:ff
            7: br1: <BROADCAST,MULTICAST> mtu 1500 qdisc noop state DOWN mode DEFAULT group default qlen 1000
                link/ether <mac:br1> brd ff:ff:ff:ff:ff:ff
            """)
        lab.check("ct_host> ip addr show", """
            1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536 qdisc noqueue state UNKNOWN group default qlen 1000
                link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00
                inet 127.0.0.1/8 scope host lo
                   valid_lft forever preferred_lft forever
            2: veth1@if3: <NO-CARRIER,BROADCAST,MULTICAST,UP> mtu 1500 qdisc noqueue master br0 state LOWERLAYERDOWN group default qlen 1000
                link/ether 02:00:00:00:00:11 brd ff:ff:ff:ff:ff:ff link-netns ct_c0
            4: veth3@if5: <NO-CARRIER,BROADCAST,MULTICAST,UP> mtu 1500 qdisc noqueue master br0 state LOWERLAYERDOWN group default qlen 1000
                link/ether 02:00:00:00:00:21 brd ff:ff:ff:ff:ff:ff link-netns ct_c1
            6: br0: <NO-CARRIER,BROADCAST,MULTICAST,UP> mtu 1500 qdisc noqueue state DOWN group default qlen 1000
                link/ether 02:00:00:00:00:11 brd ff:ff:ff:ff:ff:ff
            7: br1: <BROADCAST,MULTICAST> mtu 1500 qdisc noop state DOWN group default qlen 1000
                link/ether <mac:br1> brd ff:ff:ff:ff:ff:ff
            """)
        lab.check("ct_host> ip -br link", """
            lo               UNKNOWN        00:00:00:00:00:00 <LOOPBACK,UP,LOWER_UP>\u{20}
            veth1@if3        LOWERLAYERDOWN 02:00:00:00:00:11 <NO-CARRIER,BROADCAST,MULTICAST,UP>\u{20}
            veth3@if5        LOWERLAYERDOWN 02:00:00:00:00:21 <NO-CARRIER,BROADCAST,MULTICAST,UP>\u{20}
            br0              DOWN           02:00:00:00:00:11 <NO-CARRIER,BROADCAST,MULTICAST,UP>\u{20}
            br1              DOWN           <mac:br1> <BROADCAST,MULTICAST>\u{20}
            """)
        lab.check("ct_host> bridge link show", """
            2: veth1@if3: <NO-CARRIER,BROADCAST,MULTICAST,UP> mtu 1500 master br0 state disabled priority 32 cost 2\u{20}
            4: veth3@if5: <NO-CARRIER,BROADCAST,MULTICAST,UP> mtu 1500 master br0 state disabled priority 32 cost 2\u{20}
            """)
        lab.check("ct_host> bridge fdb show", """
            02:00:00:00:00:11 dev veth1 master br0 permanent
            33:33:00:00:00:01 dev veth1 self permanent
            01:00:5e:00:00:01 dev veth1 self permanent
            02:00:00:00:00:21 dev veth3 master br0 permanent
            33:33:00:00:00:01 dev veth3 self permanent
            01:00:5e:00:00:01 dev veth3 self permanent
            33:33:00:00:00:01 dev br0 self permanent
            01:00:5e:00:00:6a dev br0 self permanent
            33:33:00:00:00:6a dev br0 self permanent
            01:00:5e:00:00:01 dev br0 self permanent
            33:33:00:00:00:01 dev br1 self permanent
            <mac:br1> dev br1 master br1 permanent
            """)
        // Stage 7: container ends up.
        lab.run("""
            ct_c0> ip link set lo up
            ct_c0> ip link set veth0 up
            ct_c1> ip link set lo up
            ct_c1> ip link set veth2 up
            """)
        lab.check("ct_host> ip link show", """
            1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536 qdisc noqueue state UNKNOWN mode DEFAULT group default qlen 1000
                link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00
            2: veth1@if3: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue master br0 state UP mode DEFAULT group default qlen 1000
                link/ether 02:00:00:00:00:11 brd ff:ff:ff:ff:ff:ff link-netns ct_c0
            4: veth3@if5: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue master br0 state UP mode DEFAULT group default qlen 1000
                link/ether 02:00:00:00:00:21 brd ff:ff:ff:ff:ff:ff link-netns ct_c1
            6: br0: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue state UP mode DEFAULT group default qlen 1000
                link/ether 02:00:00:00:00:11 brd ff:ff:ff:ff:ff:ff
            7: br1: <BROADCAST,MULTICAST> mtu 1500 qdisc noop state DOWN mode DEFAULT group default qlen 1000
                link/ether <mac:br1> brd ff:ff:ff:ff:ff:ff
            """)
        lab.check("ct_host> ip -br link", """
            lo               UNKNOWN        00:00:00:00:00:00 <LOOPBACK,UP,LOWER_UP>\u{20}
            veth1@if3        UP             02:00:00:00:00:11 <BROADCAST,MULTICAST,UP,LOWER_UP>\u{20}
            veth3@if5        UP             02:00:00:00:00:21 <BROADCAST,MULTICAST,UP,LOWER_UP>\u{20}
            br0              UP             02:00:00:00:00:11 <BROADCAST,MULTICAST,UP,LOWER_UP>\u{20}
            br1              DOWN           <mac:br1> <BROADCAST,MULTICAST>\u{20}
            """)
        lab.check("ct_host> ip -br addr", """
            lo               UNKNOWN        127.0.0.1/8\u{20}
            veth1@if3        UP            \u{20}
            veth3@if5        UP            \u{20}
            br0              UP            \u{20}
            br1              DOWN          \u{20}
            """)
        lab.check("ct_host> bridge link", """
            2: veth1@if3: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 master br0 state forwarding priority 32 cost 2\u{20}
            4: veth3@if5: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 master br0 state forwarding priority 32 cost 2\u{20}
            """)
        lab.check("ct_host> bridge fdb show", """
            02:00:00:00:00:11 dev veth1 master br0 permanent
            33:33:00:00:00:01 dev veth1 self permanent
            01:00:5e:00:00:01 dev veth1 self permanent
            02:00:00:00:00:21 dev veth3 master br0 permanent
            33:33:00:00:00:01 dev veth3 self permanent
            01:00:5e:00:00:01 dev veth3 self permanent
            33:33:00:00:00:01 dev br0 self permanent
            01:00:5e:00:00:6a dev br0 self permanent
            33:33:00:00:00:6a dev br0 self permanent
            01:00:5e:00:00:01 dev br0 self permanent
            33:33:00:00:00:01 dev br1 self permanent
            <mac:br1> dev br1 master br1 permanent
            """)
        lab.check("ct_host> brctl show", """
            bridge name\tbridge id\t\tSTP enabled\tinterfaces
            br0\t\t8000.020000000011\tno\t\tveth1
            \t\t\t\t\t\t\tveth3
            br1\t\t8000.000000000000\tno\t\t
            """)
        lab.check("ct_c0> ip link show", """
            1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536 qdisc noqueue state UNKNOWN mode DEFAULT group default qlen 1000
                link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00
            3: veth0@if2: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue state UP mode DEFAULT group default qlen 1000
                link/ether 02:00:00:00:00:10 brd ff:ff:ff:ff:ff:ff link-netns ct_host
            """)
        lab.check("ct_c0> ip -br link", """
            lo               UNKNOWN        00:00:00:00:00:00 <LOOPBACK,UP,LOWER_UP>\u{20}
            veth0@if2        UP             02:00:00:00:00:10 <BROADCAST,MULTICAST,UP,LOWER_UP>\u{20}
            """)
        // Stage 8: addresses.
        lab.run("""
            ct_c0> ip addr add 172.18.0.2/24 dev veth0
            ct_c1> ip addr add 172.18.0.3/24 dev veth2
            ct_host> ip addr add 172.18.0.1/24 dev br0
            """)
        lab.check("ct_host> ip addr show", """
            1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536 qdisc noqueue state UNKNOWN group default qlen 1000
                link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00
                inet 127.0.0.1/8 scope host lo
                   valid_lft forever preferred_lft forever
            2: veth1@if3: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue master br0 state UP group default qlen 1000
                link/ether 02:00:00:00:00:11 brd ff:ff:ff:ff:ff:ff link-netns ct_c0
            4: veth3@if5: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue master br0 state UP group default qlen 1000
                link/ether 02:00:00:00:00:21 brd ff:ff:ff:ff:ff:ff link-netns ct_c1
            6: br0: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue state UP group default qlen 1000
                link/ether 02:00:00:00:00:11 brd ff:ff:ff:ff:ff:ff
                inet 172.18.0.1/24 scope global br0
                   valid_lft forever preferred_lft forever
            7: br1: <BROADCAST,MULTICAST> mtu 1500 qdisc noop state DOWN group default qlen 1000
                link/ether <mac:br1> brd ff:ff:ff:ff:ff:ff
            """)
        lab.check("ct_host> ip addr show dev br0", """
            6: br0: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue state UP group default qlen 1000
                link/ether 02:00:00:00:00:11 brd ff:ff:ff:ff:ff:ff
                inet 172.18.0.1/24 scope global br0
                   valid_lft forever preferred_lft forever
            """)
        lab.check("ct_host> ip -br addr", """
            lo               UNKNOWN        127.0.0.1/8\u{20}
            veth1@if3        UP            \u{20}
            veth3@if5        UP            \u{20}
            br0              UP             172.18.0.1/24\u{20}
            br1              DOWN          \u{20}
            """)
        lab.check("ct_host> ip -o addr", """
            1: lo    inet 127.0.0.1/8 scope host lo\\       valid_lft forever preferred_lft forever
            6: br0    inet 172.18.0.1/24 scope global br0\\       valid_lft forever preferred_lft forever
            """)
        lab.check("ct_host> ip -4 addr", """
            1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536 qdisc noqueue state UNKNOWN group default qlen 1000
                inet 127.0.0.1/8 scope host lo
                   valid_lft forever preferred_lft forever
            6: br0: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue state UP group default qlen 1000
                inet 172.18.0.1/24 scope global br0
                   valid_lft forever preferred_lft forever
            """)
        lab.check("ct_host> ip -o -4 addr show dev br0", """
            6: br0    inet 172.18.0.1/24 scope global br0\\       valid_lft forever preferred_lft forever
            """)
        lab.check("ct_host> ip route show", "172.18.0.0/24 dev br0 proto kernel scope link src 172.18.0.1\u{20}")
        lab.check("ct_host> ip route show table local", """
            local 127.0.0.0/8 dev lo proto kernel scope host src 127.0.0.1\u{20}
            local 127.0.0.1 dev lo proto kernel scope host src 127.0.0.1\u{20}
            broadcast 127.255.255.255 dev lo proto kernel scope link src 127.0.0.1\u{20}
            local 172.18.0.1 dev br0 proto kernel scope host src 172.18.0.1\u{20}
            broadcast 172.18.0.255 dev br0 proto kernel scope link src 172.18.0.1\u{20}
            """)
        lab.check("ct_host> ip neigh show")
        lab.check("ct_c0> ip addr show", """
            1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536 qdisc noqueue state UNKNOWN group default qlen 1000
                link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00
                inet 127.0.0.1/8 scope host lo
                   valid_lft forever preferred_lft forever
            3: veth0@if2: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue state UP group default qlen 1000
                link/ether 02:00:00:00:00:10 brd ff:ff:ff:ff:ff:ff link-netns ct_host
                inet 172.18.0.2/24 scope global veth0
                   valid_lft forever preferred_lft forever
            """)
        lab.check("ct_c0> ip -o addr", """
            1: lo    inet 127.0.0.1/8 scope host lo\\       valid_lft forever preferred_lft forever
            3: veth0    inet 172.18.0.2/24 scope global veth0\\       valid_lft forever preferred_lft forever
            """)
        lab.check("ct_c0> ip -br addr", """
            lo               UNKNOWN        127.0.0.1/8\u{20}
            veth0@if2        UP             172.18.0.2/24\u{20}
            """)
        lab.check("ct_c0> ip -4 addr", """
            1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536 qdisc noqueue state UNKNOWN group default qlen 1000
                inet 127.0.0.1/8 scope host lo
                   valid_lft forever preferred_lft forever
            3: veth0@if2: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue state UP group default qlen 1000 link-netns ct_host
                inet 172.18.0.2/24 scope global veth0
                   valid_lft forever preferred_lft forever
            """)
        lab.check("ct_c0> ip route", "172.18.0.0/24 dev veth0 proto kernel scope link src 172.18.0.2\u{20}")
        lab.check("ct_c0> ip route show table local", """
            local 127.0.0.0/8 dev lo proto kernel scope host src 127.0.0.1\u{20}
            local 127.0.0.1 dev lo proto kernel scope host src 127.0.0.1\u{20}
            broadcast 127.255.255.255 dev lo proto kernel scope link src 127.0.0.1\u{20}
            local 172.18.0.2 dev veth0 proto kernel scope host src 172.18.0.2\u{20}
            broadcast 172.18.0.255 dev veth0 proto kernel scope link src 172.18.0.2\u{20}
            """)
        lab.check("ct_c1> ip addr show dev veth2", """
            5: veth2@if4: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue state UP group default qlen 1000
                link/ether 02:00:00:00:00:20 brd ff:ff:ff:ff:ff:ff link-netns ct_host
                inet 172.18.0.3/24 scope global veth2
                   valid_lft forever preferred_lft forever
            """)
    }

    /// After the lab is up: ports removed one by one (brctl delif, ip link set nomaster); the
    /// bridge keeps its address, loses carrier and its MAC becomes 00:00:00:00:00:00.
    func testRemovingThePorts() {
        let lab = Lab()
        lab.run("""
            ip netns add ct_host
            ip netns add ct_c0
            ip netns add ct_c1
            ct_host> ip link set lo up
            ct_host> ip link add veth0 type veth peer name veth1
            ct_host> ip link add veth2 type veth peer name veth3
            ct_host> ip link set dev veth0 address 02:00:00:00:00:10
            ct_host> ip link set dev veth1 address 02:00:00:00:00:11
            ct_host> ip link set dev veth2 address 02:00:00:00:00:20
            ct_host> ip link set dev veth3 address 02:00:00:00:00:21
            ct_host> ip link set veth0 netns ct_c0
            ct_host> ip link set veth2 netns ct_c1
            ct_host> brctl addbr br0
            ct_host> brctl addif br0 veth1
            ct_host> brctl addif br0 veth3
            ct_host> ip link set veth1 up
            ct_host> ip link set veth3 up
            ct_host> ip link set br0 up
            ct_c0> ip link set veth0 up
            ct_c1> ip link set veth2 up
            ct_host> ip addr add 172.18.0.1/24 dev br0
            ct_c0> ip addr add 172.18.0.2/24 dev veth0
            """)
        // First port removed: the bridge takes the remaining port's MAC.
        lab.run("ct_host> brctl delif br0 veth1")
        lab.check("ct_host> ip link show", """
            1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536 qdisc noqueue state UNKNOWN mode DEFAULT group default qlen 1000
                link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00
            2: veth1@if3: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue state UP mode DEFAULT group default qlen 1000
                link/ether 02:00:00:00:00:11 brd ff:ff:ff:ff:ff:ff link-netns ct_c0
            4: veth3@if5: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue master br0 state UP mode DEFAULT group default qlen 1000
                link/ether 02:00:00:00:00:21 brd ff:ff:ff:ff:ff:ff link-netns ct_c1
            6: br0: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue state UP mode DEFAULT group default qlen 1000
                link/ether 02:00:00:00:00:21 brd ff:ff:ff:ff:ff:ff
            """)
        lab.check("ct_host> brctl show", """
            bridge name\tbridge id\t\tSTP enabled\tinterfaces
            br0\t\t8000.020000000021\tno\t\tveth3
            """)
        lab.check("ct_host> bridge link", """
            4: veth3@if5: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 master br0 state forwarding priority 32 cost 2\u{20}
            """)
        lab.check("ct_host> bridge fdb show", """
            33:33:00:00:00:01 dev veth1 self permanent
            01:00:5e:00:00:01 dev veth1 self permanent
            02:00:00:00:00:21 dev veth3 master br0 permanent
            33:33:00:00:00:01 dev veth3 self permanent
            01:00:5e:00:00:01 dev veth3 self permanent
            33:33:00:00:00:01 dev br0 self permanent
            01:00:5e:00:00:6a dev br0 self permanent
            33:33:00:00:00:6a dev br0 self permanent
            01:00:5e:00:00:01 dev br0 self permanent
            """)
        // Last port removed.
        lab.run("ct_host> ip link set veth3 nomaster")
        // Give linkwatch (which defers a bridge's carrier loss by up to 1 s) time to run.
        lab.run("sleep 1.5")
        lab.check("ct_host> ip link show", """
            1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536 qdisc noqueue state UNKNOWN mode DEFAULT group default qlen 1000
                link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00
            2: veth1@if3: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue state UP mode DEFAULT group default qlen 1000
                link/ether 02:00:00:00:00:11 brd ff:ff:ff:ff:ff:ff link-netns ct_c0
            4: veth3@if5: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue state UP mode DEFAULT group default qlen 1000
                link/ether 02:00:00:00:00:21 brd ff:ff:ff:ff:ff:ff link-netns ct_c1
            6: br0: <NO-CARRIER,BROADCAST,MULTICAST,UP> mtu 1500 qdisc noqueue state DOWN mode DEFAULT group default qlen 1000
                link/ether 00:00:00:00:00:00 brd ff:ff:ff:ff:ff:ff
            """)
        lab.check("ct_host> ip addr show", """
            1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536 qdisc noqueue state UNKNOWN group default qlen 1000
                link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00
                inet 127.0.0.1/8 scope host lo
                   valid_lft forever preferred_lft forever
            2: veth1@if3: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue state UP group default qlen 1000
                link/ether 02:00:00:00:00:11 brd ff:ff:ff:ff:ff:ff link-netns ct_c0
            4: veth3@if5: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue state UP group default qlen 1000
                link/ether 02:00:00:00:00:21 brd ff:ff:ff:ff:ff:ff link-netns ct_c1
            6: br0: <NO-CARRIER,BROADCAST,MULTICAST,UP> mtu 1500 qdisc noqueue state DOWN group default qlen 1000
                link/ether 00:00:00:00:00:00 brd ff:ff:ff:ff:ff:ff
                inet 172.18.0.1/24 scope global br0
                   valid_lft forever preferred_lft forever
            """)
        lab.check("ct_host> ip -br link", """
            lo               UNKNOWN        00:00:00:00:00:00 <LOOPBACK,UP,LOWER_UP>\u{20}
            veth1@if3        UP             02:00:00:00:00:11 <BROADCAST,MULTICAST,UP,LOWER_UP>\u{20}
            veth3@if5        UP             02:00:00:00:00:21 <BROADCAST,MULTICAST,UP,LOWER_UP>\u{20}
            br0              DOWN           00:00:00:00:00:00 <NO-CARRIER,BROADCAST,MULTICAST,UP>\u{20}
            """)
        lab.check("ct_host> ip -br addr", """
            lo               UNKNOWN        127.0.0.1/8\u{20}
            veth1@if3        UP            \u{20}
            veth3@if5        UP            \u{20}
            br0              DOWN           172.18.0.1/24\u{20}
            """)
        lab.check("ct_host> ip -o addr", """
            1: lo    inet 127.0.0.1/8 scope host lo\\       valid_lft forever preferred_lft forever
            6: br0    inet 172.18.0.1/24 scope global br0\\       valid_lft forever preferred_lft forever
            """)
        lab.check("ct_host> brctl show", """
            bridge name\tbridge id\t\tSTP enabled\tinterfaces
            br0\t\t8000.000000000000\tno\t\t
            """)
        lab.check("ct_host> brctl showmacs br0", "port no\tmac addr\t\tis local?\tageing timer")
        lab.check("ct_host> bridge link")
        lab.check("ct_host> bridge fdb show", """
            33:33:00:00:00:01 dev veth1 self permanent
            01:00:5e:00:00:01 dev veth1 self permanent
            33:33:00:00:00:01 dev veth3 self permanent
            01:00:5e:00:00:01 dev veth3 self permanent
            33:33:00:00:00:01 dev br0 self permanent
            01:00:5e:00:00:6a dev br0 self permanent
            33:33:00:00:00:6a dev br0 self permanent
            01:00:5e:00:00:01 dev br0 self permanent
            """)
        lab.check("ct_host> bridge fdb show br br0", """
            33:33:00:00:00:01 dev br0 self permanent
            01:00:5e:00:00:6a dev br0 self permanent
            33:33:00:00:00:6a dev br0 self permanent
            01:00:5e:00:00:01 dev br0 self permanent
            """)
        lab.check("ct_host> ip route show", """
            172.18.0.0/24 dev br0 proto kernel scope link src 172.18.0.1 linkdown\u{20}
            """)
        // A port's peer deleted from the container side.
        lab.run("""
            ct_host> brctl addif br0 veth1
            ct_c0> ip link del veth0
            sleep 1.5
            """)
        lab.check("ct_host> ip link show", """
            1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536 qdisc noqueue state UNKNOWN mode DEFAULT group default qlen 1000
                link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00
            4: veth3@if5: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue state UP mode DEFAULT group default qlen 1000
                link/ether 02:00:00:00:00:21 brd ff:ff:ff:ff:ff:ff link-netns ct_c1
            6: br0: <NO-CARRIER,BROADCAST,MULTICAST,UP> mtu 1500 qdisc noqueue state DOWN mode DEFAULT group default qlen 1000
                link/ether 00:00:00:00:00:00 brd ff:ff:ff:ff:ff:ff
            """)
        lab.check("ct_host> brctl show", """
            bridge name\tbridge id\t\tSTP enabled\tinterfaces
            br0\t\t8000.000000000000\tno\t\t
            """)
        lab.check("ct_c0> ip link show", """
            1: lo: <LOOPBACK> mtu 65536 qdisc noop state DOWN mode DEFAULT group default qlen 1000
                link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00
            """)
        lab.check("ct_c0> ip route show")
        // A bridge that is down can be deleted with brctl; ip link del deletes one that is up.
        lab.run("ct_host> ip link set br0 down")
        lab.check("ct_host> ip link show dev br0", """
            6: br0: <BROADCAST,MULTICAST> mtu 1500 qdisc noqueue state DOWN mode DEFAULT group default qlen 1000
                link/ether 00:00:00:00:00:00 brd ff:ff:ff:ff:ff:ff
            """)
        lab.run("""
            ct_host> brctl delbr br0
            ct_host> ip link add br1 type bridge
            ct_host> ip link set br1 up
            """)
        lab.check("ct_host> brctl show", """
            bridge name\tbridge id\t\tSTP enabled\tinterfaces
            br1\t\t8000.000000000000\tno\t\t
            """)
        lab.run("ct_host> ip link del br1")
        lab.check("ct_host> brctl show")
        lab.check("ct_host> ip link show", """
            1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536 qdisc noqueue state UNKNOWN mode DEFAULT group default qlen 1000
                link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00
            4: veth3@if5: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue state UP mode DEFAULT group default qlen 1000
                link/ether 02:00:00:00:00:21 brd ff:ff:ff:ff:ff:ff link-netns ct_c1
            """)
    }
}
