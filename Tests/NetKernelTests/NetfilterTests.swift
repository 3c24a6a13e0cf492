// NetfilterTests: the rule walk (ipt_do_table()) and targets driven through the kernel's own
// interface (xtCommit with typed operations), on the bridge lab of Lab.swift.

import XCTest
import SimCore
import Wire
@testable import NetKernel

final class NetfilterTests: XCTestCase {

    func rule(_ target: XTTarget, proto: UInt8 = 0, matches: [XTMatch] = []) -> XTRule {
        var ip = XTIPSpec()
        ip.proto = proto
        return XTRule(ip: ip, matches: matches, target: target)
    }

    func chain(_ ns: NetNamespace, _ k: XTTableKind, _ name: String) -> XTChain {
        ns.xtTableView(k).chain(name)!
    }

    /// -j pushes a return point, -g does not: after a goto'd chain ends, the walk falls to the
    /// built-in chain's policy instead of the rule after the goto.
    func testGotoSkipsTheRestOfTheCallingChain() throws {
        for useGoto in [false, true] {
            let lab = try Lab(containers: 1)
            let host = lab.host
            try host.xtCommit { t in
                try t.apply(.newChain, table: .filter, chain: "A")
                try t.apply(.newChain, table: .filter, chain: "B")
                try t.apply(.append(rule(.returnTarget)), table: .filter, chain: "B")
                try t.apply(.append(rule(.jump("B"))), table: .filter, chain: "A")
                try t.apply(.append(rule(.none)), table: .filter, chain: "A")
                try t.apply(.append(rule(useGoto ? .goto("A") : .jump("A"), proto: 1)), table: .filter, chain: "INPUT")
                try t.apply(.append(rule(.accept, proto: 1)), table: .filter, chain: "INPUT")
                try t.apply(.policy(.drop, counters: nil), table: .filter, chain: "INPUT")
            }
            XCTAssertEqual(host.checkNetfilterInvariants(), [])
            let log = lab.tap(lab.containers[0].device(named: "eth0")!)
            try lab.ping(from: 1, to: IPv4Address(172, 18, 0, 1))
            try lab.run(for: .seconds(1))
            let replies = log.icmp.filter { $0.type == .echoReply }.count
            XCTAssertEqual(replies, useGoto ? 0 : 1)
            let input = chain(host, .filter, "INPUT")
            XCTAssertEqual(input.rules[0].counters, XTCounters(packets: 1, bytes: 84))
            XCTAssertEqual(input.rules[1].counters.packets, useGoto ? 0 : 1)
            XCTAssertEqual(input.policyCounters.packets, useGoto ? 1 : 0)
            XCTAssertEqual(chain(host, .filter, "A").rules[1].counters.packets, 1)
            XCTAssertEqual(chain(host, .filter, "B").rules[0].counters.packets, 1)
        }
    }

    /// RETURN in a built-in chain ends the walk at the chain's policy (counted there).
    func testReturnInBuiltinChainMeansPolicy() throws {
        let lab = try Lab(containers: 1)
        let host = lab.host
        try host.xtCommit { t in
            try t.apply(.policy(.drop, counters: nil), table: .filter, chain: "INPUT")
            try t.apply(.append(rule(.returnTarget, proto: 1)), table: .filter, chain: "INPUT")
            try t.apply(.append(rule(.accept, proto: 1)), table: .filter, chain: "INPUT")
        }
        try lab.ping(from: 1, to: IPv4Address(172, 18, 0, 1))
        try lab.run(for: .seconds(1))
        let input = chain(host, .filter, "INPUT")
        XCTAssertEqual(input.rules[0].counters.packets, 1)
        XCTAssertEqual(input.rules[1].counters.packets, 0)
        XCTAssertEqual(input.policyCounters, XTCounters(packets: 1, bytes: 84))
    }

