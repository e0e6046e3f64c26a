import Configuration
import Foundation
import MMOTestSupport
import PacketService
import Testing
@testable import MMOServer
@testable import MMOUtils

/// `packet.tls.*`: both keys or neither, files checked at start, named in errors.
@Suite struct ClientTLSConfigurationTests {
    func configuration(_ arguments: [String], services: [ServiceKind] = ServiceKind.allCases) async throws -> ServerConfiguration {
        let reader = try await ConfigLoader.load(arguments: ["mmo"] + arguments, environment: [:])
        return try ServerConfiguration(reader: reader, services: services)
    }

    func error(_ arguments: [String]) async -> String? {
        do {
            _ = try await configuration(arguments)
            return nil
        } catch {
            return "\(error)"
        }
    }

    @Test func plainTCPByDefault() async throws {
        #expect(try await configuration([]).packet.tls == nil)
    }

    @Test func bothKeysTurnTLSOn() async throws {
        let certs = try DevCerts.make()
        defer { certs.remove() }
        let c = try await configuration(["--packet-tls-certificate", certs.serverCertificate, "--packet-tls-private-key", certs.serverKey])
        #expect(c.packet.tls == ClientTLSFiles(certificateChain: certs.serverCertificate, privateKey: certs.serverKey))
    }

    @Test func oneKeyWithoutTheOtherNamesTheMissingOne() async throws {
        let onlyCertificate = await error(["--packet-tls-certificate", "/etc/mmo/server.pem"])
        #expect(onlyCertificate?.hasPrefix("packet.tls.privateKey: not set") == true, "\(onlyCertificate ?? "accepted")")
        let onlyKey = await error(["--packet-tls-private-key", "/etc/mmo/server-key.pem"])
        #expect(onlyKey?.hasPrefix("packet.tls.certificate: not set") == true, "\(onlyKey ?? "accepted")")
    }

    @Test func missingOrBrokenFilesAreNamedWithoutTheirContent() async throws {
        let certs = try DevCerts.make()
        defer { certs.remove() }
        let missing = await error(["--packet-tls-certificate", "/nonexistent/server.pem", "--packet-tls-private-key", certs.serverKey])
        #expect(missing == "packet.tls.certificate: /nonexistent/server.pem does not exist")
        let swapped = await error(["--packet-tls-certificate", certs.serverCertificate, "--packet-tls-private-key", certs.serverCertificate])
        #expect(swapped == "packet.tls.privateKey: \(certs.serverCertificate) is not an unencrypted PEM private key")
        // A key from another pair: named, and no line of the key file appears.
        let other = try DevCerts.make()
        defer { other.remove() }
        let mismatch = try #require(await error(["--packet-tls-certificate", certs.serverCertificate, "--packet-tls-private-key", other.serverKey]))
        #expect(mismatch.contains(other.serverKey), "\(mismatch)")
        let keyLines = try String(contentsOfFile: other.serverKey, encoding: .utf8).split(separator: "\n").filter { !$0.hasPrefix("-----") }
        #expect(!keyLines.isEmpty)
        for line in keyLines { #expect(!mismatch.contains(line)) }
    }

    @Test func processesWithoutThePacketServiceDoNotReadTheFiles() async throws {
        let c = try await configuration(
            ["--packet-tls-certificate", "/nonexistent/server.pem", "--packet-tls-private-key", "/nonexistent/key.pem"], services: [.auth])
        #expect(c.packet.tls != nil)
    }

    @Test func keysAreDocumented() {
        let keys = Set(ServerConfiguration.keys.map(\.key))
        #expect(keys.isSuperset(of: ["packet.tls.certificate", "packet.tls.privateKey"]))
    }
}
