import NIOCore

/// Per-address abuse limits of one gateway: how many connections one address may hold open,
/// and how many failed logins it may make in a window before it is blocked for a penalty
/// window (no new connection, no LOGIN). Pure: the caller passes the time; `SessionRegistry`
/// keeps one under its lock.
///
/// Addresses count by `ClientAddress.limitKey` (IPv6 by /64). Addresses in `exempt` (loopback by
/// default, so local load tests and the bot are not limited) are never counted or blocked.
public struct AddressLimiter: Sendable {
    public struct Configuration: Sendable, Equatable {
        /// Open connections per address; one more is refused with TOO_MANY_CONNECTIONS.
        public var maxConnectionsPerAddress: Int
        /// Failed logins per address within `failedLoginWindow` that block it.
        public var maxFailedLogins: Int
        public var failedLoginWindow: TimeAmount
        /// How long a blocked address stays blocked (ADDRESS_BLOCKED).
        public var penalty: TimeAmount
        /// Never limited.
        public var exempt: [AddressRange]

        public init(maxConnectionsPerAddress: Int, maxFailedLogins: Int, failedLoginWindow: TimeAmount, penalty: TimeAmount, exempt: [AddressRange]) {
            self.maxConnectionsPerAddress = maxConnectionsPerAddress
            self.maxFailedLogins = maxFailedLogins
            self.failedLoginWindow = failedLoginWindow
            self.penalty = penalty
            self.exempt = exempt
        }
    }

    public enum Admission: Sendable, Equatable {
        /// Counted under `key` (release it when the connection closes); nil when not counted
        /// (exempt, or no IP address).
        case admitted(key: ClientAddress?)
        case tooManyConnections
        case blocked
    }

    private struct Entry {
        var connections = 0
        var failedLogins = 0
        var windowStart = NIODeadline.uptimeNanoseconds(0)
        var blockedUntil: NIODeadline?

        func isBlocked(at now: NIODeadline) -> Bool { blockedUntil.map { now < $0 } ?? false }
    }

    public let configuration: Configuration
    private var entries: [ClientAddress: Entry] = [:]
    /// Entry count at which forgotten addresses are swept out (amortised, never per call).
    private var sweepAt = 1024

    public init(_ configuration: Configuration) {
        self.configuration = configuration
    }

    /// Addresses with an entry (tests: memory stays bounded).
    public var trackedAddresses: Int { entries.count }

    /// The key `address` counts under, or nil if it is exempt.
    public func key(for address: ClientAddress?) -> ClientAddress? {
        guard let address, !configuration.exempt.contains(where: { $0.contains(address) }) else { return nil }
        return address.limitKey
    }

    /// A connection from `address` opened; counted if admitted.
    public mutating func admit(_ address: ClientAddress?, now: NIODeadline) -> Admission {
        guard let key = key(for: address) else { return .admitted(key: nil) }
        var entry = entries[key] ?? Entry()
        if entry.isBlocked(at: now) { return .blocked }
        guard entry.connections < configuration.maxConnectionsPerAddress else { return .tooManyConnections }
        entry.connections += 1
        entries[key] = entry
        sweepIfLarge(now: now)
        return .admitted(key: key)
    }

    /// A connection admitted under `key` closed.
    public mutating func release(_ key: ClientAddress, now: NIODeadline) {
        guard var entry = entries[key] else { return }
        entry.connections = max(0, entry.connections - 1)
        entries[key] = isForgettable(entry, now: now) ? nil : entry
    }

    /// False while `key`'s address is blocked (a connection opened before the block may not
    /// LOGIN either). `key` nil (exempt) is never blocked.
    public func mayLogIn(_ key: ClientAddress?, now: NIODeadline) -> Bool {
        guard let key, let entry = entries[key] else { return true }
        return !entry.isBlocked(at: now)
    }

    /// A LOGIN from `key`'s address failed; true if that blocked the address.
    public mutating func recordFailedLogin(_ key: ClientAddress?, now: NIODeadline) -> Bool {
        guard let key else { return false }
        var entry = entries[key] ?? Entry()
        if entry.failedLogins == 0 || now - entry.windowStart >= configuration.failedLoginWindow {
            entry.windowStart = now
            entry.failedLogins = 0
        }
        entry.failedLogins += 1
        var blocked = false
        if entry.failedLogins >= configuration.maxFailedLogins {
            entry.blockedUntil = now + configuration.penalty
            entry.failedLogins = 0
            blocked = true
        }
        entries[key] = entry
        sweepIfLarge(now: now)
        return blocked
    }

    private func isForgettable(_ entry: Entry, now: NIODeadline) -> Bool {
        entry.connections == 0 && !entry.isBlocked(at: now)
            && (entry.failedLogins == 0 || now - entry.windowStart >= configuration.failedLoginWindow)
    }

    private mutating func sweepIfLarge(now: NIODeadline) {
        guard entries.count >= sweepAt else { return }
        entries = entries.filter { !isForgettable($0.value, now: now) }
        sweepAt = max(1024, entries.count * 2)
    }
}

extension AddressLimiter.Configuration {
    public init(_ configuration: PacketServerConfiguration) {
        self.init(
            maxConnectionsPerAddress: configuration.maxConnectionsPerAddress,
            maxFailedLogins: configuration.maxFailedLoginsPerAddress,
            failedLoginWindow: TimeAmount(configuration.failedLoginWindow),
            penalty: TimeAmount(configuration.addressPenalty),
            exempt: configuration.addressLimitExempt)
    }
}
