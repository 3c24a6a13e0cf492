// SysctlValueTests: how the kernel parses and keeps the values `sysctl -w` writes, and procps-ng
// 4.0.2's options and messages around them.
// Every expected text was observed on Linux 6.18 / procps-ng 4.0.2 on 2026-11-23, running the
// same commands in a namespace of its own (a veth pair v0/v1).

import XCTest

final class SysctlValueTests: XCTestCase {
    private func lab() -> Lab {
        let lab = Lab()
        lab.run("""
            ip netns add ct_s
            ct_s> ip link add v0 type veth peer name v1
            """)
        return lab
    }

    /// observed on Linux 6.18: proc_dointvec keys keep any int (2, -1) and read it back;
    /// numbers are C base 0; "+1", "1x" and too big are EINVAL; after the number, the rest is
    /// ignored.
    func testIntegerValues() {
        let lab = lab()
        lab.check("ct_s> sysctl -w net.ipv4.ip_forward=2", "net.ipv4.ip_forward = 2")
        lab.check("ct_s> sysctl net.ipv4.conf.v0.forwarding", "net.ipv4.conf.v0.forwarding = 2")
        lab.check("ct_s> sysctl -w net.ipv4.ip_forward=-1", "net.ipv4.ip_forward = -1")
        lab.check("ct_s> sysctl net.ipv4.ip_forward", "net.ipv4.ip_forward = -1")
        lab.check("ct_s> sysctl -w net.ipv4.ip_forward=010", "net.ipv4.ip_forward = 010")
        lab.check("ct_s> sysctl net.ipv4.ip_forward", "net.ipv4.ip_forward = 8")
        lab.check("ct_s> sysctl -w net.ipv4.ip_default_ttl=0x40", "net.ipv4.ip_default_ttl = 0x40")
        lab.check("ct_s> sysctl -w \"net.ipv4.ip_forward=1 2\"", "net.ipv4.ip_forward = 1 2")
        lab.check("ct_s> sysctl net.ipv4.ip_forward", "net.ipv4.ip_forward = 1")
        for bad in ["+1", "1x", "99999999999", ""] {
            lab.check("ct_s> sysctl -w net.ipv4.ip_forward=\(bad)", status: 1,
                      stderr: "sysctl: setting key \"net.ipv4.ip_forward\": Invalid argument")
        }
        lab.check("ct_s> sysctl -w net.ipv4.conf.v0.proxy_arp=2", "net.ipv4.conf.v0.proxy_arp = 2")
        lab.check("ct_s> sysctl -w net.ipv4.conf.v0.accept_local=-1", "net.ipv4.conf.v0.accept_local = -1")
        lab.check("ct_s> sysctl net.ipv4.conf.v0.proxy_arp net.ipv4.conf.v0.accept_local", """
            net.ipv4.conf.v0.proxy_arp = 2
            net.ipv4.conf.v0.accept_local = -1
            """)
    }

    /// observed on Linux 6.18: a new ip_forward goes to every device; the value it already has
    /// changes nothing (devinet_sysctl_forward() compares first).
    func testForwardingPropagation() {
        let lab = lab()
        lab.run("""
            ct_s> sysctl -qw net.ipv4.conf.all.forwarding=2
            ct_s> sysctl -qw net.ipv4.conf.v1.forwarding=0
            ct_s> sysctl -qw net.ipv4.ip_forward=2
            """)
        lab.check("ct_s> sysctl net.ipv4.conf.v1.forwarding net.ipv4.conf.default.forwarding", """
            net.ipv4.conf.v1.forwarding = 0
            net.ipv4.conf.default.forwarding = 2
            """)
        lab.run("ct_s> sysctl -qw net.ipv4.ip_forward=1")
        lab.check("ct_s> sysctl net.ipv4.conf.v1.forwarding", "net.ipv4.conf.v1.forwarding = 1")
    }

    /// observed on Linux 6.18: ranges (icmp_echo_* 0-1, icmp_ratelimit and neighbour counts
    /// from 0), milliseconds kept in jiffies (5 reads 8), neigh.default only in init_net.
    func testRangesAndUnits() {
        let lab = lab()
        for kv in ["net.ipv4.icmp_echo_ignore_all=2", "net.ipv4.icmp_ratelimit=-5", "net.ipv4.neigh.v0.ucast_solicit=-1"] {
            let key = String(kv.split(separator: "=")[0])
            lab.check("ct_s> sysctl -w \(kv)", status: 1, stderr: "sysctl: setting key \"\(key)\": Invalid argument")
        }
        lab.run("""
            ct_s> sysctl -qw net.ipv4.neigh.v0.retrans_time_ms=5
            ct_s> sysctl -qw net.ipv4.icmp_ratelimit=5
            """)
        lab.check("ct_s> sysctl -n net.ipv4.neigh.v0.retrans_time_ms net.ipv4.icmp_ratelimit", "8\n8")
        lab.check("ct_s> sysctl net.ipv4.neigh.default.ucast_solicit", status: 1,
                  stderr: "sysctl: cannot stat /proc/sys/net/ipv4/neigh/default/ucast_solicit: No such file or directory")
    }

    /// observed on Linux 6.18: a conf.default write reaches every existing device that never
    /// had the key written (lo too), not forwarding; new devices copy the defaults.
    func testDefaultReachesExistingDevices() {
        let lab = lab()
        lab.run("""
            ct_s> sysctl -qw net.ipv4.conf.v1.rp_filter=1
            ct_s> sysctl -qw net.ipv4.conf.default.rp_filter=2
            ct_s> sysctl -qw net.ipv4.ip_forward=1
            ct_s> sysctl -qw net.ipv4.conf.default.forwarding=0
            ct_s> ip link add br9 type bridge
            """)
        lab.check("ct_s> sysctl net.ipv4.conf.lo.rp_filter net.ipv4.conf.v0.rp_filter net.ipv4.conf.v1.rp_filter net.ipv4.conf.v0.forwarding net.ipv4.conf.br9.forwarding net.ipv4.conf.br9.rp_filter", """
            net.ipv4.conf.lo.rp_filter = 2
            net.ipv4.conf.v0.rp_filter = 2
            net.ipv4.conf.v1.rp_filter = 1
            net.ipv4.conf.v0.forwarding = 1
            net.ipv4.conf.br9.forwarding = 0
            net.ipv4.conf.br9.rp_filter = 2
            """)
    }

    /// observed with procps-ng 4.0.2: combined options, -N, -e, -b, and the three ways of
    /// getting it wrong.
    func testOptions() {
        let lab = lab()
        lab.check("ct_s> sysctl -qw net.ipv4.ip_forward=1")
        lab.check("ct_s> sysctl -N net.ipv4.ip_forward", "net.ipv4.ip_forward")
        lab.check("ct_s> sysctl -e net.ipv4.nosuch")
        let b = lab.exec("ct_s> sysctl -b net.ipv4.ip_forward")
        XCTAssertEqual(b.out, "1")
        lab.check("ct_s> sysctl -x", status: 1,
                  stderr: "sysctl: no variables specified\nTry `sysctl --help' for more information.")
        let bare = lab.exec("ct_s> sysctl")
        XCTAssertEqual(bare.status, 1)
        XCTAssertTrue(bare.err.hasPrefix("\nUsage:\n sysctl [options] [variable[=value] ...]\n"))
        let k = lab.exec("ct_s> sysctl -k")
        XCTAssertEqual(k.status, 0)
        XCTAssertEqual(k.err, "sysctl: invalid option -- 'k'\n")
        XCTAssertTrue(k.out.hasSuffix("For more details see sysctl(8).\n"))
    }
}
