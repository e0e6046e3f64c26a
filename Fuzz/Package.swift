// swift-tools-version:6.2
import Foundation
import PackageDescription

// Licensed under the Apache License, Version 2.0 (see LICENSE).
//
// libFuzzer targets for the client protocol decoders, kept out of the main package so its normal
// builds and tests never need the fuzzer sanitizer. Build and run with `scripts/fuzz.sh`; see
// Fuzz/README.md. Each target is one `LLVMFuzzerTestOneInput` that hands its input to
// `DecoderFuzzCheck` in MMOProtocol, the same check the test suite replays crash inputs with.

// A path dependency's identity is its folder's name, which differs between clones (`main` here,
// anything in CI), so it is computed rather than spelled.
let mainPackage = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .lastPathComponent.lowercased()
let mmoProtocol: Target.Dependency = .product(name: "MMOProtocol", package: mainPackage)

let package = Package(
    name: "mmo-fuzz",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(path: ".."),
    ],
    targets: [
        .executableTarget(name: "FuzzFrameStream", dependencies: [mmoProtocol]),
        .executableTarget(name: "FuzzClientMessage", dependencies: [mmoProtocol]),
    ],
    swiftLanguageModes: [.v6]
)
