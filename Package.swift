// swift-tools-version:6.0
import PackageDescription

// Exclusivity checks cost a third of the run time of the hot packet path; debug builds (and
// so the tests) keep them.
let v5: [SwiftSetting] = [
    .swiftLanguageMode(.v5),
    .unsafeFlags(["-enforce-exclusivity=unchecked"], .when(configuration: .release)),
]

let package = Package(
    name: "swnetsim",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "swnetsim", targets: ["swnetsim"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-collections", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
    ],
    targets: [
        .systemLibrary(
            name: "CPcap",
            pkgConfig: "libpcap",
            providers: [.apt(["libpcap-dev"])]
        ),
        .target(name: "SimCore",
                dependencies: [.product(name: "Collections", package: "swift-collections")],
                swiftSettings: v5),
        .target(name: "Wire", swiftSettings: v5),
        .target(name: "NetKernel",
                dependencies: ["SimCore", "Wire", .product(name: "Collections", package: "swift-collections")],
                swiftSettings: v5),
        .target(name: "Commands",
                dependencies: ["NetKernel", "SimCore", "Wire"],
                swiftSettings: v5),
        .target(name: "Trace",
                dependencies: ["CPcap", "Wire", "SimCore", "NetKernel"],
                swiftSettings: v5),
        .target(name: "Scenario",
                dependencies: ["SimCore", "Wire", "NetKernel", "Commands", "Trace", "Yams",
                               .product(name: "Collections", package: "swift-collections")],
                swiftSettings: v5),
        .executableTarget(name: "swnetsim",
                dependencies: ["Scenario", .product(name: "ArgumentParser", package: "swift-argument-parser")],
                swiftSettings: v5),
        // Running real tools (tcpdump -r, tshark) and the swnetsim binary from tests.
        .target(name: "TestSupport", path: "Tests/TestSupport", swiftSettings: v5),
        .testTarget(name: "SimCoreTests", dependencies: ["SimCore"], swiftSettings: v5),
        .testTarget(name: "WireTests", dependencies: ["Wire", "TestSupport"], swiftSettings: v5),
        .testTarget(name: "NetKernelTests", dependencies: ["NetKernel", "Wire", "SimCore"], swiftSettings: v5),
        .testTarget(name: "CommandsTests", dependencies: ["Commands", "NetKernel", "Wire", "SimCore"], swiftSettings: v5),
        .testTarget(name: "TraceTests", dependencies: ["Trace", "Wire", "SimCore", "NetKernel", "TestSupport"], swiftSettings: v5),
        .testTarget(name: "ScenarioTests", dependencies: ["Scenario", "TestSupport"], swiftSettings: v5),
    ]
)
