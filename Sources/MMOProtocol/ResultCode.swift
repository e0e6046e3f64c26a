/// A client-visible result code. The numeric values are part of the wire protocol
/// (docs/protocol.md): they are fixed forever, never reordered or reused.
public struct ResultCode: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: UInt16
    public init(rawValue: UInt16) { self.rawValue = rawValue }

    public static let ok = ResultCode(rawValue: 0)

    // Connection and framing (1-19)
    public static let unsupportedVersion = ResultCode(rawValue: 1)
    public static let badHello = ResultCode(rawValue: 2)
    public static let illegalState = ResultCode(rawValue: 3)
    public static let unknownOpcode = ResultCode(rawValue: 4)
    public static let malformedPacket = ResultCode(rawValue: 5)
    public static let frameTooLarge = ResultCode(rawValue: 6)
    public static let rateLimited = ResultCode(rawValue: 7)
    public static let busy = ResultCode(rawValue: 8)
    public static let internalError = ResultCode(rawValue: 9)
    public static let serviceUnavailable = ResultCode(rawValue: 10)
    public static let serverShuttingDown = ResultCode(rawValue: 11)
    public static let idleTimeout = ResultCode(rawValue: 12)
    public static let loggedInElsewhere = ResultCode(rawValue: 13)
    /// No successful LOGIN within the login deadline after HELLO.
    public static let loginTimeout = ResultCode(rawValue: 14)
    /// The client's address already has as many open connections as one address may.
    public static let tooManyConnections = ResultCode(rawValue: 15)
    /// The client's address failed to log in too often; it is blocked for a penalty window.
    public static let addressBlocked = ResultCode(rawValue: 16)

    // Login (20-29)
    public static let tokenMalformed = ResultCode(rawValue: 20)
    public static let tokenUnknown = ResultCode(rawValue: 21)
    public static let tokenExpired = ResultCode(rawValue: 22)
    public static let tokenBadSignature = ResultCode(rawValue: 23)
    public static let accountBanned = ResultCode(rawValue: 24)
    /// RESUME with a token that is unknown, already used, or whose grace period has passed:
    /// log in again (LOGIN, ENTER_WORLD).
    public static let resumeRejected = ResultCode(rawValue: 25)

    // Characters (30-39)
    public static let nameInvalid = ResultCode(rawValue: 30)
    public static let nameTaken = ResultCode(rawValue: 31)
    public static let slotLimit = ResultCode(rawValue: 32)
    public static let classInvalid = ResultCode(rawValue: 33)
    public static let appearanceInvalid = ResultCode(rawValue: 34)
    public static let characterNotFound = ResultCode(rawValue: 35)

    // World (40-49)
    public static let moveTooFast = ResultCode(rawValue: 40)
    public static let moveOutOfBounds = ResultCode(rawValue: 41)
    public static let chatTooLong = ResultCode(rawValue: 42)
    public static let chatRateLimited = ResultCode(rawValue: 43)
    public static let zoneUnavailable = ResultCode(rawValue: 44)
    public static let worldFull = ResultCode(rawValue: 45)
    public static let alreadyInWorld = ResultCode(rawValue: 46)
    /// SAY text with control, bidirectional-override or line-separator characters.
    public static let chatInvalidText = ResultCode(rawValue: 47)

    /// Every defined code with its documented name, in numeric order.
    public static let all: [(ResultCode, String)] = [
        (.ok, "OK"),
        (.unsupportedVersion, "UNSUPPORTED_VERSION"), (.badHello, "BAD_HELLO"),
        (.illegalState, "ILLEGAL_STATE"), (.unknownOpcode, "UNKNOWN_OPCODE"),
        (.malformedPacket, "MALFORMED_PACKET"), (.frameTooLarge, "FRAME_TOO_LARGE"),
        (.rateLimited, "RATE_LIMITED"), (.busy, "BUSY"), (.internalError, "INTERNAL_ERROR"),
        (.serviceUnavailable, "SERVICE_UNAVAILABLE"), (.serverShuttingDown, "SERVER_SHUTTING_DOWN"),
        (.idleTimeout, "IDLE_TIMEOUT"), (.loggedInElsewhere, "LOGGED_IN_ELSEWHERE"),
        (.loginTimeout, "LOGIN_TIMEOUT"), (.tooManyConnections, "TOO_MANY_CONNECTIONS"),
        (.addressBlocked, "ADDRESS_BLOCKED"),
        (.tokenMalformed, "TOKEN_MALFORMED"), (.tokenUnknown, "TOKEN_UNKNOWN"),
        (.tokenExpired, "TOKEN_EXPIRED"), (.tokenBadSignature, "TOKEN_BAD_SIGNATURE"),
        (.accountBanned, "ACCOUNT_BANNED"), (.resumeRejected, "RESUME_REJECTED"),
        (.nameInvalid, "NAME_INVALID"), (.nameTaken, "NAME_TAKEN"), (.slotLimit, "SLOT_LIMIT"),
        (.classInvalid, "CLASS_INVALID"), (.appearanceInvalid, "APPEARANCE_INVALID"),
        (.characterNotFound, "CHARACTER_NOT_FOUND"),
        (.moveTooFast, "MOVE_TOO_FAST"), (.moveOutOfBounds, "MOVE_OUT_OF_BOUNDS"),
        (.chatTooLong, "CHAT_TOO_LONG"), (.chatRateLimited, "CHAT_RATE_LIMITED"),
        (.zoneUnavailable, "ZONE_UNAVAILABLE"), (.worldFull, "WORLD_FULL"),
        (.alreadyInWorld, "ALREADY_IN_WORLD"), (.chatInvalidText, "CHAT_INVALID_TEXT"),
    ]

    public var name: String {
        Self.all.first(where: { $0.0 == self })?.1 ?? "UNKNOWN_\(rawValue)"
    }

    public var description: String { "\(name)(\(rawValue))" }
}
