// IptablesTrafficTests: rules meeting packets. Counters (rules, policies, K suffixes), the
// nf_tables rule that a built-in chain counts policy packets only after -P or -Z, REJECT as
// ping reports it, br_netfilter on a bridge, LOG in the kernel log (TRACE, which writes
// nothing there with nf_tables, is XtablesMonitorTests), conntrack started by rules.
// The listings were recorded on Linux 6.18 / iptables 1.8.9 on 2026-11-22 with the same
// commands in nf_* namespaces (prot column: names instead of 1.8.9's numbers, see
// IptablesTests.swift). LOG lines cannot be recorded in a namespace (the kernel
// logs only from init_net unless net.netfilter.nf_log_all_netns is set there, which we may
// not touch on the recording machine): their format follows nf_log_syslog.c and is checked
// here field by field.

import XCTest
import Foundation
import SimCore
@testable import Commands

final class IptablesTrafficTests: XCTestCase {

    /// Lets `secs` of virtual time pass (running pings finish), whatever they print.
    func pass(_ lab: Lab, _ secs: String) { _ = lab.exec("sleep \(secs)") }

    /// Processes started by `start` (a ping runs only while someone holds it).
    var running: [SimProcess] = []

    /// Starts a command that keeps running (ping) and returns what it printed at once.
    func start(_ lab: Lab, _ line: String) -> (out: String, err: String, status: Int32) {
        lab.sink.out = ""
        lab.sink.err = ""
        if case let .process(p) = Shell.run(Lab.argv(line), lab.ctx) { running.append(p) }
        try! lab.kernel.clock.run(until: lab.kernel.clock.now + .milliseconds(10))
        return (lab.sink.out, lab.sink.err, 0)
    }

    /// nf_c (10.0.0.1/24 on v0) <-> nf_d (10.0.0.2/24 on v1).
    func pair(_ lab: Lab) {
        lab.run("""
            ip netns add nf_c
            ip netns add nf_d
            nf_c> ip link add v0 type veth peer name v1
            nf_c> ip link set v1 netns nf_d
            nf_c> ip addr add 10.0.0.1/24 dev v0
            nf_c> ip link set v0 up
            nf_c> ip link set lo up
            nf_d> ip addr add 10.0.0.2/24 dev v1
            nf_d> ip link set v1 up
            """)
    }

