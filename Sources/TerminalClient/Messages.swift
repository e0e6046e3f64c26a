import MMOClient
import MMOProtocol

/// What the player reads: result codes and SDK errors turned into sentences, class and zone
/// names. Kept in one place so every screen (and the plain mode) says the same thing.
public enum Messages {
    // Reconnecting (the SDK resumes the character after a drop).
    static let reconnecting = "Connection lost — reconnecting…"
    static let resumed = "Resumed: you are back in the world."
    static let viewReset = "The world reconnected: the view was refreshed."

    static func reentered(_ code: ResultCode) -> String {
        "Resumed by logging in again (the server refused the resume: \(code.name))."
    }

    static func resumeFailed(_ error: GameClientError, server: String) -> String {
        "The connection to the server was lost and could not be resumed: " + Messages.error(error, server: server)
    }

    /// Character classes, by protocol class id (docs/protocol.md).
    public static let classes: [(id: UInt8, name: String)] = [(1, "Warrior"), (2, "Mage"), (3, "Rogue"), (4, "Cleric")]

    /// "Warrior" for 1, "class 9" for a class this client does not know.
    public static func className(_ id: UInt8) -> String {
        classes.first { $0.id == id }?.name ?? "class \(id)"
    }

    /// The class id for "2", "mage", "Mage" or a prefix such as "cl"; nil if none matches.
    public static func classId(parsing text: String) -> UInt8? {
        let trimmed = text.trimmingSpaces.lowercased()
        if let number = UInt8(trimmed) { return number }
        guard !trimmed.isEmpty else { return nil }
        return classes.first { $0.name.lowercased().hasPrefix(trimmed) }?.id
    }

    /// Zone names the client knows for display; the protocol only carries zone ids.
    public static let zoneNames: [UInt32: String] = [1: "Greenvale"]

    /// "Greenvale (zone 1)" or "zone 7".
    public static func zoneName(_ id: UInt32) -> String {
        zoneNames[id].map { "\($0) (zone \(id))" } ?? "zone \(id)"
    }

    /// Why a login was refused, as advice the player can act on.
    public static func loginRefused(_ code: ResultCode) -> String {
        switch code {
        case .tokenExpired: "Your session has expired: sign in on the web site again"
        case .tokenUnknown: "Your session is not valid any more (signed out or revoked): sign in on the web site again"
        case .tokenMalformed: "The session token is not valid: start the game from the launcher again"
        case .tokenBadSignature: "The session token was not signed by this game's web site: sign in again"
        case .accountBanned: "This account is banned"
        case .rateLimited: "Too many login attempts: wait a minute and try again"
        default: serverProblem(code)
        }
    }

    /// Why the server ended the connection (DISCONNECT).
    public static func disconnected(_ code: ResultCode, message: String) -> String {
        switch code {
        case .loggedInElsewhere: "You logged in from another place"
        case .serverShuttingDown: "The server is shutting down: try again later"
        case .idleTimeout: "Disconnected after being idle too long"
        case .rateLimited: "Disconnected for sending too much too fast"
        case .unsupportedVersion: "This client's protocol version is not supported by the server: update the game"
        case .malformedPacket, .unknownOpcode, .badHello, .frameTooLarge, .illegalState:
            "The server closed the connection because of a client error (\(code.name))" + (message.isEmpty ? "" : ": \(message)")
        default:
            serverProblem(code) + (message.isEmpty ? "" : " (\(TextLayout.sanitize(message)))")
        }
    }

    /// Problems on the server's side that can happen at any step.
    public static func serverProblem(_ code: ResultCode) -> String {
        switch code {
        case .serviceUnavailable: "The game server is unavailable right now: try again later"
        case .serverShuttingDown: "The server is shutting down: try again later"
        case .internalError: "The server had an internal error: try again"
        case .busy: "The server is still busy with the previous request"
        case .rateLimited: "Slow down: the server is dropping messages sent too fast"
        case .loggedInElsewhere: "You logged in from another place"
        default: "The server refused: \(code.name)"
        }
    }

