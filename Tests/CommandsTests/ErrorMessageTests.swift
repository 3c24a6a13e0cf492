// ErrorMessageTests: error messages and exit statuses of ip, brctl and bridge.
// Every expected text below was observed on Linux 6.18 / iproute2 6.1 / bridge-utils 1.7 on
// 2026-11-22 by running the same commands in ct_* namespaces (see Lab.swift for the setup).
// Generated from .recordings/ (see its README.md); regenerate rather than edit by hand.

import XCTest

final class ErrorMessageTests: XCTestCase {

    /// ip link: the messages and exit statuses of failing commands (iproute2.md section 11).
    func testIPLinkErrors() {
        let lab = Lab()
        lab.run("""
            ip netns add ct_host
            ip netns add ct_c0
            ip netns add ct_c1
            ct_host> ip link add veth0 type veth peer name veth1
            ct_host> ip link add veth2 type veth peer name veth3
            ct_host> ip link set dev veth0 address 02:00:00:00:00:10
            ct_host> ip link set dev veth1 address 02:00:00:00:00:11
            ct_host> ip link set dev veth2 address 02:00:00:00:00:20
            ct_host> ip link set dev veth3 address 02:00:00:00:00:21
            ct_c1> ip link add veth2 type veth peer name veth5
            """)
        lab.check("ct_host> ip link set veth9 up", status: 1, stderr: """
            Cannot find device "veth9"
            """)
        lab.check("ct_host> ip link set dev veth9 up", status: 1, stderr: """
            Cannot find device "veth9"
            """)
        lab.check("ct_host> ip link add veth0 type veth peer name veth1", status: 2, stderr: "RTNETLINK answers: File exists")
        lab.check("ct_host> ip link add veth7 type veth peer name veth1", status: 2, stderr: "RTNETLINK answers: File exists")
        lab.check("ct_host> ip link add name veth5 type veth peer name veth5", status: 2, stderr: "RTNETLINK answers: File exists")
        lab.check("ct_host> ip link add x type nosuchtype", status: 2, stderr: "Error: Unknown device type.")
        lab.check("ct_host> ip link add veth6", status: 1, stderr: """
            Not enough information: "type" argument is required
            """)
        lab.check("ct_host> ip link set", status: 255, stderr: """
            Not enough information: "dev" argument is required.
            """)
        lab.check("ct_host> ip link set dev", status: 255, stderr: """
            Command line is not complete. Try option "help"
            """)
        lab.check("ct_host> ip link del nosuch", status: 1, stderr: """
            Cannot find device "nosuch"
            """)
        lab.check("ct_host> ip link delete dev nosuch", status: 1, stderr: """
            Cannot find device "nosuch"
            """)
        lab.check("ct_host> ip link set dev veth0 mtu 70000", status: 2, stderr: "Error: mtu greater than device maximum.")
        lab.check("ct_host> ip link set dev veth0 mtu 10", status: 2, stderr: "Error: mtu less than device minimum.")
        lab.check("ct_host> ip link set dev veth0 mtu abc", status: 255, stderr: """
            Error: argument "abc" is wrong: Invalid "mtu" value

            """)
        lab.check("ct_host> ip link set veth0 address 02:00:00:00:00:zz", status: 1, stderr: """
            "zz" is invalid lladdr.
            """)
        lab.check("ct_host> ip link show dev nosuch", status: 1, stderr: """
            Device "nosuch" does not exist.
            """)
        lab.check("ct_host> ip link show nosuch", status: 1, stderr: """
            Device "nosuch" does not exist.
            """)
        lab.check("ct_host> ip -br link show nosuch", status: 1, stderr: """
            Device "nosuch" does not exist.
            """)
        lab.check("ct_host> ip link set veth1 netns ct_nosuch", status: 255, stderr: """
            Error: argument "ct_nosuch" is wrong: Invalid "netns" value

            """)
        lab.check("ct_host> ip link set veth2 netns ct_c1", status: 2, stderr: "Error: An interface with the same name exists in the target netns.")
        lab.check("ct_host> ip link set lo netns ct_c0", status: 2, stderr: "Error: The interface netns is immutable.")
        lab.check("ct_host> ip foo", status: 1, stderr: """
            Object "foo" is unknown, try "ip help".
            """)
        lab.check("ct_host> ip link foo", status: 255, stderr: """
            Command "foo" is unknown, try "ip link help".
            """)
        lab.check("ct_host> ip addr foo", status: 255, stderr: """
            Command "foo" is unknown, try "ip address help".
            """)
        lab.check("ct_host> ip neigh foo", status: 255, stderr: """
            Command "foo" is unknown, try "ip neigh help".
            """)
        // Odd but successful.
        lab.check("ct_host> ip link set veth1 down up")
        lab.check("ct_host> ip link set dev veth0 mtu 9000")
        lab.check("ct_host> ip link show", """
            1: lo: <LOOPBACK> mtu 65536 qdisc noop state DOWN mode DEFAULT group default qlen 1000
                link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00
            2: veth1@veth0: <NO-CARRIER,BROADCAST,MULTICAST,UP,M-DOWN> mtu 1500 qdisc noqueue state LOWERLAYERDOWN mode DEFAULT group default qlen 1000
                link/ether 02:00:00:00:00:11 brd ff:ff:ff:ff:ff:ff
            3: veth0@veth1: <BROADCAST,MULTICAST> mtu 9000 qdisc noop state DOWN mode DEFAULT group default qlen 1000
                link/ether 02:00:00:00:00:10 brd ff:ff:ff:ff:ff:ff
            4: veth3@veth2: <BROADCAST,MULTICAST,M-DOWN> mtu 1500 qdisc noop state DOWN mode DEFAULT group default qlen 1000
                link/ether 02:00:00:00:00:21 brd ff:ff:ff:ff:ff:ff
            5: veth2@veth3: <BROADCAST,MULTICAST,M-DOWN> mtu 1500 qdisc noop state DOWN mode DEFAULT group default qlen 1000
                link/ether 02:00:00:00:00:20 brd ff:ff:ff:ff:ff:ff
            """)
        lab.check("ct_host> ip link show type bridge")
        lab.check("ct_host> ip link show master veth0")
    }

