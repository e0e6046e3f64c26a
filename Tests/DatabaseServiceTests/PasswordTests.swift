import DatabaseService
import Testing

@testable import DevTools

/// scrypt is CPU-bound: keep it off the cooperative threads the other (async) tests need.
func offloaded<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await offloadCPU(body)
}

@Suite("better-auth password format")
struct PasswordTests {
    // Vectors from /work/shared/better-auth.md (computed with Python hashlib and Node crypto).
    static let vectors: [(password: String, saltHex: String, stored: String)] = [
        (
            "password123", "000102030405060708090a0b0c0d0e0f",
            "000102030405060708090a0b0c0d0e0f:eedf8cd62212c4ef27d18a5f1f23f875e2571a8d6bc3cea577255d2cfe8729d8d4646badd72958bccbc96ef736af3a9cc0a4735cee8541bee27d392aeafffc3c"
        ),
        (
            "correct horse battery staple", "a1b2c3d4e5f60718293a4b5c6d7e8f90",
            "a1b2c3d4e5f60718293a4b5c6d7e8f90:324edc178fed5536282e74074c3324e04fefe43848edb60f27189a615a3f3aa62dbba1687a79868912df5ffd483b6aa3bacd8d66996d30e217f5bf9f150d6996"
        ),
        (
            "\u{FF30}\u{FF41}\u{FF53}\u{FF53}\u{2460}\u{FB01}", "ffeeddccbbaa99887766554433221100",
            "ffeeddccbbaa99887766554433221100:bdf110e50977b372604968e5de11b751a507d52c6ef6efd7f234a313213aa41f338e12a62db59859ae7b300ad93700dae3da0e85248414d3f56c47aa663d2e3c"
        ),
    ]

    @Test("hash matches better-auth vectors", arguments: 0..<3)
    func vector(index: Int) async throws {
        let v = Self.vectors[index]
        #expect(try await offloaded { try BetterAuthPassword.hash(v.password, saltHex: v.saltHex) } == v.stored)
        #expect(try await offloaded { try BetterAuthPassword.verify(v.password, against: v.stored) })
    }

    @Test func nfkcNormalization() {
        #expect(BetterAuthPassword.normalize("\u{FF30}\u{FF41}\u{FF53}\u{FF53}\u{2460}\u{FB01}") == "Pass1fi")
    }

    @Test func wrongPasswordAndMalformedStoredValuesDoNotVerify() async throws {
        let stored = Self.vectors[0].stored
        #expect(try await !offloaded { try BetterAuthPassword.verify("password124", against: stored) })
        #expect(try !BetterAuthPassword.verify("password123", against: "nocolon"))
        #expect(try !BetterAuthPassword.verify("password123", against: "0001:zz"))
        #expect(try !BetterAuthPassword.verify("password123", against: ":"))
    }

    @Test func freshHashHasBetterAuthShapeAndVerifies() async throws {
        let stored = try await offloaded { try BetterAuthPassword.hash("hunter2hunter2") }
        #expect(stored.count == 161)
        let parts = stored.split(separator: ":")
        #expect(parts.count == 2 && parts[0].count == 32 && parts[1].count == 128)
        #expect(stored.allSatisfy { $0 == ":" || $0.isHexDigit && !$0.isUppercase })
        #expect(try await offloaded { try BetterAuthPassword.verify("hunter2hunter2", against: stored) })
    }

    /// RFC 7914 section 12 vectors (the cheap ones), to pin the scrypt core independently.
    @Test func rfc7914Vectors() async throws {
        let empty = try Scrypt.deriveKey(password: [], salt: [], n: 16, r: 1, p: 1, keyLength: 64)
        #expect(hexEncode(empty) == "77d6576238657b203b19ca42c18a0497f16b4844e3074ae8dfdffa3fede21442fcd0069ded0948f8326a753a0fc81f17e8d3e0fb2e0d3628cf35e20c38d18906")
        let pw = try await offloaded {
            try Scrypt.deriveKey(
                password: Array("password".utf8), salt: Array("NaCl".utf8), n: 1024, r: 8, p: 16, keyLength: 64)
        }
        #expect(hexEncode(pw) == "fdbabe1c9d3472007856e7190d01e9fe7c6ad7cbc8237830e77376634b3731622eaf30d92e22a3886ff109279d9830dac727afb94a83ee6d8360cbdfa2cc0640")
    }
}
