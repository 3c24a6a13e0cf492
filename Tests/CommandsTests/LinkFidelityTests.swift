// LinkFidelityTests: ip link commands (names, MTU, masters) compared with Linux 6.18 and
// iproute2 6.1. Each expectation was observed by running the same commands in fid_*
// namespaces on that kernel.

import XCTest

final class LinkFidelityTests: XCTestCase {

    /// iproute2 checks a `name` word with check_ifname() (15 bytes, no '/', no white space) and
    /// a device word with check_altifname() (no length limit); the kernel's IFLA_IFNAME policy
    /// then refuses 16 bytes, and dev_valid_name() ':' and "." without an extended ack.
    func testInterfaceNameChecks() {
        let lab = Lab()
        lab.run("ip netns add fid_t")
        // observed on Linux 6.18: each message alone on its line, no empty line after it.
        lab.check("fid_t> ip link add a/b type bridge", status: 255, stderr: """
            Error: argument "a/b" is wrong: "dev" not a valid ifname
            """)
        lab.check("fid_t> ip link add name 0123456789abcdef type bridge", status: 255, stderr: """
            Error: argument "0123456789abcdef" is wrong: "name" not a valid ifname
            """)
        lab.check("fid_t> ip link add dev 0123456789abcdef type bridge", status: 2, stderr: """
            Error: Attribute failed policy validation.
            """)
        lab.check("fid_t> ip link add veth0 type veth peer 0123456789abcdef", status: 2, stderr: """
            Error: Attribute failed policy validation.
            """)
        lab.check("fid_t> ip link add veth0 type veth peer name 0123456789abcdef", status: 255, stderr: """
            Error: argument "0123456789abcdef" is wrong: "name" not a valid ifname
            """)
        lab.check("fid_t> ip link add a:b type bridge", status: 2, stderr: "RTNETLINK answers: Invalid argument")
        lab.check("fid_t> ip link add . type bridge", status: 2, stderr: "RTNETLINK answers: Invalid argument")
        lab.run("fid_t> ip link add 0123456789abcde type bridge")
        lab.check("fid_t> ip link set 0123456789abcde name a/b", status: 255, stderr: """
            Error: argument "a/b" is wrong: "name" not a valid ifname
            """)
        // observed on Linux 6.18: these invarg() messages end in their own newline.
        lab.check("fid_t> ip link add x mtu abc type bridge", status: 255, stderr: """
            Error: argument "abc" is wrong: Invalid "mtu" value

            """)
        lab.check("fid_t> ip addr add 1.2.3.4/24 dev lo scope bogus", status: 255, stderr: """
            Error: argument "bogus" is wrong: invalid scope value.
            """)
        lab.check("fid_t> ip neigh add 1.2.3.4 dev lo nud bogus", status: 255, stderr: """
            Error: argument "bogus" is wrong: nud state is bad
            """)
    }

    /// br_add_if() refuses a bridge with an extended ack (rtnetlink) or the bare ELOOP (brctl's
    /// ioctl, which bridge-utils words itself).
    func testBridgeIntoBridge() {
        let lab = Lab()
        lab.run("""
            ip netns add fid_t
            fid_t> ip link add br0 type bridge
            fid_t> ip link add br5 type bridge
            """)
        // observed on Linux 6.18:
        lab.check("fid_t> ip link set br5 master br0", status: 2, stderr: "Error: Can not enslave a bridge to a bridge.")
        lab.check("fid_t> ip link set br0 master br0", status: 2, stderr: "Error: Can not enslave a bridge to a bridge.")
        lab.check("fid_t> brctl addif br0 br5", status: 1, stderr: """
            device br5 is a bridge device itself; can't add a bridge device to a bridge device.
            """)
        lab.check("fid_t> ip link set lo master br0", status: 2, stderr: "RTNETLINK answers: Invalid argument")
    }

