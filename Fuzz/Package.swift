// swift-tools-version: 6.1
// libFuzzer harnesses, kept out of the main package so that a plain `swift build` of kad never
// compiles them:
// - FuzzConfig: ConfigDSL (lexer, preprocessor, parser, decoder, validator);
// - FuzzReload: ConfigLoader.load(path:previous:) against a whole read;
// - FuzzVRRPDatagram, FuzzVRRPMessage: VRRPCore's packet decoders, with round-trip checks.
//
// Build (Linux, swift.org toolchain):
//   swift build -c release -Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library
// or simply run ./run.sh [TARGET], which builds and fuzzes for a bounded time.
import PackageDescription

let package = Package(
    name: "kad-fuzz",
    platforms: [.macOS(.v13)],
    dependencies: [
        .package(name: "kad", path: ".."),
    ],
    targets: [
        // libFuzzer's driver, started by every harness's `<Target>_main`.
        .target(name: "FuzzDriver", swiftSettings: [.swiftLanguageMode(.v6)]),
        .executableTarget(
            name: "FuzzConfig",
            dependencies: ["FuzzDriver", .product(name: "ConfigDSL", package: "kad")],
            swiftSettings: [.swiftLanguageMode(.v6)]
        ),
        // Reloads: two versions of one file; a reload from the first's snapshot must equal a
        // whole read of the second.
        .executableTarget(
            name: "FuzzReload",
            dependencies: ["FuzzDriver", .product(name: "ConfigDSL", package: "kad")],
            swiftSettings: [.swiftLanguageMode(.v6)]
        ),
        // The VRRP decoders: whole IPv4 datagrams, and IPv6 messages with their IP fields in front.
        // Both assert the round-trip properties in VRRPFuzzSupport.
        .target(
            name: "VRRPFuzzSupport",
            dependencies: [.product(name: "VRRPCore", package: "kad")],
            swiftSettings: [.swiftLanguageMode(.v6)]
        ),
        .executableTarget(
            name: "FuzzVRRPDatagram",
            dependencies: ["FuzzDriver", "VRRPFuzzSupport", .product(name: "VRRPCore", package: "kad")],
            swiftSettings: [.swiftLanguageMode(.v6)]
        ),
        .executableTarget(
            name: "FuzzVRRPMessage",
            dependencies: ["FuzzDriver", "VRRPFuzzSupport", .product(name: "VRRPCore", package: "kad")],
            swiftSettings: [.swiftLanguageMode(.v6)]
        ),
    ]
)
