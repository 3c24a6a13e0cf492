// AddressRouteTests: what deleting addresses does to routes: routes preferring a deleted
// address go, a device's last address takes its gateway routes along, and
// promote_secondaries keeps the subnet with the next address as primary.
// Every expected text was observed on Linux 6.18 / iproute2 6.1 on 2026-11-23, running the
// same commands in a namespace of its own (a veth pair v0/v1, both up).

import XCTest

final class AddressRouteTests: XCTestCase {
    private func lab() -> Lab {
        let lab = Lab()
        lab.run("""
            ip netns add ct_r
            ct_r> ip link add v0 type veth peer name v1
            ct_r> ip link set v0 up
            ct_r> ip link set v1 up
            """)
        return lab
    }

    /// observed on Linux 6.18: deleting the primary deletes its secondary (promote_secondaries
    /// 0) and the route preferring the secondary; the gateway route stays while v0 has an
    /// address, and goes with the last one.
    func testDeletingAddresses() {
        let lab = lab()
        lab.run("""
            ct_r> ip addr add 10.0.0.1/24 dev v0
            ct_r> ip addr add 10.0.0.5/24 dev v0
            ct_r> ip addr add 10.1.0.1/16 dev v0
            ct_r> ip route add 192.168.1.0/24 via 10.0.0.2
            ct_r> ip route add 192.168.2.0/24 dev v0 src 10.0.0.5
            ct_r> ip addr del 10.0.0.1/24 dev v0
            """)
        lab.check("ct_r> ip route", """
            10.1.0.0/16 dev v0 proto kernel scope link src 10.1.0.1\u{20}
            192.168.1.0/24 via 10.0.0.2 dev v0\u{20}
            """)
        lab.check("ct_r> ip addr del 10.0.0.5/24 dev v0", status: 2, stderr: "Error: ipv4: Address not found.")
        lab.run("ct_r> ip addr del 10.1.0.1/16 dev v0")
        lab.check("ct_r> ip route")
    }

    /// observed on Linux 6.18: with promote_secondaries the next address of the subnet becomes
    /// primary and the source of the subnet's routes.
    func testPromoteSecondaries() {
        let lab = lab()
        lab.run("""
            ct_r> sysctl -qw net.ipv4.conf.v0.promote_secondaries=1
            ct_r> ip addr add 10.8.0.1/24 dev v0
            ct_r> ip addr add 10.8.0.2/24 dev v0
            ct_r> ip addr add 10.8.0.3/24 dev v0
            ct_r> ip route add 192.168.8.0/24 via 10.8.0.9
            ct_r> ip route add 192.168.9.0/24 dev v0 src 10.8.0.1
            ct_r> ip addr del 10.8.0.1/24 dev v0
            """)
        lab.check("ct_r> ip -br addr show dev v0", "v0@v1            UP             10.8.0.2/24 10.8.0.3/24 ")
        lab.check("ct_r> ip route", """
            10.8.0.0/24 dev v0 proto kernel scope link src 10.8.0.2\u{20}
            192.168.8.0/24 via 10.8.0.9 dev v0\u{20}
            """)
        lab.check("ct_r> ip route show table local", """
            local 10.8.0.2 dev v0 proto kernel scope host src 10.8.0.2\u{20}
            local 10.8.0.3 dev v0 proto kernel scope host src 10.8.0.2\u{20}
            broadcast 10.8.0.255 dev v0 proto kernel scope link src 10.8.0.2\u{20}
            """)
    }
}
