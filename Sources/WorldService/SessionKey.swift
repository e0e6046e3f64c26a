/// Addresses one player session: which gateway link it came through and the gateway's own id
/// for the connection (unique only within that link).
public struct SessionKey: Hashable, Sendable, CustomStringConvertible {
    /// The runtime's number for a gateway stream.
    public var link: UInt32
    /// The gateway's connection id.
    public var session: UInt64

    public init(link: UInt32, session: UInt64) {
        self.link = link
        self.session = session
    }

    public var description: String { "\(link)/\(session)" }
}