    /// A failed transaction changes nothing; a loop reachable from a built-in chain is
    /// refused with EMLINK, a jump to a built-in chain with EOPNOTSUPP.
    func testTransactionsAreAtomic() throws {
        let lab = try Lab(containers: 1)
        let host = lab.host
        try host.xtCommit { t in
            try t.apply(.newChain, table: .filter, chain: "L")
            try t.apply(.append(rule(.jump("L"))), table: .filter, chain: "L")
        }
        XCTAssertThrowsError(try host.xtCommit { t in
            try t.apply(.append(rule(.accept)), table: .filter, chain: "OUTPUT")
            try t.apply(.append(rule(.jump("L"))), table: .filter, chain: "INPUT")
        }) { e in
            XCTAssertEqual(e as? XTError, .batch(op: "RULE_APPEND", error: "Too many links", object: "rule in chain INPUT"))
        }
        XCTAssertFalse(chain(host, .filter, "OUTPUT").exists)
        XCTAssertTrue(chain(host, .filter, "INPUT").rules.isEmpty)
        XCTAssertThrowsError(try host.xtCommit { t in
            try t.apply(.append(rule(.jump("INPUT"))), table: .filter, chain: "L")
        }) { e in
            XCTAssertEqual(e as? XTError, .batch(op: "RULE_APPEND", error: "Operation not supported", object: "rule in chain L"))
        }
        XCTAssertEqual(host.checkNetfilterInvariants(), [])
    }

    /// inet_dev_addr_type() over the local table.
    func testAddressTypes() throws {
        let lab = try Lab(containers: 1)
        let host = lab.host
        XCTAssertEqual(host.inetAddrType(IPv4Address(172, 18, 0, 1)), .named("LOCAL")!)
        XCTAssertEqual(host.inetAddrType(IPv4Address(127, 0, 0, 1)), .named("LOCAL")!)
        XCTAssertEqual(host.inetAddrType(IPv4Address(127, 9, 9, 9)), .named("LOCAL")!)
        XCTAssertEqual(host.inetAddrType(IPv4Address(172, 18, 0, 255)), .named("BROADCAST")!)
        XCTAssertEqual(host.inetAddrType(IPv4Address(255, 255, 255, 255)), .named("BROADCAST")!)
        XCTAssertEqual(host.inetAddrType(IPv4Address(0, 1, 2, 3)), .named("BROADCAST")!)
        XCTAssertEqual(host.inetAddrType(IPv4Address(224, 0, 0, 1)), .named("MULTICAST")!)
        XCTAssertEqual(host.inetAddrType(IPv4Address(172, 18, 0, 2)), .named("UNICAST")!)
        XCTAssertEqual(host.inetAddrType(IPv4Address(8, 8, 8, 8)), .named("UNICAST")!)
        // With a device limit, a local address of another device is plain unicast.
        XCTAssertEqual(host.inetAddrType(IPv4Address(172, 18, 0, 1), dev: host.loopback), .named("UNICAST")!)
        XCTAssertEqual(XTAddrTypes([.named("LOCAL")!, .named("BROADCAST")!]).text, "LOCAL,BROADCAST")
    }

