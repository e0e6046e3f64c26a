/// Sizes fixed by the protocol. Servers may be configured stricter, never looser.
public enum ProtocolLimits {
    /// Protocol version this library speaks.
    public static let version: UInt16 = 1
    /// "MMOR" - the first four bytes of every HELLO body.
    public static let helloMagic: UInt32 = 0x4D4D_4F52
    /// Length prefix (4) + opcode (2).
    public static let frameHeaderSize = 6
    /// Default maximum client->server frame (opcode + body). Configurable downwards.
    public static let defaultMaxClientFrame = 4096
    /// Maximum server->client frame a client must accept. World updates are split below it.
    public static let maxServerFrame = 1 << 20
    public static let maxTokenBytes = 512
    public static let maxClientNameBytes = 64
    public static let maxCharacterNameBytes = 64
    public static let maxChatBytes = 256
    public static let maxMessageBytes = 1024
}
