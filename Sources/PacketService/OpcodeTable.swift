import MMOProtocol

/// The protocol states of one client connection (docs/packet-service.md).
public enum ConnectionState: UInt8, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    /// TCP is open; only HELLO is legal.
    case connected
    /// HELLO_ACK sent; waiting for a successful LOGIN.
    case awaitingLogin
    /// Logged in; managing characters or choosing one to play.
    case characterSelect
    /// A character is in the world.
    case inWorld
    /// DISCONNECT sent or the peer went away; nothing more is processed.
    case closed

    public var description: String {
        switch self {
        case .connected: "CONNECTED"
        case .awaitingLogin: "AWAITING_LOGIN"
        case .characterSelect: "CHARACTER_SELECT"
        case .inWorld: "IN_WORLD"
        case .closed: "CLOSED"
        }
    }
}

/// A set of `ConnectionState`s, as one byte.
public struct ConnectionStates: OptionSet, Sendable, Hashable {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }
    public init(_ state: ConnectionState) { self.rawValue = 1 << state.rawValue }

    public static let connected = ConnectionStates(.connected)
    public static let awaitingLogin = ConnectionStates(.awaitingLogin)
    public static let characterSelect = ConnectionStates(.characterSelect)
    public static let inWorld = ConnectionStates(.inWorld)
    /// Every state in which a client is past the handshake.
    public static let handshaken: ConnectionStates = [.awaitingLogin, .characterSelect, .inWorld]

    public func contains(_ state: ConnectionState) -> Bool { contains(ConnectionStates(state)) }
}

/// How the gateway treats one client opcode: in which states it is legal, and whether it is a
/// request answered by a backend call (served one at a time per connection; a second one while
/// one is in flight gets ERROR(BUSY)).
public struct OpcodeRule: Sendable, Hashable {
    public var legalIn: ConnectionStates
    public var isRequest: Bool
}

/// The opcode table (cMaNGOS style): every client opcode declares the states where it is legal.
/// `ConnectionStateMachine` consults it before anything else, so an illegal packet is refused
/// in this one place and never reaches a handler.
public enum OpcodeTable {
    public static func rule(for opcode: Opcode) -> OpcodeRule {
        switch opcode {
        case .hello: OpcodeRule(legalIn: .connected, isRequest: false)
        case .ping: OpcodeRule(legalIn: .handshaken, isRequest: false)
        case .logout: OpcodeRule(legalIn: .handshaken, isRequest: false)
        case .login: OpcodeRule(legalIn: .awaitingLogin, isRequest: true)
        case .resume: OpcodeRule(legalIn: .awaitingLogin, isRequest: true)
        case .characterList: OpcodeRule(legalIn: .characterSelect, isRequest: true)
        case .characterCreate: OpcodeRule(legalIn: .characterSelect, isRequest: true)
        case .characterDelete: OpcodeRule(legalIn: .characterSelect, isRequest: true)
        case .enterWorld: OpcodeRule(legalIn: .characterSelect, isRequest: true)
        case .move: OpcodeRule(legalIn: .inWorld, isRequest: false)
        case .say: OpcodeRule(legalIn: .inWorld, isRequest: false)
        // Answered at once (the world is told asynchronously), but still a request: it changes
        // state, so it must not overlap another request.
        case .leaveWorld: OpcodeRule(legalIn: .inWorld, isRequest: true)
        // Server opcodes are never legal from a client (the decoder already rejects them).
        case .helloAck, .pong, .disconnect, .error, .loginResult, .resumeResult, .resumeToken, .characterListResult,
             .characterCreateResult, .characterDeleteResult, .enterWorldResult, .worldUpdate, .leftWorld, .viewReset:
            OpcodeRule(legalIn: [], isRequest: false)
        }
    }

    /// Metric label grouping opcodes into families.
    static func family(_ opcode: Opcode) -> OpcodeFamily {
        switch opcode {
        case .hello, .helloAck, .ping, .pong, .logout, .disconnect, .error: .session
        case .login, .loginResult, .resume, .resumeResult, .resumeToken: .login
        case .characterList, .characterCreate, .characterDelete, .characterListResult,
             .characterCreateResult, .characterDeleteResult: .character
        case .enterWorld, .enterWorldResult, .leaveWorld, .leftWorld, .viewReset: .worldEntry
        case .move, .say, .worldUpdate: .world
        }
    }
}

/// Opcode families used as metric dimensions (a handful of series, not one per opcode).
enum OpcodeFamily: Int, CaseIterable, Sendable {
    case session, login, character, worldEntry, world, unknown

    var label: String {
        switch self {
        case .session: "session"
        case .login: "login"
        case .character: "character"
        case .worldEntry: "world_entry"
        case .world: "world"
        case .unknown: "unknown"
        }
    }
}
