import GRPCCore
import GRPCNIOTransportHTTP2Posix
import MMOContracts
import Synchronization
import Testing
@testable import MMOServer
@testable import MMOUtils

/// Issue 8, item 5: several replicas of a service share its calls. One endpoint per address,
/// round robin, re-resolved periodically; a stopped replica costs at most the call in flight.
@Suite("replica addresses: parsing and the address set")
struct ReplicaAddressTests {
    @Test("a list of IPv4, [IPv6] and names parses; `all` and the description keep the order")
    func parsesLists() throws {
        let peer = try PeerAddress(parsing: "10.0.0.1:50051, [::1]:50052,db-0.db.mmo.svc:50051")
        #expect(peer.all == [
            PeerAddress(host: "10.0.0.1", port: 50051), PeerAddress(host: "::1", port: 50052),
            PeerAddress(host: "db-0.db.mmo.svc", port: 50051),
        ])
        #expect(peer.description == "10.0.0.1:50051,[::1]:50052,db-0.db.mmo.svc:50051")
        #expect(try PeerAddress(parsing: "db.mmo.svc:6000") == PeerAddress(host: "db.mmo.svc", port: 6000))
        #expect(try PeerAddress(parsing: peer.description) == peer)
    }

    @Test("a bad entry is named in the error", arguments: [
        ("10.0.0.1:50051,10.0.0.2", "10.0.0.2"), ("10.0.0.1:50051,", ""), ("a:1,b:0", "b:0"), ("a:1,:5", ":5"),
    ])
    func badEntries(input: String, entry: String) {
        #expect {
            try PeerAddress(parsing: input)
        } throws: { error in
            (error as? PeerAddress.ParseError)?.input == entry
        }
    }

    static func configuration(_ arguments: [String]) async throws -> ServerConfiguration {
        let reader = try await ConfigLoader.load(arguments: ["mmo"] + arguments, environment: [:])
        return try ServerConfiguration(reader: reader, services: [.auth])
    }

    @Test("the configuration key is read, validated and named in errors")
    func configuration() async throws {
        let configuration = try await Self.configuration(
            ["--database-address", "127.0.0.1:7001,127.0.0.1:7002", "--grpc-resolve-interval-seconds", "3"])
        #expect(configuration.peers[.database]?.all.map(\.port) == [7001, 7002])
        #expect(configuration.resolveInterval == .seconds(3))
        #expect(try await Self.configuration([]).resolveInterval == .seconds(10))
        do {
            _ = try await Self.configuration(["--grpc-resolve-interval-seconds", "0"])
            Issue.record("accepted 0")
        } catch {
            #expect("\(error)".contains("grpc.resolveIntervalSeconds"))
        }
        do {
            _ = try await Self.configuration(["--database-address", "127.0.0.1:7001,nope"])
            Issue.record("accepted a bad entry")
        } catch {
            #expect("\(error)".contains("database.address") && "\(error)".contains("'nope'"))
        }
    }

    @Test("one endpoint per distinct address, in entry order; a failed lookup keeps that entry's last good addresses")
    func addressSet() {
        let a1 = SocketAddress.ipv4(host: "10.0.0.1", port: 1)
        let a2 = SocketAddress.ipv4(host: "10.0.0.2", port: 1)
        let b1 = SocketAddress.ipv6(host: "fd00::1", port: 1)
        struct Down: Error {}
        var known = ReplicaAddresses.merge(previous: [:], lookups: [0: .success([a1, a2]), 1: .success([b1, a1])])
        #expect(ReplicaAddresses.endpoints(known) == [a1, a2, b1].map { Endpoint(addresses: [$0]) })
        known = ReplicaAddresses.merge(previous: known, lookups: [0: .failure(Down()), 1: .success([])])
        #expect(ReplicaAddresses.endpoints(known).count == 3)
        known = ReplicaAddresses.merge(previous: known, lookups: [0: .success([a2]), 1: .success([b1])])
        #expect(ReplicaAddresses.endpoints(known) == [a2, b1].map { Endpoint(addresses: [$0]) })

        let two = [a1, a2].map { Endpoint(addresses: [$0]) }
        #expect(ReplicaAddresses.changed(from: nil, to: two))
        #expect(!ReplicaAddresses.changed(from: nil, to: []))
        #expect(!ReplicaAddresses.changed(from: two, to: two.reversed()))
        #expect(!ReplicaAddresses.changed(from: two, to: []))
        #expect(ReplicaAddresses.changed(from: two, to: [two[0]]))
    }

    @Test("round_robin replaces the policy and keeps the deadlines")
    func serviceConfig() {
        let deadlines = RPCDeadlines.serviceConfig(timeout: .seconds(2), services: ["mmo.DatabaseService"])
        let config = PeerAddress.roundRobin(deadlines)
        #expect(config.loadBalancingConfig == [.roundRobin])
        #expect(config.methodConfig == deadlines.methodConfig)
    }
}

