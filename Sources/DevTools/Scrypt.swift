import Crypto

/// scrypt (RFC 7914) over PBKDF2-HMAC-SHA256 and Salsa20/8.
///
/// Why hand-written: better-auth stores scrypt hashes, and swift-crypto's scrypt lives in the
/// `_CryptoExtras` product, which this target does not depend on (yet). The implementation is
/// verified against the RFC 7914 test vectors and better-auth's vectors in the unit tests; when
/// `_CryptoExtras` is added, `KDF.Scrypt.deriveKey` can replace ``Scrypt/deriveKey(password:salt:n:r:p:keyLength:)``
/// without changing callers.
enum Scrypt {
    enum Error: Swift.Error, Equatable {
        case invalidParameters
    }

    /// Derives `keyLength` bytes from `password` and `salt`.
    ///
    /// - Parameters:
    ///   - n: CPU/memory cost, a power of two greater than 1.
    ///   - r: Block size.
    ///   - p: Parallelisation.
    static func deriveKey(
        password: [UInt8], salt: [UInt8], n: Int, r: Int, p: Int, keyLength: Int
    ) throws -> [UInt8] {
        guard n > 1, n & (n - 1) == 0, r > 0, p > 0, keyLength > 0,
            r * p < (1 << 30), n < (1 << 24)  // keep V (128·r·N bytes) within sane memory
        else { throw Error.invalidParameters }

        let blockWords = 32 * r  // one scrypt block is 128·r bytes = 32·r UInt32 words
        var b = pbkdf2SHA256(password: password, salt: salt, outputLength: p * 128 * r)

        let x = UnsafeMutablePointer<UInt32>.allocate(capacity: blockWords)
        let y = UnsafeMutablePointer<UInt32>.allocate(capacity: blockWords)
        let t = UnsafeMutablePointer<UInt32>.allocate(capacity: 16)
        let v = UnsafeMutablePointer<UInt32>.allocate(capacity: blockWords * n)
        defer {
            x.deallocate()
            y.deallocate()
            t.deallocate()
            // V holds password-derived material: wipe it before returning the memory.
            v.update(repeating: 0, count: blockWords * n)
            v.deallocate()
        }

        for chunk in 0..<p {
            let offset = chunk * 128 * r
            for i in 0..<blockWords {
                let o = offset + i * 4
                x[i] = UInt32(b[o]) | UInt32(b[o + 1]) << 8 | UInt32(b[o + 2]) << 16 | UInt32(b[o + 3]) << 24
            }
            roMix(x: x, y: y, t: t, v: v, r: r, n: n)
            for i in 0..<blockWords {
                let o = offset + i * 4
                let w = x[i]
                b[o] = UInt8(truncatingIfNeeded: w)
                b[o + 1] = UInt8(truncatingIfNeeded: w >> 8)
                b[o + 2] = UInt8(truncatingIfNeeded: w >> 16)
                b[o + 3] = UInt8(truncatingIfNeeded: w >> 24)
            }
        }
        return pbkdf2SHA256(password: password, salt: b, outputLength: keyLength)
    }

    /// PBKDF2-HMAC-SHA256 with one iteration, which is all scrypt needs.
    static func pbkdf2SHA256(password: [UInt8], salt: [UInt8], outputLength: Int) -> [UInt8] {
        let key = SymmetricKey(data: password)
        var output: [UInt8] = []
        output.reserveCapacity(outputLength + 32)
        var blockIndex: UInt32 = 1
        while output.count < outputLength {
            var hmac = HMAC<SHA256>(key: key)
            hmac.update(data: salt)
            hmac.update(data: [
                UInt8(truncatingIfNeeded: blockIndex >> 24), UInt8(truncatingIfNeeded: blockIndex >> 16),
                UInt8(truncatingIfNeeded: blockIndex >> 8), UInt8(truncatingIfNeeded: blockIndex),
            ])
            output.append(contentsOf: hmac.finalize())
            blockIndex += 1
        }
        return Array(output.prefix(outputLength))
    }