    /// Rule and policy counters: a jump and RETURN, a rule without target, the policy that
    /// counts only once -P gave INPUT counters, K suffixes, -x, -S -v, iptables-save -c, -Z.
    func testCountersAndPolicyCounting() {
        let lab = Lab()
        pair(lab)
        lab.run("""
            nf_d> iptables -A INPUT -p icmp --icmp-type echo-request -j ACCEPT
            nf_d> iptables -A OUTPUT -p icmp
            nf_d> iptables -N CNT
            nf_d> iptables -A CNT -s 10.0.0.1 -j RETURN
            nf_d> iptables -A CNT -j ACCEPT
            nf_d> iptables -I INPUT 1 -j CNT
            """)
        _ = start(lab, "nf_c> ping -c 3 -i 0.2 10.0.0.2")
        pass(lab, "2")
        lab.check("nf_d> iptables -nvxL", """
            Chain INPUT (policy ACCEPT 0 packets, 0 bytes)
                pkts      bytes target     prot opt in     out     source               destination        \u{20}
                   3      252 CNT        all  --  *      *       0.0.0.0/0            0.0.0.0/0          \u{20}
                   3      252 ACCEPT     icmp --  *      *       0.0.0.0/0            0.0.0.0/0            icmptype 8

            Chain FORWARD (policy ACCEPT 0 packets, 0 bytes)
                pkts      bytes target     prot opt in     out     source               destination        \u{20}

            Chain OUTPUT (policy ACCEPT 0 packets, 0 bytes)
                pkts      bytes target     prot opt in     out     source               destination        \u{20}
                   3      252            icmp --  *      *       0.0.0.0/0            0.0.0.0/0          \u{20}

            Chain CNT (1 references)
                pkts      bytes target     prot opt in     out     source               destination        \u{20}
                   3      252 RETURN     all  --  *      *       10.0.0.1             0.0.0.0/0          \u{20}
                   0        0 ACCEPT     all  --  *      *       0.0.0.0/0            0.0.0.0/0          \u{20}
            """)
        lab.run("nf_d> iptables -P INPUT ACCEPT")
        _ = start(lab, "nf_c> ping -c 2 -i 0.2 10.0.0.2")
        pass(lab, "2")
        lab.check("nf_d> iptables -nvL INPUT", """
            Chain INPUT (policy ACCEPT 0 packets, 0 bytes)
             pkts bytes target     prot opt in     out     source               destination        \u{20}
                5   420 CNT        all  --  *      *       0.0.0.0/0            0.0.0.0/0          \u{20}
                5   420 ACCEPT     icmp --  *      *       0.0.0.0/0            0.0.0.0/0            icmptype 8
            """)
        lab.run("nf_d> iptables -D INPUT 2")
        _ = start(lab, "nf_c> ping -c 2 -i 0.2 10.0.0.2")
        pass(lab, "2")
        lab.check("nf_d> iptables -nvL INPUT", """
            Chain INPUT (policy ACCEPT 2 packets, 168 bytes)
             pkts bytes target     prot opt in     out     source               destination        \u{20}
                7   588 CNT        all  --  *      *       0.0.0.0/0            0.0.0.0/0          \u{20}
            """)
        _ = start(lab, "nf_c> ping -q -c 100 -i 0.01 -s 1000 10.0.0.2")
        pass(lab, "3")
        lab.check("nf_d> iptables -nvL", """
            Chain INPUT (policy ACCEPT 102 packets, 103K bytes)
             pkts bytes target     prot opt in     out     source               destination        \u{20}
              107  103K CNT        all  --  *      *       0.0.0.0/0            0.0.0.0/0          \u{20}

            Chain FORWARD (policy ACCEPT 0 packets, 0 bytes)
             pkts bytes target     prot opt in     out     source               destination        \u{20}

            Chain OUTPUT (policy ACCEPT 0 packets, 0 bytes)
             pkts bytes target     prot opt in     out     source               destination        \u{20}
              107  103K            icmp --  *      *       0.0.0.0/0            0.0.0.0/0          \u{20}

            Chain CNT (1 references)
             pkts bytes target     prot opt in     out     source               destination        \u{20}
              107  103K RETURN     all  --  *      *       10.0.0.1             0.0.0.0/0          \u{20}
                0     0 ACCEPT     all  --  *      *       0.0.0.0/0            0.0.0.0/0          \u{20}
            """)
        lab.check("nf_d> iptables -nvxL OUTPUT", """
            Chain OUTPUT (policy ACCEPT 0 packets, 0 bytes)
                pkts      bytes target     prot opt in     out     source               destination        \u{20}
                 107   103388            icmp --  *      *       0.0.0.0/0            0.0.0.0/0          \u{20}
            """)
        lab.check("nf_d> iptables-save -c", """
            # Generated by iptables-save v1.8.9 (nf_tables) on Thu Jan  1 00:00:09 1970
            *filter
            :INPUT ACCEPT [102:102968]
            :FORWARD ACCEPT [0:0]
            :OUTPUT ACCEPT [0:0]
            :CNT - [0:0]
            [107:103388] -A INPUT -j CNT
            [107:103388] -A OUTPUT -p icmp
            [107:103388] -A CNT -s 10.0.0.1/32 -j RETURN
            [0:0] -A CNT -j ACCEPT
            COMMIT
            # Completed on Thu Jan  1 00:00:09 1970
            """)
        lab.run("nf_d> iptables -Z INPUT")
        lab.check("nf_d> iptables -nvL INPUT", """
            Chain INPUT (policy ACCEPT 0 packets, 0 bytes)
             pkts bytes target     prot opt in     out     source               destination        \u{20}
                0     0 CNT        all  --  *      *       0.0.0.0/0            0.0.0.0/0          \u{20}
            """)
        lab.check("nf_d> iptables -S -v", """
            -P INPUT ACCEPT -c 0 0
            -P FORWARD ACCEPT -c 0 0
            -P OUTPUT ACCEPT -c 0 0
            -N CNT
            -A INPUT -c 0 0 -j CNT
            -A OUTPUT -p icmp -c 107 103388
            -A CNT -s 10.0.0.1/32 -c 107 103388 -j RETURN
            -A CNT -c 0 0 -j ACCEPT
            """)
        XCTAssertEqual(lab.machine.namespace(named: "nf_d")!.checkNetfilterInvariants(), [])
    }

