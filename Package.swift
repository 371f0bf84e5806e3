// swift-tools-version: 6.2
import PackageDescription

/// Strict settings for every target: Swift 6 mode, explicit existentials, imports that say what they expose.
let strict: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
    .enableUpcomingFeature("InternalImportsByDefault"),
    .treatAllWarnings(as: .error),
]

let package = Package(
    name: "ramp",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "ramp", targets: ["ramp"]),
        .library(name: "RampEngine", targets: ["RampEngine"]),
    ],
    targets: [
        .systemLibrary(
            name: "CSQLite",
            pkgConfig: "sqlite3",
            providers: [.apt(["libsqlite3-dev"])]
        ),
        // SHA-256 with the CPU's SHA extensions when present, and a portable fallback: our own small C target.
        .target(name: "CSHA256"),
        .target(name: "RampCore", dependencies: ["CSHA256"], swiftSettings: strict),
        // libpq, loaded at run time behind our own small C boundary: building ramp needs no PostgreSQL files.
        .target(name: "CLibPQ", linkerSettings: [.linkedLibrary("dl", .when(platforms: [.linux]))]),
        .target(name: "RampStore", dependencies: ["CSQLite", "CLibPQ", "RampCore"], swiftSettings: strict),
        .target(name: "RampMetrics", dependencies: ["RampCore"], swiftSettings: strict),
        .target(
            name: "RampEngine",
            dependencies: ["RampCore", "RampStore", "RampMetrics"],
            swiftSettings: strict
        ),
        .executableTarget(name: "ramp", dependencies: ["RampEngine", "RampCore"], swiftSettings: strict),
        // Benchmarks behind BENCHMARKS.md: `swift run -c release ramp-bench eval`.
        .executableTarget(
            name: "ramp-bench", dependencies: ["RampEngine", "RampCore", "RampStore"], swiftSettings: strict),
        .testTarget(name: "RampCoreTests", dependencies: ["RampCore"], swiftSettings: strict),
        .testTarget(name: "RampMetricsTests", dependencies: ["RampMetrics", "RampCore"], swiftSettings: strict),
        .testTarget(
            name: "RampStoreTests",
            dependencies: ["RampStore", "RampCore", "RampEngine"],
            swiftSettings: strict
        ),
        .testTarget(
            name: "RampEndToEndTests",
            dependencies: ["ramp", "RampStore", "RampCore", "RampEngine"],
            swiftSettings: strict
        ),
    ],
    swiftLanguageModes: [.v6]
)
