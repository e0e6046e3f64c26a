import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2Posix

/// Mutual TLS between the services (configuration keys `grpc.tls.certificate`,
/// `grpc.tls.privateKey`, `grpc.tls.trustRoots`; see docs/adr/0006-internal-mtls.md).
///
/// One certificate and key per process serve both of its sides: its gRPC servers present the
/// certificate and require a client certificate signed by the trust roots; its gRPC clients
/// present the same certificate and verify the server's against the trust roots, hostname
/// included (the name or IP a peer is dialled by must be in the server certificate's SANs).
///
/// The files are read once, when the configuration is read, so a missing or broken file stops
/// the process at start naming that file; rotating certificates means restarting the service.
/// The private key never prints: `description` shows the file paths only.
public struct InternalTLS: Sendable, CustomStringConvertible, CustomDebugStringConvertible {
    public let certificatePath: String
    public let privateKeyPath: String
    public let trustRootsPath: String

    let certificatePEM: [UInt8]
    let privateKeyPEM: [UInt8]
    let trustRootsPEM: [UInt8]

    /// Why a TLS file cannot be used; `description` names the file, never its contents.
    public struct LoadError: Error, CustomStringConvertible {
        public let path: String
        public let reason: String
        public var description: String { "\(path): \(reason)" }
    }

    /// Reads the three PEM files and checks that together they make a usable TLS identity
    /// (certificate and key parse and belong together, the trust roots parse).
    public init(certificate: String, privateKey: String, trustRoots: String) throws {
        certificatePath = certificate
        privateKeyPath = privateKey
        trustRootsPath = trustRoots
        certificatePEM = try Self.read(certificate, mustContain: "-----BEGIN CERTIFICATE-----", what: "a PEM certificate")
        privateKeyPEM = try Self.read(privateKey, mustContain: "PRIVATE KEY-----", what: "a PEM private key")
        trustRootsPEM = try Self.read(trustRoots, mustContain: "-----BEGIN CERTIFICATE-----", what: "PEM CA certificates")
        try checkUsable()
    }

    public var description: String {
        "InternalTLS(certificate: \(certificatePath), privateKey: \(privateKeyPath), trustRoots: \(trustRootsPath))"
    }
    public var debugDescription: String { description }

    /// For this process's gRPC servers: present the certificate; refuse a client without a
    /// certificate signed by the trust roots. Client certificates are not checked against a
    /// hostname: callers are not dialled, they connect from anywhere.
    public var serverSecurity: HTTP2ServerTransport.Posix.TransportSecurity {
        .mTLS(
            certificateChain: [.bytes(certificatePEM, format: .pem)],
            privateKey: .bytes(privateKeyPEM, format: .pem)
        ) { tls in
            tls.trustRoots = .certificates([.bytes(trustRootsPEM, format: .pem)])
            tls.clientCertificateVerification = .noHostnameVerification
        }
    }

    /// For this process's gRPC clients: present the certificate; accept only a server whose
    /// certificate is signed by the trust roots and names the host or IP it was dialled by.
    public var clientSecurity: HTTP2ClientTransport.Posix.TransportSecurity {
        .mTLS(
            certificateChain: [.bytes(certificatePEM, format: .pem)],
            privateKey: .bytes(privateKeyPEM, format: .pem)
        ) { tls in
            tls.trustRoots = .certificates([.bytes(trustRootsPEM, format: .pem)])
            tls.serverCertificateVerification = .fullVerification
        }
    }

    private static func read(_ path: String, mustContain marker: String, what: String) throws -> [UInt8] {
        guard FileManager.default.fileExists(atPath: path) else { throw LoadError(path: path, reason: "no such file") }
        guard let data = FileManager.default.contents(atPath: path) else { throw LoadError(path: path, reason: "cannot be read") }
        let bytes = [UInt8](data)
        // Cheap check that catches the usual mistake (files swapped between keys) with a
        // message naming the file; the TLS library's parse follows in `checkUsable`.
        guard String(decoding: bytes, as: UTF8.self).contains(marker) else {
            throw LoadError(path: path, reason: "is not \(what)")
        }
        return bytes
    }

    /// Builds the TLS context the clients will use (certificate chain, key, trust roots: the
    /// same material as the servers'), so a corrupt file or a key that does not match the
    /// certificate fails here rather than on the first connection. Creating the transport does
    /// no I/O.
    private func checkUsable() throws {
        do {
            _ = try HTTP2ClientTransport.Posix(
                target: .ipv4(address: "127.0.0.1", port: 1), transportSecurity: clientSecurity)
        } catch let error as RuntimeError {
            throw LoadError(
                path: "\(certificatePath), \(privateKeyPath), \(trustRootsPath)",
                reason: "not a usable certificate, matching private key and CA certificates (\(error.cause.map { "\($0)" } ?? error.message))")
        }
    }
}