@Suite("the replica resolver with a fake DNS", .timeLimit(.minutes(1)))
struct ReplicaResolverTests {
    final class FakeDNS: Sendable {
        struct Down: Error {}
        let answers = Mutex<[String: [SocketAddress]]>([:])
        let lookups = Mutex(0)
        var lookup: ReplicaAddressLookup {
            { host, _ in
                self.lookups.withLock { $0 += 1 }
                guard let answer = self.answers.withLock({ $0[host] }) else { throw Down() }
                return answer
            }
        }
    }

    static func ip(_ last: Int) -> SocketAddress { .ipv4(host: "10.0.0.\(last)", port: 50051) }

    @Test("a name with 2 then 3 addresses yields 2 then 3 endpoints after a re-resolve")
    func growingName() async throws {
        let dns = FakeDNS()
        dns.answers.withLock { $0["db.test"] = [Self.ip(1), Self.ip(2)] }
        let resolver = ReplicaResolverFactory(interval: .milliseconds(20), lookup: dns.lookup)
            .resolver(for: ReplicaTarget(peers: [PeerAddress(host: "db.test", port: 50051)]))
        #expect(resolver.updateMode == .push)
        #expect(resolver.authority == "db.test:50051")
        var names = resolver.names.makeAsyncIterator()
        #expect(try await names.next()?.endpoints == [Self.ip(1), Self.ip(2)].map { Endpoint(addresses: [$0]) })
        dns.answers.withLock { $0["db.test"] = [Self.ip(1), Self.ip(2), Self.ip(3)] }
        #expect(try await names.next()?.endpoints.count == 3)
    }

    @Test("a failing lookup keeps the last good addresses of that name")
    func failingLookup() async throws {
        let dns = FakeDNS()
        dns.answers.withLock { $0["a.test"] = [Self.ip(1)]; $0["b.test"] = [Self.ip(2)] }
        let resolver = ReplicaResolverFactory(interval: .milliseconds(20), lookup: dns.lookup).resolver(
            for: ReplicaTarget(peers: [PeerAddress(host: "a.test", port: 50051), PeerAddress(host: "b.test", port: 50051)]))
        #expect(resolver.authority == nil)
        var names = resolver.names.makeAsyncIterator()
        #expect(try await names.next()?.endpoints.count == 2)
        // a.test stops answering; b.test changes: the update still has a.test's address.
        let before = dns.lookups.withLock { $0 }
        dns.answers.withLock { $0["a.test"] = nil; $0["b.test"] = [Self.ip(3)] }
        let next = try await names.next()
        #expect(dns.lookups.withLock { $0 } > before)
        #expect(next?.endpoints == [Self.ip(1), Self.ip(3)].map { Endpoint(addresses: [$0]) })
    }

    @Test("the system lookup resolves localhost and IP literals")
    func systemLookup() async throws {
        let local = try await ReplicaAddresses.systemLookup("localhost", 50051)
        #expect(local.contains(.ipv4(host: "127.0.0.1", port: 50051)))
        #expect(try await ReplicaAddresses.systemLookup("::1", 7) == [.ipv6(host: "::1", port: 7)])
        await #expect(throws: (any Error).self) { try await ReplicaAddresses.systemLookup("no-such-host.invalid", 1) }
    }
}

/// Answers `Check` and counts the calls it served.
struct CountingHealth: Grpc_Health_V1_Health.SimpleServiceProtocol {
    let counter: @Sendable () -> Void

