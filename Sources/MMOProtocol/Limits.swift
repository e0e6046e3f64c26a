/// Sizes fixed by the protocol. Servers may be configured stricter, never looser.
public enum ProtocolLimits {
    /// Newest protocol version this library speaks (2: reconnect and resume, VIEW_RESET).
    public static let version: UInt16 = 2
    /// Oldest version a server still accepts. A version 1 connection is served the version 1
    /// protocol: no RESUME_TOKEN, no VIEW_RESET, and a drop takes its character out at once.
    public static let oldestVersion: UInt16 = 1
    /// "MMOR" - the first four bytes of every HELLO body.
    public static let helloMagic: UInt32 = 0x4D4D_4F52
    /// Length prefix (4) + opcode (2).
    public static let frameHeaderSize = 6
    /// Default maximum client->server frame (opcode + body). Configurable downwards.
    public static let defaultMaxClientFrame = 4096
    /// Maximum server->client frame a client must accept. World updates are split below it.
    public static let maxServerFrame = 1 << 20
    /// Session token in LOGIN.
    public static let maxTokenBytes = 512
    /// Resume token in RESUME (the server issues 43-character tokens).
    public static let maxResumeTokenBytes = 128
    /// Client name in HELLO.
    public static let maxClientNameBytes = 64
    /// Character names, both ways (the name rules then allow 3-16 letters).
    public static let maxCharacterNameBytes = 64
    /// Chat text: a longer SAY is refused with CHAT_TOO_LONG; CHAT events never carry more.
    public static let maxChatBytes = 256
    /// Human-readable text from the server: DISCONNECT's message, CHARACTER_CREATE_RESULT's detail.
    public static let maxMessageBytes = 1024
    /// Account id in LOGIN_RESULT.
    public static let maxAccountIdBytes = 255
    /// Display name in LOGIN_RESULT.
    public static let maxDisplayNameBytes = 255
}
