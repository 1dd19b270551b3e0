// swift-tools-version: 6.1
// libFuzzer harness for ConfigDSL (lexer, preprocessor, parser, decoder, validator), kept out of
// the main package so that a plain `swift build` of kad never compiles it.
//
// Build (Linux, swift.org toolchain):
//   swift build -c release -Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library
// or simply run ./run.sh, which builds and fuzzes for a bounded time.
import PackageDescription

let package = Package(
    name: "kad-fuzz",
    platforms: [.macOS(.v13)],
    dependencies: [
        .package(name: "kad", path: ".."),
    ],
    targets: [
        .executableTarget(
            name: "FuzzConfig",
            dependencies: [.product(name: "ConfigDSL", package: "kad")],
            swiftSettings: [.swiftLanguageMode(.v6)]
        ),
    ]
)
