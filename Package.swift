// swift-tools-version:6.2
import PackageDescription

// Licensed under the Apache License, Version 2.0 (see LICENSE).
//
// One package: a library target per component, thin executables per process.
// Generated protobuf/gRPC code lives in its own target (MMOContracts) so edits elsewhere
// never recompile it.

let grpc: [Target.Dependency] = [
    .product(name: "GRPCCore", package: "grpc-swift-2"),
    .product(name: "GRPCProtobuf", package: "grpc-swift-protobuf"),
]

let observability: [Target.Dependency] = [
    .product(name: "Logging", package: "swift-log"),
    .product(name: "Metrics", package: "swift-metrics"),
]

let package = Package(
    name: "mmo",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "mmo", targets: ["mmo"]),
        .executable(name: "mmo-bot", targets: ["mmo-bot"]),
        .executable(name: "auth-service", targets: ["auth-service"]),
        .executable(name: "character-service", targets: ["character-service"]),
        .executable(name: "database-service", targets: ["database-service"]),
        .executable(name: "packet-service", targets: ["packet-service"]),
        .executable(name: "world-service", targets: ["world-service"]),
        .executable(name: "launcher", targets: ["launcher"]),
        .executable(name: "mmo-client", targets: ["mmo-client"]),
        // For the fuzz package in Fuzz/, which depends on this one by path.
        .library(name: "MMOProtocol", targets: ["MMOProtocol"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-system.git", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "4.5.2"),
        .package(url: "https://github.com/apple/swift-protobuf.git", exact: "1.39.0"),
        .package(
            url: "https://github.com/apple/swift-configuration.git", from: "1.4.0",
            traits: [.defaults, "CommandLineArguments"]),
        .package(url: "https://github.com/grpc/grpc-swift-2.git", exact: "2.4.3"),
        .package(url: "https://github.com/grpc/grpc-swift-nio-transport.git", exact: "2.9.2"),
        .package(url: "https://github.com/grpc/grpc-swift-protobuf.git", exact: "2.4.1"),
        .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.33.2"),
        .package(url: "https://github.com/vapor/sqlite-nio.git", from: "1.13.2"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
    ],
    targets: [
        // MARK: shared libraries
        .target(
            name: "MMOUtils",
            dependencies: [
                .product(name: "Configuration", package: "swift-configuration"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "GRPCInProcessTransport", package: "grpc-swift-2"),
                .product(name: "GRPCNIOTransportHTTP2Posix", package: "grpc-swift-nio-transport"),
                .product(name: "SystemPackage", package: "swift-system"),
                .product(name: "NIOCore", package: "swift-nio"),
            ]
        ),
        .target(name: "MMOContracts", dependencies: grpc + [.product(name: "SwiftProtobuf", package: "swift-protobuf")]),
        // Duration -> number conversions, the one copy every module uses.
        .target(name: "MMOTime"),
        .target(name: "MMOProtocol", dependencies: [.product(name: "NIOCore", package: "swift-nio")]),
        .target(
            name: "MMORedis",
            dependencies: ["MMOTime", 
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),

        // MARK: services
        .target(
            name: "DatabaseService",
            dependencies: ["MMOTime", "MMOContracts", "MMORedis",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "SQLiteNIO", package: "sqlite-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOCore", package: "swift-nio"),
            ] + grpc + observability
        ),
        // Development helpers (better-auth users, sessions, scrypt hashes) for `mmo dev` and tests;
        // not linked into the services.
        .target(name: "DevTools", dependencies: ["MMOTime", "DatabaseService", .product(name: "Crypto", package: "swift-crypto")]),
        .target(
            name: "AuthService",
            dependencies: ["MMOContracts", .product(name: "Crypto", package: "swift-crypto")] + grpc + observability
        ),
        .target(name: "CharacterService", dependencies: ["MMOContracts"] + grpc + observability),
        .target(
            name: "WorldService",
            dependencies: ["MMOTime", "MMOContracts", "MMOProtocol",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
            ] + grpc + observability
        ),
        .target(
            name: "PacketService",
            dependencies: ["MMOContracts", "MMOProtocol", "MMORedis", "MMOUtils",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ] + grpc + observability
        ),
        .target(
            name: "MMOClient",
            dependencies: ["MMOTime", "MMOProtocol",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOTLS", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .target(
            name: "MMOServer",
            dependencies: ["MMOUtils", "MMOContracts", "MMORedis", "DatabaseService", "AuthService",
                           "CharacterService", "WorldService", "PacketService",
                .product(name: "Configuration", package: "swift-configuration"),
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "GRPCInProcessTransport", package: "grpc-swift-2"),
                .product(name: "GRPCNIOTransportHTTP2Posix", package: "grpc-swift-nio-transport"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),

        // MARK: player side
        .target(
            name: "MMOLauncher",
            dependencies: [
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .target(name: "TerminalClient", dependencies: ["MMOClient", "MMOProtocol"]),
        // Scenario, load and ping bots; `mmo-bot` is their command line.
        .target(
            name: "MMOBot",
            dependencies: ["MMOTime", "MMOClient", "MMOProtocol",
                .product(name: "NIOCore", package: "swift-nio"),
            ]
        ),

        // MARK: executables (thin: read config, build, run)
        .executableTarget(
            name: "mmo",
            dependencies: ["MMOServer", "MMOUtils", "DatabaseService", "AuthService", "DevTools",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .executableTarget(name: "mmo-bot", dependencies: ["MMOBot", .product(name: "ArgumentParser", package: "swift-argument-parser")]),
        .executableTarget(
            name: "launcher",
            dependencies: ["MMOLauncher",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .executableTarget(name: "mmo-client", dependencies: ["TerminalClient", .product(name: "ArgumentParser", package: "swift-argument-parser")]),
        .executableTarget(name: "auth-service", dependencies: ["MMOServer"]),
        .executableTarget(name: "character-service", dependencies: ["MMOServer"]),
        .executableTarget(name: "database-service", dependencies: ["MMOServer"]),
        .executableTarget(name: "packet-service", dependencies: ["MMOServer"]),
        .executableTarget(name: "world-service", dependencies: ["MMOServer"]),

        // MARK: tests
        // Shared by every test target: `eventually`, `TestFailure`, whether services are required.
        .target(name: "MMOTestSupport", path: "Tests/MMOTestSupport"),
        .testTarget(
            name: "MMOProtocolTests",
            dependencies: ["MMOProtocol", .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOTestUtils", package: "swift-nio")]
        ),
        .testTarget(
            name: "MMORedisTests",
            dependencies: ["MMORedis", "MMOTestSupport",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(
            name: "MMOUtilsTests",
            dependencies: ["MMOUtils",
                .product(name: "Configuration", package: "swift-configuration"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .testTarget(
            name: "MMOServerTests",
            dependencies: ["MMOServer", "MMOUtils", "MMOContracts", "PacketService", "MMOTestSupport",
                .product(name: "Configuration", package: "swift-configuration"),
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "GRPCInProcessTransport", package: "grpc-swift-2"),
                .product(name: "GRPCNIOTransportHTTP2Posix", package: "grpc-swift-nio-transport"),
            ]
        ),
        .testTarget(
            name: "DatabaseServiceTests",
            dependencies: ["DatabaseService", "DevTools", "MMOContracts", "MMORedis",
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "GRPCInProcessTransport", package: "grpc-swift-2"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(
            name: "AuthServiceTests",
            dependencies: ["AuthService", .product(name: "Crypto", package: "swift-crypto"), .product(name: "Logging", package: "swift-log")]
        ),
        .testTarget(name: "CharacterServiceTests", dependencies: ["CharacterService", "MMOContracts"]),
        .testTarget(
            name: "WorldServiceTests",
            dependencies: ["MMOTime", "WorldService", "MMOContracts", "MMOProtocol", "MMOTestSupport",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "GRPCInProcessTransport", package: "grpc-swift-2"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(
            name: "PacketServiceTests",
            dependencies: ["PacketService", "MMOClient", "MMOContracts", "MMOProtocol", "MMOTestSupport", "MMORedis",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "GRPCInProcessTransport", package: "grpc-swift-2"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(
            name: "MMOClientTests",
            dependencies: ["MMOClient", "MMOProtocol", "MMOTestSupport",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
        .testTarget(name: "MMOTimeTests", dependencies: ["MMOTime"]),
        .testTarget(
            name: "MMOLauncherTests",
            dependencies: ["MMOLauncher",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(name: "TerminalClientTests", dependencies: ["TerminalClient", "MMOClient", "MMOProtocol"]),
        .testTarget(
            name: "MMOBotTests",
            dependencies: ["MMOTime", "MMOBot", "MMOClient", "MMOProtocol", "MMOTestSupport",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
        .testTarget(
            name: "ProtocolSpecTests",
            dependencies: ["MMOProtocol", "MMOTime", "PacketService", "WorldService", .product(name: "NIOCore", package: "swift-nio")]
        ),
        .testTarget(
            name: "EndToEndTests",
            dependencies: ["MMOServer", "MMOClient", "MMOProtocol", "DatabaseService", "DevTools", "MMOTestSupport",
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
    ],
    swiftLanguageModes: [.v6]
)
