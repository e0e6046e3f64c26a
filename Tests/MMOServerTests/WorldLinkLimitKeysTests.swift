import Configuration
import Testing
@testable import MMOServer
import MMOUtils
@testable import PacketService

/// The world link's limits as configuration keys (issue 7): defaults unchanged, values read,
/// nonsense refused with the key's name.
@Suite struct WorldLinkLimitKeysTests {
    private func configuration(_ arguments: [String]) async throws -> ServerConfiguration {
        let reader = try await ConfigLoader.load(arguments: ["mmo"] + arguments, environment: [:])
        return try ServerConfiguration(reader: reader, services: ServiceKind.allCases)
    }

    @Test func defaultsAreTheOldConstants() async throws {
        let c = try await configuration([])
        // docs/protocol.md ("Reconnecting") promises clients 30 seconds.
        #expect(c.packet.worldRejoinTimeout == .seconds(30))
        #expect(c.packet.worldRejoinTimeout == WorldLink.defaultRejoinTimeout)
        #expect(c.packet.worldQueueMaxInputs == WorldInputQueue.Limits().maxInputs)
        #expect(c.packet.worldQueueMaxMovesPerSession == WorldInputQueue.Limits().maxMovesPerSession)
        #expect(c.packet.worldQueueMaxChatPerSession == WorldInputQueue.Limits().maxChatPerSession)
        #expect(c.world.maxPendingBatchesPerGateway == 200)
        #expect(c.world.maxPendingBytesPerGateway == 256 << 20)
    }

    @Test func valuesAreRead() async throws {
        let c = try await configuration([
            "--packet-world-rejoin-seconds", "90", "--packet-world-queue-inputs", "1000",
            "--packet-world-queue-chat-per-session", "3", "--packet-world-queue-moves-per-session", "5", "--world-gateway-outbox-batches", "50",
            "--world-gateway-outbox-bytes", "8388608",
        ])
        #expect(c.packet.worldRejoinTimeout == .seconds(90))
        #expect(c.packet.worldQueueMaxInputs == 1000)
        #expect(c.packet.worldQueueMaxChatPerSession == 3)
        #expect(c.packet.worldQueueMaxMovesPerSession == 5)
        #expect(c.world.maxPendingBatchesPerGateway == 50)
        #expect(c.world.maxPendingBytesPerGateway == 8 << 20)
    }

    @Test(arguments: [
        ("packet-world-rejoin-seconds", "packet.worldRejoinSeconds"),
        ("packet-world-queue-inputs", "packet.worldQueueInputs"),
        ("packet-world-queue-chat-per-session", "packet.worldQueueChatPerSession"),
        ("packet-world-queue-moves-per-session", "packet.worldQueueMovesPerSession"),
        ("world-gateway-outbox-batches", "world.gatewayOutboxBatches"),
        ("world-gateway-outbox-bytes", "world.gatewayOutboxBytes"),
    ])
    func zeroIsRefusedWithTheKeysName(flag: String, key: String) async throws {
        do {
            _ = try await configuration(["--\(flag)", "0"])
            Issue.record("--\(flag) 0 was accepted")
        } catch let error as ServerConfigurationError {
            #expect("\(error)".contains(key), "\(error)")
        }
    }
}
