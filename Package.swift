// swift-tools-version:6.0
import PackageDescription

/// `THEANO_PORTABLE=1` (scripts/build-portable) builds a `theano` for machines without a Swift
/// toolchain: zlib and libpng linked statically, and no networking (no libcurl), so MNIST comes
/// from `--data`. docs/GPU.md, "On a GPU machine".
let portable = Context.environment["THEANO_PORTABLE"] == "1"
let staticLibraries: [String] = ["-Xlinker", "-l:libpng16.a", "-Xlinker", "-l:libz.a"]

let package = Package(
    name: "Theano",
    platforms: [.macOS(.v14)],
    products: [
        .library(name: "Theano", targets: ["Theano"]),
        .library(name: "NDArray", targets: ["NDArray"]),
        .library(name: "Datasets", targets: ["Datasets"]),
        .library(name: "Tutorials", targets: ["Tutorials"]),
        .executable(name: "theano", targets: ["theano"])
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-numerics", from: "1.0.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.0")
    ],
    targets: [
        .systemLibrary(
            name: "CZlib", path: portable ? "Sources/Portable/CZlib" : "Sources/CZlib",
            pkgConfig: portable ? nil : "zlib",
            providers: [.apt(["zlib1g-dev"]), .brew(["zlib"])]),
        .systemLibrary(
            name: "CPNG", path: portable ? "Sources/Portable/CPNG" : "Sources/CPNG",
            pkgConfig: portable ? nil : "libpng",
            providers: [.apt(["libpng-dev"]), .brew(["libpng"])]),
        .target(
            name: "NDArray", dependencies: ["CZlib"],
            linkerSettings: portable ? [.unsafeFlags(staticLibraries)] : []),
        .target(name: "CKernels"),
        // Embeds the fixed C kernels (Sources/Theano/Backend/Native/C) in the Theano library.
        .executableTarget(name: "EmbedC"),
        .plugin(name: "EmbedCPlugin", capability: .buildTool(), dependencies: ["EmbedC"]),
        .target(
            name: "Theano",
            dependencies: [
                "NDArray", "CKernels", .product(name: "RealModule", package: "swift-numerics"),
                .product(name: "Crypto", package: "swift-crypto")
            ],
            exclude: ["Backend/Native/C", "Backend/CUDA/C"],
            plugins: ["EmbedCPlugin"]),
        .target(
            name: "Datasets",
            dependencies: ["NDArray", "CZlib", .product(name: "Crypto", package: "swift-crypto")],
            swiftSettings: portable ? [.define("THEANO_NO_NETWORKING")] : []),
        .target(name: "Tutorials", dependencies: ["Theano", "Datasets", "CPNG"]),
        .target(name: "Fuzz", dependencies: ["Theano", "NDArray"]),
        .executableTarget(
            name: "theano",
            dependencies: [
                "Theano", "Datasets", "Tutorials", "Fuzz",
                .product(name: "ArgumentParser", package: "swift-argument-parser")
            ]),
        .testTarget(name: "NDArrayTests", dependencies: ["NDArray"]),
        .testTarget(
            name: "FuzzTests", dependencies: ["Fuzz", "Theano", "NDArray"], resources: [.copy("Fixtures")]),
        .target(name: "TestSupport", path: "Tests/TestSupport"),
        // checkOp(_:samples:): an op's type rule, backends, gradient and Hashable in one call.
        .target(name: "TheanoTestSupport", dependencies: ["Theano", "NDArray"], path: "Tests/TheanoTestSupport"),
        .testTarget(name: "DatasetsTests", dependencies: ["Datasets", "NDArray", "TestSupport"]),
        .testTarget(
            name: "TutorialsTests",
            dependencies: ["Tutorials", "Theano", "Datasets", "NDArray", "TestSupport"]),
        .testTarget(
            name: "TheanoTests", dependencies: ["Theano", "NDArray", "TheanoTestSupport"],
            resources: [.copy("Fixtures")])
    ]
)
