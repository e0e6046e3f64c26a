import DatabaseService
import Foundation

/// better-auth's password hash format: `"<saltHex>:<keyHex>"`.
///
/// key = scrypt(NFKC(password) as UTF-8, salt, N = 16384, r = 16, p = 1, dkLen = 64), where the salt
/// given to scrypt is the 32-character lowercase hex string's ASCII bytes (not the 16 raw bytes):
/// that is what better-auth does, and hashes must verify on both sides.
///
/// Lives in DevTools, not in the production database library: the game never verifies passwords
/// (players sign in on the web app, the game accepts its sessions); only creating users for
/// development and tests needs the format, and `verify` proves those hashes are better-auth's.
///
/// Hashing and verifying are CPU-bound (~0.1 s and 16 MB in release builds): from async code,
/// run them on a Dispatch queue rather than on Swift concurrency's cooperative threads (and not
/// on `NIOThreadPool.singleton`, where SQLiteNIO queues its statements).
public enum BetterAuthPassword {
    static let n = 16384
    static let r = 16
    static let p = 1
    static let keyLength = 64
    static let saltByteCount = 16

    /// Hashes `password` with a fresh random salt.
    public static func hash(_ password: String) throws -> String {
        var generator = SystemRandomNumberGenerator()  // a CSPRNG on every supported platform
        let salt = (0..<saltByteCount).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
        return try hash(password, saltHex: hexEncode(salt))
    }

    /// Hashes `password` with the given salt hex string (exposed for test vectors).
    public static func hash(_ password: String, saltHex: String) throws -> String {
        let key = try Scrypt.deriveKey(
            password: Array(normalize(password).utf8), salt: Array(saltHex.utf8),
            n: n, r: r, p: p, keyLength: keyLength)
        return saltHex + ":" + hexEncode(key)
    }

    /// Verifies `password` against a stored `"<saltHex>:<keyHex>"` value in constant time.
    /// Malformed stored values never verify.
    public static func verify(_ password: String, against stored: String) throws -> Bool {
        guard let colon = stored.firstIndex(of: ":") else { return false }
        let saltHex = String(stored[..<colon])
        guard let expected = hexDecode(stored[stored.index(after: colon)...]), !expected.isEmpty, !saltHex.isEmpty
        else { return false }
        let key = try Scrypt.deriveKey(
            password: Array(normalize(password).utf8), salt: Array(saltHex.utf8),
            n: n, r: r, p: p, keyLength: expected.count)
        return constantTimeEquals(key, expected)
    }

    static func normalize(_ password: String) -> String {
        password.precomposedStringWithCompatibilityMapping  // NFKC, as better-auth's `password.normalize("NFKC")`
    }

    static func constantTimeEquals(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        var difference: UInt8 = 0
        for i in 0..<a.count { difference |= a[i] ^ b[i] }
        return difference == 0
    }
}

/// Runs CPU-bound `work` on a Dispatch global queue and awaits it.
package func offloadCPU<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        DispatchQueue.global(qos: .userInitiated).async {
            continuation.resume(with: Result(catching: work))
        }
    }
}

package func hexDecode<S: StringProtocol>(_ string: S) -> [UInt8]? {
    let utf8 = Array(string.utf8)
    guard utf8.count % 2 == 0 else { return nil }
    func nibble(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return c - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return c - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return c - UInt8(ascii: "A") + 10
        default: return nil
        }
    }
    var out: [UInt8] = []
    out.reserveCapacity(utf8.count / 2)
    var i = 0
    while i < utf8.count {
        guard let hi = nibble(utf8[i]), let lo = nibble(utf8[i + 1]) else { return nil }
        out.append(hi << 4 | lo)
        i += 2
    }
    return out
}
