// RouteSelectorTests: `ip route` beyond add/del: protocols by name and number, change and
// prepend, the SELECTOR of show and flush, and `ip route get` with from, dev and mark.
// Every expected text was observed on Linux 6.18 / iproute2 6.1 on 2026-11-23, running the
// same commands in a namespace of its own (two veth ends v0/v1, 10.0.0.1/24 on v0).

import XCTest

final class RouteSelectorTests: XCTestCase {
    private func lab() -> Lab {
        let lab = Lab()
        lab.run("""
            ip netns add ct_r
            ct_r> ip link add v0 type veth peer name v1
            ct_r> ip link set v0 up
            ct_r> ip link set v1 up
            ct_r> ip link set lo up
            ct_r> ip addr add 10.0.0.1/24 dev v0
            """)
        return lab
    }

    /// observed on Linux 6.18: any protocol number up to 255 is taken; rt_protos names print.
    func testProtocolNamesAndNumbers() {
        let lab = lab()
        lab.run("""
            ct_r> ip route add 192.168.9.0/24 via 10.0.0.2 proto 42
            ct_r> ip route add 7.7.7.0/24 dev v0 proto 0x10
            ct_r> ip route add 7.7.8.0/24 dev v0 proto 200
            ct_r> ip route add 7.7.10.0/24 dev v0 proto ra
            """)
        lab.check("ct_r> ip route add 7.7.9.0/24 dev v0 proto 300", status: 255,
                  stderr: "Error: argument \"300\" is wrong: \"protocol\" value is invalid\n")
        lab.check("ct_r> ip route", """
            7.7.7.0/24 dev v0 proto dhcp scope link\u{20}
            7.7.8.0/24 dev v0 proto 200 scope link\u{20}
            7.7.10.0/24 dev v0 proto ra scope link\u{20}
            10.0.0.0/24 dev v0 proto kernel scope link src 10.0.0.1\u{20}
            192.168.9.0/24 via 10.0.0.2 dev v0 proto babel\u{20}
            """)
        lab.check("ct_r> ip route show proto dhcp", "7.7.7.0/24 dev v0 scope link ")
        lab.check("ct_r> ip route show proto 300", status: 255,
                  stderr: "Error: argument \"300\" is wrong: invalid \"protocol\"\n")
    }

    /// observed on Linux 6.18: change needs an existing route (ENOENT); prepend goes before the
    /// routes of the same destination and metric, append after, the same route twice is EEXIST.
    func testChangePrependAppend() {
        let lab = lab()
        lab.run("""
            ct_r> ip route add 192.168.5.0/24 via 10.0.0.2
            ct_r> ip route change 192.168.5.0/24 via 10.0.0.4
            ct_r> ip route prepend 192.168.5.0/24 via 10.0.0.3
            ct_r> ip route append 192.168.5.0/24 via 10.0.0.5
            """)
        lab.check("ct_r> ip route change 192.168.99.0/24 via 10.0.0.4", status: 2,
                  stderr: "RTNETLINK answers: No such file or directory")
        lab.check("ct_r> ip route prepend 192.168.5.0/24 via 10.0.0.3", status: 2,
                  stderr: "RTNETLINK answers: File exists")
        lab.check("ct_r> ip route show 192.168.5.0/24", """
            192.168.5.0/24 via 10.0.0.3 dev v0\u{20}
            192.168.5.0/24 via 10.0.0.4 dev v0\u{20}
            192.168.5.0/24 via 10.0.0.5 dev v0\u{20}
            """)
    }

