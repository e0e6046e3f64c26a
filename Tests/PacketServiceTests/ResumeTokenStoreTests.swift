import Foundation
import Logging
import MMORedis
import MMOTestSupport
import NIOCore
import Synchronization
import Testing
@testable import PacketService

/// A clock tests move by hand.
final class ManualClock: Sendable {
    private let time = Mutex(NIODeadline.uptimeNanoseconds(1_000_000_000))
    var now: NIODeadline { time.withLock { $0 } }
    func advance(_ amount: Duration) { time.withLock { $0 = $0 + TimeAmount(amount) } }
}

private func ticket(_ account: String = "acc-1", character: UInt64 = 7) -> ResumeTicket {
    ResumeTicket(accountId: account, displayName: "Name \(account)", sessionToken: "token-\(account)", characterId: character)
}

@Suite("Resume tokens")
struct ResumeTokenTests {
    @Test func tokensAre43Base64urlCharactersFrom32RandomBytes() {
        let tokens = (0..<200).map { _ in ResumeToken.generate() }
        #expect(Set(tokens).count == tokens.count)
        for token in tokens {
            #expect(token.count == 43)
            #expect(ResumeToken.isWellFormed(token))
            var base64 = token.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
            base64 += "="
            #expect(Data(base64Encoded: base64)?.count == 32)
        }
        #expect(!ResumeToken.isWellFormed(""))
        #expect(!ResumeToken.isWellFormed(String(repeating: "a", count: 42)))
        #expect(!ResumeToken.isWellFormed(String(repeating: "a", count: 42) + "="))
        #expect(!ResumeToken.isWellFormed(String(repeating: "a", count: 42) + "+"))
    }

    @Test func theStorageKeyIsTheSHA256NotTheToken() {
        let token = ResumeToken.generate()
        let key = ResumeToken.storageKey(token)
        #expect(key.count == 64)
        #expect(!key.contains(token))
        // SHA-256("abc"), the FIPS 180-2 test vector.
        #expect(ResumeToken.storageKey("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    }
}

/// The contract every store keeps, run against the in-memory store and (below) Redis.
func checkStoreContract(_ store: any ResumeTokenStore, account: String) async throws {
    // Single use.
    let token = try await store.issue(ticket(account), ttl: .seconds(60))
    #expect(try await store.claim(token) == ticket(account))
    #expect(try await store.claim(token) == nil)
    // Unknown and malformed tokens.
    #expect(try await store.claim(ResumeToken.generate()) == nil)
    #expect(try await store.claim("not a token") == nil)
    // One live token per account: a new one kills the older.
    let first = try await store.issue(ticket(account, character: 1), ttl: .seconds(60))
    let second = try await store.issue(ticket(account, character: 2), ttl: .seconds(60))
    #expect(try await store.claim(first) == nil)
    #expect(try await store.claim(second) == ticket(account, character: 2))
    // Revoke (LOGIN) and discard (LEAVE_WORLD).
    let revoked = try await store.issue(ticket(account), ttl: .seconds(60))
    try await store.revoke(accountId: account)
    #expect(try await store.claim(revoked) == nil)
    let discarded = try await store.issue(ticket(account), ttl: .seconds(60))
    try await store.discard(discarded)
    #expect(try await store.claim(discarded) == nil)
    // Another account's token is untouched by all that.
    let other = try await store.issue(ticket(account + "-other"), ttl: .seconds(60))
    try await store.revoke(accountId: account)
    #expect(try await store.claim(other) == ticket(account + "-other"))
}

@Suite("MemoryResumeTokenStore")
struct MemoryResumeTokenStoreTests {
    @Test func keepsTheStoreContract() async throws {
        try await checkStoreContract(MemoryResumeTokenStore(), account: "acc-1")
    }

    @Test func aTokenExpiresAfterItsTimeToLiveAndExpireMovesIt() async throws {
        let clock = ManualClock()
        let store = MemoryResumeTokenStore(now: { clock.now })
        let token = try await store.issue(ticket(), ttl: .seconds(300))
        // Dropped: the grace period starts now.
        try await store.expire(token, accountId: "acc-1", after: .seconds(60))
        clock.advance(.seconds(59))
        #expect(store.count == 1)
        clock.advance(.seconds(1))
        #expect(store.count == 0)
        #expect(try await store.claim(token) == nil)

        let live = try await store.issue(ticket(), ttl: .seconds(60))
        clock.advance(.seconds(59))
        #expect(try await store.claim(live) == ticket())
    }

