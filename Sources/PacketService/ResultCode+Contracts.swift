import MMOContracts
import MMOProtocol

extension ResultCode {
    /// The client-visible code for an auth service verdict.
    public init(_ status: Mmo_SessionStatus) {
        switch status {
        case .valid: self = .ok
        case .malformed: self = .tokenMalformed
        case .unknown: self = .tokenUnknown
        case .expired: self = .tokenExpired
        case .badSignature: self = .tokenBadSignature
        case .banned: self = .accountBanned
        case .unspecified, .UNRECOGNIZED: self = .internalError
        }
    }

    /// The client-visible code for a character service verdict.
    public init(_ status: Mmo_CharacterStatus) {
        switch status {
        case .ok: self = .ok
        case .nameInvalid: self = .nameInvalid
        case .nameTaken: self = .nameTaken
        case .slotLimit: self = .slotLimit
        case .classInvalid: self = .classInvalid
        case .appearanceInvalid: self = .appearanceInvalid
        case .notFound: self = .characterNotFound
        case .unspecified, .UNRECOGNIZED: self = .internalError
        }
    }
}

extension CharacterSummary {
    /// Converts the service's character into the wire form, clamping fields that are wider in
    /// protobuf than on the wire (a misbehaving service never makes us write a corrupt frame).
    public init(_ c: Mmo_Character) {
        self.init(
            id: c.id,
            name: c.name.truncatedUTF8(maxBytes: ProtocolLimits.maxCharacterNameBytes),
            classId: UInt8(clamping: c.classID),
            appearance: c.appearance,
            level: UInt16(clamping: c.level),
            zoneId: c.zoneID,
            x: c.x,
            y: c.y
        )
    }
}

extension Mmo_PlayerJoin {
    /// The world join for a character the character service selected.
    public init(character c: Mmo_Character, accountId: String) {
        self.init()
        characterID = c.id
        self.accountID = accountId
        name = c.name
        classID = c.classID
        appearance = c.appearance
        level = c.level
        zoneID = c.zoneID
        x = c.x
        y = c.y
    }
}

extension WorldEntry {
    /// The ENTER_WORLD_RESULT payload for the world's acceptance.
    public init(_ a: Mmo_JoinAccepted) {
        self.init(entityId: a.entityID, zoneId: a.zoneID, x: a.x, y: a.y, tickRateHz: UInt16(clamping: a.tickRateHz))
    }
}

extension ResultCode {
    /// A code carried in a world message as `uint32`; out-of-range values become INTERNAL_ERROR.
    init(worldCode: UInt32) {
        self = UInt16(exactly: worldCode).map(ResultCode.init(rawValue:)) ?? .internalError
    }
}