    /// `ip link set PORT master X`: X missing, X already the master, X not a bridge (which first
    /// takes PORT out of its bridge), and a bridge that cannot filter VLANs on this kernel.
    func testMasterErrorsAndSideEffect() {
        let lab = Lab()
        lab.run("""
            ip netns add ct_host
            ct_host> ip link add veth0 type veth peer name veth1
            ct_host> ip link add veth2 type veth peer name veth3
            ct_host> ip link set dev veth0 address 02:00:00:00:00:10
            ct_host> ip link set dev veth1 address 02:00:00:00:00:11
            ct_host> ip link set dev veth2 address 02:00:00:00:00:20
            ct_host> ip link set dev veth3 address 02:00:00:00:00:21
            ct_host> brctl addbr br0
            ct_host> brctl addif br0 veth1
            ct_host> brctl addif br0 veth3
            """)
        lab.check("ct_host> ip link set veth1 master nosuch", status: 255, stderr: """
            Error: argument "nosuch" is wrong: Device does not exist

            """)
        lab.check("ct_host> ip link set veth1 master br0")
        lab.check("ct_host> ip link set veth0 nomaster")
        lab.check("ct_host> ip link set veth1 master veth3", status: 2, stderr: "RTNETLINK answers: Operation not supported")
        lab.check("ct_host> brctl show br0", """
            bridge name\tbridge id\t\tSTP enabled\tinterfaces
            br0\t\t8000.020000000021\tno\t\tveth3
            """)
        lab.check("ct_host> ip link show veth1", """
            2: veth1@veth0: <BROADCAST,MULTICAST,M-DOWN> mtu 1500 qdisc noop state DOWN mode DEFAULT group default qlen 1000
                link/ether 02:00:00:00:00:11 brd ff:ff:ff:ff:ff:ff
            """)
        lab.check("ct_host> bridge fdb show br br0", """
            02:00:00:00:00:21 dev veth3 master br0 permanent
            33:33:00:00:00:01 dev veth3 self permanent
            33:33:00:00:00:01 dev br0 self permanent
            """)
        lab.run("ct_host> brctl addif br0 veth1")
        lab.check("ct_host> ip link set dev veth1 master lo", status: 2, stderr: "RTNETLINK answers: Operation not supported")
        lab.check("ct_host> brctl show br0", """
            bridge name\tbridge id\t\tSTP enabled\tinterfaces
            br0\t\t8000.020000000021\tno\t\tveth3
            """)
        lab.check("ct_host> ip link set br0 type bridge vlan_filtering 1", status: 2, stderr: "RTNETLINK answers: Operation not supported")
    }