    @Test func expiredTokensAreSweptSoMemoryStaysBounded() async throws {
        let clock = ManualClock()
        let store = MemoryResumeTokenStore(now: { clock.now })
        for i in 0..<1000 {
            _ = try await store.issue(ticket("acc-\(i)"), ttl: .seconds(1))
            clock.advance(.seconds(2))
        }
        #expect(store.count == 0)
        // Sweeps reclaim expired entries as new tokens are issued: far fewer than 1000 are held.
        #expect(store.storedEntries < 200)
    }
}

/// The Redis store against the real Redis (MMO_TEST_REDIS_URL): the same contract, expiry by
/// Redis itself, and two "gateways" (two clients) sharing it.
@Suite("RedisResumeTokenStore", .enabled(if: ProcessInfo.processInfo.environment["MMO_TEST_REDIS_URL"] != nil || TestServices.required()))
struct RedisResumeTokenStoreTests {
    static func client() throws -> RedisClient {
        guard let url = ProcessInfo.processInfo.environment["MMO_TEST_REDIS_URL"] else {
            throw TestFailure("MMO_TEST_REDIS_URL is not set")
        }
        var configuration = try RedisClientConfiguration(url: url)
        configuration.keyPrefix = "mmo-test-\(UUID().uuidString.prefix(8)):"
        return RedisClient(configuration: configuration, logger: Logger(label: "test"))
    }

    static func account() -> String { "acc-\(UUID().uuidString)" }

    @Test func keepsTheStoreContract() async throws {
        let redis = try Self.client()
        try await checkStoreContract(RedisResumeTokenStore(redis: redis), account: Self.account())
        await redis.shutdown()
    }

    @Test func neitherTheTokenNorItsSessionKeyIsAKeyAndTheTicketExpires() async throws {
        let redis = try Self.client()
        let store = RedisResumeTokenStore(redis: redis)
        let account = Self.account()
        let token = try await store.issue(ticket(account), ttl: .seconds(60))
        let prefix = redis.configuration.keyPrefix
        #expect(try await redis.get(prefix + "mmo:resume:token:" + token) == nil)
        #expect(try await redis.get(prefix + "mmo:resume:token:" + ResumeToken.storageKey(token)) != nil)
        #expect(try await redis.get(prefix + "mmo:resume:account:" + account)?.readableBytesView.elementsEqual(ResumeToken.storageKey(token).utf8) == true)
        // The grace period at a drop: Redis expires it.
        try await store.expire(token, accountId: account, after: .milliseconds(200))
        let ttl = try await redis.send(["PTTL", prefix + "mmo:resume:token:" + ResumeToken.storageKey(token)]).int64Value ?? -1
        #expect(ttl > 0 && ttl <= 200)
        try await Task.sleep(for: .milliseconds(400))
        #expect(try await store.claim(token) == nil)
        await redis.shutdown()
    }

    @Test func aTokenIssuedByOneGatewayIsClaimedOnceAcrossGateways() async throws {
        let first = try Self.client()
        var shared = first.configuration
        shared.poolSize = 2
        let second = RedisClient(configuration: shared, logger: Logger(label: "test"))
        let gatewayA = RedisResumeTokenStore(redis: first)
        let gatewayB = RedisResumeTokenStore(redis: second)
        let account = Self.account()

        let token = try await gatewayA.issue(ticket(account), ttl: .seconds(60))
        // Both gateways race for it: exactly one wins.
        async let a = gatewayA.claim(token)
        async let b = gatewayB.claim(token)
        let results = [try await a, try await b]
        #expect(results.compactMap { $0 } == [ticket(account)])

        // A LOGIN on gateway B revokes the token gateway A issued.
        let another = try await gatewayA.issue(ticket(account), ttl: .seconds(60))
        try await gatewayB.revoke(accountId: account)
        #expect(try await gatewayA.claim(another) == nil)
        await first.shutdown()
        await second.shutdown()
    }
}
