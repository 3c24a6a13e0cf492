// BridgeFidelityTests: bridge fdb (states, replace, -s, vlan, flush), bridge link (set, -d, the
// peer's name), brctl showmacs and the port flood flags, compared with Linux 6.18, iproute2 6.1
// and bridge-utils 1.7. Each expectation was observed by running the same commands in fid_*
// namespaces on that kernel.

import XCTest
import SimCore
@testable import Commands

final class BridgeFidelityTests: XCTestCase {

    /// Runs a ping to its end (5 s of virtual time) and returns what it printed.
    private func ping(_ lab: Lab, _ line: String) -> String {
        lab.sink.out = ""
        // A ping runs only while someone holds its process.
        var held: SimProcess?
        if case let .process(p) = Shell.run(Lab.argv(line), lab.ctx) { held = p }
        try! lab.kernel.clock.run(until: lab.kernel.clock.now + .seconds(5))
        _ = held
        return lab.sink.out
    }

    private func lab() -> Lab {
        let lab = Lab()
        lab.run("""
            ip netns add fid_t
            fid_t> ip link add br0 type bridge
            fid_t> ip link set br0 address 02:00:00:00:00:b0
            fid_t> ip link add veth0 address 02:00:00:00:00:10 type veth peer name veth1 address 02:00:00:00:00:11
            fid_t> ip link set veth0 master br0
            fid_t> ip link set br0 up
            fid_t> ip link set veth0 up
            fid_t> ip link set veth1 up
            """)
        return lab
    }

    /// `static` is NUD_NOARP|NUD_REACHABLE (a static, not a local entry); replace changes an
    /// entry where it stands in the newest-first dump.
    func testFDBStatesAndReplace() {
        let lab = lab()
        lab.run("""
            fid_t> bridge fdb add 02:00:00:00:00:ab dev veth0 master
            fid_t> bridge fdb add 02:00:00:00:00:ac dev veth0 master static
            fid_t> bridge fdb add 02:00:00:00:00:ad dev veth0 master dynamic
            fid_t> bridge fdb add 02:00:00:00:00:ae dev veth0 master permanent
            fid_t> bridge fdb replace 02:00:00:00:00:ab dev veth0 master static
            fid_t> bridge fdb append 02:00:00:00:00:af dev veth0 master
            """)
        // observed on Linux 6.18:
        lab.check("fid_t> bridge fdb show dev veth0", """
            02:00:00:00:00:af master br0 permanent
            02:00:00:00:00:ae master br0 permanent
            02:00:00:00:00:ad master br0\u{20}
            02:00:00:00:00:ac master br0 static
            02:00:00:00:00:ab master br0 static
            02:00:00:00:00:10 master br0 permanent
            33:33:00:00:00:01 self permanent
            01:00:5e:00:00:01 self permanent
            """)
        lab.check("fid_t> bridge -s fdb show dev veth0", """
            02:00:00:00:00:af used 0/0 master br0 permanent
            02:00:00:00:00:ae used 0/0 master br0 permanent
            02:00:00:00:00:ad used 0/0 master br0\u{20}
            02:00:00:00:00:ac used 0/0 master br0 static
            02:00:00:00:00:ab used 0/0 master br0 static
            02:00:00:00:00:10 used 0/0 master br0 permanent
            33:33:00:00:00:01 self permanent
            01:00:5e:00:00:01 self permanent
            """)
        // observed on Linux 6.18: a static entry's ageing timer reads 0.00; the dynamic one
        // shows its age (there 0.21 s after the add, here the lab's 60 ms of typing).
        lab.check("fid_t> brctl showmacs br0", """
            port no\tmac addr\t\tis local?\tageing timer
              1\t02:00:00:00:00:10\tyes\t\t   0.00
              1\t02:00:00:00:00:ab\tno\t\t   0.00
              1\t02:00:00:00:00:ac\tno\t\t   0.00
              1\t02:00:00:00:00:ad\tno\t\t   0.06
              1\t02:00:00:00:00:ae\tyes\t\t   0.00
              1\t02:00:00:00:00:af\tyes\t\t   0.00
            """)
        lab.check("fid_t> bridge fdb add 02:00:00:00:00:aa dev veth0 vlan 5 master", status: 255,
                  stderr: "RTNETLINK answers: Invalid argument")
    }

