import MMOClient

extension LaunchConfiguration {
    /// The SDK's TLS setting for this launch: nil for plain TCP; otherwise the CA file, or the
    /// system's trust store.
    public var clientTLS: GameClientTLS? {
        guard tls else { return nil }
        return GameClientTLS(trustRoots: caFile.map { .caFile($0) } ?? .system)
    }
}
