// Generated code lives in Generated/ (scripts/generate-protos.sh). This file keeps the target non-empty of hand-written Swift.
@_exported import GRPCCore
@_exported import SwiftProtobuf