    func check(request: Grpc_Health_V1_HealthCheckRequest, context: ServerContext) async throws -> Grpc_Health_V1_HealthCheckResponse {
        counter()
        var response = Grpc_Health_V1_HealthCheckResponse()
        response.status = .serving
        return response
    }

    func watch(
        request: Grpc_Health_V1_HealthCheckRequest, response: RPCWriter<Grpc_Health_V1_HealthCheckResponse>, context: ServerContext
    ) async throws {
        throw RPCError(code: .unimplemented, message: "")
    }
}

@Suite("replicas over real TCP", .serialized, .timeLimit(.minutes(1)))
struct ReplicaBalancingTests {
    final class Replica: Sendable {
        final class Counter: Sendable { let value = Mutex(0) }
        let port: Int
        let count = Counter()
        let server: GRPCServer<HTTP2ServerTransport.Posix>
        let task: Task<Void, any Error>

        init(host: String = "127.0.0.1") async throws {
            port = try TestProcess.freePort()
            let transport = HTTP2ServerTransport.Posix(address: .ipv4(host: host, port: port), transportSecurity: .plaintext)
            let count = self.count
            server = GRPCServer(transport: transport, services: [CountingHealth { count.value.withLock { $0 += 1 } }])
            let server = self.server
            task = Task { try await server.serve() }
            _ = try await transport.listeningAddress
        }

        var served: Int { count.value.withLock { $0 } }

        func stop() async {
            server.beginGracefulShutdown()
            _ = await task.result
        }
    }

    /// `calls` sequential Checks; how many failed.
    static func call(_ client: Grpc_Health_V1_Health.Client<HTTP2ClientTransport.Posix>, _ calls: Int) async -> Int {
        var failed = 0
        for _ in 0..<calls {
            do { _ = try await client.check(Grpc_Health_V1_HealthCheckRequest()) } catch { failed += 1 }
        }
        return failed
    }

    @Test("calls to `127.0.0.1:P1,127.0.0.1:P2` are spread over both; stopping one costs at most a retry")
    func spreadAndFailover() async throws {
        let first = try await Replica()
        let second = try await Replica()
        let peer = try PeerAddress(parsing: "127.0.0.1:\(first.port),127.0.0.1:\(second.port)")
        let deadlines = RPCDeadlines.serviceConfig(timeout: .seconds(2), services: ["grpc.health.v1.Health"])
        let transport = try peer.makeTransport(serviceConfig: deadlines, resolveInterval: .milliseconds(200))
        try await withGRPCClient(transport: transport) { grpc in
            let client = Grpc_Health_V1_Health.Client(wrapping: grpc)
            // Wait until both subchannels are up (round robin only picks ready ones).
            for _ in 0..<100 where first.served == 0 || second.served == 0 {
                _ = await Self.call(client, 1)
                try await Task.sleep(for: .milliseconds(20))
            }
            try #require(first.served > 0 && second.served > 0, "one replica never got a call")
            let (a0, b0) = (first.served, second.served)
            #expect(await Self.call(client, 100) == 0)
            let (a, b) = (first.served - a0, second.served - b0)
            #expect(a + b == 100)
            #expect(a >= 30 && b >= 30, "first \(a), second \(b)")

            await second.stop()
            let failed = await Self.call(client, 50)
            #expect(failed <= 2, "\(failed) of 50 calls failed after one replica stopped")
            let a1 = first.served
            #expect(await Self.call(client, 20) == 0)
            #expect(first.served - a1 == 20)
        }
        await first.stop()
    }

    @Test("a DNS name (`localhost`) works end to end")
    func dnsName() async throws {
        let replica = try await Replica()
        let peer = try PeerAddress(parsing: "localhost:\(replica.port)")
        let transport = try peer.makeTransport(serviceConfig: ServiceConfig())
        try await withGRPCClient(transport: transport) { grpc in
            let client = Grpc_Health_V1_Health.Client(wrapping: grpc)
            // localhost may also be ::1, where nothing listens: round robin skips it.
            #expect(await Self.call(client, 10) <= 1)
            #expect(replica.served >= 9)
        }
        await replica.stop()
    }
}
