import NIOCore

/// A character as shown on the character-select screen.
public struct CharacterSummary: Sendable, Equatable {
    public var id: UInt64
    public var name: String
    public var classId: UInt8
    public var appearance: UInt32
    public var level: UInt16
    public var zoneId: UInt32
    public var x: Float
    public var y: Float

    public init(id: UInt64, name: String, classId: UInt8, appearance: UInt32, level: UInt16, zoneId: UInt32, x: Float, y: Float) {
        self.id = id
        self.name = name
        self.classId = classId
        self.appearance = appearance
        self.level = level
        self.zoneId = zoneId
        self.x = x
        self.y = y
    }

    func encode(into b: inout ByteBuffer) {
        b.writeInteger(id)
        b.writeWireString(name, maxBytes: ProtocolLimits.maxCharacterNameBytes)
        b.writeInteger(classId)
        b.writeInteger(appearance)
        b.writeInteger(level)
        b.writeInteger(zoneId)
        b.writeWireFloat(x)
        b.writeWireFloat(y)
    }

    static func decode(_ r: inout WireReader) throws(ProtocolError) -> CharacterSummary {
        let id = try r.u64()
        let name = try r.string(maxBytes: ProtocolLimits.maxCharacterNameBytes)
        let classId = try r.u8()
        let appearance = try r.u32()
        let level = try r.u16()
        let zoneId = try r.u32()
        let x = try r.f32()
        let y = try r.f32()
        return CharacterSummary(id: id, name: name, classId: classId, appearance: appearance, level: level, zoneId: zoneId, x: x, y: y)
    }
}

/// The result of ENTER_WORLD when it succeeds.
public struct WorldEntry: Sendable, Equatable {
    public var entityId: UInt64
    public var zoneId: UInt32
    public var x: Float
    public var y: Float
    public var tickRateHz: UInt16
    public init(entityId: UInt64, zoneId: UInt32, x: Float, y: Float, tickRateHz: UInt16) {
        self.entityId = entityId
        self.zoneId = zoneId
        self.x = x
        self.y = y
        self.tickRateHz = tickRateHz
    }
}

/// The result of RESUME when it succeeds: who is logged in, and the character back in the world.
public struct ResumedSession: Sendable, Equatable {
    public var accountId: String
    public var displayName: String
    public var characterId: UInt64
    public var entry: WorldEntry
    public init(accountId: String, displayName: String, characterId: UInt64, entry: WorldEntry) {
        self.accountId = accountId
        self.displayName = displayName
        self.characterId = characterId
        self.entry = entry
    }
}

extension WorldEntry {
    static func decode(_ r: inout WireReader) throws(ProtocolError) -> WorldEntry {
        WorldEntry(entityId: try r.u64(), zoneId: try r.u32(), x: try r.f32(), y: try r.f32(), tickRateHz: try r.u16())
    }
}

extension ByteBuffer {
    /// ENTER_WORLD_RESULT's and RESUME_RESULT's entry fields; all zero when there is none.
    fileprivate mutating func writeWorldEntry(_ entry: WorldEntry?) {
        let e = entry ?? WorldEntry(entityId: 0, zoneId: 0, x: 0, y: 0, tickRateHz: 0)
        writeInteger(e.entityId)
        writeInteger(e.zoneId)
        writeWireFloat(e.x)
        writeWireFloat(e.y)
        writeInteger(e.tickRateHz)
    }
}

