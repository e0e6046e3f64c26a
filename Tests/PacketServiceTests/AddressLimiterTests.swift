import NIOCore
import Testing
@testable import PacketService

@Suite struct AddressLimiterTests {
    static let configuration = AddressLimiter.Configuration(
        maxConnectionsPerAddress: 2, maxFailedLogins: 3, failedLoginWindow: .seconds(60),
        penalty: .seconds(300), exempt: try! AddressRange.parseList("127.0.0.0/8,::1,10.1.0.0/16"))
    let a = ClientAddress(parsing: "203.0.113.7")!
    let b = ClientAddress(parsing: "203.0.113.8")!

    @Test func connectionsPerAddressAreCountedAndReleased() {
        var limiter = AddressLimiter(Self.configuration)
        let admissions = [limiter.admit(a, now: t0), limiter.admit(a, now: t0), limiter.admit(a, now: t0), limiter.admit(b, now: t0)]
        #expect(admissions == [.admitted(key: a), .admitted(key: a), .tooManyConnections, .admitted(key: b)])
        limiter.release(a, now: t0)
        let again = limiter.admit(a, now: t0)
        #expect(again == .admitted(key: a))
    }

    @Test func failedLoginsInAWindowBlockForThePenalty() {
        var limiter = AddressLimiter(Self.configuration)
        let key = limiter.key(for: a)
        let first = [limiter.recordFailedLogin(key, now: t0), limiter.recordFailedLogin(key, now: t0 + .seconds(10))]
        #expect(first == [false, false])
        #expect(limiter.mayLogIn(key, now: t0 + .seconds(10)))
        let third = limiter.recordFailedLogin(key, now: t0 + .seconds(59))
        #expect(third)
        #expect(!limiter.mayLogIn(key, now: t0 + .seconds(59)))
        let whileBlocked = limiter.admit(a, now: t0 + .seconds(100))
        #expect(whileBlocked == .blocked)
        #expect(limiter.mayLogIn(limiter.key(for: b), now: t0 + .seconds(100)))
        // The penalty runs from the blocking failure.
        #expect(!limiter.mayLogIn(key, now: t0 + .seconds(359) - .nanoseconds(1)))
        #expect(limiter.mayLogIn(key, now: t0 + .seconds(359)))
        let after = limiter.admit(a, now: t0 + .seconds(359))
        #expect(after == .admitted(key: a))
    }

    @Test func failuresOutsideTheWindowDoNotAddUp() {
        var limiter = AddressLimiter(Self.configuration)
        let key = limiter.key(for: a)
        var blocked: [Bool] = []
        for minute in Int64(0)..<10 {
            blocked.append(limiter.recordFailedLogin(key, now: t0 + .seconds(61 * minute)))
            blocked.append(limiter.recordFailedLogin(key, now: t0 + .seconds(61 * minute + 1)))
        }
        #expect(!blocked.contains(true))
    }

    @Test func exemptAddressesAreNeverLimited() {
        var limiter = AddressLimiter(Self.configuration)
        for text in ["127.0.0.1", "127.9.9.9", "::1", "10.1.200.3"] {
            let address = ClientAddress(parsing: text)!
            #expect(limiter.key(for: address) == nil, "\(text)")
            let admissions = (0..<5).map { _ in limiter.admit(address, now: t0) }
            #expect(admissions.allSatisfy { $0 == .admitted(key: nil) }, "\(text)")
            let blocked = (0..<5).map { _ in limiter.recordFailedLogin(limiter.key(for: address), now: t0) }
            #expect(!blocked.contains(true), "\(text)")
        }
        #expect(limiter.key(for: ClientAddress(parsing: "10.2.0.1")!) != nil)
        let unknown = limiter.admit(nil, now: t0)
        #expect(unknown == .admitted(key: nil))
    }

    @Test func ipv6CountsByItsSlash64() {
        var limiter = AddressLimiter(Self.configuration)
        let one = ClientAddress(parsing: "2001:db8:1:2::1")!
        let sameNetwork = ClientAddress(parsing: "2001:db8:1:2:ffff::9")!
        let otherNetwork = ClientAddress(parsing: "2001:db8:1:3::1")!
        let admissions = [
            limiter.admit(one, now: t0), limiter.admit(sameNetwork, now: t0),
            limiter.admit(sameNetwork, now: t0), limiter.admit(otherNetwork, now: t0),
        ]
        #expect(admissions == [.admitted(key: one.limitKey), .admitted(key: one.limitKey), .tooManyConnections, .admitted(key: otherNetwork.limitKey)])
    }

    @Test func forgottenAddressesDoNotAccumulate() {
        var limiter = AddressLimiter(Self.configuration)
        for i in 0..<5_000 {
            let address = ClientAddress(ipv4: 0xC000_0000 | UInt32(i))
            let now = t0 + .seconds(Int64(i))
            _ = limiter.admit(address, now: now)
            limiter.release(address, now: now)
            _ = limiter.recordFailedLogin(address, now: now)
        }
        // Only addresses with a failure still inside its window are kept (plus unswept ones).
        #expect(limiter.trackedAddresses < 2_100, "\(limiter.trackedAddresses)")
    }

    @Test func addressesAndRanges() throws {
        #expect(ClientAddress(parsing: "203.0.113.7")?.description == "203.0.113.7")
        #expect(ClientAddress(parsing: "::ffff:203.0.113.7") == ClientAddress(parsing: "203.0.113.7"))
        #expect(ClientAddress(parsing: "2001:db8::1")?.isIPv4 == false)
        #expect(ClientAddress(parsing: "example.com") == nil)
        let range = try AddressRange(parsing: " 192.168.0.0/16 ")
        #expect(range.contains(ClientAddress(parsing: "192.168.44.1")!))
        #expect(!range.contains(ClientAddress(parsing: "192.169.0.1")!))
        #expect(try AddressRange(parsing: "2001:db8::/32").contains(ClientAddress(parsing: "2001:db8:ffff::1")!))
        #expect(try AddressRange(parsing: "0.0.0.0/0").contains(ClientAddress(parsing: "8.8.8.8")!))
        #expect(try !AddressRange(parsing: "0.0.0.0/0").contains(ClientAddress(parsing: "2001:db8::1")!))
        #expect(try AddressRange.parseList("").isEmpty)
        #expect(throws: AddressRange.ParseError.self) { try AddressRange(parsing: "10.0.0.0/33") }
        #expect(throws: AddressRange.ParseError.self) { try AddressRange(parsing: "localhost") }
    }
}