    /// REJECT's ICMP errors and DROP as ping (iputils 20221126) reports them; -R resets the
    /// rule's counters.
    func testRejectAndDropSeenByPing() {
        let lab = Lab()
        pair(lab)
        lab.run("nf_d> iptables -A INPUT -p icmp -j REJECT")
        var r = start(lab, "nf_c> ping -c 1 10.0.0.2")
        pass(lab, "1")
        XCTAssertTrue(r.out.contains("From 10.0.0.2 icmp_seq=1 Destination Port Unreachable\n"), r.out)
        lab.run("nf_d> iptables -R INPUT 1 -p icmp -j REJECT --reject-with icmp-host-prohibited")
        r = start(lab, "nf_c> ping -c 1 10.0.0.2")
        pass(lab, "1")
        XCTAssertTrue(r.out.contains("From 10.0.0.2 icmp_seq=1 Destination Host Prohibited\n"), r.out)
        lab.run("nf_d> iptables -R INPUT 1 -p icmp -j REJECT --reject-with icmp-net-unreachable")
        r = start(lab, "nf_c> ping -c 1 10.0.0.2")
        pass(lab, "1")
        XCTAssertTrue(r.out.contains("From 10.0.0.2 icmp_seq=1 Destination Net Unreachable\n"), r.out)
        lab.run("nf_d> iptables -R INPUT 1 -p icmp -j DROP")
        r = start(lab, "nf_c> ping -c 1 -W 1 10.0.0.2")
        r.out += lab.exec("sleep 2").out
        XCTAssertTrue(r.out.contains("1 packets transmitted, 0 received, 100% packet loss"), r.out)
        lab.run("nf_d> iptables -R INPUT 1 -p icmp -j REJECT --reject-with icmp-admin-prohibited")
        r = start(lab, "nf_c> ping -c 2 -i 0.2 10.0.0.2")
        r.out += lab.exec("sleep 1").out
        XCTAssertTrue(r.out.contains("From 10.0.0.2 icmp_seq=1 Packet filtered\nFrom 10.0.0.2 icmp_seq=2 Packet filtered\n"), r.out)
        XCTAssertTrue(r.out.contains("2 packets transmitted, 0 received, +2 errors, 100% packet loss"), r.out)
        lab.check("nf_d> iptables -nvxL INPUT", """
            Chain INPUT (policy ACCEPT 0 packets, 0 bytes)
                pkts      bytes target     prot opt in     out     source               destination        \u{20}
                   2      168 REJECT     icmp --  *      *       0.0.0.0/0            0.0.0.0/0            reject-with icmp-admin-prohibited
            """)
    }

