import XCTest
@testable import Scenario
@testable import Commands

/// The ports nc binds go to getaddrinfo(), not to nc's own number check. Observed with
/// netcat-openbsd 1.219 on Linux 6.18: `nc -l 70000` and `nc -lp 70001` listen on 4464 and
/// 4465 (`ss -ltn`), `nc -l abc` exits 1 with "nc: getaddrinfo: Servname not supported for
/// ai_socktype", while `nc HOST 70000` says "nc: port number too large: 70000".
final class NetcatPortTests: XCTestCase {
    func testLocalPortTruncatesNumbersAndTakesServiceNames() {
        XCTAssertEqual(Netcat.localPort("70000", udp: false), 4464)
        XCTAssertEqual(Netcat.localPort("65535", udp: false), 65535)
        XCTAssertEqual(Netcat.localPort("99999999999999999999999", udp: false), 65535)
        XCTAssertEqual(Netcat.localPort("http", udp: false), 80)
        XCTAssertEqual(Netcat.localPort("ntp", udp: true), 123)
        XCTAssertNil(Netcat.localPort("abc", udp: false))
        XCTAssertNil(Netcat.localPort("", udp: false))
    }

    func testListenerOnAnOversizedPortIsReachedOnTheTruncatedOne() throws {
        let s = try ScenarioLoader.parse("""
        steps:
          - ip link set lo up
          - nc -l 70000 &
          - nc -zv 127.0.0.1 4464
          - run: nc -zv 127.0.0.1 70000
            status: 1
          - run: nc -l abc
            status: 1
        """, path: "nc.yaml")
        let t = try Runner(s).run().transcript
        XCTAssertTrue(t.contains("$ nc -zv 127.0.0.1 4464\nConnection to 127.0.0.1 4464 port [tcp/*] succeeded!\n"), t)
        XCTAssertTrue(t.contains("$ nc -zv 127.0.0.1 70000\nnc: port number too large: 70000\n"), t)
        XCTAssertTrue(t.contains("$ nc -l abc\nnc: getaddrinfo: Servname not supported for ai_socktype\n"), t)
    }
}