    /// observed on Linux 6.18: root/match/exact prefixes; a field the selector pins is not printed.
    func testShowSelectors() {
        let lab = lab()
        lab.run("""
            ct_r> ip route add 192.168.5.0/24 via 10.0.0.2
            ct_r> ip route add 192.168.5.128/25 via 10.0.0.3
            ct_r> ip route add 192.168.0.0/16 via 10.0.0.2 metric 7
            ct_r> ip route add default via 10.0.0.2
            ct_r> ip route add blackhole 10.9.0.0/16
            ct_r> ip route add 1.2.3.0/24 via 10.0.0.2 table 100
            """)
        lab.check("ct_r> ip route show 192.168.5.7")
        lab.check("ct_r> ip route show default", "default via 10.0.0.2 dev v0 ")
        lab.check("ct_r> ip route show root 192.168.0.0/16", """
            192.168.0.0/16 via 10.0.0.2 dev v0 metric 7\u{20}
            192.168.5.0/24 via 10.0.0.2 dev v0\u{20}
            192.168.5.128/25 via 10.0.0.3 dev v0\u{20}
            """)
        lab.check("ct_r> ip route show match 192.168.5.200", """
            default via 10.0.0.2 dev v0\u{20}
            192.168.0.0/16 via 10.0.0.2 dev v0 metric 7\u{20}
            192.168.5.0/24 via 10.0.0.2 dev v0\u{20}
            192.168.5.128/25 via 10.0.0.3 dev v0\u{20}
            """)
        lab.check("ct_r> ip route show exact 192.168.5.0/24", "192.168.5.0/24 via 10.0.0.2 dev v0 ")
        lab.check("ct_r> ip route show via 10.0.0.3", "192.168.5.128/25 dev v0 ")
        lab.check("ct_r> ip route show src 10.0.0.1", "10.0.0.0/24 dev v0 proto kernel scope link ")
        lab.check("ct_r> ip route show metric 7", "192.168.0.0/16 via 10.0.0.2 dev v0 ")
        lab.check("ct_r> ip route show scope link", "10.0.0.0/24 dev v0 proto kernel src 10.0.0.1 ")
        lab.check("ct_r> ip route show type blackhole", "blackhole 10.9.0.0/16 ")
        lab.check("ct_r> ip route show table local type broadcast",
                  """
                  broadcast 10.0.0.255 dev v0 proto kernel scope link src 10.0.0.1\u{20}
                  broadcast 127.255.255.255 dev lo proto kernel scope link src 127.0.0.1\u{20}
                  """)
        // The kernel dumps its tables by id modulo 256: 100 before main (254) and local (255).
        lab.check("ct_r> ip route show table all", """
            1.2.3.0/24 via 10.0.0.2 dev v0 table 100\u{20}
            default via 10.0.0.2 dev v0\u{20}
            10.0.0.0/24 dev v0 proto kernel scope link src 10.0.0.1\u{20}
            blackhole 10.9.0.0/16\u{20}
            192.168.0.0/16 via 10.0.0.2 dev v0 metric 7\u{20}
            192.168.5.0/24 via 10.0.0.2 dev v0\u{20}
            192.168.5.128/25 via 10.0.0.3 dev v0\u{20}
            local 10.0.0.1 dev v0 table local proto kernel scope host src 10.0.0.1\u{20}
            broadcast 10.0.0.255 dev v0 table local proto kernel scope link src 10.0.0.1\u{20}
            local 127.0.0.0/8 dev lo table local proto kernel scope host src 127.0.0.1\u{20}
            local 127.0.0.1 dev lo table local proto kernel scope host src 127.0.0.1\u{20}
            broadcast 127.255.255.255 dev lo table local proto kernel scope link src 127.0.0.1\u{20}
            """)
        lab.check("ct_r> ip route show table 101", status: 2,
                  stderr: "Error: ipv4: FIB table does not exist.\nDump terminated")
        lab.check("ct_r> ip route show table default", status: 2,
                  stderr: "Error: ipv4: FIB table does not exist.\nDump terminated")
        lab.check("ct_r> ip route show table foo", status: 255,
                  stderr: "Error: argument \"foo\" is wrong: table id value is invalid\n")
        lab.check("ct_r> ip route show type foo", status: 255,
                  stderr: "Error: argument \"foo\" is wrong: node type value is invalid\n")
        lab.check("ct_r> ip route show scope foo", status: 255,
                  stderr: "Error: argument \"foo\" is wrong: invalid \"scope\"\n")
        lab.check("ct_r> ip route show dev nosuch", status: 1, stderr: "Cannot find device \"nosuch\"")
        lab.check("ct_r> ip route show foo", status: 1,
                  stderr: "Error: any valid prefix is expected rather than \"foo\".")
        // A table stays once made, even empty.
        lab.run("ct_r> ip route del 1.2.3.0/24 table 100")
        lab.check("ct_r> ip route show table 100")
    }

