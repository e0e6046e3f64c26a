import GRPCCore
import GRPCInProcessTransport
import MMOContracts
import PacketService
import Testing
@testable import MMOServer
@testable import MMOUtils

/// An auth service that answers far too late: 3 s, past the test's 200 ms deadline and its 2 s
/// bound, yet short enough that the server's shutdown (which waits for the handler) stays quick.
private struct StalledAuthService: Mmo_AuthService.SimpleServiceProtocol {
    func validateSession(request: Mmo_ValidateSessionRequest, context: ServerContext) async throws -> Mmo_ValidateSessionResponse {
        try await Task.sleep(for: .seconds(3))
        return Mmo_ValidateSessionResponse()
    }
}

@Suite("RPC deadlines come from one service config", .timeLimit(.minutes(1)))
struct RPCDeadlineTests {
    @Test("request/response services are named from the generated descriptors; the world stream is not")
    func deadlineNames() {
        #expect(ServiceKind.requestResponse.compactMap(\.grpcServiceName) == ["mmo.DatabaseService", "mmo.AuthService", "mmo.CharacterService"])
        #expect(ServiceKind.world.grpcServiceName == "mmo.WorldService")
        #expect(!ServiceKind.requestResponse.contains(.world))
        #expect(ServiceKind.packet.grpcServiceName == nil)
    }

    @Test("a caller that sets no timeout of its own still gets DEADLINE_EXCEEDED from the transport's config")
    func transportDeadline() async throws {
        let config = RPCDeadlines.serviceConfig(
            timeout: .milliseconds(200), services: ServiceKind.requestResponse.compactMap(\.grpcServiceName))
        let transport = InProcessTransport(serviceConfig: config)
        try await withGRPCServer(transport: transport.server, services: [StalledAuthService()]) { _ in
            try await withGRPCClient(transport: transport.client) { client in
                let authenticator = GRPCSessionAuthenticator(client: Mmo_AuthService.Client(wrapping: client))
                let started = ContinuousClock.now
                do {
                    _ = try await authenticator.validate(token: "t")
                    Issue.record("a stalled call returned")
                } catch let error as RPCError {
                    #expect(error.code == .deadlineExceeded)
                }
                // The config's 200 ms, not some per-call default of seconds, ended the call.
                #expect(ContinuousClock.now - started < .seconds(2))
            }
        }
    }
}
