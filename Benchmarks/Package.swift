// swift-tools-version: 6.1
// Benchmarks for kad, kept out of the main package so that a plain `swift build` of kad never
// compiles them. Build from this directory: `swift build -c release` (build dir: Benchmarks/.build).
import PackageDescription

let package = Package(
    name: "kad-benchmarks",
    platforms: [.macOS(.v13)],
    dependencies: [
        .package(name: "kad", path: ".."),
    ],
    targets: [
        .executableTarget(
            name: "kad-bench",
            dependencies: [.product(name: "ConfigDSL", package: "kad")],
            swiftSettings: [.swiftLanguageMode(.v6)]
        ),
    ]
)
