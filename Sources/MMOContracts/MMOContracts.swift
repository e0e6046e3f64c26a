// Generated code lives in Generated/ (scripts/generate-protos.sh). This file keeps the target
// non-empty of hand-written Swift. It re-exports nothing: a file that uses gRPC or protobuf API
// imports GRPCCore or SwiftProtobuf itself, so `import GRPCCore` marks every edge (ADR 0004).
