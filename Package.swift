// swift-tools-version:6.0
// Stylize: neural style transfer in Swift.
// Layers depend one way: StylizeCLI (the `stylize` tool) → Stylize (algorithms) → StylizeONNX → StylizeModels → StylizeNN, StylizeIO → StylizeTensor → C libraries.
import PackageDescription

let package = Package(
    name: "Stylize",
    platforms: [.macOS(.v13)],
    products: [
        .library(name: "Stylize", targets: ["Stylize", "StylizeONNX"]),
        .executable(name: "stylize", targets: ["StylizeCLI"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/weichsel/ZIPFoundation", from: "0.9.19"),
        .package(url: "https://github.com/apple/swift-protobuf", from: "1.39.0"),
    ],
    targets: [
        // C libraries from Debian's -dev packages, each wrapped by a module map.
        .systemLibrary(name: "CDNNL", path: "Sources/CDNNL"),
        .systemLibrary(name: "COpenBLAS", path: "Sources/COpenBLAS"),
        .systemLibrary(name: "CLAPACKE", path: "Sources/CLAPACKE"),
        .systemLibrary(name: "CMalloc", path: "Sources/CMalloc"),
        .systemLibrary(name: "CJPEG", path: "Sources/CJPEG"),
        .systemLibrary(name: "CSPNG", path: "Sources/CSPNG"),
        .systemLibrary(name: "CEXIF", path: "Sources/CEXIF"),

        // Tensors and the kernels' engine.
        .target(name: "StylizeTensor", dependencies: ["CDNNL", "COpenBLAS", "CLAPACKE", "CMalloc"]),
        // Layers with forward and backward passes (VGG-19's, and trainable ones for batches), optimizers.
        .target(name: "StylizeNN", dependencies: ["StylizeTensor", "CDNNL", "COpenBLAS"]),
        // Images in and out, the torch-file reader, safetensors, the weights cache.
        .target(name: "StylizeIO", dependencies: [
            "StylizeTensor", "CJPEG", "CSPNG", "CEXIF",
            .product(name: "ZIPFoundation", package: "ZIPFoundation"),
        ]),
        // The networks: VGG-19 (its weights and preprocessing) and Johnson et al.'s TransformerNet.
        .target(name: "StylizeModels", dependencies: ["StylizeTensor", "StylizeNN", "StylizeIO", "CDNNL"]),
        // ONNX networks: the protobuf reader, a graph executor on oneDNN and OpenBLAS (files read through StylizeIO), and the export of StylizeModels' TransformerNet.
        .target(name: "StylizeONNX", dependencies: [
            "StylizeTensor", "StylizeNN", "StylizeModels", "StylizeIO", "CDNNL", "COpenBLAS",
            .product(name: "SwiftProtobuf", package: "swift-protobuf"),
        ]),
        // Algorithms and the library API: losses, optimizers, style transfer.
        .target(name: "Stylize", dependencies: ["StylizeTensor", "StylizeNN", "StylizeModels", "StylizeIO", "StylizeONNX"]),
        // The command-line tool, built as `stylize` (the executable product's name).
        .executableTarget(name: "StylizeCLI", dependencies: [
            "Stylize", "StylizeNN", "StylizeModels", "StylizeIO", "StylizeONNX", "StylizeTensor",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        // Speed and memory benchmark; prints JSON.
        .executableTarget(name: "stylize-bench", dependencies: ["Stylize", "StylizeModels"], path: "Benchmarks/stylize-bench"),
        // The feed-forward networks' benchmark, twin of Benchmarks/onnxruntime_fast.py; prints JSON.
        .executableTarget(name: "stylize-fast-bench", dependencies: ["Stylize", "StylizeONNX", "StylizeIO"],
                          path: "Benchmarks/stylize-fast-bench"),

        // The training step's benchmark, twin of Benchmarks/pytorch_train.py; prints JSON.
        .executableTarget(name: "stylize-train-bench", dependencies: ["Stylize", "StylizeModels"], path: "Benchmarks/stylize-train-bench"),

        .testTarget(name: "StylizeTensorTests", dependencies: ["StylizeTensor"]),
        .testTarget(name: "StylizeNNTests", dependencies: ["StylizeNN", "StylizeIO"]),
        .testTarget(name: "StylizeIOTests", dependencies: ["StylizeIO"], exclude: ["Fixtures"]),
        .testTarget(name: "StylizeModelsTests", dependencies: ["StylizeModels", "StylizeNN", "StylizeIO"]),
        .testTarget(name: "StylizeONNXTests", dependencies: ["StylizeONNX", "StylizeIO", "StylizeNN", "StylizeModels"], exclude: ["Fixtures"]),
        .testTarget(name: "StylizeTests", dependencies: ["Stylize", "StylizeModels", "StylizeONNX"], exclude: ["Fixtures"]),
        .testTarget(name: "StylizeCLITests", dependencies: ["StylizeIO", "StylizeCLI"], exclude: ["Fixtures"]),
    ],
    swiftLanguageModes: [.v6]
)

// Fuzzing (scripts/fuzz.sh): one libFuzzer harness over the parsers, built only when asked for,
// since it needs `-sanitize=fuzzer` (it links libFuzzer's driver).
if Context.environment["STYLIZE_FUZZ"] != nil {
    package.targets.append(.executableTarget(name: "stylize-fuzz", dependencies: ["StylizeIO", "StylizeONNX"], path: "Fuzz/stylize-fuzz"))
}