    /// observed on Linux 6.18: flush needs a selector; it takes kernel routes too.
    func testFlush() {
        let lab = lab()
        lab.run("""
            ct_r> ip route add 192.168.5.0/24 via 10.0.0.2
            ct_r> ip route add 192.168.6.0/24 via 10.0.0.3
            ct_r> ip route add blackhole 10.9.0.0/16
            """)
        lab.check("ct_r> ip route flush", status: 1, stderr: "\"ip route flush\" requires arguments.")
        lab.check("ct_r> ip route flush table 100", status: 2,
                  stderr: "Error: ipv4: FIB table does not exist.\nFlush terminated")
        lab.check("ct_r> ip route flush cache")
        lab.check("ct_r> ip route flush via 10.0.0.3")
        lab.check("ct_r> ip route", """
            10.0.0.0/24 dev v0 proto kernel scope link src 10.0.0.1\u{20}
            blackhole 10.9.0.0/16\u{20}
            192.168.5.0/24 via 10.0.0.2 dev v0\u{20}
            """)
        lab.check("ct_r> ip route flush dev v0")
        lab.check("ct_r> ip route", "blackhole 10.9.0.0/16 ")
        lab.check("ct_r> ip route flush table main")
        lab.check("ct_r> ip route")
    }

    /// observed on Linux 6.18: from (no src printed; a foreign source finds no route), dev (an
    /// address without a route there is taken as on link), mark, the last address wins.
    func testGet() {
        let lab = lab()
        lab.run("ct_r> ip route add 192.168.5.0/24 via 10.0.0.3")
        lab.check("ct_r> ip route get", status: 1, stderr: "need at least a destination address")
        lab.check("ct_r> ip route get 192.168.5.200 from 10.0.0.1", """
            192.168.5.200 from 10.0.0.1 via 10.0.0.3 dev v0 uid 0\u{20}
                cache\u{20}
            """)
        lab.check("ct_r> ip route get 192.168.5.200 from 10.9.9.9", status: 2,
                  stderr: "RTNETLINK answers: Network is unreachable")
        lab.check("ct_r> ip route get 10.0.0.5 dev v1", """
            10.0.0.5 dev v1 src 10.0.0.1 uid 0\u{20}
                cache\u{20}
            """)
        lab.check("ct_r> ip route get 10.0.0.5 mark 3", """
            10.0.0.5 dev v0 src 10.0.0.1 mark 3 uid 0\u{20}
                cache\u{20}
            """)
        lab.check("ct_r> ip route get 10.0.0.5 10.0.0.6", """
            10.0.0.6 dev v0 src 10.0.0.1 uid 0\u{20}
                cache\u{20}
            """)
        lab.check("ct_r> ip route get 10.0.0.0/24", """
            10.0.0.0 dev v0 src 10.0.0.1 uid 0\u{20}
                cache\u{20}
            """, stderr: "Warning: /24 as prefix is invalid, only /32 (or none) is supported.")
        lab.check("ct_r> ip route get 10.0.0.255", """
            broadcast 10.0.0.255 dev v0 src 10.0.0.1 uid 0\u{20}
                cache <local,brd>\u{20}
            """)
        lab.check("ct_r> ip route get 10.0.0.1 from 10.0.0.1", """
            local 10.0.0.1 from 10.0.0.1 dev lo uid 0\u{20}
                cache <local>\u{20}
            """)
        lab.check("ct_r> ip route get 10.0.0.5 foo", status: 1,
                  stderr: "Error: inet prefix is expected rather than \"foo\".")
    }
}

