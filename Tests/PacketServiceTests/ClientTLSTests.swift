import Foundation
import MMOClient
import MMOProtocol
import MMOTestSupport
import NIOCore
import NIOPosix
import NIOSSL
import Testing
@testable import PacketService

/// Issue 7, item 6: TLS on the client port, over real TCP with certificates from
/// scripts/dev-certs.sh made into temporary directories (no key is committed).
@Suite("client port TLS", .timeLimit(.minutes(1)))
struct ClientTLSTests {
    static func configuration(_ certs: DevCerts, helloTimeout: Duration = .seconds(10)) -> PacketServerConfiguration {
        var configuration = PacketServerConfiguration.test
        configuration.tls = ClientTLSFiles(certificateChain: certs.serverCertificate, privateKey: certs.serverKey)
        configuration.helloTimeout = helloTimeout
        return configuration
    }

    static func clientConfiguration(trusting caFile: String?, serverName: String? = nil) -> GameClientConfiguration {
        var configuration = GameClientConfiguration()
        configuration.tls = caFile.map { GameClientTLS(trustRoots: .caFile($0), serverName: serverName) }
        return configuration
    }

    /// The certificate the server presents to a new connection (read without verifying it).
    static func presentedCertificate(port: Int) async throws -> NIOSSLCertificate {
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.certificateVerification = .none
        let context = try NIOSSLContext(configuration: tls)
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(try NIOSSLClientHandler(context: context, serverHostname: nil))
                }
            }
            .connect(host: "127.0.0.1", port: port).get()
        defer { channel.close(promise: nil) }
        var certificate: NIOSSLCertificate?
        try await eventually("TLS handshake") {
            certificate = try await channel.nioSSL_peerCertificate().get()
            return certificate != nil
        }
        return try #require(certificate)
    }

    static func certificate(_ path: String) throws -> NIOSSLCertificate {
        try #require(try NIOSSLCertificate.fromPEMFile(path).first)
    }

    // (a) the whole login flow over TLS with the SDK
    @Test func sdkClientTrustingTheCAPlaysOverTLS() async throws {
        let certs = try DevCerts.make()
        defer { certs.remove() }
        try await withLiveServer(configuration: Self.configuration(certs)) { server, _ in
            let port = try #require(server.localPort)
            // By IP (checked against the certificate's IP SAN) and by name (SNI + DNS SAN).
            for serverName in [nil, "localhost"] {
                let client = try await GameClient.connect(
                    host: "127.0.0.1", port: port, configuration: Self.clientConfiguration(trusting: certs.ca, serverName: serverName))
                let login = try await client.login(token: "token-alice")
                #expect(login.accountId == "alice")
                let entry = try await client.enterWorld(characterId: 1)
                #expect(entry.zoneId == 7)
                await client.logout()
            }
        }
    }

    // (b) a plain-TCP client on the TLS port fails cleanly; the server carries on
    @Test func plainClientOnTheTLSPortFailsAndTheServerCarriesOn() async throws {
        let certs = try DevCerts.make()
        defer { certs.remove() }
        try await withLiveServer(configuration: Self.configuration(certs)) { server, _ in
            let port = try #require(server.localPort)
            let started = ContinuousClock.now
            // The server answers the plain HELLO with a TLS alert and closes; the SDK says what to do.
            await #expect(throws: GameClientError.tlsFailed("127.0.0.1:\(port) speaks TLS: connect with mmos://127.0.0.1:\(port) (or --tls)")) {
                _ = try await GameClient.connect(host: "127.0.0.1", port: port, timeout: .seconds(5))
            }
            #expect(ContinuousClock.now - started < .seconds(4), "the server should close at once, not let the client time out")
            try await eventually("plain connection closed") { server.connectionCount == 0 }

            let client = try await GameClient.connect(host: "127.0.0.1", port: port, configuration: Self.clientConfiguration(trusting: certs.ca))
            #expect(try await client.login(token: "token-bob").accountId == "bob")
            await client.logout()
        }
    }

    // ... and a TLS client on a plain port says so.
    @Test func tlsClientOnAPlainPortReportsTLSFailure() async throws {
        let certs = try DevCerts.make()
        defer { certs.remove() }
        try await withLiveServer { server, _ in
            let port = try #require(server.localPort)
            do {
                _ = try await GameClient.connect(host: "127.0.0.1", port: port, timeout: .seconds(5), configuration: Self.clientConfiguration(trusting: certs.ca))
                Issue.record("connected over TLS to a plain port")
            } catch let error as GameClientError {
                guard case .tlsFailed(let reason) = error else { Issue.record("wrong error: \(error)"); return }
                #expect(reason.contains("does not speak TLS") || reason.contains("closed"), "\(reason)")
            }
        }
    }

    // (c) a client trusting another CA fails with the verification error
    @Test func clientTrustingAnotherCAFailsVerification() async throws {
        let certs = try DevCerts.make()
        let other = try DevCerts.make()
        defer { certs.remove(); other.remove() }
        try await withLiveServer(configuration: Self.configuration(certs)) { server, _ in
            let port = try #require(server.localPort)
            do {
                _ = try await GameClient.connect(host: "127.0.0.1", port: port, configuration: Self.clientConfiguration(trusting: other.ca))
                Issue.record("connected although the server's CA is not trusted")
            } catch let error as GameClientError {
                guard case .tlsFailed(let reason) = error else { Issue.record("wrong error: \(error)"); return }
                #expect(reason.contains("not trusted"), "\(reason)")
            }
            try await eventually("refused connections closed") { server.connectionCount == 0 }
        }
    }

    @Test func unusableCAFileIsATLSError() async throws {
        do {
            _ = try await GameClient.connect(host: "127.0.0.1", port: 1, configuration: Self.clientConfiguration(trusting: "/nonexistent/ca.pem"))
            Issue.record("connected")
        } catch let error as GameClientError {
            #expect(error == .tlsFailed("CA file /nonexistent/ca.pem cannot be read"))
        }
    }

    // (d) reload: new connections get the new pair, open ones carry on; a failed reload keeps the old pair
    @Test func reloadSwapsThePairForNewConnectionsAndSurvivesBrokenFiles() async throws {
        let first = try DevCerts.make()
        let second = try DevCerts.make()
        let live = try DevCerts.make()  // only its directory: the files the server reads
        defer { first.remove(); second.remove(); live.remove() }
        func install(_ certs: DevCerts) throws {
            for name in ["server.pem", "server-key.pem"] {
                _ = try? FileManager.default.removeItem(atPath: live.path(name))
                try FileManager.default.copyItem(atPath: certs.path(name), toPath: live.path(name))
            }
        }
        try install(first)
        try await withLiveServer(configuration: Self.configuration(live)) { server, _ in
            let port = try #require(server.localPort)
            #expect(try await Self.presentedCertificate(port: port) == (try Self.certificate(first.serverCertificate)))
            let playing = try await GameClient.connect(host: "127.0.0.1", port: port, configuration: Self.clientConfiguration(trusting: first.ca))
            _ = try await playing.login(token: "token-carol")

            try install(second)
            #expect(try #require(server.reloadTLS()).isSuccess)
            let renewed = try await Self.presentedCertificate(port: port)
            let secondCertificate = try Self.certificate(second.serverCertificate)
            let firstCertificate = try Self.certificate(first.serverCertificate)
            #expect(renewed == secondCertificate)
            #expect(renewed.serialNumber != firstCertificate.serialNumber)
            // The connection made before the reload carries on with its session.
            _ = try await playing.ping()
            let fresh = try await GameClient.connect(host: "127.0.0.1", port: port, configuration: Self.clientConfiguration(trusting: second.ca))
            _ = try await fresh.login(token: "token-dave")

            // A broken certificate file: the reload fails, the second pair stays in force.
            try Data("-----BEGIN CERTIFICATE-----\ngarbage\n-----END CERTIFICATE-----\n".utf8).write(to: URL(fileURLWithPath: live.serverCertificate))
            let failed = try #require(server.reloadTLS())
            guard case .failure(let error) = failed else { Issue.record("a broken file reloaded"); return }
            #expect(error.description.contains(live.serverCertificate))
            // A key that does not belong to the certificate fails too.
            try install(second)
            try FileManager.default.removeItem(atPath: live.serverKey)
            try FileManager.default.copyItem(atPath: first.serverKey, toPath: live.serverKey)
            #expect(try #require(server.reloadTLS()).isSuccess == false)
            #expect(try await Self.presentedCertificate(port: port) == secondCertificate)
            _ = try await fresh.ping()
            await playing.logout()
            await fresh.logout()
        }
    }

    // A TLS handshake that never completes holds its slot no longer than the HELLO deadline.
    @Test func stalledHandshakeIsClosedByTheHelloDeadline() async throws {
        let certs = try DevCerts.make()
        defer { certs.remove() }
        try await withLiveServer(configuration: Self.configuration(certs, helloTimeout: .milliseconds(300))) { server, _ in
            let port = try #require(server.localPort)
            let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .connect(host: "127.0.0.1", port: port) { channel in
                    channel.eventLoop.makeCompletedFuture { try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel) }
                }
            let started = ContinuousClock.now
            try await channel.executeThenClose { inbound, outbound in
                // The first bytes of a ClientHello record, then nothing.
                try await outbound.write(ByteBuffer(bytes: [0x16, 0x03, 0x01, 0x02, 0x00, 0x01]))
                try await eventually("counted as a connection") { server.connectionCount == 1 }
                do {
                    for try await _ in inbound {}
                } catch {
                    // A reset is a close too.
                }
            }
            #expect(ContinuousClock.now - started < .seconds(8))
            try await eventually("slot released") { server.connectionCount == 0 }
        }
    }

    // (e) configuration errors name the file and never show key material
    @Test func missingOrBrokenFilesAreNamed() throws {
        let certs = try DevCerts.make()
        defer { certs.remove() }
        #expect(throws: ClientTLSError("packet.tls.certificate: /nonexistent/server.pem does not exist")) {
            try ClientTLS(files: ClientTLSFiles(certificateChain: "/nonexistent/server.pem", privateKey: certs.serverKey))
        }
        #expect(throws: ClientTLSError("packet.tls.privateKey: /nonexistent/key.pem does not exist")) {
            try ClientTLS(files: ClientTLSFiles(certificateChain: certs.serverCertificate, privateKey: "/nonexistent/key.pem"))
        }
        // The key file given as the certificate, and the certificate as the key.
        do {
            _ = try ClientTLS(files: ClientTLSFiles(certificateChain: certs.serverKey, privateKey: certs.serverKey))
            Issue.record("a key file was accepted as a certificate")
        } catch {
            #expect(error.description.contains("packet.tls.certificate: \(certs.serverKey)"))
            let key = try String(contentsOfFile: certs.serverKey, encoding: .utf8)
            let body = key.split(separator: "\n").dropFirst().first.map(String.init) ?? key
            #expect(!error.description.contains(body))
        }
        #expect(throws: ClientTLSError("packet.tls.privateKey: \(certs.serverCertificate) is not an unencrypted PEM private key")) {
            try ClientTLS(files: ClientTLSFiles(certificateChain: certs.serverCertificate, privateKey: certs.serverCertificate))
        }
    }

    @Test func serverWithMissingFilesDoesNotStart() async throws {
        var configuration = PacketServerConfiguration.test
        configuration.tls = ClientTLSFiles(certificateChain: "/nonexistent/server.pem", privateKey: "/nonexistent/key.pem")
        await #expect(throws: ClientTLSError("packet.tls.certificate: /nonexistent/server.pem does not exist")) {
            try await withLiveServer(configuration: configuration) { _, _ in }
        }
    }
}

extension Result {
    var isSuccess: Bool {
        if case .success = self { return true }
        return false
    }
}
