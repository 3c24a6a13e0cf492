// IptablesOptionTests: the generic option checks of libxtables (xtables_option_parse() and
// xtables_options_fcheck()) as iptables 1.8.9 (nf_tables) makes them, against texts recorded
// on Linux 6.18 in a fresh namespace.

import XCTest
@testable import Commands

final class IptablesOptionTests: XCTestCase {

    private let tryHelp = "Try `iptables -h' or 'iptables --help' for more information."

    /// Options that exclude each other are found after parsing, in the order of the option
    /// table, and named by the table's first entry for their id (--sports is --source-ports).
    func testExclusiveOptionsNamedAsTheTableNamesThem() {
        let lab = Lab()
        lab.run("ip netns add nf_t")
        // observed on Linux 6.18: multiport: option "--source-ports" cannot be used together with "--destination-ports".
        lab.check("nf_t> iptables -A INPUT -p tcp -m multiport --dports 80 --sports 90 -j ACCEPT", status: 2, stderr: """
            iptables v1.8.9 (nf_tables): multiport: option "--source-ports" cannot be used together with "--destination-ports".

            \(tryHelp)
            """)
        lab.check("nf_t> iptables -A INPUT -p tcp -m multiport --sports 80 --ports 90 -j ACCEPT", status: 2, stderr: """
            iptables v1.8.9 (nf_tables): multiport: option "--source-ports" cannot be used together with "--ports".

            \(tryHelp)
            """)
        // A bad value of the second option is found first, while it is parsed.
        lab.check("nf_t> iptables -A INPUT -p tcp -m multiport --dports 80 --sports foo -j ACCEPT", status: 2, stderr: """
            iptables v1.8.9 (nf_tables): invalid port/service `foo' specified
            \(tryHelp)
            """)
        lab.check("nf_t> iptables -A INPUT -p tcp -m multiport --dports 80 --dports 90 -j ACCEPT", status: 2, stderr: """
            iptables v1.8.9 (nf_tables): multiport: option "--destination-ports" can only be used once.

            \(tryHelp)
            """)
        // addrtype's own check comes before the table's.
        lab.check("nf_t> iptables -A INPUT -m addrtype --limit-iface-in --limit-iface-out -j ACCEPT", status: 2, stderr: """
            iptables v1.8.9 (nf_tables): addrtype: you must specify --src-type or --dst-type
            \(tryHelp)
            """)
        lab.check("nf_t> iptables -A INPUT -m addrtype --dst-type LOCAL --limit-iface-out --limit-iface-in -j ACCEPT", status: 2, stderr: """
            iptables v1.8.9 (nf_tables): addrtype: option "--limit-iface-in" cannot be used together with "--limit-iface-out".

            \(tryHelp)
            """)
    }

    /// A bad state name is quoted with the rest of the list after it; libxt_state calls an
    /// empty last name a missing list, libxt_conntrack a bad ctstate "".
    func testBadStateNamesQuoteTheRestOfTheList() {
        let lab = Lab()
        lab.run("ip netns add nf_t")
        // observed on Linux 6.18, each: the message, then the hint line (status 2).
        let cases: [(String, String)] = [
            ("-m state --state NEW,,ESTABLISHED", "Bad state \",ESTABLISHED\""),
            ("-m state --state NEW,FOO,BAR", "Bad state \"FOO,BAR\""),
            ("-m state --state NEW,UNTRACKED,SNAT", "Bad state \"SNAT\""),
            ("-m state --state NEW,", "\"--state\" requires a list of states with no spaces, e.g. ESTABLISHED,RELATED"),
            ("-m state --state ,", "Bad state \",\""),
            ("-m conntrack --ctstate NEW,established,Foo", "Bad ctstate \"Foo\""),
            ("-m conntrack --ctstate NEW,", "Bad ctstate \"\""),
            ("-m conntrack --ctstate \"\"", "Bad ctstate \"\""),
        ]
        for (match, message) in cases {
            lab.check("nf_t> iptables -A INPUT \(match) -j ACCEPT", status: 2, stderr: """
                iptables v1.8.9 (nf_tables): \(message)
                \(tryHelp)
                """)
        }
        lab.run("nf_t> iptables -A INPUT -m state --state untracked,invalid,related -j ACCEPT")
        lab.check("nf_t> iptables -S INPUT", """
            -P INPUT ACCEPT
            -A INPUT -m state --state INVALID,RELATED,UNTRACKED -j ACCEPT
            """)
    }

