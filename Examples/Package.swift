// swift-tools-version:6.0
// A user's package: it depends on Theano for Swift by path and uses only its public products.
import PackageDescription

let package = Package(
    name: "TheanoExamples",
    platforms: [.macOS(.v14)],
    dependencies: [.package(name: "Theano", path: "..")],
    targets: [
        .executableTarget(
            name: "TrainMNIST",
            dependencies: [
                .product(name: "Theano", package: "Theano"),
                .product(name: "NDArray", package: "Theano"),
                .product(name: "Datasets", package: "Theano"),
                .product(name: "Tutorials", package: "Theano")
            ])
    ]
)