    private static func roMix(
        x: UnsafeMutablePointer<UInt32>, y: UnsafeMutablePointer<UInt32>, t: UnsafeMutablePointer<UInt32>,
        v: UnsafeMutablePointer<UInt32>, r: Int, n: Int
    ) {
        let blockWords = 32 * r
        for i in 0..<n {
            (v + i * blockWords).update(from: x, count: blockWords)
            blockMix(x, y, t, r: r)
        }
        let mask = UInt32(truncatingIfNeeded: n - 1)
        for _ in 0..<n {
            // Integerify: the first word of the last 64-byte sub-block, little endian.
            let j = Int(x[(2 * r - 1) * 16] & mask)
            let vj = v + j * blockWords
            for k in 0..<blockWords { x[k] ^= vj[k] }
            blockMix(x, y, t, r: r)
        }
    }

    /// BlockMix in place on `b`, using `y` (32·r words) and `t` (16 words) as scratch.
    private static func blockMix(
        _ b: UnsafeMutablePointer<UInt32>, _ y: UnsafeMutablePointer<UInt32>, _ t: UnsafeMutablePointer<UInt32>,
        r: Int
    ) {
        t.update(from: b + (2 * r - 1) * 16, count: 16)
        for i in 0..<(2 * r) {
            let bi = b + i * 16
            for k in 0..<16 { t[k] ^= bi[k] }
            salsa20_8(t)
            // Even sub-blocks go to the first half of the output, odd ones to the second.
            (y + ((i & 1) * r + (i >> 1)) * 16).update(from: t, count: 16)
        }
        b.update(from: y, count: 32 * r)
    }

    @inline(__always)
    private static func rotl(_ a: UInt32, _ n: UInt32) -> UInt32 { (a << n) | (a >> (32 - n)) }

    private static func salsa20_8(_ b: UnsafeMutablePointer<UInt32>) {
        var x0 = b[0], x1 = b[1], x2 = b[2], x3 = b[3], x4 = b[4], x5 = b[5], x6 = b[6], x7 = b[7]
        var x8 = b[8], x9 = b[9], x10 = b[10], x11 = b[11], x12 = b[12], x13 = b[13], x14 = b[14], x15 = b[15]
        for _ in 0..<4 {
            // Column round.
            x4 ^= rotl(x0 &+ x12, 7); x8 ^= rotl(x4 &+ x0, 9)
            x12 ^= rotl(x8 &+ x4, 13); x0 ^= rotl(x12 &+ x8, 18)
            x9 ^= rotl(x5 &+ x1, 7); x13 ^= rotl(x9 &+ x5, 9)
            x1 ^= rotl(x13 &+ x9, 13); x5 ^= rotl(x1 &+ x13, 18)
            x14 ^= rotl(x10 &+ x6, 7); x2 ^= rotl(x14 &+ x10, 9)
            x6 ^= rotl(x2 &+ x14, 13); x10 ^= rotl(x6 &+ x2, 18)
            x3 ^= rotl(x15 &+ x11, 7); x7 ^= rotl(x3 &+ x15, 9)
            x11 ^= rotl(x7 &+ x3, 13); x15 ^= rotl(x11 &+ x7, 18)
            // Row round.
            x1 ^= rotl(x0 &+ x3, 7); x2 ^= rotl(x1 &+ x0, 9)
            x3 ^= rotl(x2 &+ x1, 13); x0 ^= rotl(x3 &+ x2, 18)
            x6 ^= rotl(x5 &+ x4, 7); x7 ^= rotl(x6 &+ x5, 9)
            x4 ^= rotl(x7 &+ x6, 13); x5 ^= rotl(x4 &+ x7, 18)
            x11 ^= rotl(x10 &+ x9, 7); x8 ^= rotl(x11 &+ x10, 9)
            x9 ^= rotl(x8 &+ x11, 13); x10 ^= rotl(x9 &+ x8, 18)
            x12 ^= rotl(x15 &+ x14, 7); x13 ^= rotl(x12 &+ x15, 9)
            x14 ^= rotl(x13 &+ x12, 13); x15 ^= rotl(x14 &+ x13, 18)
        }
        b[0] &+= x0; b[1] &+= x1; b[2] &+= x2; b[3] &+= x3
        b[4] &+= x4; b[5] &+= x5; b[6] &+= x6; b[7] &+= x7
        b[8] &+= x8; b[9] &+= x9; b[10] &+= x10; b[11] &+= x11
        b[12] &+= x12; b[13] &+= x13; b[14] &+= x14; b[15] &+= x15
    }
}