    /// REJECT --reject-with tcp-reset answers as nf_send_reset() does (compare the capture
    /// of a real 6.18 kernel: "Flags [R.], seq 0, ack <isn+1>, win 0, length 0", IP ttl 64,
    /// id 0, DF, length 40); a segment with ACK gets a plain RST with seq = its ack.
    func testTCPResetLikeNfSendReset() throws {
        let lab = try Lab(containers: 1)
        let host = lab.host
        try host.xtCommit { t in
            try t.apply(.append(rule(.reject(.tcpReset), proto: 6)), table: .filter, chain: "INPUT")
        }
        let log = lab.tap(lab.containers[0].device(named: "eth0")!)
        func segment(flags: UInt8, seq: UInt32, ack: UInt32, payload: Int) -> [UInt8] {
            var t = [UInt8](repeating: 0, count: 20 + payload)
            t.setU16(47974, at: 0)
            t.setU16(80, at: 2)
            t.setU32(seq, at: 4)
            t.setU32(ack, at: 8)
            t[12] = 5 << 4
            t[13] = flags
            t.setU16(64240, at: 14)
            let src = IPv4Address(172, 18, 0, 2), dst = IPv4Address(172, 18, 0, 1)
            var pseudo = src.bytes + dst.bytes + [0, 6, 0, UInt8(t.count)]
            pseudo += t
            t.setU16(InternetChecksum.checksum(pseudo, 0..<pseudo.count), at: 16)
            return t
        }
        let s = lab.containers[0].openRawSocket(proto: .tcp)
        try s.send(to: IPv4Address(172, 18, 0, 1), payload: segment(flags: 0x02, seq: 2_750_504_307, ack: 0, payload: 0))
        try s.send(to: IPv4Address(172, 18, 0, 1), payload: segment(flags: 0x18, seq: 1000, ack: 777_777, payload: 10))
        try lab.run(for: .milliseconds(10))
        let rsts = log.frames.filter { f in
            EthernetView.etherType(f.1) == .ipv4 && IPv4View.proto(f.1, at: 14) == .tcp && IPv4View.source(f.1, at: 14) == IPv4Address(172, 18, 0, 1)
        }.map(\.1)
        XCTAssertEqual(rsts.count, 2)
        guard rsts.count == 2 else { return }
        for b in rsts {
            let (h, ok) = try IPv4Header.parse(b, at: 14)
            XCTAssertTrue(ok)
            XCTAssertEqual(h.totalLength, 40)
            XCTAssertEqual(h.ttl, 64)
            XCTAssertEqual(h.identification, 0)
            XCTAssertTrue(h.dontFragment)
            XCTAssertEqual(h.tos, 0)
            XCTAssertEqual(b.u16(at: 34), 80)
            XCTAssertEqual(b.u16(at: 36), 47974)
            XCTAssertEqual(b[46], 0x50)
            XCTAssertEqual(b.u16(at: 48), 0)  // window
            var pseudo = IPv4Address(172, 18, 0, 1).bytes + IPv4Address(172, 18, 0, 2).bytes + [0, 6, 0, 20]
            pseudo += Array(b[34..<54])
            XCTAssertTrue(InternetChecksum.verify(pseudo, 0..<pseudo.count))
            // Sent straight out of the bridge port the SYN came in on, addresses swapped.
            XCTAssertEqual(EthernetView.source(b), lab.bridge.mac)
        }
        XCTAssertEqual(rsts[0][47], 0x14)                  // RST|ACK
        XCTAssertEqual(rsts[0].u32(at: 38), 0)             // seq 0
        XCTAssertEqual(rsts[0].u32(at: 42), 2_750_504_308) // ack = isn + 1
        XCTAssertEqual(rsts[1][47], 0x04)                  // RST
        XCTAssertEqual(rsts[1].u32(at: 38), 777_777)       // seq = their ack
        XCTAssertEqual(chain(host, .filter, "INPUT").rules[0].counters, XTCounters(packets: 2, bytes: 90))
    }

    /// A namespace without iptables registers no hooks: the fast path stays free.
    func testNothingRegisteredUntilAChainExists() throws {
        let lab = try Lab(containers: 1)
        XCTAssertTrue(lab.host.nfHooks.isEmpty)
        try lab.host.xtCommit { t in try t.apply(.newChain, table: .filter, chain: "X") }
        XCTAssertTrue(lab.host.nfHooks.isEmpty)
        try lab.host.xtCommit { t in try t.apply(.append(rule(.accept)), table: .filter, chain: "FORWARD") }
        XCTAssertFalse(lab.host.nfHooks.isEmpty)
        XCTAssertEqual(lab.host.nfHooks.entries[NFHook.forward.rawValue].map(\.name), ["filter"])
        XCTAssertTrue(lab.host.nfHooks.entries[NFHook.localIn.rawValue].isEmpty)
        XCTAssertEqual(lab.host.checkNetfilterInvariants(), [])
    }
}
