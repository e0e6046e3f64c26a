import NIOCore

/// Everything a client may send. See docs/protocol.md for the byte layout of each.
public enum ClientMessage: Sendable, Equatable {
    case hello(Hello)
    case ping(nonce: UInt32)
    case logout
    case login(token: String)
    /// Takes back a character left link-dead by a dropped connection (docs/protocol.md,
    /// "Reconnecting"), instead of LOGIN.
    case resume(token: String)
    case characterList
    case characterCreate(name: String, classId: UInt8, appearance: UInt32)
    case characterDelete(characterId: UInt64)
    case enterWorld(characterId: UInt64)
    case move(seq: UInt32, x: Float, y: Float)
    /// Chat text may exceed `ProtocolLimits.maxChatBytes` here; the gateway refuses such a SAY
    /// with CHAT_TOO_LONG rather than treating it as malformed.
    case say(text: String)
    case leaveWorld

    public struct Hello: Sendable, Equatable {
        public var magic: UInt32
        public var version: UInt16
        public var clientName: String
        public init(magic: UInt32 = ProtocolLimits.helloMagic, version: UInt16 = ProtocolLimits.version, clientName: String) {
            self.magic = magic
            self.version = version
            self.clientName = clientName
        }
    }

    public var opcode: Opcode {
        switch self {
        case .hello: .hello
        case .ping: .ping
        case .logout: .logout
        case .login: .login
        case .resume: .resume
        case .characterList: .characterList
        case .characterCreate: .characterCreate
        case .characterDelete: .characterDelete
        case .enterWorld: .enterWorld
        case .move: .move
        case .say: .say
        case .leaveWorld: .leaveWorld
        }
    }

    /// Decodes a frame's body. Fields over their protocol limits (except SAY's text, see
    /// `say`), non-finite floats, invalid UTF-8 and trailing bytes are all `.malformed`.
    public static func decode(_ frame: Frame) throws(ProtocolError) -> ClientMessage {
        guard let opcode = Opcode(rawValue: frame.opcode), opcode.isClientOpcode else {
            throw .unknownOpcode(frame.opcode)
        }
        var r = WireReader(frame.body, opcode: frame.opcode)
        let message: ClientMessage
        switch opcode {
        case .hello:
            let magic = try r.u32()
            let version = try r.u16()
            let name = try r.string(maxBytes: ProtocolLimits.maxClientNameBytes)
            message = .hello(Hello(magic: magic, version: version, clientName: name))
        case .ping: message = .ping(nonce: try r.u32())
        case .logout: message = .logout
        case .login: message = .login(token: try r.string(maxBytes: ProtocolLimits.maxTokenBytes))
        case .resume: message = .resume(token: try r.string(maxBytes: ProtocolLimits.maxResumeTokenBytes))
        case .characterList: message = .characterList
        case .characterCreate:
            let name = try r.string(maxBytes: ProtocolLimits.maxCharacterNameBytes)
            let classId = try r.u8()
            let appearance = try r.u32()
            message = .characterCreate(name: name, classId: classId, appearance: appearance)
        case .characterDelete: message = .characterDelete(characterId: try r.u64())
        case .enterWorld: message = .enterWorld(characterId: try r.u64())
        case .move:
            let seq = try r.u32()
            let x = try r.f32()
            let y = try r.f32()
            message = .move(seq: seq, x: x, y: y)
        case .say:
            // Bounded only by the frame: text over `maxChatBytes` is a refusable request
            // (ERROR(CHAT_TOO_LONG) from the gateway), not a broken packet.
            message = .say(text: try r.string(maxBytes: Int(UInt16.max)))
        case .leaveWorld: message = .leaveWorld
        default: throw .unknownOpcode(frame.opcode)
        }
        try r.finish()
        return message
    }

    /// Appends this message as one complete frame.
    public func encode(into buffer: inout ByteBuffer) {
        buffer.writeFrame(opcode: opcode) { b in
            switch self {
            case .hello(let h):
                b.writeInteger(h.magic)
                b.writeInteger(h.version)
                b.writeWireString(h.clientName)
            case .ping(let nonce): b.writeInteger(nonce)
            case .logout, .characterList, .leaveWorld: break
            case .login(let token), .resume(let token): b.writeWireString(token)
            case .characterCreate(let name, let classId, let appearance):
                b.writeWireString(name)
                b.writeInteger(classId)
                b.writeInteger(appearance)
            case .characterDelete(let id), .enterWorld(let id): b.writeInteger(id)
            case .move(let seq, let x, let y):
                b.writeInteger(seq)
                b.writeWireFloat(x)
                b.writeWireFloat(y)
            case .say(let text): b.writeWireString(text)
            }
        }
    }
}
