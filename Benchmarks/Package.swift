// swift-tools-version: 6.1
// Benchmarks for kad, kept out of the main package so that a plain `swift build` of kad never
// compiles them. Build from this directory: `swift build -c release` (build dir: Benchmarks/.build).
//
// - kad-bench-gen writes the large configurations (it does not depend on kad's libraries, so it builds even
//   while kad's sources are being edited);
// - kad-bench measures ConfigDSL's ConfigLoader in-process on them (`measure`), and a reload that
//   reads only the changed blocks beside a whole read (`reload BEFORE AFTER`);
// - compare.sh times `kad check` against `keepalived -t` on the same files;
// - vrrp-bench measures VRRPCore's packet codec (decode+validate, encode) in-process, per packet;
//   vrrp-allocs.sh checks with valgrind that its hot path allocates nothing.
// - transport-bench sends adverts through NetLinux's VRRP transport between two network
//   namespaces (system calls, allocations, adverts per second); transport-bench.sh runs it.
// - checker-bench runs IPVSControl's health checkers in-process against loopback servers (CPU per
//   check, natively, without IPVS); checker-bench.sh runs it in a network namespace.
import PackageDescription

let package = Package(
    name: "kad-benchmarks",
    platforms: [.macOS(.v13)],
    dependencies: [
        .package(name: "kad", path: ".."),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
    ],
    targets: [
        .executableTarget(
            name: "kad-bench-gen",
            dependencies: [.product(name: "ArgumentParser", package: "swift-argument-parser")],
            swiftSettings: [.swiftLanguageMode(.v6)]
        ),
        .executableTarget(
            name: "kad-bench",
            dependencies: [
                .product(name: "ConfigDSL", package: "kad"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: [.swiftLanguageMode(.v6)]
        ),
        .executableTarget(
            name: "vrrp-bench",
            dependencies: [
                .product(name: "VRRPCore", package: "kad"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: [.swiftLanguageMode(.v6)]
        ),
        .executableTarget(
            name: "checker-bench",
            dependencies: [
                .product(name: "IPVSControl", package: "kad"),
                .product(name: "VRRPCore", package: "kad"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: [.swiftLanguageMode(.v6)]
        ),
        .executableTarget(
            name: "transport-bench",
            dependencies: [
                .product(name: "NetLinux", package: "kad"),
                .product(name: "VRRPCore", package: "kad"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: [.swiftLanguageMode(.v6)]
        ),
    ]
)
