// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "barfill",
    products: [
        .executable(name: "barfill", targets: ["barfill"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", exact: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", exact: "1.16.2"),
    ],
    targets: [
        // C layers: a module map and a shim header each, nothing else.
        .systemLibrary(name: "CLibPQ", path: "Sources/CLibPQ"),
        .systemLibrary(name: "CCurl", path: "Sources/CCurl"),
        .systemLibrary(name: "CSQLite", path: "Sources/CSQLite"),

        // Pure Swift, no I/O: calendar, grid, gaps, planner, plan codec, rate-limit math.
        .target(name: "BarfillCore"),
        .target(name: "BarfillPostgres", dependencies: [
            "CLibPQ", "BarfillCore",
            .product(name: "Logging", package: "swift-log"),
        ]),
        .target(name: "BarfillSQLite", dependencies: ["CSQLite", "BarfillCore"]),
        .target(name: "BarfillHTTP", dependencies: [
            "CCurl", "BarfillCore",
            .product(name: "Logging", package: "swift-log"),
        ]),
        // The simulated Massive and Finnhub servers: for tests, benchmarks and `barfill simulate-provider`, not production.
        .target(name: "BarfillSimulator", dependencies: ["BarfillCore", "BarfillHTTP"]),
        // Runs a plan: precheck, fetch, validate, upsert, checkpoint.
        .target(name: "BarfillApply", dependencies: [
            "BarfillCore", "BarfillPostgres", "BarfillSQLite", "BarfillHTTP",
            .product(name: "Logging", package: "swift-log"),
        ]),
        // The commands: argument parsing, output, exit codes. A library so tests parse and run them in process.
        .target(name: "BarfillCommands", dependencies: [
            "BarfillCore", "BarfillPostgres", "BarfillSQLite", "BarfillHTTP", "BarfillApply", "BarfillSimulator",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        // Only a main.swift that runs the root command.
        .executableTarget(name: "barfill", dependencies: ["BarfillCommands"]),
        // `make bench`: benchmarks are a program, never timed tests.
        .executableTarget(name: "barfill-bench", dependencies: [
            "BarfillCore", "BarfillPostgres", "BarfillSQLite", "BarfillHTTP", "BarfillApply", "BarfillSimulator", "BarfillTestSupport",
        ]),

        // Shared by the test targets: a fresh database per test, fixtures built from the domain.
        .target(name: "BarfillTestSupport", dependencies: [
            "BarfillCore", "BarfillPostgres", "BarfillHTTP",
        ]),
        .testTarget(name: "BarfillCoreTests", dependencies: ["BarfillCore"]),
        .testTarget(name: "BarfillPostgresTests", dependencies: ["BarfillPostgres", "BarfillTestSupport"]),
        .testTarget(name: "BarfillSQLiteTests", dependencies: ["BarfillSQLite"]),
        .testTarget(name: "BarfillHTTPTests", dependencies: ["BarfillHTTP", "BarfillSimulator", "BarfillTestSupport"]),
        .testTarget(name: "BarfillApplyTests", dependencies: ["BarfillApply", "BarfillSimulator", "BarfillTestSupport"]),
        .testTarget(name: "BarfillCommandsTests", dependencies: ["BarfillCommands", "BarfillTestSupport"]),
    ]
)
