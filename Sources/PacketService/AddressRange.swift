/// A block of IP addresses in CIDR notation ("127.0.0.0/8", "::1", "10.0.0.0/8",
/// "2001:db8::/32"); an address alone is a block of one.
public struct AddressRange: Hashable, Sendable, CustomStringConvertible {
    public let network: ClientAddress
    /// Leading bits that must match, counted on the 128-bit form (an IPv4 /8 is /104 here).
    public let prefixLength: Int
    public let description: String

    public struct ParseError: Error, CustomStringConvertible {
        public let description: String
    }

    public init(parsing text: String) throws {
        let text = text.trimmingWhitespace()
        let parts = text.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
        guard let address = ClientAddress(parsing: String(parts[0])) else {
            throw ParseError(description: "\(text): not an IPv4 or IPv6 address")
        }
        let width = address.isIPv4 ? 32 : 128
        var length = width
        if parts.count == 2 {
            guard let l = Int(parts[1]), (0...width).contains(l) else {
                throw ParseError(description: "\(text): prefix length must be 0-\(width)")
            }
            length = l
        }
        self.prefixLength = length + (128 - width)
        self.network = Self.masked(address, prefixLength: prefixLength)
        self.description = text
    }

    /// Comma-separated ranges; empty text is no range.
    public static func parseList(_ text: String) throws -> [AddressRange] {
        try text.split(separator: ",").map { try AddressRange(parsing: String($0)) }
    }

    public func contains(_ address: ClientAddress) -> Bool {
        Self.masked(address, prefixLength: prefixLength) == network
    }

    private static func masked(_ address: ClientAddress, prefixLength: Int) -> ClientAddress {
        func mask(_ bits: Int) -> UInt64 { bits <= 0 ? 0 : bits >= 64 ? .max : ~(UInt64.max >> bits) }
        return ClientAddress(high: address.high & mask(prefixLength), low: address.low & mask(prefixLength - 64))
    }
}

extension String {
    fileprivate func trimmingWhitespace() -> String {
        String(drop(while: \.isWhitespace).reversed().drop(while: \.isWhitespace).reversed())
    }
}