    /// br_netfilter: bridged IPv4 crosses PREROUTING, FORWARD and POSTROUTING with in=out=br0
    /// (ports only for -m physdev); --physdev-is-bridged never matches at PREROUTING; a frame
    /// to the host crosses PREROUTING once and INPUT with in=br0; the host's own packets cross
    /// OUTPUT and POSTROUTING once.
    func testBridgeNetfilterHooksAndCounters() {
        let lab = Lab()
        lab.run("""
            ip netns add nf_h
            ip netns add nf_c1
            ip netns add nf_c2
            nf_h> ip link add br0 type bridge
            nf_h> ip link set br0 up
            nf_h> ip addr add 172.18.0.1/24 dev br0
            nf_h> ip link add veth1 type veth peer name eth0
            nf_h> ip link set eth0 netns nf_c1
            nf_h> ip link set veth1 master br0
            nf_h> ip link set veth1 up
            nf_c1> ip addr add 172.18.0.11/24 dev eth0
            nf_c1> ip link set eth0 up
            nf_h> ip link add veth2 type veth peer name eth0
            nf_h> ip link set eth0 netns nf_c2
            nf_h> ip link set veth2 master br0
            nf_h> ip link set veth2 up
            nf_c2> ip addr add 172.18.0.12/24 dev eth0
            nf_c2> ip link set eth0 up
            """)
        // The bridge's IGMP reports (sent within a second of it coming up) are over before
        // the rules exist, as they were on the recording machine.
        pass(lab, "3")
        lab.check("nf_h> sysctl net.bridge.bridge-nf-call-iptables", "net.bridge.bridge-nf-call-iptables = 1")
        for c in ["PREROUTING", "INPUT", "FORWARD", "OUTPUT", "POSTROUTING"] {
            lab.run("nf_h> iptables -t mangle -A \(c) -p icmp")
            if c != "OUTPUT" && c != "POSTROUTING" { lab.run("nf_h> iptables -t mangle -A \(c) -p icmp -i br0") }
            if c != "PREROUTING" && c != "INPUT" { lab.run("nf_h> iptables -t mangle -A \(c) -p icmp -o br0") }
            lab.run("nf_h> iptables -t mangle -A \(c) -p icmp -m physdev --physdev-is-bridged")
        }
        lab.run("""
            nf_h> iptables -t mangle -A FORWARD -p icmp -i veth1
            nf_h> iptables -t mangle -A FORWARD -p icmp -m physdev --physdev-in veth1 --physdev-out veth2
            nf_h> iptables -t mangle -P PREROUTING ACCEPT
            nf_h> iptables -t mangle -P FORWARD ACCEPT
            nf_h> iptables -t mangle -P POSTROUTING ACCEPT
            nf_h> iptables -t mangle -P INPUT ACCEPT
            nf_h> iptables -t mangle -P OUTPUT ACCEPT
            """)
        _ = start(lab, "nf_c1> ping -c 2 -i 0.2 172.18.0.12")
        pass(lab, "2")
        lab.check("nf_h> iptables -t mangle -nvL", """
            Chain PREROUTING (policy ACCEPT 4 packets, 336 bytes)
             pkts bytes target     prot opt in     out     source               destination        \u{20}
                4   336            icmp --  *      *       0.0.0.0/0            0.0.0.0/0          \u{20}
                4   336            icmp --  br0    *       0.0.0.0/0            0.0.0.0/0          \u{20}
                0     0            icmp --  *      *       0.0.0.0/0            0.0.0.0/0            PHYSDEV match --physdev-is-bridged

            Chain INPUT (policy ACCEPT 0 packets, 0 bytes)
             pkts bytes target     prot opt in     out     source               destination        \u{20}
                0     0            icmp --  *      *       0.0.0.0/0            0.0.0.0/0          \u{20}
                0     0            icmp --  br0    *       0.0.0.0/0            0.0.0.0/0          \u{20}
                0     0            icmp --  *      *       0.0.0.0/0            0.0.0.0/0            PHYSDEV match --physdev-is-bridged

            Chain FORWARD (policy ACCEPT 4 packets, 336 bytes)
             pkts bytes target     prot opt in     out     source               destination        \u{20}
                4   336            icmp --  *      *       0.0.0.0/0            0.0.0.0/0          \u{20}
                4   336            icmp --  br0    *       0.0.0.0/0            0.0.0.0/0          \u{20}
                4   336            icmp --  *      br0     0.0.0.0/0            0.0.0.0/0          \u{20}
                4   336            icmp --  *      *       0.0.0.0/0            0.0.0.0/0            PHYSDEV match --physdev-is-bridged
                0     0            icmp --  veth1  *       0.0.0.0/0            0.0.0.0/0          \u{20}
                2   168            icmp --  *      *       0.0.0.0/0            0.0.0.0/0            PHYSDEV match --physdev-in veth1 --physdev-out veth2

            Chain OUTPUT (policy ACCEPT 0 packets, 0 bytes)
             pkts bytes target     prot opt in     out     source               destination        \u{20}
                0     0            icmp --  *      *       0.0.0.0/0            0.0.0.0/0          \u{20}
                0     0            icmp --  *      br0     0.0.0.0/0            0.0.0.0/0          \u{20}
                0     0            icmp --  *      *       0.0.0.0/0            0.0.0.0/0            PHYSDEV match --physdev-is-bridged

            Chain POSTROUTING (policy ACCEPT 4 packets, 336 bytes)
             pkts bytes target     prot opt in     out     source               destination        \u{20}
                4   336            icmp --  *      *       0.0.0.0/0            0.0.0.0/0          \u{20}
                4   336            icmp --  *      br0     0.0.0.0/0            0.0.0.0/0          \u{20}
                4   336            icmp --  *      *       0.0.0.0/0            0.0.0.0/0            PHYSDEV match --physdev-is-bridged
            """)
        lab.run("nf_h> iptables -t mangle -Z")
        _ = start(lab, "nf_c1> ping -c 1 172.18.0.1")
        pass(lab, "1")
        let toHost = """
            Chain PREROUTING (policy ACCEPT 1 packets, 84 bytes)
             pkts bytes target     prot opt in     out     source               destination        \u{20}
                1    84            icmp --  *      *       0.0.0.0/0            0.0.0.0/0          \u{20}
                1    84            icmp --  br0    *       0.0.0.0/0            0.0.0.0/0          \u{20}
                0     0            icmp --  *      *       0.0.0.0/0            0.0.0.0/0            PHYSDEV match --physdev-is-bridged

            Chain INPUT (policy ACCEPT 1 packets, 84 bytes)
             pkts bytes target     prot opt in     out     source               destination        \u{20}
                1    84            icmp --  *      *       0.0.0.0/0            0.0.0.0/0          \u{20}
                1    84            icmp --  br0    *       0.0.0.0/0            0.0.0.0/0          \u{20}
                0     0            icmp --  *      *       0.0.0.0/0            0.0.0.0/0            PHYSDEV match --physdev-is-bridged

            Chain FORWARD (policy ACCEPT 0 packets, 0 bytes)
             pkts bytes target     prot opt in     out     source               destination        \u{20}
                0     0            icmp --  *      *       0.0.0.0/0            0.0.0.0/0          \u{20}
                0     0            icmp --  br0    *       0.0.0.0/0            0.0.0.0/0          \u{20}
                0     0            icmp --  *      br0     0.0.0.0/0            0.0.0.0/0          \u{20}
                0     0            icmp --  *      *       0.0.0.0/0            0.0.0.0/0            PHYSDEV match --physdev-is-bridged
                0     0            icmp --  veth1  *       0.0.0.0/0            0.0.0.0/0          \u{20}
                0     0            icmp --  *      *       0.0.0.0/0            0.0.0.0/0            PHYSDEV match --physdev-in veth1 --physdev-out veth2

            Chain OUTPUT (policy ACCEPT 1 packets, 84 bytes)
             pkts bytes target     prot opt in     out     source               destination        \u{20}
                1    84            icmp --  *      *       0.0.0.0/0            0.0.0.0/0          \u{20}
                1    84            icmp --  *      br0     0.0.0.0/0            0.0.0.0/0          \u{20}
                0     0            icmp --  *      *       0.0.0.0/0            0.0.0.0/0            PHYSDEV match --physdev-is-bridged

            Chain POSTROUTING (policy ACCEPT 1 packets, 84 bytes)
             pkts bytes target     prot opt in     out     source               destination        \u{20}
                1    84            icmp --  *      *       0.0.0.0/0            0.0.0.0/0          \u{20}
                1    84            icmp --  *      br0     0.0.0.0/0            0.0.0.0/0          \u{20}
                0     0            icmp --  *      *       0.0.0.0/0            0.0.0.0/0            PHYSDEV match --physdev-is-bridged
            """
        lab.check("nf_h> iptables -t mangle -nvL", toHost)
        lab.run("nf_h> iptables -t mangle -Z")
        _ = start(lab, "nf_h> ping -c 1 172.18.0.12")
        pass(lab, "1")
        lab.check("nf_h> iptables -t mangle -nvL", toHost)
    }

