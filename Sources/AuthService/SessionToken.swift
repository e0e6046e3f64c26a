import Crypto
import Foundation

/// A session token as presented by a client, after parsing but before any lookup.
///
/// better-auth tokens are 32 characters of `[A-Za-z0-9]`. The web app's cookie (and the bearer
/// plugin) may instead carry the signed form `token.base64(HMAC-SHA256(secret, token))`,
/// percent-encoded. See docs/architecture.md, "Sessions".
public enum SessionToken: Equatable, Sendable {
    case raw(String)
    case signed(token: String, signature: String)

    static let tokenLength = 32

    /// The token to look up in `session.token`.
    var token: String {
        switch self {
        case .raw(let t), .signed(let t, _): return t
        }
    }

    /// Parses the raw or signed form; nil when the input is neither (TOKEN_MALFORMED).
    /// Never logs or echoes the input.
    static func parse(_ input: String) -> SessionToken? {
        // Inputs are bounded by the protocol (512 bytes); a signed token is 32 + 1 + 44 bytes,
        // percent-encoded at most 32 + 1 + 44 * 3.
        guard input.utf8.count <= 256 else { return nil }
        var text = input
        if text.hasPrefix("Bearer ") { text.removeFirst(7) }
        if text.contains("%") {
            guard let decoded = text.removingPercentEncoding else { return nil }
            text = decoded
        }
        if isTokenShaped(text) { return .raw(text) }
        guard let dot = text.firstIndex(of: ".") else { return nil }
        let token = String(text[..<dot])
        let signature = String(text[text.index(after: dot)...])
        guard isTokenShaped(token), signature.utf8.count == 44, Data(base64Encoded: signature) != nil else { return nil }
        return .signed(token: token, signature: signature)
    }

    static func isTokenShaped(_ s: String) -> Bool {
        s.utf8.count == tokenLength && s.utf8.allSatisfy { c in
            (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A)
        }
    }

    /// Checks a signed token's HMAC against the web app's secret in constant time.
    func hasValidSignature(secret: SymmetricKey) -> Bool {
        guard case .signed(let token, let signature) = self, let mac = Data(base64Encoded: signature) else { return false }
        return HMAC<SHA256>.isValidAuthenticationCode(mac, authenticating: Data(token.utf8), using: secret)
    }

    /// The cookie value better-auth would set for `token` (used by `mmo dev create-user --signed` and tests).
    public static func signedCookieValue(token: String, secret: SymmetricKey) -> String {
        let mac = HMAC<SHA256>.authenticationCode(for: Data(token.utf8), using: secret)
        let signature = Data(mac).base64EncodedString()
        let raw = "\(token).\(signature)"
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-_.!~*'()")
        return raw.addingPercentEncoding(withAllowedCharacters: allowed) ?? raw
    }
}
