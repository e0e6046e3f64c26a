#!/usr/bin/env bash
# Regenerates Sources/MMOContracts from protos/ (committed; CI never generates): our contracts
# in protos/mmo/ and the standard gRPC health service (protos/health.proto, grpc.health.v1).
# Needs protoc (Debian: protobuf-compiler) and the two Swift plugins, which this script builds
# once from the same swift-protobuf / grpc-swift-protobuf versions Package.swift pins.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
tools="$root/.build-protoc-plugins"
command -v protoc >/dev/null || apt-get install -y protobuf-compiler
if [ ! -x "$tools/.build/release/protoc-gen-grpc-swift-2" ]; then
  mkdir -p "$tools/Sources/Plugins"
  cat > "$tools/Package.swift" <<'PKG'
// swift-tools-version:6.2
import PackageDescription
let package = Package(
  name: "protoc-plugins",
  platforms: [.macOS(.v15)],
  dependencies: [
    .package(url: "https://github.com/apple/swift-protobuf.git", exact: "1.39.0"),
    .package(url: "https://github.com/grpc/grpc-swift-protobuf.git", exact: "2.4.1"),
  ],
  targets: [.executableTarget(name: "Plugins", path: "Sources/Plugins")]
)
PKG
  echo 'print("build the protoc plugins with: swift build -c release --product ...")' > "$tools/Sources/Plugins/main.swift"
  (cd "$tools" && swift build -c release --product protoc-gen-swift && swift build -c release --product protoc-gen-grpc-swift-2)
fi
out="$root/Sources/MMOContracts/Generated"
rm -rf "$out" && mkdir -p "$out"
protoc -I "$root/protos" \
  --plugin=protoc-gen-swift="$tools/.build/release/protoc-gen-swift" \
  --plugin=protoc-gen-grpc-swift-2="$tools/.build/release/protoc-gen-grpc-swift-2" \
  --swift_out="$out" --swift_opt=Visibility=Public,FileNaming=PathToUnderscores \
  --grpc-swift-2_out="$out" --grpc-swift-2_opt=Visibility=Public,FileNaming=PathToUnderscores \
  "$root"/protos/mmo/*.proto "$root"/protos/health.proto
echo "generated into $out:"; ls "$out"