    /// `bridge fdb flush`: a bridge's whole table (local entries too), a port's entries with
    /// `master`, state words as filters; a port itself has no bulk delete.
    func testFDBFlush() {
        let lab = lab()
        lab.run("""
            fid_t> bridge fdb add 02:00:00:00:00:ac dev veth0 master static
            fid_t> bridge fdb add 02:00:00:00:00:ad dev veth0 master dynamic
            fid_t> bridge fdb add 02:00:00:00:00:b1 dev br0
            """)
        // observed on Linux 6.18:
        lab.check("fid_t> bridge fdb flush", status: 255, stderr: "Device is a required argument.")
        lab.check("fid_t> bridge fdb flush dev nosuch", status: 255, stderr: "Cannot find bridge device \"nosuch\"")
        lab.check("fid_t> bridge fdb flush dev veth0", status: 255, stderr: "RTNETLINK answers: Operation not supported")
        lab.run("fid_t> bridge fdb flush dev veth0 master dynamic")
        lab.check("fid_t> bridge fdb show br br0", """
            33:33:00:00:00:01 dev br0 self permanent
            01:00:5e:00:00:6a dev br0 self permanent
            33:33:00:00:00:6a dev br0 self permanent
            01:00:5e:00:00:01 dev br0 self permanent
            02:00:00:00:00:b1 dev br0 master br0 permanent
            02:00:00:00:00:b0 dev br0 master br0 permanent
            02:00:00:00:00:ac dev veth0 master br0 static
            02:00:00:00:00:10 dev veth0 master br0 permanent
            33:33:00:00:00:01 dev veth0 self permanent
            01:00:5e:00:00:01 dev veth0 self permanent
            """)
        lab.run("fid_t> bridge fdb flush dev br0")
        lab.check("fid_t> bridge fdb show br br0", """
            33:33:00:00:00:01 dev br0 self permanent
            01:00:5e:00:00:6a dev br0 self permanent
            33:33:00:00:00:6a dev br0 self permanent
            01:00:5e:00:00:01 dev br0 self permanent
            33:33:00:00:00:01 dev veth0 self permanent
            01:00:5e:00:00:01 dev veth0 self permanent
            """)
    }

    /// `bridge link set` and `bridge -d link show`; `flood off` keeps unknown unicast in, not
    /// broadcast (ARP still works), `bcast_flood off` stops the ARP request.
    func testLinkSetAndFloodFlags() {
        let lab = Lab()
        lab.run("""
            ip netns add fid_t
            ip netns add fid_a
            ip netns add fid_b
            fid_t> ip link add br0 type bridge
            fid_t> ip link set br0 up
            fid_t> ip link add va type veth peer name eth0 netns fid_a
            fid_t> ip link add vb type veth peer name eth0 netns fid_b
            fid_t> ip link set va master br0
            fid_t> ip link set vb master br0
            fid_t> ip link set va up
            fid_t> ip link set vb up
            fid_a> ip link set eth0 up
            fid_b> ip link set eth0 up
            fid_a> ip addr add 10.1.0.1/24 dev eth0
            fid_b> ip addr add 10.1.0.2/24 dev eth0
            fid_t> bridge link set dev va flood off
            fid_t> bridge link set dev vb flood off
            """)
        // observed on Linux 6.18: the peer's index (2) is named in this namespace (br0).
        lab.check("fid_t> bridge link", """
            3: va@br0: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 master br0 state forwarding priority 32 cost 2\u{20}
            4: vb@br0: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 master br0 state forwarding priority 32 cost 2\u{20}
            """)
        let first = ping(lab, "fid_a> ping -c 2 -W 1 10.1.0.2")
        XCTAssertTrue(first.contains("2 packets transmitted, 2 received"), first)
        lab.run("""
            fid_t> bridge link set dev vb bcast_flood off
            fid_a> ip neigh flush all
            fid_b> ip neigh flush all
            """)
        let second = ping(lab, "fid_a> ping -c 1 -W 1 10.1.0.2")
        XCTAssertTrue(second.contains("1 packets transmitted, 0 received"), second + lab.sink.err)
        lab.check("fid_t> bridge -d link show dev vb", """
            4: vb@br0: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 master br0 state forwarding priority 32 cost 2\u{20}
                hairpin off guard off root_block off fastleave off learning on flood off mcast_flood on bcast_flood off mcast_router 1 mcast_to_unicast off neigh_suppress off vlan_tunnel off isolated off locked off\u{20}
            """)
        lab.check("fid_t> bridge link set dev vb learning bogus", status: 234, stderr: """
            Error: argument of "learning" must be one of "off", "on", not "bogus"
            """)
        lab.check("fid_t> bridge link set dev nosuch learning on", status: 255, stderr: "Cannot find bridge device \"nosuch\"")
        lab.check("fid_t> bridge link set dev br0 learning on", status: 255, stderr: "RTNETLINK answers: Operation not supported")
    }

