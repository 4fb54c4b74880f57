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
        .package(url: "https://github.com/apple/swift-async-algorithms.git", from: "1.1.4"),
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
        .systemLibrary(
            name: "CLibWebP", path: "Sources/CLibWebP", pkgConfig: "libwebp",
            providers: [.apt(["libwebp-dev"])]),
        .systemLibrary(
            name: "CLibDeflate", path: "Sources/CLibDeflate", pkgConfig: "libdeflate",
            providers: [.apt(["libdeflate-dev"])]),

        // MARK: C shims, one per library: what Swift cannot call directly
        // libcurl's variadic curl_easy_setopt.
        .target(name: "CPixCurl", dependencies: ["CCurl"]),
        // libjpeg/libpng/libwebp decoding, encoding and resizing (setjmp/longjmp error handling).
        // libdeflate inflates a resized export's small PNGs in one call (about twice zlib's speed).
        .target(name: "CPixImage", dependencies: ["CLibPNG", "CLibJPEG", "CLibWebP", "CLibDeflate"]),
        // CRC-32 folded with carry-less multiplication (no library).
        .target(name: "CPixChecksum"),
        // libc calls the Glibc module leaves out (syncfs).
        .target(name: "CPixSystem"),

        // MARK: Pipeline stages
        .target(
            name: "PixCore",
            swiftSettings: swiftSettings),
        // The SQL layer: SQLite and PostgreSQL connections, the connection pool, migrations, SQLite backups.
        .target(
            name: "PixSQL",
            dependencies: [
                "CSQLite", "CLibPQ",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: swiftSettings),
        // The crawl store on that layer (re-exports PixSQL).
        .target(
            name: "PixStore",
            dependencies: [
                "PixCore", "PixSQL",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings),
        // Store operations for the maintenance commands: copy, verify, backup, stats, retention.
        .target(
            name: "PixStoreOps",
            dependencies: [
                "PixCore", "PixSQL", "PixStore",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: swiftSettings),
        .target(
            name: "PixValidate",
            dependencies: [
                "PixCore", "CPixImage",
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: swiftSettings),
        .target(
            name: "PixBlob",
            dependencies: ["PixCore", "CPixSystem", .product(name: "Crypto", package: "swift-crypto")],
            swiftSettings: swiftSettings),
        .target(
            name: "PixFetch",
            dependencies: ["PixCore", "CCurl", "CPixCurl", .product(name: "Logging", package: "swift-log")],
            swiftSettings: swiftSettings),
        .target(
            name: "PixS3",
            dependencies: [
                "PixCore", "PixBlob", "CCurl", "CPixCurl",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings),
        .target(
            name: "PixExport",
            dependencies: [
                "PixCore", "PixStore", "PixBlob", "PixS3", "PixValidate", "CZlib", "CPixChecksum",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "AsyncAlgorithms", package: "swift-async-algorithms"),
            ],
            swiftSettings: swiftSettings),
        .target(
            name: "PixSources",
            dependencies: [
                "PixCore", "PixFetch", "CZlib", .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
            ],
            swiftSettings: swiftSettings),
        // The offline demo library (`--source demo`): its picture generator and the Hummingbird server serving it.
        .target(
            name: "PixDemo",
            dependencies: [
                "PixCore", "PixFetch", "PixSources", "CPixImage",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings),
        .target(
            name: "PixCoordinate",
            dependencies: [
                "PixCore", "PixStore", "PixSources", "PixFetch", "PixValidate", "PixBlob",
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings),
        .target(
            name: "PixServe",
            dependencies: [
                "PixCore", "PixStore", "PixBlob", "PixExport", "PixCoordinate", "PixS3", "PixSources", "CPixImage",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings),
        .executableTarget(
            name: "pixcrawl",
            dependencies: [
                "PixCore", "PixStore", "PixStoreOps", "PixSources", "PixDemo", "PixCoordinate", "PixExport", "PixFetch",
                "PixBlob",
                "PixServe", "PixS3",
                .product(name: "Hummingbird", package: "hummingbird"),
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
                "PixCore", "PixStore", "PixValidate", "PixCoordinate", "PixSources", "PixFetch", "CPixImage",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings),

        // MARK: Tests
        .target(
            name: "PixTestSupport",
            dependencies: ["PixCore", "PixStore", "PixS3", "CZlib", .product(name: "Crypto", package: "swift-crypto")],
            path: "Tests/PixTestSupport",
            swiftSettings: swiftSettings),
        // The test internet: a loopback HTTP server, Openverse and Commons stand-ins, fault routes, malformed images.
        .target(
            name: "PixFixtures",
            dependencies: ["PixCore", "PixDemo", "PixTestSupport", "CPixImage"],
            path: "Tests/PixFixtures",
            swiftSettings: swiftSettings),
        .testTarget(
            name: "CBindingsTests",
            dependencies: [
                "CSQLite", "CLibPQ", "CCurl", "CLibPNG", "CLibJPEG", "CPixCurl", "CPixImage", "PixTestSupport",
            ],
            swiftSettings: swiftSettings),
        .testTarget(
            name: "PixStoreTests",
            dependencies: ["PixCore", "PixStore", "PixTestSupport"],
            swiftSettings: swiftSettings),
        .testTarget(
            name: "PixBlobTests",
            dependencies: ["PixBlob", "PixS3", "PixCore", "PixTestSupport", .product(name: "Crypto", package: "swift-crypto")],
            swiftSettings: swiftSettings),
        .testTarget(
            name: "PixValidateTests",
            dependencies: ["PixValidate", "PixCore", "CPixImage", "PixDemo", "PixFixtures"],
            swiftSettings: swiftSettings),
        .testTarget(
            name: "PixFetchTests",
            dependencies: [
                "PixFetch", "PixDemo", "PixFixtures", "PixCore", .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings),
        .testTarget(
            name: "PixExportTests",
            dependencies: [
                "PixExport", "PixCore", "PixStore", "PixBlob", "PixDemo", "PixFixtures", "PixTestSupport", "PixS3",
                "PixValidate", "CPixImage",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings),
        .testTarget(
            name: "PixSourcesTests",
            dependencies: [
                "PixSources", "PixDemo", "PixFetch", "PixFixtures", "PixCore", "PixValidate",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings),
        .testTarget(
            name: "PixCoordinateTests",
            dependencies: [
                "PixCoordinate", "PixCore", "PixStore", "PixSources", "PixFetch", "PixFixtures", "PixTestSupport",
                "PixBlob", "PixValidate", .product(name: "Logging", package: "swift-log"),
                .product(name: "Crypto", package: "swift-crypto"), "PixS3",
            ],
            swiftSettings: swiftSettings),
        .testTarget(
            name: "PixServeTests",
            dependencies: [
                "PixServe", "PixCore", "PixStore", "PixBlob", "PixExport", "PixFixtures", "PixTestSupport", "PixS3",
                "PixCoordinate", "PixSources", "PixDemo", "PixFetch", "CPixImage",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: swiftSettings),
        .testTarget(
            name: "PixCrawlCLITests",
            dependencies: [
                "PixTestSupport", "PixCore", "PixStore", "PixBlob", .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: swiftSettings),
        .testTarget(
            name: "PixS3Tests",
            dependencies: [
                "PixS3", "PixBlob", "PixCore", "PixTestSupport", "CCurl", "CPixCurl",
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: swiftSettings),
        .testTarget(
            name: "BenchSmokeTests",
            dependencies: ["PixTestSupport"],
            swiftSettings: swiftSettings),
        .testTarget(
            name: "PixStoreOpsTests",
            dependencies: ["PixStore", "PixStoreOps", "PixTestSupport", "PixCore"],
            swiftSettings: swiftSettings),
    ]
)