    static func matches(_ s: String, _ pattern: String) -> Bool {
        s.range(of: pattern, options: .regularExpression) != nil
    }

    /// LOG in the machine's root namespace (init_net) writes nf_log_syslog's line to the
    /// kernel log; LOG in another namespace writes nothing until the root namespace sets
    /// net.netfilter.nf_log_all_netns (a key only init_net has).
    func testLogTargetWritesTheKernelLog() {
        let lab = Lab()
        lab.run("""
            ip netns add nf_c
            ip link add v0 type veth peer name v1
            ip link set v1 netns nf_c
            ip addr add 10.0.0.2/24 dev v0
            ip link set v0 up
            nf_c> ip addr add 10.0.0.1/24 dev v1
            nf_c> ip link set v1 up
            iptables -A INPUT -p icmp -j LOG --log-prefix "NFTEST "
            iptables -A OUTPUT -p icmp -j LOG --log-prefix "OUT: " --log-level 6
            """)
        _ = start(lab, "nf_c> ping -c 1 10.0.0.2")
        pass(lab, "1")
        let d = lab.exec("dmesg").out
        let lines = d.split(separator: "\n").map(String.init)
        XCTAssertEqual(lines.count, 2, d)
        let mac = "([0-9a-f]{2}:){13}[0-9a-f]{2}"
        XCTAssertTrue(IptablesTrafficTests.matches(lines[0], #"^\[ +0\.[0-9]{6}\] NFTEST IN=v0 OUT= MAC=\#(mac) SRC=10\.0\.0\.1 DST=10\.0\.0\.2 LEN=84 TOS=0x00 PREC=0x00 TTL=64 ID=[0-9]+ DF PROTO=ICMP TYPE=8 CODE=0 ID=[0-9]+ SEQ=1 $"#), lines[0])
        XCTAssertTrue(IptablesTrafficTests.matches(lines[1], #"^\[ +0\.[0-9]{6}\] OUT: IN= OUT=v0 SRC=10\.0\.0\.2 DST=10\.0\.0\.1 LEN=84 TOS=0x00 PREC=0x00 TTL=64 ID=[0-9]+ PROTO=ICMP TYPE=0 CODE=0 ID=[0-9]+ SEQ=1 $"#), lines[1])
        // The MAC field is the received Ethernet header: destination, source, EtherType.
        let v0 = lab.machine.root.device(named: "v0")!.mac.description
        let v1 = lab.machine.namespace(named: "nf_c")!.device(named: "v1")!.mac.description
        XCTAssertTrue(lines[0].contains("MAC=\(v0):\(v1):08:00 "), lines[0])
        XCTAssertTrue(IptablesTrafficTests.matches(lab.exec("dmesg -x").out, #"^kern  :warn  : \[ +0\.[0-9]{6}\] NFTEST"#))
        XCTAssertEqual(lab.exec("dmesg -l info").out.split(separator: "\n").count, 1)
        lab.check("dmesg -C")
        lab.check("dmesg")
        // Another namespace logs nothing by default.
        lab.run("""
            iptables -F
            nf_c> iptables -A OUTPUT -p icmp -j LOG --log-prefix "C: "
            """)
        _ = start(lab, "nf_c> ping -c 1 10.0.0.2")
        pass(lab, "1")
        lab.check("dmesg")
        lab.check("nf_c> sysctl net.netfilter.nf_log_all_netns", status: 1,
                  stderr: "sysctl: cannot stat /proc/sys/net/netfilter/nf_log_all_netns: No such file or directory")
        lab.check("sysctl -w net.netfilter.nf_log_all_netns=1", "net.netfilter.nf_log_all_netns = 1")
        _ = start(lab, "nf_c> ping -c 1 10.0.0.2")
        pass(lab, "1")
        XCTAssertTrue(IptablesTrafficTests.matches(lab.exec("dmesg").out, #"^\[ +[0-9]+\.[0-9]{6}\] C: IN= OUT=v1 SRC=10\.0\.0\.1 DST=10\.0\.0\.2 LEN=84 "#))
    }

    /// Connection tracking runs while a rule needs it (nf_ct_netns_get/put): a DNAT rule
    /// starts it, deleting the rule stops it (a ping then leaves no entry), adding it again
    /// starts it again. Recorded on Linux 6.18: `conntrack -L` listed 0 entries after the
    /// delete, then "icmp 1 29 src=10.9.0.2 dst=10.9.0.1 type=8 code=0 id=29782 ...".
    func testConntrackRunsWhileARuleNeedsIt() {
        let lab = Lab()
        lab.run("""
            ip netns add nf_c
            ip link add v0 type veth peer name v1
            ip link set v1 netns nf_c
            ip addr add 10.0.0.2/24 dev v0
            ip link set v0 up
            nf_c> ip addr add 10.0.0.1/24 dev v1
            nf_c> ip link set v1 up
            iptables -t nat -A PREROUTING -p tcp --dport 99 -j DNAT --to-destination 1.2.3.4
            iptables -t nat -D PREROUTING -p tcp --dport 99 -j DNAT --to-destination 1.2.3.4
            """)
        _ = start(lab, "nf_c> ping -c 1 10.0.0.2")
        pass(lab, "1")
        lab.check("conntrack -L", stderr: "conntrack v1.4.7 (conntrack-tools): 0 flow entries have been shown.")
        lab.run("iptables -t nat -A PREROUTING -p tcp --dport 99 -j DNAT --to-destination 1.2.3.4")
        _ = start(lab, "nf_c> ping -c 1 10.0.0.2")
        pass(lab, "0.1")
        let r = lab.exec("conntrack -L")
        XCTAssertTrue(IptablesTrafficTests.matches(r.out, #"^icmp     1 29 src=10\.0\.0\.1 dst=10\.0\.0\.2 type=8 code=0 id=[0-9]+ src=10\.0\.0\.2 dst=10\.0\.0\.1 type=0 code=0 id=[0-9]+ mark=0 use=1\n$"#), r.out)
        XCTAssertEqual(r.err, "conntrack v1.4.7 (conntrack-tools): 1 flow entries have been shown.\n")
    }
}

extension IptablesTrafficTests {
    /// The nat table through the NAT core: MASQUERADE for a container reaching outside, DNAT
    /// of the host's address to a container, and the hairpin case (a container reaching
    /// the host's address DNATed to its neighbour on the same bridge) that works only
    /// because br_netfilter lets conntrack see the bridged reply. The nat chains see the
    /// first packet of each flow; recorded on Linux 6.18 (replies and the nat listing).
    func testNATTableMasqueradeDNATAndHairpin() {
        let lab = Lab()
        lab.run("""
            ip netns add nf_h
            ip netns add nf_c1
            ip netns add nf_c2
            ip netns add nf_o
            nf_h> ip link add br0 type bridge
            nf_h> ip link set br0 up
            nf_h> ip addr add 172.18.0.1/24 dev br0
            nf_h> ip link add veth1 type veth peer name eth0
            nf_h> ip link set eth0 netns nf_c1
            nf_h> ip link set veth1 master br0
            nf_h> ip link set veth1 up
            nf_c1> ip addr add 172.18.0.11/24 dev eth0
            nf_c1> ip link set eth0 up
            nf_c1> ip route add default via 172.18.0.1
            nf_h> ip link add veth2 type veth peer name eth0
            nf_h> ip link set eth0 netns nf_c2
            nf_h> ip link set veth2 master br0
            nf_h> ip link set veth2 up
            nf_c2> ip addr add 172.18.0.12/24 dev eth0
            nf_c2> ip link set eth0 up
            nf_c2> ip route add default via 172.18.0.1
            nf_h> ip link add ext0 type veth peer name eth0
            nf_h> ip link set eth0 netns nf_o
            nf_h> ip addr add 198.51.100.1/24 dev ext0
            nf_h> ip link set ext0 up
            nf_o> ip addr add 198.51.100.10/24 dev eth0
            nf_o> ip link set eth0 up
            """)
        _ = lab.exec("nf_h> sysctl -w net.ipv4.ip_forward=1")
        lab.run("""
            nf_h> iptables -t nat -A POSTROUTING -s 172.18.0.0/24 ! -o br0 -j MASQUERADE
            nf_h> iptables -t nat -A PREROUTING -d 198.51.100.1 -p icmp -j DNAT --to-destination 172.18.0.12
            """)
        var out = start(lab, "nf_c1> ping -c 2 -i 0.2 198.51.100.10").out
        out += lab.exec("sleep 1").out
        XCTAssertTrue(out.contains("64 bytes from 198.51.100.10: icmp_seq=2 ttl=63 time="), out)
        out = start(lab, "nf_o> ping -c 2 -i 0.2 198.51.100.1").out
        out += lab.exec("sleep 1").out
        XCTAssertTrue(out.contains("64 bytes from 198.51.100.1: icmp_seq=2 ttl=63 time="), out)
        out = start(lab, "nf_c1> ping -c 2 -i 0.2 198.51.100.1").out
        out += lab.exec("sleep 1").out
        XCTAssertTrue(out.contains("64 bytes from 198.51.100.1: icmp_seq=1 ttl=64 time="), out)
        XCTAssertTrue(out.contains("2 packets transmitted, 2 received, 0% packet loss"), out)
        lab.check("nf_h> iptables -t nat -nvL", """
            Chain PREROUTING (policy ACCEPT 0 packets, 0 bytes)
             pkts bytes target     prot opt in     out     source               destination        \u{20}
                2   168 DNAT       icmp --  *      *       0.0.0.0/0            198.51.100.1         to:172.18.0.12

            Chain INPUT (policy ACCEPT 0 packets, 0 bytes)
             pkts bytes target     prot opt in     out     source               destination        \u{20}

            Chain OUTPUT (policy ACCEPT 0 packets, 0 bytes)
             pkts bytes target     prot opt in     out     source               destination        \u{20}

            Chain POSTROUTING (policy ACCEPT 0 packets, 0 bytes)
             pkts bytes target     prot opt in     out     source               destination        \u{20}
                1    84 MASQUERADE  all  --  *      !br0    172.18.0.0/24        0.0.0.0/0          \u{20}
            """)
    }
}

extension IptablesTrafficTests {
    /// A stateful INPUT: policy DROP, ESTABLISHED/RELATED accepted (-m conntrack), INVALID
    /// dropped (-m state), new echo requests only from one neighbour. The host's own pings
    /// come back as ESTABLISHED; a second echo from the allowed neighbour is ESTABLISHED too.
    /// Recorded on Linux 6.18.
    func testStatefulInputWithConntrackAndStateMatches() {
        let lab = Lab()
        lab.run("""
            ip netns add nf_h
            ip netns add nf_c1
            ip netns add nf_c2
            nf_h> ip link add br0 type bridge
            nf_h> ip link set br0 up
            nf_h> ip addr add 172.18.0.1/24 dev br0
            nf_h> ip link set lo up
            nf_h> ip link add veth1 type veth peer name eth0
            nf_h> ip link set eth0 netns nf_c1
            nf_h> ip link set veth1 master br0
            nf_h> ip link set veth1 up
            nf_c1> ip addr add 172.18.0.11/24 dev eth0
            nf_c1> ip link set eth0 up
            nf_h> ip link add veth2 type veth peer name eth0
            nf_h> ip link set eth0 netns nf_c2
            nf_h> ip link set veth2 master br0
            nf_h> ip link set veth2 up
            nf_c2> ip addr add 172.18.0.12/24 dev eth0
            nf_c2> ip link set eth0 up
            """)
        pass(lab, "3")
        lab.run("""
            nf_h> iptables -P INPUT DROP
            nf_h> iptables -A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
            nf_h> iptables -A INPUT -m state --state INVALID -j DROP
            nf_h> iptables -A INPUT -p icmp --icmp-type echo-request -m conntrack --ctstate NEW -s 172.18.0.12 -j ACCEPT
            """)
        var out = start(lab, "nf_h> ping -c 2 -i 0.2 172.18.0.11").out
        out += lab.exec("sleep 1").out
        XCTAssertTrue(out.contains("2 packets transmitted, 2 received, 0% packet loss"), out)
        out = start(lab, "nf_c1> ping -c 1 -W 1 172.18.0.1").out
        out += lab.exec("sleep 2").out
        XCTAssertTrue(out.contains("1 packets transmitted, 0 received, 100% packet loss"), out)
        out = start(lab, "nf_c2> ping -c 2 -i 0.2 172.18.0.1").out
        out += lab.exec("sleep 1").out
        XCTAssertTrue(out.contains("2 packets transmitted, 2 received, 0% packet loss"), out)
        lab.check("nf_h> iptables -nvL INPUT", """
            Chain INPUT (policy DROP 1 packets, 84 bytes)
             pkts bytes target     prot opt in     out     source               destination        \u{20}
                3   252 ACCEPT     all  --  *      *       0.0.0.0/0            0.0.0.0/0            ctstate RELATED,ESTABLISHED
                0     0 DROP       all  --  *      *       0.0.0.0/0            0.0.0.0/0            state INVALID
                1    84 ACCEPT     icmp --  *      *       172.18.0.12          0.0.0.0/0            icmptype 8 ctstate NEW
            """)
        lab.check("nf_h> iptables -S", """
            -P INPUT DROP
            -P FORWARD ACCEPT
            -P OUTPUT ACCEPT
            -A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
            -A INPUT -m state --state INVALID -j DROP
            -A INPUT -s 172.18.0.12/32 -p icmp -m icmp --icmp-type 8 -m conntrack --ctstate NEW -j ACCEPT
            """)
    }
}

extension IptablesTrafficTests {
    /// POSTROUTING of a forwarded packet knows the device it came in on: ip_output() passes
    /// skb->dev before replacing it (net/ipv4/ip_output.c), so LOG prints IN= there; a packet
    /// the host sends itself has none.
    func testPostroutingOfAForwardedPacketShowsItsInputDevice() {
        let lab = Lab()
        lab.run("""
            ip netns add nf_a
            ip netns add nf_b
            ip link add v0 type veth peer name eth0 netns nf_a
            ip link add v1 type veth peer name eth0 netns nf_b
            ip addr add 10.1.0.1/24 dev v0
            ip addr add 10.2.0.1/24 dev v1
            ip link set v0 up
            ip link set v1 up
            nf_a> ip addr add 10.1.0.2/24 dev eth0
            nf_a> ip link set eth0 up
            nf_a> ip route add default via 10.1.0.1
            nf_b> ip addr add 10.2.0.2/24 dev eth0
            nf_b> ip link set eth0 up
            nf_b> ip route add default via 10.2.0.1
            iptables -t mangle -A POSTROUTING -p icmp -j LOG --log-prefix "P: "
            """)
        _ = lab.exec("sysctl -w net.ipv4.ip_forward=1")
        _ = start(lab, "nf_a> ping -c 1 10.2.0.2")
        pass(lab, "1")
        _ = start(lab, "ping -c 1 10.2.0.2")
        pass(lab, "1")
        let lines = lab.exec("dmesg").out.split(separator: "\n").map { String($0.split(separator: "]", maxSplits: 1)[1].dropFirst()) }
        // The forwarded echo and its reply, each with the received frame's MAC= (nf_log dumps
        // the link header when there is an input device), then the host's own echo request
        // (its reply goes to INPUT).
        XCTAssertEqual(lines.map { $0.components(separatedBy: " SRC=")[0].replacingOccurrences(of: #"MAC=[0-9a-f:]+"#, with: "MAC=<mac>", options: .regularExpression) },
                       ["P: IN=v0 OUT=v1 MAC=<mac>", "P: IN=v1 OUT=v0 MAC=<mac>", "P: IN= OUT=v1"])
    }
}
