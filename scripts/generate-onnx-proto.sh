#!/usr/bin/env bash
# Regenerates Sources/StylizeONNX/Generated/onnx.pb.swift from ONNX's protobuf schema.
# Run once by hand (the output is committed, because building the protoc plugin is slow):
#   - protoc from Debian's protobuf-compiler (apt-get install protobuf-compiler);
#   - protoc-gen-swift built from swift-protobuf at the version Package.swift names (1.39.0):
#       git clone https://github.com/apple/swift-protobuf && cd swift-protobuf && git checkout 1.39.0
#       swift build -c release --product protoc-gen-swift
#     and pass its path as PROTOC_GEN_SWIFT;
#   - onnx.proto (proto2 syntax, package "onnx") from the `onnx` PyPI wheel (onnx/onnx.proto).
# Types come out as Onnx_ModelProto, Onnx_GraphProto, … with internal visibility: the reader's
# public API hides them.
set -euo pipefail
cd "$(dirname "$0")/.."
PROTOC_GEN_SWIFT=${PROTOC_GEN_SWIFT:?path to protoc-gen-swift}
ONNX_PROTO=${ONNX_PROTO:?path to onnx.proto from the onnx wheel}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp "$ONNX_PROTO" "$work/onnx.proto"
protoc --plugin=protoc-gen-swift="$PROTOC_GEN_SWIFT" --proto_path="$work" \
    --swift_out="$work" --swift_opt=Visibility=Internal "$work/onnx.proto"
mkdir -p Sources/StylizeONNX/Generated
cp "$work/onnx.pb.swift" Sources/StylizeONNX/Generated/onnx.pb.swift
echo "wrote Sources/StylizeONNX/Generated/onnx.pb.swift"