/// Everything a server may send. See docs/protocol.md.
public enum ServerMessage: Sendable, Equatable {
    case helloAck(version: UInt16, maxClientFrame: UInt32)
    case pong(nonce: UInt32)
    /// Sent right before the server closes the connection.
    case disconnect(code: ResultCode, message: String)
    /// A request was refused; the connection stays open.
    case error(requestOpcode: UInt16, code: ResultCode)
    case loginResult(code: ResultCode, accountId: String, displayName: String)
    /// The answer to RESUME; `session` is nil unless `code` is OK.
    case resumeResult(code: ResultCode, session: ResumedSession?)
    /// The token that resumes this connection's character after a drop, valid until used or
    /// `graceSeconds` after the connection is gone. Each one replaces the previous.
    case resumeToken(token: String, graceSeconds: UInt16)
    case characterListResult(code: ResultCode, maxCharacters: UInt8, characters: [CharacterSummary])
    /// `detail` is a human-readable reason (e.g. which name rule failed), safe to show.
    case characterCreateResult(code: ResultCode, character: CharacterSummary?, detail: String)
    case characterDeleteResult(code: ResultCode, characterId: UInt64)
    case enterWorldResult(code: ResultCode, entry: WorldEntry?)
    case worldUpdate(tick: UInt64, events: [WorldEvent])
    case leftWorld(code: ResultCode)
    /// Forget every entity you know: the world re-admitted you (after its link to the gateway
    /// broke) as a new entity; a fresh snapshot of your surroundings follows.
    case viewReset(entityId: UInt64, zoneId: UInt32, x: Float, y: Float)

    public var opcode: Opcode {
        switch self {
        case .helloAck: .helloAck
        case .pong: .pong
        case .disconnect: .disconnect
        case .error: .error
        case .loginResult: .loginResult
        case .resumeResult: .resumeResult
        case .resumeToken: .resumeToken
        case .characterListResult: .characterListResult
        case .characterCreateResult: .characterCreateResult
        case .characterDeleteResult: .characterDeleteResult
        case .enterWorldResult: .enterWorldResult
        case .worldUpdate: .worldUpdate
        case .leftWorld: .leftWorld
        case .viewReset: .viewReset
        }
    }

    /// Appends this message as one complete frame.
    public func encode(into buffer: inout ByteBuffer) {
        buffer.writeFrame(opcode: opcode) { b in
            switch self {
            case .helloAck(let version, let maxClientFrame):
                b.writeInteger(version)
                b.writeInteger(maxClientFrame)
            case .pong(let nonce): b.writeInteger(nonce)
            case .disconnect(let code, let message):
                b.writeInteger(code.rawValue)
                b.writeWireString(message, maxBytes: ProtocolLimits.maxMessageBytes)
            case .error(let op, let code):
                b.writeInteger(op)
                b.writeInteger(code.rawValue)
            case .loginResult(let code, let accountId, let displayName):
                b.writeInteger(code.rawValue)
                b.writeWireString(accountId, maxBytes: ProtocolLimits.maxAccountIdBytes)
                b.writeWireString(displayName, maxBytes: ProtocolLimits.maxDisplayNameBytes)
            case .resumeResult(let code, let session):
                b.writeInteger(code.rawValue)
                b.writeWireString(session?.accountId ?? "", maxBytes: ProtocolLimits.maxAccountIdBytes)
                b.writeWireString(session?.displayName ?? "", maxBytes: ProtocolLimits.maxDisplayNameBytes)
                b.writeInteger(session?.characterId ?? 0)
                b.writeWorldEntry(session?.entry)
            case .resumeToken(let token, let graceSeconds):
                b.writeWireString(token, maxBytes: ProtocolLimits.maxResumeTokenBytes)
                b.writeInteger(graceSeconds)
            case .characterListResult(let code, let max, let characters):
                b.writeInteger(code.rawValue)
                b.writeInteger(max)
                b.writeInteger(UInt8(clamping: characters.count))
                for c in characters.prefix(Int(UInt8.max)) { c.encode(into: &b) }
            case .characterCreateResult(let code, let character, let detail):
                b.writeInteger(code.rawValue)
                if let character {
                    b.writeInteger(UInt8(1))
                    character.encode(into: &b)
                } else {
                    b.writeInteger(UInt8(0))
                }
                b.writeWireString(detail, maxBytes: ProtocolLimits.maxMessageBytes)
            case .characterDeleteResult(let code, let id):
                b.writeInteger(code.rawValue)
                b.writeInteger(id)
            case .enterWorldResult(let code, let entry):
                b.writeInteger(code.rawValue)
                b.writeWorldEntry(entry)
            case .worldUpdate(let tick, let events):
                b.writeInteger(tick)
                b.writeInteger(UInt16(events.count))
                for e in events { e.encode(into: &b) }
            case .leftWorld(let code):
                b.writeInteger(code.rawValue)
            case .viewReset(let entityId, let zoneId, let x, let y):
                b.writeInteger(entityId)
                b.writeInteger(zoneId)
                b.writeWireFloat(x)
                b.writeWireFloat(y)
            }
        }
    }