    /// An interface name with '/' or ' ' is taken, with a warning per name (iptables and
    /// iptables-restore alike), printed before a later error.
    func testWeirdInterfaceNamesWarn() {
        let lab = Lab()
        lab.run("ip netns add nf_t")
        // observed on Linux 6.18: the two warnings, status 0.
        lab.check("nf_t> iptables -A FORWARD -i \"a b\" -o x/y -j ACCEPT", stderr: """
            Warning: weird character in interface `a b' ('/' and ' ' are not allowed by the kernel).
            Warning: weird character in interface `x/y' ('/' and ' ' are not allowed by the kernel).
            """)
        lab.check("nf_t> iptables -A FORWARD -i a/b -p foo -j ACCEPT", status: 2, stderr: """
            Warning: weird character in interface `a/b' ('/' and ' ' are not allowed by the kernel).
            iptables v1.8.9 (nf_tables): unknown protocol "foo" specified
            \(tryHelp)
            """)
        lab.ctx.input = .pipe(Array("*filter\n-A FORWARD -o a/b -j ACCEPT\nCOMMIT\n".utf8))
        lab.check("nf_t> iptables-restore", stderr: """
            Warning: weird character in interface `a/b' ('/' and ' ' are not allowed by the kernel).
            """)
        lab.ctx.input = nil
        lab.check("nf_t> iptables -S FORWARD", """
            -P FORWARD ACCEPT
            -A FORWARD -o a/b -j ACCEPT
            """)
    }

    /// libxt_mark lists an inverted mark as "mark match ! VALUE".
    func testInvertedMarkListing() {
        let lab = Lab()
        lab.run("""
            ip netns add nf_t
            nf_t> iptables -A INPUT -m mark ! --mark 0x1/0xff -j ACCEPT
            nf_t> iptables -A INPUT -m mark --mark 16 -j ACCEPT
            """)
        // observed on Linux 6.18: the same lines.
        lab.check("nf_t> iptables -L INPUT", """
            Chain INPUT (policy ACCEPT)
            target     prot opt source               destination        \u{20}
            ACCEPT     all  --  anywhere             anywhere             mark match ! 0x1/0xff
            ACCEPT     all  --  anywhere             anywhere             mark match 0x10
            """)
        lab.check("nf_t> iptables -S INPUT", """
            -P INPUT ACCEPT
            -A INPUT -m mark ! --mark 0x1/0xff -j ACCEPT
            -A INPUT -m mark --mark 0x10 -j ACCEPT
            """)
    }

    /// -W (--wait-interval) of 1.8.9: its value is checked, then ignored with a warning; it
    /// needs -w, which is checked after the nat table's DROP.
    func testWaitInterval() {
        let lab = Lab()
        lab.run("ip netns add nf_t")
        // observed on Linux 6.18: the same texts and statuses.
        lab.check("nf_t> iptables -W 100 -L INPUT", status: 2, stderr: """
            Ignoring deprecated --wait-interval option.
            iptables v1.8.9 (nf_tables): --wait-interval only makes sense with --wait

            \(tryHelp)
            """)
        lab.check("nf_t> iptables -w -W 100 -L INPUT", """
            Chain INPUT (policy ACCEPT)
            target     prot opt source               destination        \u{20}
            """, stderr: "Ignoring deprecated --wait-interval option.")
        lab.check("nf_t> iptables -W -w 2 -L INPUT", status: 2, stderr: """
            iptables v1.8.9 (nf_tables): wait interval value required
            \(tryHelp)
            """)
        lab.check("nf_t> iptables -w -W abc -L INPUT", status: 2, stderr: """
            iptables v1.8.9 (nf_tables): wait interval not numeric
            \(tryHelp)
            """)
        lab.check("nf_t> iptables -w -W 1000000 -L INPUT", status: 2, stderr: """
            iptables v1.8.9 (nf_tables): too long usec wait 1000000 > 999999 usec
            \(tryHelp)
            """)
        lab.check("nf_t> iptables -W 100 -t nat -A INPUT -j DROP", status: 2, stderr: """
            Ignoring deprecated --wait-interval option.
            iptables v1.8.9 (nf_tables):\u{20}
            The "nat" table is not intended for filtering, the use of DROP is therefore inhibited.


            \(tryHelp)
            """)
        lab.check("nf_t> iptables -W 1 -w 1 -A INPUT -p tcp --dport 99 -j DROP", stderr: "Ignoring deprecated --wait-interval option.")
        lab.check("nf_t> iptables -w abc -L INPUT", status: 2, stderr: """
            iptables v1.8.9 (nf_tables): wait seconds not numeric
            \(tryHelp)
            """)
        lab.run("nf_t> iptables -w 5x -F INPUT")
        // iptables-restore takes -w and -W with or without a value.
        for args in ["-w 5", "-W 5", "-W", "-w"] {
            lab.ctx.input = .pipe(Array("*filter\nCOMMIT\n".utf8))
            lab.check("nf_t> iptables-restore \(args)")
        }
        lab.ctx.input = nil
    }
}
