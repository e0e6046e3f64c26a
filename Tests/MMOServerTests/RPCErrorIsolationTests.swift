import MMOTestSupport
import GRPCCore
import GRPCNIOTransportHTTP2Posix
import MMOContracts
import Testing
@testable import MMOServer
@testable import MMOUtils

/// Issue 7, "one client can fail other players' requests": a character id the database cannot
/// hold (0, or ≥ 2^63 for a bigint) must fail only its own request, as CHARACTER_NOT_FOUND, and
/// never the HTTP/2 connection that carries everybody else's calls.
@Suite("an RPC's failure stays in that RPC", .serialized, .timeLimit(.minutes(1)))
struct RPCErrorIsolationTests {
    @Test("ids 0 and ≥ 2^63 are NOT_FOUND, and 400 concurrent valid calls on the same connection all succeed")
    func badIdsFailOnlyTheirOwnCall() async throws {
        try await TestProcess.withDatabaseAndCharacter { port in
            let transport = try PeerAddress(host: "127.0.0.1", port: port).makeTransport(serviceConfig: ServiceConfig())
            try await withGRPCClient(transport: transport) { grpc in
                let client = Mmo_CharacterService.Client(wrapping: grpc)
                var create = Mmo_CharacterCreateRequest()
                create.accountID = "account-1"
                create.name = "Valid"
                create.classID = 1
                // The character service's own client to the database may still be connecting
                // right after start (an unrelated race on a loaded machine): the first call is
                // retried until it goes through; what is measured is everything after it.
                var first: Mmo_CharacterCreateResponse?
                try await eventually("the character service reaches the database", timeout: .seconds(15), interval: .milliseconds(50)) {
                    first = try? await client.createCharacter(create)
                    return first != nil
                }
                let created = first!
                try #require(created.status == .ok, "\(created)")

                let badIDs: [UInt64] = [0, UInt64(Int64.max) + 1, UInt64.max]
                let outcomes = await withTaskGroup(of: (valid: Bool, ok: Bool, detail: String).self) { group in
                    for index in 0..<400 {
                        group.addTask {
                            do {
                                var list = Mmo_CharacterListRequest()
                                list.accountID = "account-1"
                                let response = try await client.listCharacters(list)
                                return (true, response.characters.map(\.id) == [created.character.id], "\(response)")
                            } catch {
                                return (true, false, "list \(index): \(error)")
                            }
                        }
                        if index % 20 == 0 {
                            let id = badIDs[(index / 20) % badIDs.count]
                            group.addTask {
                                do {
                                    var select = Mmo_CharacterSelectRequest()
                                    select.accountID = "account-1"
                                    select.characterID = id
                                    let selected = try await client.selectCharacter(select)
                                    var delete = Mmo_CharacterDeleteRequest()
                                    delete.accountID = "account-1"
                                    delete.characterID = id
                                    let deleted = try await client.deleteCharacter(delete)
                                    return (false, selected.status == .notFound && deleted.status == .notFound, "id \(id): \(selected.status) \(deleted.status)")
                                } catch {
                                    return (false, false, "id \(id): \(error)")
                                }
                            }
                        }
                    }
                    var all: [(valid: Bool, ok: Bool, detail: String)] = []
                    for await outcome in group { all.append(outcome) }
                    return all
                }
                let failedValid = outcomes.filter { $0.valid && !$0.ok }
                let failedBad = outcomes.filter { !$0.valid && !$0.ok }
                #expect(failedValid.count == 0, "\(failedValid.count) of 400 valid calls failed, e.g. \(failedValid.prefix(3).map(\.detail))")
                #expect(failedBad.count == 0, "\(failedBad.count) bad ids not answered NOT_FOUND, e.g. \(failedBad.prefix(3).map(\.detail))")
            }
        }
    }
}

/// An auth service that fails token "bad" the way a handler that rethrows an upstream client
/// error does: with the upstream response's transport headers in the error's metadata.
private struct RethrowingAuthService: Mmo_AuthService.SimpleServiceProtocol {
    func validateSession(request: Mmo_ValidateSessionRequest, context: ServerContext) async throws -> Mmo_ValidateSessionResponse {
        guard request.token != "bad" else {
            throw RPCError(
                code: .invalidArgument, message: "upstream refused",
                metadata: [":status": "200", "content-type": "application/grpc", "grpc-status": "3", "x-detail": "kept"])
        }
        try await Task.sleep(for: .milliseconds(20))
        var response = Mmo_ValidateSessionResponse()
        response.status = .valid
        return response
    }
}

@Suite("RPCErrorBoundary keeps transport headers out of a failed RPC's trailers", .serialized, .timeLimit(.minutes(1)))
struct RPCErrorBoundaryTests {
    /// 200 valid and 10 failing calls, concurrently, on one TCP connection; returns how many valid
    /// ones failed and the errors of the failing ones.
    static func run(interceptors: [any ServerInterceptor]) async throws -> (failedValid: Int, errors: [RPCError]) {
        let port = try TestProcess.freePort()
        let transport = HTTP2ServerTransport.Posix(address: .ipv4(host: "127.0.0.1", port: port), transportSecurity: .plaintext)
        return try await withGRPCServer(transport: transport, services: [RethrowingAuthService()], interceptors: interceptors) { _ in
            _ = try await transport.listeningAddress
            let clientTransport = try PeerAddress(host: "127.0.0.1", port: port).makeTransport(serviceConfig: ServiceConfig())
            return try await withGRPCClient(transport: clientTransport) { grpc in
                let client = Mmo_AuthService.Client(wrapping: grpc)
                // One call first, so every later call shares the established connection.
                var warmUp = Mmo_ValidateSessionRequest()
                warmUp.token = "good"
                _ = try await client.validateSession(warmUp)
                return await withTaskGroup(of: (Bool, RPCError?).self) { group in
                    for index in 0..<210 {
                        group.addTask {
                            var request = Mmo_ValidateSessionRequest()
                            request.token = index % 21 == 0 ? "bad" : "good"
                            do {
                                _ = try await client.validateSession(request)
                                return (request.token == "good", nil)
                            } catch let error as RPCError {
                                return (request.token == "good" ? false : true, request.token == "bad" ? error : nil)
                            } catch {
                                return (false, nil)
                            }
                        }
                    }
                    var failedValid = 0
                    var errors: [RPCError] = []
                    for await (ok, error) in group {
                        if let error { errors.append(error) } else if !ok { failedValid += 1 }
                    }
                    return (failedValid, errors)
                }
            }
        }
    }

    @Test("without the boundary the rethrown headers close the connection (the mechanism of issue 7)")
    func withoutBoundary() async throws {
        let outcome = try await Self.run(interceptors: [])
        #expect(outcome.failedValid > 0, "the connection survived: grpc-swift now drops reserved headers itself")
    }

    @Test("with the boundary every valid call succeeds and the failing ones keep code, message and their own metadata")
    func withBoundary() async throws {
        let outcome = try await Self.run(interceptors: [RPCErrorBoundary()])
        #expect(outcome.failedValid == 0)
        #expect(outcome.errors.count == 10)
        for error in outcome.errors {
            #expect(error.code == .invalidArgument && error.message == "upstream refused", "\(error)")
            #expect(error.metadata[stringValues: "x-detail"].first(where: { _ in true }) == "kept")
        }
    }
}