    /// A bridge follows its smallest port's MTU (br_mtu_auto_adjust()) until its MTU is changed
    /// by hand; setting the MTU it already has, or giving one at creation, does not pin it, and
    /// without ports it goes back to 1500.
    func testBridgeMTUFollowsPorts() {
        let lab = Lab()
        lab.run("""
            ip netns add fid_t
            fid_t> ip link add br0 type bridge
            fid_t> ip link set dev br0 address 02:00:00:00:00:01
            fid_t> ip link add veth0 type veth peer name veth1
            fid_t> ip link set veth0 master br0
            fid_t> ip link set veth0 mtu 9000
            fid_t> ip link set br0 mtu 9000
            fid_t> ip link set veth0 mtu 68
            """)
        // observed on Linux 6.18: br0 at 68 while veth0 is, then at 1500 once it has left.
        lab.check("fid_t> ip link show br0", """
            2: br0: <BROADCAST,MULTICAST> mtu 68 qdisc noop state DOWN mode DEFAULT group default qlen 1000
                link/ether 02:00:00:00:00:01 brd ff:ff:ff:ff:ff:ff
            """)
        lab.run("fid_t> ip link set veth0 nomaster")
        lab.check("fid_t> ip link show br0", """
            2: br0: <BROADCAST,MULTICAST> mtu 1500 qdisc noop state DOWN mode DEFAULT group default qlen 1000
                link/ether 02:00:00:00:00:01 brd ff:ff:ff:ff:ff:ff
            """)
        // observed on Linux 6.18: `mtu 9000` at creation, then a 1500-byte port: 1500.
        lab.run("""
            fid_t> ip link add br1 mtu 9000 type bridge
            fid_t> ip link set dev br1 address 02:00:00:00:00:02
            fid_t> ip link set veth1 master br1
            """)
        lab.check("fid_t> ip link show br1", """
            5: br1: <BROADCAST,MULTICAST> mtu 1500 qdisc noop state DOWN mode DEFAULT group default qlen 1000
                link/ether 02:00:00:00:00:02 brd ff:ff:ff:ff:ff:ff
            """)
        lab.check("fid_t> ip link add br6 mtu 67 type bridge", status: 2, stderr: "Error: mtu less than device minimum.")
        lab.check("fid_t> ip link add br6 mtu 65536 type bridge", status: 2, stderr: "Error: mtu greater than device maximum.")
        // observed on Linux 6.18: veth_validate() has no extended ack.
        lab.check("fid_t> ip link add v9 mtu 65536 type veth", status: 2, stderr: "RTNETLINK answers: Invalid argument")
    }

    /// `netns` moves the new device, not its peer; without a name the kernel numbers both;
    /// on/off words and `show master` failures as iproute2 words them.
    func testAddPlacesAndNamesAndFilters() {
        let lab = Lab()
        lab.run("""
            ip netns add fid_t
            ip netns add fid_c1
            fid_t> ip link add veth0 type veth peer name veth9
            fid_t> ip link add veth5 netns fid_c1 type veth peer name veth6
            fid_t> ip link add type veth
            """)
        for d in ["veth9", "veth0", "veth6", "veth1", "veth2"] { lab.noteRandomMAC("fid_t", d) }
        // observed on Linux 6.18: veth6 stays here; veth1 (the peer, made first) and veth2.
        lab.check("fid_t> ip -br link", """
            lo               DOWN           00:00:00:00:00:00 <LOOPBACK>\u{20}
            veth9@veth0      DOWN           <mac:veth9> <BROADCAST,MULTICAST,M-DOWN>\u{20}
            veth0@veth9      DOWN           <mac:veth0> <BROADCAST,MULTICAST,M-DOWN>\u{20}
            veth6@if2        DOWN           <mac:veth6> <BROADCAST,MULTICAST>\u{20}
            veth1@veth2      DOWN           <mac:veth1> <BROADCAST,MULTICAST,M-DOWN>\u{20}
            veth2@veth1      DOWN           <mac:veth2> <BROADCAST,MULTICAST,M-DOWN>\u{20}
            """)
        lab.check("fid_t> ip link set veth0 promisc maybe", status: 1, stderr: """
            Error: argument of "promisc" must be "on" or "off", not "maybe"
            """)
        lab.check("fid_t> ip link show master nosuch", status: 255, stderr: """
            Error: argument "nosuch" is wrong: Device does not exist

            """)
        lab.check("fid_t> ip link add", status: 1, stderr: """
            Not enough information: "type" argument is required
            """)
    }
}