    /// Why creating a character failed; `detail` is the server's explanation (safe to show).
    public static func createRefused(_ code: ResultCode, detail: String, maxCharacters: Int) -> String {
        let detail = TextLayout.sanitize(detail)
        switch code {
        case .nameInvalid: return "That name is not allowed" + (detail.isEmpty ? "" : ": \(detail)")
        case .nameTaken: return "That name is taken" + (detail.isEmpty ? "" : ": \(detail)") + ". Choose another"
        case .slotLimit:
            let limit = maxCharacters > 0 ? " (\(maxCharacters))" : ""
            return "All your character slots\(limit) are used: delete a character first" + (detail.isEmpty ? "" : " [\(detail)]")
        case .classInvalid: return "That class does not exist" + (detail.isEmpty ? "" : ": \(detail)")
        case .appearanceInvalid: return "That appearance is not allowed" + (detail.isEmpty ? "" : ": \(detail)")
        default: return serverProblem(code) + (detail.isEmpty ? "" : ": \(detail)")
        }
    }

    /// Why entering the world failed.
    public static func enterRefused(_ code: ResultCode) -> String {
        switch code {
        case .zoneUnavailable: "That character's zone is not available right now: try again later"
        case .worldFull: "The world is full: try again later"
        case .alreadyInWorld: "That character is already in the world"
        case .characterNotFound: "That character no longer exists"
        default: serverProblem(code)
        }
    }

    /// Why the server took the character out of the world (LEFT_WORLD with a code other than OK).
    public static func removedFromWorld(_ code: ResultCode) -> String {
        switch code {
        case .loggedInElsewhere: "Your character entered the world from another place"
        case .serviceUnavailable: "The world service became unavailable: you are back at character selection"
        default: "You were removed from the world (\(code.name))"
        }
    }

    /// A CORRECTION, shown briefly.
    public static func correction(_ code: ResultCode) -> String {
        switch code {
        case .moveTooFast: "Position corrected: moving too fast"
        case .moveOutOfBounds: "You cannot go there: edge of the zone"
        default: "Position corrected (\(code.name))"
        }
    }

    /// An ERROR for a fire-and-forget message (SAY, MOVE).
    public static func refusedMessage(opcode: UInt16, code: ResultCode) -> String {
        switch code {
        case .chatRateLimited: return "You are talking too fast: wait a few seconds"
        case .chatTooLong: return "That chat line is too long"
        case .rateLimited: return "Slow down: the server dropped a message sent too fast"
        default:
            let name = Opcode(rawValue: opcode).map { "\($0)" } ?? "opcode \(opcode)"
            return "The server refused \(name): \(code.name)"
        }
    }

    /// Any SDK error, worded for the player; `server` is "host:port".
    public static func error(_ error: GameClientError, server: String) -> String {
        switch error {
        case .refused(let code, _): serverProblem(code)
        case .disconnected(let code, let message): disconnected(code, message: message)
        case .connectFailed: "Cannot reach the game server at \(server): is it running? Try again later"
        case .tlsFailed(let reason): "Cannot connect securely to the game server (\(reason))"
        case .connectionClosed: "The connection to the server was lost"
        case .timedOut: "The server did not answer in time: try again later"
        case .protocolViolation(let reason): "The server sent something this client does not understand (\(reason)): update the game"
        case .invalidArgument(let reason): "Not sent: \(reason)"
        case .unexpectedResponse(let reason): "Unexpected answer from the server: \(reason)"
        }
    }
}

extension String {
    /// Without leading and trailing spaces and tabs (no Foundation needed).
    var trimmingSpaces: String {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\r" || $0 == "\n" }
        guard let first = firstIndex(where: { !isSpace($0) }), let last = lastIndex(where: { !isSpace($0) }) else { return "" }
        return String(self[first...last])
    }
}