    /// `ip link add|set ... type bridge OPTIONS`: times in hundredths of a second.
    func testBridgeOptionsThroughIPLink() {
        let lab = Lab()
        lab.run("""
            ip netns add fid_t
            fid_t> ip link add br0 type bridge ageing_time 1000 forward_delay 0
            fid_t> ip link set br0 type bridge stp_state 1
            fid_t> ip link set br0 type bridge mcast_snooping 0
            """)
        // observed on Linux 6.18 (gc_timer 9.99 there, right after the add; here three typed
        // commands later):
        let d = lab.exec("fid_t> ip -d link show br0").out
        XCTAssertTrue(d.contains("    bridge forward_delay 0 hello_time 200 max_age 2000 ageing_time 1000 stp_state 1 "), d)
        XCTAssertTrue(d.contains(" gc_timer    9.96 "), d)
        XCTAssertTrue(d.contains(" mcast_snooping 0 "), d)
        lab.check("fid_t> brctl show", """
            bridge name\tbridge id\t\tSTP enabled\tinterfaces
            br0\t\t8000.000000000000\tyes\t\t
            """)
        lab.check("fid_t> ip link set br0 type bridge ageing_time abc", status: 255, stderr: """
            Error: argument "abc" is wrong: invalid ageing_time
            """)
        lab.check("fid_t> ip link set br0 type bridge vlan_filtering 1", status: 2,
                  stderr: "RTNETLINK answers: Operation not supported")
        let r = lab.exec("fid_t> ip link add br1 type bridge foo")
        XCTAssertEqual(r.status, 1)
        XCTAssertTrue(r.err.hasPrefix("bridge: unknown command \"foo\"?\nUsage: ... bridge [ fdb_flush ]\n"), r.err)
        XCTAssertTrue(r.err.hasSuffix("\t\t  [ nf_call_arptables NF_CALL_ARPTABLES ]\n\nWhere: VLAN_PROTOCOL := { 802.1Q | 802.1ad }\n"), r.err)
    }

    /// `self` entries of a plain device: unicast and multicast lists; a `br` filter that names
    /// a device which is not a bridge shows nothing.
    func testSelfEntriesOnAPlainDevice() {
        let lab = Lab()
        lab.run("""
            ip netns add fid_t
            fid_t> ip link add veth0 type veth peer name veth1
            fid_t> bridge fdb add 02:00:00:00:00:01 dev veth0 dst 10.0.0.1
            fid_t> bridge fdb add 01:00:5e:00:00:09 dev veth0 self
            """)
        // observed on Linux 6.18:
        lab.check("fid_t> bridge fdb add 02:00:00:00:00:03 dev veth0 self static", status: 255,
                  stderr: "RTNETLINK answers: Invalid argument")
        lab.check("fid_t> bridge fdb show dev veth0", """
            02:00:00:00:00:01 self permanent
            33:33:00:00:00:01 self permanent
            01:00:5e:00:00:09 self permanent
            """)
        lab.check("fid_t> bridge fdb show br veth0", "")
        lab.run("fid_t> bridge fdb del 01:00:5e:00:00:09 dev veth0 self")
        lab.check("fid_t> bridge fdb show dev veth0", """
            02:00:00:00:00:01 self permanent
            33:33:00:00:00:01 self permanent
            """)
    }
}
