// `ip tuntap` and how ip shows a tun device, recorded on Linux 6.18 / iproute2 6.1 in a
// namespace (the same commands through tools/fidelity/replay.py). One deliberate difference:
// a tun device that comes up gets qdisc fq_codel here (net.core.default_qdisc of the
// distributions the labs come from); the recording machine's default is pfifo_fast.

import XCTest
@testable import Commands

final class TuntapTests: XCTestCase {
    func testAddShowDelete() {
        let lab = Lab()
        lab.run("ip tuntap add dev tun0 mode tun")
        let header = "2: tun0: <POINTOPOINT,MULTICAST,NOARP> mtu 1500 qdisc noop state DOWN mode DEFAULT group default qlen 500"
        lab.check("ip link show tun0", header + "\n    link/none ")
        lab.check("ip -d link show tun0", header + "\n    link/none  promiscuity 0  allmulti 0 minmtu 68 maxmtu 65535 "
            + "\n    tun type tun pi off vnet_hdr off persist on addrgenmode eui64 numtxqueues 1 numrxqueues 1 gso_max_size 65536 gso_max_segs 65535 tso_max_size 65536 tso_max_segs 65535 gro_max_size 65536 ")
        lab.check("ip tuntap show", "tun0: tun persist")
        // IFF_TUN_EXCL: any name already taken is busy; deleting a device of another kind is
        // EINVAL; deleting a name nobody has creates and removes it, silently.
        lab.check("ip tuntap add dev tun0 mode tun", status: 1, stderr: "ioctl(TUNSETIFF): Device or resource busy")
        lab.check("ip tuntap add dev x", status: 1, stderr: "You failed to specify a tunnel mode")
        lab.check("ip tuntap add dev y mode foo", status: 255, stderr: "Unknown tunnel mode \"foo\"")
        lab.check("ip tuntap del dev nosuch mode tun")
        lab.run("ip link add veth0 type veth peer name v1")
        lab.check("ip tuntap add dev veth0 mode tun", status: 1, stderr: "ioctl(TUNSETIFF): Device or resource busy")
        lab.check("ip tuntap del dev veth0 mode tun", status: 1, stderr: "ioctl(TUNSETIFF): Invalid argument")
        lab.run("ip tuntap add tun1 mode tun")
        lab.check("ip tuntap list", "tun0: tun persist\ntun1: tun persist")
        // Up without a process attached: no carrier.
        lab.run("ip link set tun1 up")
        lab.check("ip -br link show tun1", "tun1             DOWN           <NO-CARRIER,POINTOPOINT,MULTICAST,NOARP,UP> ")
        lab.run("ip tuntap del dev tun0 mode tun")
        lab.check("ip tuntap show", "tun1: tun persist")
    }
}