    /// Decodes a server frame (used by the client SDK and tests).
    public static func decode(_ frame: Frame) throws(ProtocolError) -> ServerMessage {
        guard let opcode = Opcode(rawValue: frame.opcode), !opcode.isClientOpcode else {
            throw .unknownOpcode(frame.opcode)
        }
        var r = WireReader(frame.body, opcode: frame.opcode)
        let message: ServerMessage
        switch opcode {
        case .helloAck:
            let version = try r.u16()
            message = .helloAck(version: version, maxClientFrame: try r.u32())
        case .pong: message = .pong(nonce: try r.u32())
        case .disconnect:
            let code = ResultCode(rawValue: try r.u16())
            message = .disconnect(code: code, message: try r.string(maxBytes: ProtocolLimits.maxMessageBytes))
        case .error:
            let op = try r.u16()
            message = .error(requestOpcode: op, code: ResultCode(rawValue: try r.u16()))
        case .loginResult:
            let code = ResultCode(rawValue: try r.u16())
            let accountId = try r.string(maxBytes: ProtocolLimits.maxAccountIdBytes)
            let displayName = try r.string(maxBytes: ProtocolLimits.maxDisplayNameBytes)
            message = .loginResult(code: code, accountId: accountId, displayName: displayName)
        case .characterListResult:
            let code = ResultCode(rawValue: try r.u16())
            let max = try r.u8()
            let count = try r.u8()
            var characters: [CharacterSummary] = []
            characters.reserveCapacity(Int(count))
            for _ in 0..<count { characters.append(try CharacterSummary.decode(&r)) }
            message = .characterListResult(code: code, maxCharacters: max, characters: characters)
        case .characterCreateResult:
            let code = ResultCode(rawValue: try r.u16())
            let has = try r.u8()
            let character: CharacterSummary? = has == 1 ? try CharacterSummary.decode(&r) : nil
            guard has <= 1 else { throw r.malformed("bad presence flag") }
            message = .characterCreateResult(code: code, character: character, detail: try r.string(maxBytes: ProtocolLimits.maxMessageBytes))
        case .characterDeleteResult:
            let code = ResultCode(rawValue: try r.u16())
            message = .characterDeleteResult(code: code, characterId: try r.u64())
        case .enterWorldResult:
            let code = ResultCode(rawValue: try r.u16())
            let entry = try WorldEntry.decode(&r)
            message = .enterWorldResult(code: code, entry: code == .ok ? entry : nil)
        case .resumeResult:
            let code = ResultCode(rawValue: try r.u16())
            let accountId = try r.string(maxBytes: ProtocolLimits.maxAccountIdBytes)
            let displayName = try r.string(maxBytes: ProtocolLimits.maxDisplayNameBytes)
            let characterId = try r.u64()
            let entry = try WorldEntry.decode(&r)
            let session = ResumedSession(accountId: accountId, displayName: displayName, characterId: characterId, entry: entry)
            message = .resumeResult(code: code, session: code == .ok ? session : nil)
        case .resumeToken:
            let token = try r.string(maxBytes: ProtocolLimits.maxResumeTokenBytes)
            message = .resumeToken(token: token, graceSeconds: try r.u16())
        case .viewReset:
            message = .viewReset(entityId: try r.u64(), zoneId: try r.u32(), x: try r.f32(), y: try r.f32())
        case .worldUpdate:
            let tick = try r.u64()
            let count = try r.u16()
            var events: [WorldEvent] = []
            events.reserveCapacity(Int(count))
            for _ in 0..<count { events.append(try WorldEvent.decode(&r)) }
            message = .worldUpdate(tick: tick, events: events)
        case .leftWorld:
            message = .leftWorld(code: ResultCode(rawValue: try r.u16()))
        default:
            throw .unknownOpcode(frame.opcode)
        }
        try r.finish()
        return message
    }
}
