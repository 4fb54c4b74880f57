// swift-tools-version: 6.1
import PackageDescription

let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
]

let package = Package(
    name: "PixCrawler",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "pixcrawl", targets: ["pixcrawl"]),
        .executable(name: "pixbench", targets: ["pixbench"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "3.12.3"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        // Already in the graph through hummingbird; named so PixServe may import NIOCore and HTTPTypes directly.
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0"),
    ],
    targets: [
        // MARK: C libraries (module map + header only)
        .systemLibrary(
            name: "CSQLite", path: "Sources/CSQLite", pkgConfig: "sqlite3",
            providers: [.apt(["libsqlite3-dev"])]),
        .systemLibrary(
            name: "CLibPQ", path: "Sources/CLibPQ", pkgConfig: "libpq",
            providers: [.apt(["libpq-dev"])]),
        .systemLibrary(
            name: "CCurl", path: "Sources/CCurl", pkgConfig: "libcurl",
            providers: [.apt(["libcurl4-openssl-dev"])]),
        .systemLibrary(
            name: "CLibPNG", path: "Sources/CLibPNG", pkgConfig: "libpng",
            providers: [.apt(["libpng-dev"])]),
        .systemLibrary(
            name: "CLibJPEG", path: "Sources/CLibJPEG", pkgConfig: "libjpeg",
            providers: [.apt(["libjpeg62-turbo-dev"])]),
        .systemLibrary(
            name: "CZlib", path: "Sources/CZlib", pkgConfig: "zlib",
            providers: [.apt(["zlib1g-dev"])]),

        // MARK: C shim: what Swift cannot call directly (variadic setopt, longjmp error handling)
        .target(name: "CPixShim", dependencies: ["CCurl", "CLibPNG", "CLibJPEG"]),

        // MARK: Pipeline stages
        .target(
            name: "PixCore",
            dependencies: [.product(name: "Logging", package: "swift-log")],
            swiftSettings: swiftSettings),
        .target(
            name: "PixStore",
            dependencies: [
                "PixCore", "CSQLite", "CLibPQ",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: swiftSettings),
        .target(
            name: "PixValidate",
            dependencies: [
                "PixCore", "CPixShim",
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: swiftSettings),
        .target(
            name: "PixBlob",
            dependencies: ["PixCore", .product(name: "Crypto", package: "swift-crypto")],
            swiftSettings: swiftSettings),
        .target(
            name: "PixFetch",
            dependencies: ["PixCore", "CCurl", "CPixShim", .product(name: "Logging", package: "swift-log")],
            swiftSettings: swiftSettings),
        .target(
            name: "PixS3",
            dependencies: [
                "PixCore", "PixBlob", "CCurl", "CPixShim",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings),
        .target(
            name: "PixFixtures",
            dependencies: ["PixCore", "CPixShim"],
            swiftSettings: swiftSettings),
        .target(
            name: "PixExport",
            dependencies: [
                "PixCore", "PixStore", "PixBlob", "PixS3", "CZlib", "CPixShim",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings),
        .target(
            name: "PixSources",
            dependencies: [
                "PixCore", "PixFetch", "PixFixtures", "CZlib", .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings),
        .target(
            name: "PixCoordinate",
            dependencies: [
                "PixCore", "PixStore", "PixSources", "PixFetch", "PixValidate", "PixBlob", "PixFixtures",
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings),
        .target(
            name: "PixServe",
            dependencies: [
                "PixCore", "PixStore", "PixBlob", "PixExport", "PixCoordinate",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings),
        .executableTarget(
            name: "pixcrawl",
            dependencies: [
                "PixCore", "PixStore", "PixSources", "PixCoordinate", "PixExport", "PixFetch", "PixBlob",
                "PixValidate", "PixFixtures", "PixServe", "PixS3",
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings),

        // MARK: Benchmarks (bench/run drives it)
        .executableTarget(
            name: "pixbench",
            dependencies: [
                "PixCore", "PixStore", "PixValidate", "PixCoordinate", "PixSources", "PixFetch", "CPixShim",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings),

        // MARK: Tests
        .target(
            name: "PixTestSupport",
            dependencies: ["PixCore", "PixStore"],
            path: "Tests/PixTestSupport",
            swiftSettings: swiftSettings),
        .testTarget(
            name: "CBindingsTests",
            dependencies: ["CSQLite", "CLibPQ", "CCurl", "CLibPNG", "CLibJPEG", "CPixShim", "PixTestSupport"],
            swiftSettings: swiftSettings),
        .testTarget(
            name: "PixStoreTests",
            dependencies: ["PixCore", "PixStore", "PixTestSupport"],
            swiftSettings: swiftSettings),
        .testTarget(
            name: "PixValidateTests",
            dependencies: ["PixValidate", "PixBlob", "PixFixtures", "CPixShim"],
            swiftSettings: swiftSettings),
        .testTarget(
            name: "PixFetchTests",
            dependencies: ["PixFetch", "PixFixtures"],
            swiftSettings: swiftSettings),
        .testTarget(
            name: "PixExportTests",
            dependencies: [
                "PixExport", "PixCore", "PixStore", "PixBlob", "PixFixtures", "PixTestSupport", "PixS3",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings),
        .testTarget(
            name: "PixSourcesTests",
            dependencies: ["PixSources", "PixFetch", "PixFixtures"],
            swiftSettings: swiftSettings),
        .testTarget(
            name: "PixCoordinateTests",
            dependencies: [
                "PixCoordinate", "PixCore", "PixStore", "PixSources", "PixFetch", "PixFixtures", "PixTestSupport",
                "PixBlob", .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Crypto", package: "swift-crypto"), "PixS3",
            ],
            swiftSettings: swiftSettings),
        .testTarget(
            name: "PixServeTests",
            dependencies: [
                "PixServe", "PixCore", "PixStore", "PixBlob", "PixExport", "PixFixtures", "PixTestSupport", "PixS3",
                "PixCoordinate", "PixSources", "PixFetch",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Metrics", package: "swift-metrics"),
            ],
            swiftSettings: swiftSettings),
        .testTarget(
            name: "PixCrawlCLITests",
            dependencies: ["PixTestSupport"],
            swiftSettings: swiftSettings),
        .testTarget(
            name: "PixS3Tests",
            dependencies: [
                "PixS3", "PixBlob", "PixCore", "PixTestSupport", "CCurl", "CPixShim",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings),
        .testTarget(
            name: "BenchSmokeTests",
            dependencies: ["PixTestSupport"],
            swiftSettings: swiftSettings),
        .testTarget(
            name: "PixStoreOpsTests",
            dependencies: ["PixStore", "PixTestSupport", "PixCore"],
            swiftSettings: swiftSettings),
    ]
)
