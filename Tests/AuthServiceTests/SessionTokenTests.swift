import Crypto
import Foundation
import Testing
@testable import AuthService

@Suite struct SessionTokenTests {
    // Test vector from better-auth.md (computed with Node's crypto and Python's hmac).
    let token = "AbCdEfGhIjKlMnOpQrStUvWxYz012345"
    let secret = SymmetricKey(data: Data("better-auth-secret-12345678901234567890".utf8))
    let cookie = "AbCdEfGhIjKlMnOpQrStUvWxYz012345.Ti%2FxeH4hFO5G4Kofpp9E9KCgaAEDRZ5hrYLoq0FI2L8%3D"

    @Test func rawTokenParses() {
        #expect(SessionToken.parse(token) == .raw(token))
        #expect(SessionToken.parse("Bearer " + token) == .raw(token))
    }

    @Test func signedCookieMatchesBetterAuthVector() throws {
        #expect(SessionToken.signedCookieValue(token: token, secret: secret) == cookie)
        let parsed = try #require(SessionToken.parse(cookie))
        #expect(parsed.token == token)
        #expect(parsed.hasValidSignature(secret: secret))
        // Decoded (not percent-encoded) form works too.
        let decoded = try #require(SessionToken.parse(cookie.removingPercentEncoding!))
        #expect(decoded.hasValidSignature(secret: secret))
    }

    @Test func wrongSecretOrTamperedTokenFailsSignature() throws {
        let parsed = try #require(SessionToken.parse(cookie))
        #expect(!parsed.hasValidSignature(secret: SymmetricKey(data: Data("another-secret".utf8))))
        let tampered = try #require(SessionToken.parse("AbCdEfGhIjKlMnOpQrStUvWxYz012346" + cookie.dropFirst(32)))
        #expect(!tampered.hasValidSignature(secret: secret))
    }

    @Test(arguments: [
        "", "short", String(repeating: "a", count: 31), String(repeating: "a", count: 33),
        "AbCdEfGhIjKlMnOpQrStUvWxYz01234!", "AbCdEfGhIjKlMnOpQrStUvWxYz01234'", "' OR 1=1 --",
        "AbCdEfGhIjKlMnOpQrStUvWxYz012345.notbase64", "AbCdEfGhIjKlMnOpQrStUvWxYz012345.",
        "%ZZ", String(repeating: "A", count: 10_000), "AbCdEfGhIjKlMnOpQrStUvWxYz01234é",
    ])
    func malformedInputsAreRefused(_ input: String) {
        #expect(SessionToken.parse(input) == nil)
    }
}
