import Logging
import MMORedis
import NIOCore
import Synchronization

/// Where resume tokens live: in this process (`MemoryResumeTokenStore`, one gateway) or in
/// Redis (`RedisResumeTokenStore`, when the packet service has `redis.url`: a token issued by one
/// gateway is accepted by any other).
///
/// A token is single-use (`claim` takes it away atomically), expires after its time to live
/// (refreshed while its connection lives, set to the grace period when it drops), and there is
/// at most one per account: issuing a new one, or `revoke(accountId:)` (LOGIN), kills the older.
public protocol ResumeTokenStore: Sendable {
    /// A new token for `ticket`, valid for `ttl`; the account's previous token dies.
    func issue(_ ticket: ResumeTicket, ttl: Duration) async throws -> String
    /// Takes the token's ticket: at most one claim of a token ever returns it. Nil for an
    /// unknown, used, revoked or expired token.
    func claim(_ token: String) async throws -> ResumeTicket?
    /// Sets the remaining lifetime of the token (of `accountId`) (no-op for a dead token).
    func expire(_ token: String, accountId: String, after ttl: Duration) async throws
    /// Kills this token (LEAVE_WORLD, LOGOUT, a disconnect for the client's fault).
    func discard(_ token: String) async throws
    /// Kills the account's live token, if any (a LOGIN of the account).
    func revoke(accountId: String) async throws
}

/// The in-process store, for a single gateway (`mmo serve` without Redis). Its clock is injected
/// so expiry is tested without waiting. Memory is bounded by accounts: one token each, and
/// expired entries are swept as new ones are issued.
public final class MemoryResumeTokenStore: ResumeTokenStore {
    private struct Entry {
        var ticket: ResumeTicket
        var expires: NIODeadline
    }

    private struct State {
        var entries: [String: Entry] = [:]
        /// Account -> storage key of its live token.
        var accounts: [String: String] = [:]
        /// Entries at the last sweep; the next sweep waits until there are twice as many.
        var sweptAt = 0
    }

    private let state = Mutex(State())
    private let now: @Sendable () -> NIODeadline

    public init(now: @escaping @Sendable () -> NIODeadline = { .now() }) {
        self.now = now
    }

    /// Live (unexpired) tokens (tests, metrics).
    public var count: Int {
        let now = self.now()
        return state.withLock { $0.entries.values.count { $0.expires > now } }
    }

    /// Entries held, expired ones not swept yet included (tests).
    var storedEntries: Int { state.withLock { $0.entries.count } }

    public func issue(_ ticket: ResumeTicket, ttl: Duration) async throws -> String {
        let token = ResumeToken.generate()
        let key = ResumeToken.storageKey(token)
        let now = self.now()
        state.withLock { state in
            if let old = state.accounts.updateValue(key, forKey: ticket.accountId) { state.entries[old] = nil }
            state.entries[key] = Entry(ticket: ticket, expires: now + TimeAmount(ttl))
            if state.entries.count > 2 * state.sweptAt + 64 {
                state.entries = state.entries.filter { $0.value.expires > now }
                state.accounts = state.accounts.filter { state.entries[$0.value] != nil }
                state.sweptAt = state.entries.count
            }
        }
        return token
    }

    public func claim(_ token: String) async throws -> ResumeTicket? {
        guard ResumeToken.isWellFormed(token) else { return nil }
        let key = ResumeToken.storageKey(token)
        let now = self.now()
        return state.withLock { state in
            guard let entry = state.entries.removeValue(forKey: key) else { return nil }
            if state.accounts[entry.ticket.accountId] == key { state.accounts[entry.ticket.accountId] = nil }
            return entry.expires > now ? entry.ticket : nil
        }
    }

    public func expire(_ token: String, accountId: String, after ttl: Duration) async throws {
        let key = ResumeToken.storageKey(token)
        let deadline = now() + TimeAmount(ttl)
        state.withLock { state in
            state.entries[key]?.expires = deadline
        }
    }

    public func discard(_ token: String) async throws {
        let key = ResumeToken.storageKey(token)
        state.withLock { state in
            guard let entry = state.entries.removeValue(forKey: key) else { return }
            if state.accounts[entry.ticket.accountId] == key { state.accounts[entry.ticket.accountId] = nil }
        }
    }

    public func revoke(accountId: String) async throws {
        state.withLock { state in
            guard let key = state.accounts.removeValue(forKey: accountId) else { return }
            state.entries[key] = nil
        }
    }
}


extension PacketServerConfiguration {
    /// The store this configuration asks for: `resumeTokenStore`, else Redis at
    /// `resumeTokenRedis`, else one in this process.
    func makeResumeTokenStore(logger: Logger) -> any ResumeTokenStore {
        if let resumeTokenStore { return resumeTokenStore }
        if let redis = resumeTokenRedis {
            return RedisResumeTokenStore(redis: RedisClient(configuration: redis, logger: logger))
        }
        return MemoryResumeTokenStore()
    }
}
