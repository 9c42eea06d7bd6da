// swift-tools-version:6.1
import PackageDescription

import class Foundation.ProcessInfo

let package = Package(
    name: "linkgate",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "linkgate", targets: ["linkgate"]),
        .executable(name: "linkgate-echo", targets: ["linkgate-echo"]),
        .library(name: "JWT", targets: ["JWT"]),
        .library(name: "Scopes", targets: ["Scopes"]),
        .library(name: "Policy", targets: ["Policy"]),
        .library(name: "Grants", targets: ["Grants"]),
        .library(name: "Gateway", targets: ["Gateway"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.5.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.0"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.0"),
        .package(url: "https://github.com/apple/swift-nio-extras.git", from: "1.35.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.30.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.0"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.0"),
        .package(url: "https://github.com/vapor/sql-kit.git", from: "3.36.0"),
        .package(url: "https://github.com/vapor/sqlite-kit.git", from: "4.5.0"),
        .package(url: "https://github.com/vapor/postgres-kit.git", from: "2.17.0"),
        .package(url: "https://github.com/vapor/async-kit.git", from: "1.22.0"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache.git", from: "2.1.0"),
    ],
    targets: [
        // C libraries, reached only from the JWT module (internal imports).
        .systemLibrary(
            name: "COpenSSL",
            pkgConfig: "libcrypto",
            providers: [.apt(["libssl-dev"])]
        ),
        .systemLibrary(
            name: "CJansson",
            pkgConfig: "jansson",
            providers: [.apt(["libjansson-dev"])]
        ),
        // One setting of the SQLite that sqlite-nio bundles, a variadic C call, for the store.
        .systemLibrary(name: "CSQLiteSettings"),

        // JOSE, JSON and the Connect request binding. Depends on nothing of ours.
        .target(name: "JWT", dependencies: ["COpenSSL", "CJansson"]),
        // Pure decision logic. Depends on nothing of ours.
        .target(name: "Scopes"),
        // The policy folder: loading, checks, and the immutable compiled policy.
        .target(name: "Policy", dependencies: ["JWT", "Scopes"]),
        // OAuth 2.0 and 1.0a grants and the store.
        .target(
            name: "Grants",
            dependencies: [
                "JWT", "Scopes", "Policy", "CSQLiteSettings",
                .product(name: "SQLKit", package: "sql-kit"),
                .product(name: "SQLiteKit", package: "sqlite-kit"),
                .product(name: "PostgresKit", package: "postgres-kit"),
                .product(name: "AsyncKit", package: "async-kit"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // Server, data plane, authentication, endpoints and pages.
        .target(
            name: "Gateway",
            dependencies: [
                "JWT", "Scopes", "Policy", "Grants",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "NIOHTTPTypesHTTP1", package: "swift-nio-extras"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Mustache", package: "swift-mustache"),
            ],
            // The login, consent and account pages: swift-mustache templates and their stylesheet;
            // the OpenAPI document the admin listener serves (a copy of docs/openapi.yaml, docs/gateway.md §7).
            resources: [.copy("Pages/Templates"), .copy("Server/openapi.yaml")]
        ),
        // The command line: parses arguments, prints, and maps errors to exit codes.
        .executableTarget(
            name: "linkgate",
            dependencies: [
                "JWT", "Scopes", "Policy", "Grants", "Gateway",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                // `linkgate app`: descriptors and lifecycle callbacks, cold outbound calls.
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ]
        ),
        // A small upstream for demos (`make run`), tests and benchmarks: echoes
        // what it received, streams large bodies, and can be told to be slow.
        .executableTarget(
            name: "linkgate-echo",
            dependencies: [
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "Sources/EchoUpstream"
        ),

        .testTarget(name: "JWTTests", dependencies: ["JWT", "TestSupport"], resources: [.copy("Fixtures")]),
        .testTarget(name: "ScopesTests", dependencies: ["Scopes", "TestSupport"]),
        .testTarget(name: "GrantsTests", dependencies: ["Grants", "TestSupport"]),
        // What several test targets share: databases on the test PostgreSQL cluster, certificates,
        // a seeded random generator.
        .target(name: "TestSupport", path: "Tests/TestSupport"),
        .testTarget(name: "PolicyTests", dependencies: ["Policy"], resources: [.copy("Fixtures")]),
        .testTarget(
            name: "GatewayTests",
            dependencies: [
                "Gateway", "Policy", "Grants", "TestSupport",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ]
        ),
        // Starts the real `linkgate` binary; needs it built first (`swift build`).
        .testTarget(
            name: "EndToEndTests",
            dependencies: [
                "JWT", "Grants", "TestSupport", .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ]
        ),
    ]
)

// Benchmarks (ordo-one/benchmark) join the package only for `make bench`, which
// sets LINKGATE_BENCHMARKS=1 and builds in .build-bench: `make test` never
// builds the benchmark harness and its dependencies.
if ProcessInfo.processInfo.environment["LINKGATE_BENCHMARKS"] == "1" {
    package.dependencies.append(
        .package(url: "https://github.com/ordo-one/benchmark.git", from: "1.38.0", traits: ["MallocInterposer"])
    )
    package.targets.append(
        .executableTarget(
            name: "JWTBenchmarks",
            dependencies: ["JWT", "COpenSSL", .product(name: "Benchmark", package: "benchmark")],
            path: "Benchmarks/JWTBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        )
    )
    package.targets.append(
        .executableTarget(
            name: "DecisionBenchmarks",
            dependencies: ["Scopes", .product(name: "Benchmark", package: "benchmark")],
            path: "Benchmarks/DecisionBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        )
    )
    // The floor of a SwiftNIO reverse proxy (no gateway logic), a contender of
    // `make bench-proxy`, which builds it here in .build-bench. It lives in bench/,
    // not Benchmarks/: the benchmark plugin runs every executable under Benchmarks/
    // as a benchmark, and this one is a server (`make bench` failed on it).
    package.targets.append(
        .executableTarget(
            name: "NIOFloorProxy",
            dependencies: [
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            path: "bench/NIOFloorProxy"
        )
    )
    package.targets.append(
        .executableTarget(
            name: "GrantsBenchmarks",
            dependencies: [
                "Grants", "JWT", "Policy",
                .product(name: "SQLiteKit", package: "sqlite-kit"),
                .product(name: "PostgresKit", package: "postgres-kit"),
                .product(name: "Benchmark", package: "benchmark"),
            ],
            path: "Benchmarks/GrantsBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        )
    )
}

// libFuzzer harnesses join the package only for `make fuzz`, which sets
// LINKGATE_FUZZ=1 and builds them in .build-fuzz with `-sanitize=fuzzer,address`
// (docs/testing.md, "Fuzzing"): `make test` never builds them. Each harness is an
// executable whose `main.swift` hands its test function to libFuzzer's driver.
// The harnesses of the OAuth 1.0a parser, the request line, the token-request
// decoder and the byte readers of HTTP heads compile those source files of Grants
// and Gateway themselves (symbolic links in Fuzz/), so they build without SQLKit,
// PostgresKit and NIOSSL.
if ProcessInfo.processInfo.environment["LINKGATE_FUZZ"] == "1" {
    let hummingbird = Target.Dependency.product(name: "Hummingbird", package: "hummingbird")
    let harnesses: [(name: String, dependencies: [Target.Dependency], flags: [String])] = [
        ("FuzzJWS", ["JWT"], []),
        ("FuzzJSON", ["JWT"], []),
        ("FuzzConnectQSH", ["JWT"], []),
        ("FuzzPercentDecoding", ["JWT", "Scopes", "Policy"], []),
        ("FuzzRouteMatcher", ["Scopes"], []),
        ("FuzzPolicyLoader", ["Policy"], []),
        ("FuzzOAuth1", ["JWT"], []),
        // `OAuthParameters.swift` imports Grants for `OAuthError` alone: the alias points
        // that import at FuzzGrantsErrors, which compiles `OAuthError.swift`.
        ("FuzzTokenRequest", ["JWT", "FuzzGrantsErrors", hummingbird], ["-module-alias", "Grants=FuzzGrantsErrors"]),
        ("FuzzHTTPHeads", ["Scopes", .product(name: "NIOCore", package: "swift-nio")], []),
    ]
    package.targets.append(.target(name: "FuzzDriver", path: "Fuzz/Driver"))
    package.targets.append(.target(name: "FuzzGrantsErrors", path: "Fuzz/GrantsErrors"))
    for harness in harnesses {
        package.targets.append(
            .executableTarget(
                name: harness.name,
                dependencies: ["FuzzDriver"] + harness.dependencies,
                path: "Fuzz/\(harness.name)",
                swiftSettings: harness.flags.isEmpty ? [] : [.unsafeFlags(harness.flags)]
            )
        )
        package.products.append(.executable(name: harness.name, targets: [harness.name]))
    }
}
