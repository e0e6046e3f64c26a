import Crypto
import Foundation

/// What a resume token stands for (docs/protocol.md "Reconnecting"): who played which character,
/// and the session they logged in with, which RESUME validates again (and the resumed
/// connection's periodic re-check keeps validating). Held by a `ResumeTokenStore` under the
/// token's hash; the session token in it is as secret as the resume token and is never logged.
public struct ResumeTicket: Sendable, Equatable, Codable {
    public var accountId: String
    public var displayName: String
    /// The better-auth session token the connection logged in with.
    public var sessionToken: String
    public var characterId: UInt64

    public init(accountId: String, displayName: String, sessionToken: String, characterId: UInt64) {
        self.accountId = accountId
        self.displayName = displayName
        self.sessionToken = sessionToken
        self.characterId = characterId
    }
}

/// Resume tokens: 32 random bytes as base64url without padding (43 characters). Stores keep
/// them under `storageKey`, the SHA-256 of the token, never the token itself, so a dump of the
/// store (or of Redis) cannot be replayed.
public enum ResumeToken {
    /// Characters of every token the gateway issues.
    public static let length = 43

    /// A fresh token from the system's cryptographically secure generator.
    public static func generate() -> String {
        var generator = SystemRandomNumberGenerator()
        var bytes = [UInt8](repeating: 0, count: 32)
        for i in bytes.indices { bytes[i] = generator.next() }
        return Data(bytes).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    /// True for a string that could be a token this gateway issued; anything else is refused
    /// (RESUME_REJECTED) without a store lookup.
    public static func isWellFormed(_ token: String) -> Bool {
        token.utf8.count == length && token.utf8.allSatisfy { c in
            (c >= UInt8(ascii: "A") && c <= UInt8(ascii: "Z")) || (c >= UInt8(ascii: "a") && c <= UInt8(ascii: "z"))
                || (c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9")) || c == UInt8(ascii: "-") || c == UInt8(ascii: "_")
        }
    }

    /// The key a store files the token under: lowercase hex SHA-256 of its UTF-8 bytes. Lookups
    /// go by this hash (a dictionary or Redis key), so no token is ever compared byte by byte.
    public static func storageKey(_ token: String) -> String {
        SHA256.hash(data: Data(token.utf8)).map { String(format: "%02x", $0) }.joined()
    }
}