/// `ip route del` matching and `ip route add` details. Observed on Linux 6.18 / iproute2 6.1 on
/// 2026-11-23 in a namespace of its own: veth v0 (up, 10.0.0.1/24) and v1 (down, 10.1.0.1/24).
final class RouteDeleteTests: XCTestCase {
    func testDeleteMatchesAndAddDetails() {
        let lab = Lab()
        lab.run("""
            ip netns add ct_r
            ct_r> ip link add v0 type veth peer name v1
            ct_r> ip link set v0 up
            ct_r> ip addr add 10.0.0.1/24 dev v0
            ct_r> ip addr add 10.1.0.1/24 dev v1
            ct_r> ip route add 192.168.4.0/24 via 10.5.0.2 dev v0 onlink
            """)
        for sel in ["proto static", "metric 5", "scope link", "via 10.5.0.3", "dev v1"] {
            lab.check("ct_r> ip route del 192.168.4.0/24 \(sel)", status: 2, stderr: "RTNETLINK answers: No such process")
        }
        lab.check("ct_r> ip route del 192.168.4.0/24 table 100", status: 2, stderr: "Error: FIB table does not exist.")
        lab.run("ct_r> ip route del 192.168.4.0/24 via 10.5.0.2")
        lab.check("ct_r> ip route add 192.168.2.0/24 dev v1", status: 2, stderr: "Error: Device for nexthop is not up.")
        lab.run("""
            ct_r> ip route add local 10.20.0.0/16 dev lo
            ct_r> ip route add 10.21.0.0/16 dev v0 metric 0x10
            ct_r> ip route add 10.23.0.0/16 via 10.0.0.1
            """)
        lab.check("ct_r> ip route", """
            10.0.0.0/24 dev v0 proto kernel scope link src 10.0.0.1 linkdown\u{20}
            10.21.0.0/16 dev v0 scope link metric 16 linkdown\u{20}
            10.23.0.0/16 via 10.0.0.1 dev v0 linkdown\u{20}
            """)
        lab.check("ct_r> ip route show table local type local", """
            local 10.0.0.1 dev v0 proto kernel scope host src 10.0.0.1\u{20}
            local 10.1.0.1 dev v1 proto kernel scope host src 10.1.0.1\u{20}
            local 10.20.0.0/16 dev lo scope host\u{20}
            """)
    }
}

/// `ip -d route`: observed on Linux 6.18 / iproute2 6.1 on 2026-11-23 (veth v0/v1 up,
/// 10.0.0.1/24 on v0, default via 10.0.0.2, blackhole 10.9.0.0/16).
final class RouteDetailsTests: XCTestCase {
    func testDetails() {
        let lab = Lab()
        lab.run("""
            ip netns add ct_r
            ct_r> ip link add v0 type veth peer name v1
            ct_r> ip link set v0 up
            ct_r> ip link set v1 up
            ct_r> ip addr add 10.0.0.1/24 dev v0
            ct_r> ip route add default via 10.0.0.2
            ct_r> ip route add blackhole 10.9.0.0/16
            """)
        lab.check("ct_r> ip -d route", """
            unicast default via 10.0.0.2 dev v0 proto boot scope global\u{20}
            unicast 10.0.0.0/24 dev v0 proto kernel scope link src 10.0.0.1\u{20}
            blackhole 10.9.0.0/16 proto boot scope global\u{20}
            """)
        lab.check("ct_r> ip -d route get 10.5.5.5", """
            unicast 10.5.5.5 via 10.0.0.2 dev v0 table main src 10.0.0.1 uid 0\u{20}
                cache\u{20}
            """)
    }
}