    /// ip addr / ip neigh / ip route: bad prefixes, duplicates, missing arguments, unknown devices.
    func testAddressAndNeighbourErrors() {
        let lab = Lab()
        lab.run("""
            ip netns add ct_host
            ct_host> ip link add veth0 type veth peer name veth1
            ct_host> ip link set dev veth0 address 02:00:00:00:00:10
            ct_host> ip link set dev veth1 address 02:00:00:00:00:11
            ct_host> ip link set veth0 up
            ct_host> ip link set veth1 up
            ct_host> ip addr add 172.18.0.2/24 dev veth0
            """)
        lab.check("ct_host> ip addr add 172.18.0.300/24 dev veth0", status: 1, stderr: """
            Error: any valid prefix is expected rather than "172.18.0.300/24".
            """)
        lab.check("ct_host> ip addr add 172.18.0.2/33 dev veth0", status: 1, stderr: """
            Error: any valid prefix is expected rather than "172.18.0.2/33".
            """)
        lab.check("ct_host> ip addr add 172.18.0.2/24 dev veth0", status: 2, stderr: "Error: ipv4: Address already assigned.")
        lab.check("ct_host> ip addr del 172.18.0.77/24 dev veth0", status: 2, stderr: "Error: ipv4: Address not found.")
        lab.check("ct_host> ip addr add 1.2.3.4/24", status: 1, stderr: """
            Not enough information: "dev" argument is required.
            """)
        lab.check("ct_host> ip addr add", status: 1, stderr: """
            Not enough information: "dev" argument is required.
            """)
        lab.check("ct_host> ip addr del 1.2.3.4/24", status: 1, stderr: """
            Not enough information: "dev" argument is required.
            """)
        lab.check("ct_host> ip addr add dev veth1", status: 2, stderr: "RTNETLINK answers: Operation not supported")
        lab.check("ct_host> ip addr add 1.2.3.4/24 dev nosuch", status: 1, stderr: """
            Cannot find device "nosuch"
            """)
        lab.check("ct_host> ip addr show dev nosuch", status: 1, stderr: """
            Device "nosuch" does not exist.
            """)
        lab.check("ct_host> ip neigh show dev nosuch", status: 1, stderr: """
            Cannot find device "nosuch"
            """)
        lab.check("ct_host> ip route show dev nosuch", status: 1, stderr: """
            Cannot find device "nosuch"
            """)
        lab.check("ct_host> ip neigh add 172.18.0.9 dev veth0 lladdr zz", status: 1, stderr: """
            "zz" is invalid lladdr.
            """)
        lab.run("ct_host> ip neigh add 172.18.0.10 dev veth0 lladdr 02:00:00:00:00:aa")
        lab.check("ct_host> ip neigh add 172.18.0.10 dev veth0 lladdr 02:00:00:00:00:aa", status: 2, stderr: "RTNETLINK answers: File exists")
        lab.check("ct_host> ip neigh show", "172.18.0.10 dev veth0 lladdr 02:00:00:00:00:aa PERMANENT\u{20}")
        lab.check("ct_host> ip neigh show dev veth0", "172.18.0.10 lladdr 02:00:00:00:00:aa PERMANENT\u{20}")
        lab.check("ct_host> ip neigh del 172.18.0.99 dev veth0", status: 2, stderr: "RTNETLINK answers: No such file or directory")
        lab.check("ct_host> ip neigh add 172.18.0.9 dev veth0", status: 2, stderr: "Error: No link layer address given.")
        // That failed add left an entry in state NONE behind: adding the address now fails.
        lab.check("ct_host> ip neigh add 172.18.0.9 dev veth0 lladdr 02:00:00:00:00:99", status: 2, stderr: "RTNETLINK answers: File exists")
        lab.check("ct_host> ip neigh show nud none", "172.18.0.9 dev veth0\u{20}")
        // Same address with another prefix length is fine.
        lab.check("ct_host> ip addr add 172.18.0.2/16 dev veth0")
        lab.check("ct_host> ip -br addr show dev veth0", "veth0@veth1      UP             172.18.0.2/24 172.18.0.2/16\u{20}")
    }

