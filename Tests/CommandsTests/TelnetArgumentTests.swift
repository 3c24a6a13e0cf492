// TelnetArgumentTests: GNU inetutils telnet 2.4's answers to bad arguments.
// Observed on Linux 6.18 / inetutils-telnet 2.4 on 2026-11-23 in a namespace of its own with
// lo up and nothing listening.

import XCTest

final class TelnetArgumentTests: XCTestCase {
    func testArgumentErrors() {
        let lab = Lab()
        lab.run("""
            ip netns add ct_t
            ct_t> ip link set lo up
            """)
        lab.check("ct_t> telnet 127.0.0.1 70000", "Port number 70000 is out of range.", status: 1)
        lab.check("ct_t> telnet 127.0.0.1 0", "Port number 0 is out of range.", status: 1)
        lab.check("ct_t> telnet 127.0.0.1 nosuchsvc",
                  "Server lookup failure:  127.0.0.1:nosuchsvc, Servname not supported for ai_socktype", status: 1)
        lab.check("ct_t> telnet -Z 127.0.0.1", status: 64, stderr: """
            telnet: invalid option -- 'Z'
            Try 'telnet --help' or 'telnet --usage' for more information.
            """)
        lab.check("ct_t> telnet 127.0.0.1 1 2", status: 1, stderr: "telnet: too many arguments")
    }
}
