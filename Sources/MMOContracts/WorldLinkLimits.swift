/// Message sizes both ends of the world link (`WorldService.Connect`, protos/mmo/world.proto)
/// agree on.
///
/// Why they exist: gRPC's HTTP/2 transport checks every message it *receives* against a limit
/// (4 MiB unless set) and, when one is larger, fails the whole stream; the client side reports
/// it as `internalError: "Failed to decode message"`. Senders are not checked. At 2,000 players
/// in one place one tick's output for a gateway was about 5 MB in one `WorldBatch`, so the
/// gateway's stream failed and every player on it was sent out of the world. Now each side
/// splits what it sends well below what the other accepts (docs/world-service.md, "Gateway links
/// and back-pressure").
public enum WorldLinkLimits {
    /// The largest message either side accepts on this stream: the world server's
    /// `maxRequestPayloadSize` and the gateway call's `maxRequestMessageBytes` (which grpc-swift's
    /// HTTP/2 client applies to the messages it receives). Set explicitly on both, so a change of
    /// gRPC's default cannot shrink it under the sizes below.
    public static let maxMessageBytes = 4 << 20

    /// The world starts another `WorldBatch` for the same tick rather than let one grow past
    /// this many bytes of outputs. One output is at most one WORLD_UPDATE body (the client
    /// protocol's frame limit, 1 MiB) plus a few bytes of framing, so no message exceeds about
    /// 1 MiB + 64 bytes: a quarter of `maxMessageBytes`.
    public static let worldBatchTargetBytes = 1 << 20

    /// The most inputs in one `GatewayBatch`. An input is at most about 600 bytes (a join carries
    /// a name of up to 64 bytes and an account id of up to 255; a chat line up to 256), so a
    /// batch stays under 2.5 MB even when a stalled stream let inputs pile up.
    public static let maxInputsPerGatewayBatch = 4096
}
