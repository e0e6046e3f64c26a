import MMOProtocol

// The gateway's own view of its backends. `ConnectionStateMachine` and its tests speak only these
// types; the gRPC implementations and every protobuf mapping live in GRPCBackends.swift, so a
// `.proto` change stops at that file.

/// Validates session tokens for LOGIN. Production: `GRPCSessionAuthenticator`.
public protocol SessionAuthenticator: Sendable {
    func validate(token: String) async throws -> SessionValidation
}

/// The character operations the gateway needs. Production: `GRPCCharacterDirectory`.
public protocol CharacterDirectory: Sendable {
    func list(accountId: String) async throws -> CharacterList
    func create(accountId: String, name: String, classId: UInt8, appearance: UInt32) async throws -> CharacterCreation
    func delete(accountId: String, characterId: UInt64) async throws -> CharacterStatus
    /// Ownership check for ENTER_WORLD; returns the character with its spawn zone and position.
    func select(accountId: String, characterId: UInt64) async throws -> CharacterSelection
}

/// The auth service's verdict on a session token.
public struct SessionValidation: Sendable, Equatable {
    /// What the auth service decided.
    public enum Status: Sendable, Hashable, CaseIterable {
        case valid
        case malformed
        case unknown
        case expired
        case badSignature
        case banned
        /// A verdict the gateway does not know (unset, or newer than this build).
        case unrecognized

        /// The code a client sees in LOGIN_RESULT. `valid` is OK only with an account id;
        /// `ConnectionStateMachine` checks that.
        public var resultCode: ResultCode {
            switch self {
            case .valid: .ok
            case .malformed: .tokenMalformed
            case .unknown: .tokenUnknown
            case .expired: .tokenExpired
            case .badSignature: .tokenBadSignature
            case .banned: .accountBanned
            case .unrecognized: .internalError
            }
        }
    }

    public var status: Status
    /// The account the token belongs to; empty unless `status` is `.valid`.
    public var accountId: String
    public var displayName: String

    public init(status: Status, accountId: String = "", displayName: String = "") {
        self.status = status
        self.accountId = accountId
        self.displayName = displayName
    }
}

/// The character service's verdict on a character operation.
public enum CharacterStatus: Sendable, Hashable, CaseIterable {
    case ok
    case nameInvalid
    case nameTaken
    case slotLimit
    case classInvalid
    case appearanceInvalid
    case notFound
    /// A verdict the gateway does not know (unset, or newer than this build).
    case unrecognized

    /// The code a client sees in the matching result message.
    public var resultCode: ResultCode {
        switch self {
        case .ok: .ok
        case .nameInvalid: .nameInvalid
        case .nameTaken: .nameTaken
        case .slotLimit: .slotLimit
        case .classInvalid: .classInvalid
        case .appearanceInvalid: .appearanceInvalid
        case .notFound: .characterNotFound
        case .unrecognized: .internalError
        }
    }
}

/// A character as the character service stores it. Fields are as wide as the service's; they
/// are narrowed to the wire only in `CharacterSummary.init(_:)`.
public struct CharacterRecord: Sendable, Equatable {
    public var id: UInt64
    public var name: String
    public var classId: UInt32
    public var appearance: UInt32
    public var level: UInt32
    public var zoneId: UInt32
    public var x: Float
    public var y: Float
    /// The version of the saved zone and position; 0 when never versioned. Not shown to the
    /// client: it goes into the world join, where the world keeps the newer of this record and
    /// its retained live state (docs/world-service.md).
    public var stateVersion: UInt64

    public init(
        id: UInt64, name: String, classId: UInt32, appearance: UInt32, level: UInt32, zoneId: UInt32, x: Float, y: Float,
        stateVersion: UInt64 = 0
    ) {
        self.id = id
        self.name = name
        self.classId = classId
        self.appearance = appearance
        self.level = level
        self.zoneId = zoneId
        self.x = x
        self.y = y
        self.stateVersion = stateVersion
    }
}

/// An account's characters and how many it may have.
public struct CharacterList: Sendable, Equatable {
    public var maxCharacters: UInt32
    public var characters: [CharacterRecord]

    public init(maxCharacters: UInt32, characters: [CharacterRecord]) {
        self.maxCharacters = maxCharacters
        self.characters = characters
    }
}

/// The outcome of CHARACTER_CREATE: the new character when `status` is `.ok`, else a reason.
public struct CharacterCreation: Sendable, Equatable {
    public var status: CharacterStatus
    public var character: CharacterRecord?
    /// Human-readable detail for a refusal (e.g. the name rules).
    public var detail: String

    public init(status: CharacterStatus, character: CharacterRecord? = nil, detail: String = "") {
        self.status = status
        self.character = character
        self.detail = detail
    }
}

/// The outcome of ENTER_WORLD's ownership check: the character when `status` is `.ok`.
public struct CharacterSelection: Sendable, Equatable {
    public var status: CharacterStatus
    public var character: CharacterRecord?

    public init(status: CharacterStatus, character: CharacterRecord? = nil) {
        self.status = status
        self.character = character
    }
}

extension CharacterSummary {
    /// The wire form of a stored character, clamping fields that are wider in the service than
    /// on the wire (a misbehaving service never makes us write a corrupt frame).
    public init(_ c: CharacterRecord) {
        self.init(
            id: c.id,
            name: c.name.truncatedUTF8(maxBytes: ProtocolLimits.maxCharacterNameBytes),
            classId: UInt8(clamping: c.classId),
            appearance: c.appearance,
            level: UInt16(clamping: c.level),
            zoneId: c.zoneId,
            x: c.x,
            y: c.y
        )
    }
}
