import XCTest
@testable import NetKernel

/// The lowest free number, as find_portno() and alloc_netid() give it.
final class IDAllocatorTests: XCTestCase {
    func testLowestFreeNumberAfterReleases() {
        var a = IDAllocator(from: 1)
        XCTAssertEqual((0..<4).map { _ in a.allocate() }, [1, 2, 3, 4])
        a.release(2)
        a.release(4)
        XCTAssertEqual(a.allocate(), 2)
        XCTAssertEqual(a.allocate(), 4)
        XCTAssertEqual(a.allocate(), 5)
        a.release(9)  // never given: no effect
        XCTAssertEqual(a.allocate(), 6)
    }
}