    /// ip netns: existing, invalid, missing and unknown names; exec of an unknown program.
    func testNetnsErrors() {
        let lab = Lab()
        lab.run("""
            ip netns add ct_host
            ip netns add ct_c0
            """)
        lab.check("ip netns add ct_c0", status: 1, stderr: """
            Cannot create namespace file "/run/netns/ct_c0": File exists
            """)
        lab.check("ip netns add ct_x/bad", status: 255, stderr: """
            Invalid netns name "ct_x/bad"
            """)
        lab.check("ip netns add", status: 1, stderr: "No netns name specified")
        lab.check("ip netns exec ct_nosuch ip a", status: 255, stderr: """
            Cannot open network namespace "ct_nosuch": No such file or directory
            """)
        lab.check("ip netns exec", status: 1, stderr: "No netns name specified")
        lab.check("ip netns exec ct_host nosuchcmd", status: 1, stderr: """
            exec of "nosuchcmd" failed: No such file or directory
            """)
        lab.check("ip netns del ct_nosuch", status: 1, stderr: """
            Cannot remove namespace file "/run/netns/ct_nosuch": No such file or directory
            """)
        lab.check("ip netns delete ct_nosuch", status: 1, stderr: """
            Cannot remove namespace file "/run/netns/ct_nosuch": No such file or directory
            """)
        lab.check("ip netns list", """
            ct_c0
            ct_host
            """)
        lab.run("ip netns del ct_c0")
        lab.check("ip netns list", "ct_host")
    }

