import NIOCore

/// One thing a player learns about the world in a WORLD_UPDATE.
public enum WorldEvent: Sendable, Equatable {
    /// An entity came into view (or is the player itself, on entering the world).
    case appear(EntityAppearance)
    case move(entityId: UInt64, x: Float, y: Float)
    /// An entity left view (moved away, left the world or disconnected).
    case disappear(entityId: UInt64)
    case chat(entityId: UInt64, name: String, text: String)
    /// The server refused the move with sequence `seq` and puts the player at (x, y).
    case correction(seq: UInt32, x: Float, y: Float, reason: ResultCode)

    public enum Kind: UInt8, Sendable {
        case appear = 1, move = 2, disappear = 3, chat = 4, correction = 5
    }

    public struct EntityAppearance: Sendable, Equatable {
        public var entityId: UInt64
        public var name: String
        public var classId: UInt8
        public var appearance: UInt32
        public var level: UInt16
        public var x: Float
        public var y: Float
        public init(entityId: UInt64, name: String, classId: UInt8, appearance: UInt32, level: UInt16, x: Float, y: Float) {
            self.entityId = entityId
            self.name = name
            self.classId = classId
            self.appearance = appearance
            self.level = level
            self.x = x
            self.y = y
        }
    }

    /// Appends the event's encoding (kind byte + fields) to `buffer`.
    @inlinable
    public func encode(into buffer: inout ByteBuffer) {
        switch self {
        case .appear(let a):
            buffer.writeInteger(Kind.appear.rawValue)
            buffer.writeInteger(a.entityId)
            buffer.writeWireString(a.name, maxBytes: ProtocolLimits.maxCharacterNameBytes)
            buffer.writeInteger(a.classId)
            buffer.writeInteger(a.appearance)
            buffer.writeInteger(a.level)
            buffer.writeWireFloat(a.x)
            buffer.writeWireFloat(a.y)
        case .move(let id, let x, let y):
            buffer.writeInteger(Kind.move.rawValue)
            buffer.writeInteger(id)
            buffer.writeWireFloat(x)
            buffer.writeWireFloat(y)
        case .disappear(let id):
            buffer.writeInteger(Kind.disappear.rawValue)
            buffer.writeInteger(id)
        case .chat(let id, let name, let text):
            buffer.writeInteger(Kind.chat.rawValue)
            buffer.writeInteger(id)
            buffer.writeWireString(name, maxBytes: ProtocolLimits.maxCharacterNameBytes)
            buffer.writeWireString(text, maxBytes: ProtocolLimits.maxChatBytes)
        case .correction(let seq, let x, let y, let reason):
            buffer.writeInteger(Kind.correction.rawValue)
            buffer.writeInteger(seq)
            buffer.writeWireFloat(x)
            buffer.writeWireFloat(y)
            buffer.writeInteger(reason.rawValue)
        }
    }

    static func decode(_ r: inout WireReader) throws(ProtocolError) -> WorldEvent {
        let kind = try r.u8()
        switch Kind(rawValue: kind) {
        case .appear:
            let id = try r.u64()
            let name = try r.string(maxBytes: ProtocolLimits.maxCharacterNameBytes)
            let classId = try r.u8()
            let appearance = try r.u32()
            let level = try r.u16()
            let x = try r.f32()
            let y = try r.f32()
            return .appear(EntityAppearance(entityId: id, name: name, classId: classId, appearance: appearance, level: level, x: x, y: y))
        case .move:
            let id = try r.u64()
            let x = try r.f32()
            let y = try r.f32()
            return .move(entityId: id, x: x, y: y)
        case .disappear:
            return .disappear(entityId: try r.u64())
        case .chat:
            let id = try r.u64()
            let name = try r.string(maxBytes: ProtocolLimits.maxCharacterNameBytes)
            let text = try r.string(maxBytes: ProtocolLimits.maxChatBytes)
            return .chat(entityId: id, name: name, text: text)
        case .correction:
            let seq = try r.u32()
            let x = try r.f32()
            let y = try r.f32()
            let reason = ResultCode(rawValue: try r.u16())
            return .correction(seq: seq, x: x, y: y, reason: reason)
        case nil:
            throw r.malformed("unknown world event kind \(kind)")
        }
    }
}
