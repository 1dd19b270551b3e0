// swift-tools-version: 6.1
import PackageDescription

let strict: [SwiftSetting] = [
    .swiftLanguageMode(.v6),
]

/// SwiftNIO for the control socket, the metrics server and the health checkers.
let nio: [Target.Dependency] = [
    .product(name: "NIOCore", package: "swift-nio"),
    .product(name: "NIOPosix", package: "swift-nio"),
    .product(name: "NIOHTTP1", package: "swift-nio"),
]
/// TLS for SSL_GET. (The MD5 of HTTP_GET's `digest` is kad's own, `MD5Hasher`: swift-crypto
/// would link full Foundation into the daemon, about 5 MiB of resident memory, and the system's
/// libcrypto about 1.4 MiB more, each for one hash.)
let checkerTLS: [Target.Dependency] = [
    .product(name: "NIOSSL", package: "swift-nio-ssl"),
]

let package = Package(
    name: "kad",
    platforms: [.macOS(.v13)],
    products: [
        .library(name: "VRRPCore", targets: ["VRRPCore"]),
        .library(name: "ConfigDSL", targets: ["ConfigDSL"]),
        .library(name: "NetLinux", targets: ["NetLinux"]),
        .library(name: "IPVSControl", targets: ["IPVSControl"]),
        .executable(name: "kad", targets: ["kad"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-system", from: "1.8.1"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
        .package(url: "https://github.com/swiftlang/swift-subprocess", from: "1.0.2"),
    ],
    targets: [
        // The pure VRRP engine: no I/O, no clock, no other target.
        .target(name: "VRRPCore", swiftSettings: strict),
        // keepalived.conf → typed model. Imports no other kad target.
        .target(name: "ConfigDSL", swiftSettings: strict),
        // Linux headers that Swift's Glibc module lacks.
        .target(name: "CNetLinux"),
        // libcap, through pkg-config (Debian: libcap-dev).
        .systemLibrary(
            name: "CLibcap",
            pkgConfig: "libcap",
            providers: [.apt(["libcap-dev"])]
        ),
        .target(
            name: "NetLinux",
            dependencies: ["VRRPCore", "CNetLinux", "CLibcap", .product(name: "SystemPackage", package: "swift-system")],
            swiftSettings: strict
        ),
        .target(
            name: "IPVSControl",
            dependencies: ["NetLinux", "CNetLinux"] + nio + checkerTLS,
            swiftSettings: strict
        ),
        .executableTarget(
            name: "kad",
            dependencies: [
                "ConfigDSL", "VRRPCore", "NetLinux", "IPVSControl",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Subprocess", package: "swift-subprocess"),
                .product(name: "SystemPackage", package: "swift-system"),
            ] + nio,
            swiftSettings: strict
        ),
        // Fixtures are read by path (#filePath), not bundled.
        .testTarget(name: "VRRPCoreTests", dependencies: ["VRRPCore"], exclude: ["Fixtures"], swiftSettings: strict),
        .testTarget(name: "ConfigDSLTests", dependencies: ["ConfigDSL"], swiftSettings: strict),
        // Namespaces, shell commands and the integration-test gate, for the tests that need root.
        .target(name: "IntegrationSupport", path: "Tests/IntegrationSupport", swiftSettings: strict),
        .testTarget(name: "NetLinuxTests", dependencies: ["NetLinux", "IntegrationSupport"], swiftSettings: strict),
        .testTarget(
            name: "IPVSControlTests",
            dependencies: ["IPVSControl", "IntegrationSupport"] + nio + checkerTLS,
            swiftSettings: strict
        ),
        .testTarget(name: "kadTests", dependencies: ["kad", "IntegrationSupport"], swiftSettings: strict),
    ]
)
