import NIOCore

/// A client's IP address as 128 bits, IPv4 as IPv4-mapped IPv6 (`::ffff:a.b.c.d`), so that one
/// type, one comparison and one range check serve both families.
public struct ClientAddress: Hashable, Sendable, CustomStringConvertible {
    public let high: UInt64
    public let low: UInt64

    public init(high: UInt64, low: UInt64) {
        self.high = high
        self.low = low
    }

    /// The IP of an IPv4 or IPv6 socket address; nil for Unix sockets.
    public init?(_ address: SocketAddress) {
        switch address {
        case .v4(let v4):
            self.init(ipv4: UInt32(bigEndian: v4.address.sin_addr.s_addr))
        case .v6(let v6):
            var high: UInt64 = 0
            var low: UInt64 = 0
            withUnsafeBytes(of: v6.address.sin6_addr) { bytes in
                for i in 0..<8 { high = high << 8 | UInt64(bytes[i]) }
                for i in 8..<16 { low = low << 8 | UInt64(bytes[i]) }
            }
            self.init(high: high, low: low)
        case .unixDomainSocket:
            return nil
        }
    }

    /// A numeric IPv4 or IPv6 address ("203.0.113.7", "2001:db8::1"); nil for anything else.
    public init?(parsing text: String) {
        guard let address = try? SocketAddress(ipAddress: text, port: 0) else { return nil }
        self.init(address)
    }

    init(ipv4: UInt32) {
        self.init(high: 0, low: 0xFFFF_0000_0000 | UInt64(ipv4))
    }

    public var isIPv4: Bool { high == 0 && low >> 32 == 0xFFFF }

    /// What per-address limits count under: an IPv4 address itself, an IPv6 address's /64
    /// network (the usual allocation of one subscriber, who can pick any address in it).
    public var limitKey: ClientAddress {
        isIPv4 ? self : ClientAddress(high: high, low: 0)
    }

    public var description: String {
        if isIPv4 {
            let v4 = UInt32(truncatingIfNeeded: low)
            return "\(v4 >> 24).\(v4 >> 16 & 0xFF).\(v4 >> 8 & 0xFF).\(v4 & 0xFF)"
        }
        let groups = (0..<4).map { String(high >> (48 - 16 * $0) & 0xFFFF, radix: 16) }
            + (0..<4).map { String(low >> (48 - 16 * $0) & 0xFFFF, radix: 16) }
        return groups.joined(separator: ":")
    }
}
