// NetToolsRouteTests: net-tools' route (2.10) beyond the plain cases: host routes with a mask,
// -net without one, reject routes, -e, -C, -A inet, and its exit statuses.
// Every expected text was observed on Linux 6.18 / net-tools 2.10 on 2026-11-23, running the
// same commands in a namespace of its own (veth ends v0/v1 up, 10.0.0.1/24 on v0).

import XCTest

final class NetToolsRouteTests: XCTestCase {
    private func lab() -> Lab {
        let lab = Lab()
        lab.run("""
            ip netns add ct_r
            ct_r> ip link add v0 type veth peer name v1
            ct_r> ip link set v0 up
            ct_r> ip link set v1 up
            ct_r> ip addr add 10.0.0.1/24 dev v0
            """)
        return lab
    }

    private let usage = """
        Usage: inet_route [-vF] del {-host|-net} Target[/prefix] [gw Gw] [metric M] [[dev] If]
               inet_route [-vF] add {-host|-net} Target[/prefix] [gw Gw] [metric M]
                                      [netmask N] [mss Mss] [window W] [irtt I]
                                      [mod] [dyn] [reinstate] [[dev] If]
               inet_route [-vF] add {-host|-net} Target[/prefix] [metric M] reject
               inet_route [-FC] flush      NOT supported
        """

    /// observed on Linux 6.18: a host route (or a target without -net) takes /32 or /0 only and
    /// names the other masks' host bits in hex; -net without a mask reaches the kernel as
    /// mask 0 (EINVAL unless 0.0.0.0); names that do not resolve exit 6.
    func testMasks() {
        let lab = lab()
        lab.check("ct_r> route add -host 192.168.0.0/8 gw 10.0.0.2", status: 3,
                  stderr: "route: netmask 00ffffff doesn't make sense with host route\n" + usage)
        lab.check("ct_r> route add -host 192.168.0.0/25 gw 10.0.0.2", status: 3,
                  stderr: "route: netmask 0000007f doesn't make sense with host route\n" + usage)
        lab.check("ct_r> route add 192.168.1.0 netmask 255.255.255.0 gw 10.0.0.2", status: 3,
                  stderr: "route: netmask 000000ff doesn't make sense with host route\n" + usage)
        lab.check("ct_r> route add -host 192.168.0.0/0 gw 10.0.0.2")
        lab.check("ct_r> route add 192.168.0.0 gw 10.0.0.2", status: 7, stderr: "SIOCADDRT: File exists")
        lab.check("ct_r> route add -net 10.2.0.0 gw 10.0.0.2", status: 7, stderr: "SIOCADDRT: Invalid argument")
        lab.check("ct_r> route add -net 0.0.0.0 gw 10.0.0.2")
        lab.check("ct_r> route del -net 10.2.0.0", status: 7, stderr: "SIOCDELRT: Invalid argument")
        lab.check("ct_r> route add -net foo gw 10.0.0.2", status: 6, stderr: "foo: Host name lookup failure")
        lab.check("ct_r> route add -net 192.168.13.0/24 gw foo", status: 6, stderr: "foo: Unknown host")
        lab.check("ct_r> route add", stderr: usage)
        lab.check("ct_r> route -n", """
            Kernel IP routing table
            Destination     Gateway         Genmask         Flags Metric Ref    Use Iface
            0.0.0.0         10.0.0.2        0.0.0.0         UG    0      0        0 v0
            10.0.0.0        0.0.0.0         255.255.255.0   U     0      0        0 v0
            192.168.0.0     10.0.0.2        255.255.255.255 UGH   0      0        0 v0
            """)
    }

    /// observed on Linux 6.18: `reject` makes an unreachable route of host scope, without the
    /// device it was given; -e alone shows MSS, Window and irtt; -C the (empty) cache.
    func testRejectAndFormats() {
        let lab = lab()
        lab.run("""
            ct_r> route add -net 10.12.0.0/16 dev v0 reject
            ct_r> route add -net 192.168.5.0/24 gw 10.0.0.2
            """)
        lab.check("ct_r> ip route", """
            10.0.0.0/24 dev v0 proto kernel scope link src 10.0.0.1\u{20}
            unreachable 10.12.0.0/16 scope host\u{20}
            192.168.5.0/24 via 10.0.0.2 dev v0\u{20}
            """)
        lab.check("ct_r> route -e -n", """
            Kernel IP routing table
            Destination     Gateway         Genmask         Flags   MSS Window  irtt Iface
            10.0.0.0        0.0.0.0         255.255.255.0   U         0 0          0 v0
            10.12.0.0       -               255.255.0.0     !         - -          - -
            192.168.5.0     10.0.0.2        255.255.255.0   UG        0 0          0 v0
            """)
        lab.check("ct_r> route -n -A inet", """
            Kernel IP routing table
            Destination     Gateway         Genmask         Flags Metric Ref    Use Iface
            10.0.0.0        0.0.0.0         255.255.255.0   U     0      0        0 v0
            10.12.0.0       -               255.255.0.0     !     0      -        0 -
            192.168.5.0     10.0.0.2        255.255.255.0   UG    0      0        0 v0
            """)
        lab.check("ct_r> route -C", """
            Kernel IP routing cache
            Source          Destination     Gateway         Flags Metric Ref    Use Iface
            """)
        // An unknown option: getopt's complaint, the usage on stdout, and exit status 0.
        let r = lab.exec("ct_r> route -x")
        XCTAssertEqual(r.err, "route: invalid option -- 'x'\n")
        XCTAssertTrue(r.out.hasPrefix("Usage: route [-nNvee] [-FC] [<AF>]"))
        XCTAssertEqual(r.status, 0)
    }
}
