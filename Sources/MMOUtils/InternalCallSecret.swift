/// The shared secret that services present to each other on every internal gRPC call
/// (configuration key `grpc.secret`; see docs/adr/0005-internal-call-authentication.md).
///
/// Never printed: `description` is redacted, so the secret cannot reach a log line or an error
/// message by interpolation.
public struct InternalCallSecret: Sendable, CustomStringConvertible, CustomDebugStringConvertible {
    /// The metadata key that carries the secret.
    public static let metadataKey = "mmo-internal-secret"
    /// Shorter secrets are refused at start: the secret is the only thing between a caller on
    /// the network and every internal API.
    public static let minimumLength = 16

    let bytes: [UInt8]

    /// The secret as configured; nil when it is shorter than ``minimumLength`` bytes.
    public init?(_ text: String) {
        guard text.utf8.count >= Self.minimumLength else { return nil }
        bytes = Array(text.utf8)
    }

    /// The value sent in ``metadataKey``.
    var text: String { String(decoding: bytes, as: UTF8.self) }

    /// Whether `candidate` is the secret, in time that depends only on the candidate's length:
    /// every byte is compared, so the time taken says nothing about how much of a guess was right.
    public func matches(_ candidate: some Collection<UInt8>) -> Bool {
        var difference: UInt8 = 0
        var index = 0
        for byte in candidate {
            difference |= byte ^ bytes[index % bytes.count]
            index += 1
        }
        return difference == 0 && index == bytes.count
    }

    public var description: String { "<redacted>" }
    public var debugDescription: String { "<redacted>" }
}