    /// brctl and bridge: every failure of section 11, with brctl's own messages.
    func testBrctlErrors() {
        let lab = Lab()
        lab.run("""
            ip netns add ct_host
            ct_host> ip link add veth0 type veth peer name veth1
            ct_host> ip link add veth2 type veth peer name veth3
            ct_host> brctl addbr br0
            ct_host> ip link add br1 type bridge
            ct_host> brctl addif br0 veth1
            """)
        lab.check("ct_host> brctl addbr br0", status: 1, stderr: "device br0 already exists; can't create bridge with the same name")
        lab.check("ct_host> brctl addbr br1", status: 1, stderr: "device br1 already exists; can't create bridge with the same name")
        lab.check("ct_host> brctl addbr veth0", status: 1, stderr: "device veth0 already exists; can't create bridge with the same name")
        lab.check("ct_host> brctl addif br0 nosuch", status: 1, stderr: "interface nosuch does not exist!")
        lab.check("ct_host> brctl addif nosuch veth1", status: 1, stderr: "bridge nosuch does not exist!")
        lab.check("ct_host> brctl addif br0 veth1", status: 1, stderr: """
            device veth1 is already a member of a bridge; can't add it to bridge br0.
            """)
        lab.check("ct_host> brctl addif br1 veth1", status: 1, stderr: """
            device veth1 is already a member of a bridge; can't add it to bridge br1.
            """)
        lab.check("ct_host> brctl addif br0 br1", status: 1, stderr: """
            device br1 is a bridge device itself; can't add a bridge device to a bridge device.
            """)
        lab.check("ct_host> brctl addif br0 lo", status: 1, stderr: "can't add lo to bridge br0: Invalid argument")
        lab.check("ct_host> brctl delif br0 veth9", status: 1, stderr: "interface veth9 does not exist!")
        lab.check("ct_host> brctl delif br0 lo", status: 1, stderr: "device lo is not a port of br0")
        lab.check("ct_host> brctl delif br1 veth1", status: 1, stderr: "device veth1 is not a port of br1")
        lab.check("ct_host> brctl delbr nosuch", status: 1, stderr: "bridge nosuch doesn't exist; can't delete it")
        lab.run("ct_host> ip link set br0 up")
        lab.check("ct_host> brctl delbr br0", status: 1, stderr: "bridge br0 is still up; can't delete it")
        lab.check("ct_host> brctl delbr veth0", status: 1, stderr: "can't delete bridge veth0: Operation not permitted")
        lab.check("ct_host> brctl show nosuch", status: 1, stderr: "bridge nosuch does not exist!")
        lab.check("ct_host> brctl show veth0", status: 1, stderr: "device veth0 is not a bridge!")
        lab.check("ct_host> brctl showstp nosuch", status: 1, stderr: "bridge nosuch does not exist!")
        lab.check("ct_host> brctl showmacs nosuch", status: 1, stderr: "read of forward table failed: No such device")
        lab.check("ct_host> brctl foo", """
            Usage: brctl [commands]
            commands:
            \taddbr     \t<bridge>\t\tadd bridge
            \tdelbr     \t<bridge>\t\tdelete bridge
            \taddif     \t<bridge> <device>\tadd interface to bridge
            \tdelif     \t<bridge> <device>\tdelete interface from bridge
            \thairpin   \t<bridge> <port> {on|off}\tturn hairpin on/off
            \tsetageing \t<bridge> <time>\t\tset ageing time
            \tsetbridgeprio\t<bridge> <prio>\t\tset bridge priority
            \tsetfd     \t<bridge> <time>\t\tset bridge forward delay
            \tsethello  \t<bridge> <time>\t\tset hello time
            \tsetmaxage \t<bridge> <time>\t\tset max message age
            \tsetpathcost\t<bridge> <port> <cost>\tset path cost
            \tsetportprio\t<bridge> <port> <prio>\tset port priority
            \tshow      \t[ <bridge> ]\t\tshow a list of bridges
            \tshowmacs  \t<bridge>\t\tshow a list of mac addrs
            \tshowstp   \t<bridge>\t\tshow bridge stp info
            \tstp       \t<bridge> {on|off}\tturn stp on/off
            """, status: 1, stderr: "never heard of command [foo]")
        lab.check("ct_host> brctl", """
            Usage: brctl [commands]
            commands:
            \taddbr     \t<bridge>\t\tadd bridge
            \tdelbr     \t<bridge>\t\tdelete bridge
            \taddif     \t<bridge> <device>\tadd interface to bridge
            \tdelif     \t<bridge> <device>\tdelete interface from bridge
            \thairpin   \t<bridge> <port> {on|off}\tturn hairpin on/off
            \tsetageing \t<bridge> <time>\t\tset ageing time
            \tsetbridgeprio\t<bridge> <prio>\t\tset bridge priority
            \tsetfd     \t<bridge> <time>\t\tset bridge forward delay
            \tsethello  \t<bridge> <time>\t\tset hello time
            \tsetmaxage \t<bridge> <time>\t\tset max message age
            \tsetpathcost\t<bridge> <port> <cost>\tset path cost
            \tsetportprio\t<bridge> <port> <prio>\tset port priority
            \tshow      \t[ <bridge> ]\t\tshow a list of bridges
            \tshowmacs  \t<bridge>\t\tshow a list of mac addrs
            \tshowstp   \t<bridge>\t\tshow bridge stp info
            \tstp       \t<bridge> {on|off}\tturn stp on/off
            """, status: 1)
        lab.check("ct_host> brctl addbr", """
            Incorrect number of arguments for command
            Usage: brctl addbr <bridge>\t\tadd bridge
            """, status: 1)
        lab.check("ct_host> bridge fdb show br nosuch", status: 255, stderr: """
            Cannot find bridge device "nosuch"
            """)
        lab.check("ct_host> bridge fdb show dev nosuch", status: 255, stderr: """
            Cannot find device "nosuch"
            """)
        lab.check("ct_host> bridge link show dev nosuch", status: 255, stderr: """
            Cannot find device "nosuch"
            """)
        lab.check("ct_host> bridge link show dev veth0")
        lab.check("ct_host> bridge link show dev veth1", """
            2: veth1@veth0: <BROADCAST,MULTICAST,M-DOWN> mtu 1500 master br0 state disabled priority 32 cost 2\u{20}
            """)
    }
}
