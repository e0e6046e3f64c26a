import Foundation
import NIOCore
import NIOSSL
import Synchronization

/// Where the client port's TLS certificate and key live (`packet.tls.certificate`,
/// `packet.tls.privateKey`). Set: the client port speaks TLS only; nil: plain TCP.
public struct ClientTLSFiles: Sendable, Equatable {
    /// PEM file with the server certificate first, then any intermediates.
    public var certificateChain: String
    /// PEM file with the certificate's private key (unencrypted).
    public var privateKey: String

    public init(certificateChain: String, privateKey: String) {
        self.certificateChain = certificateChain
        self.privateKey = privateKey
    }
}

/// Why the client port's certificate or key could not be loaded. The message names the file and
/// the problem, never the file's content.
public struct ClientTLSError: Error, Equatable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// The client port's TLS context, reloadable while the server runs (SIGHUP).
///
/// Each accepted connection takes the context current at that moment, so a reload changes what
/// new connections get and leaves established ones alone. A reload that fails keeps the pair in
/// force: a bad file dropped in place by mistake must not take the gateway down.
public final class ClientTLS: Sendable {
    public let files: ClientTLSFiles
    private let current: Mutex<NIOSSLContext>

    /// Loads the pair; throws `ClientTLSError` naming the file that is missing or invalid.
    public init(files: ClientTLSFiles) throws(ClientTLSError) {
        self.files = files
        self.current = Mutex(try Self.makeContext(files))
    }

    /// The context new connections use.
    public var context: NIOSSLContext { current.withLock { $0 } }

    /// Reads both files again; on success new connections use the new pair, on failure the old
    /// one stays (and the error says why).
    @discardableResult
    public func reload() -> Result<Void, ClientTLSError> {
        do {
            let context = try Self.makeContext(files)
            current.withLock { $0 = context }
            return .success(())
        } catch {
            return .failure(error)
        }
    }

    /// The handler that goes first in a client channel's pipeline.
    func makeHandler() -> NIOSSLServerHandler {
        NIOSSLServerHandler(context: context)
    }

    /// A server context from the files: TLS 1.2 or later, no client certificates.
    public static func makeContext(_ files: ClientTLSFiles) throws(ClientTLSError) -> NIOSSLContext {
        let chainBytes = try read(files.certificateChain, what: "certificate")
        let chain: [NIOSSLCertificate]
        do {
            chain = try NIOSSLCertificate.fromPEMBytes(chainBytes)
        } catch {
            throw ClientTLSError("packet.tls.certificate: \(files.certificateChain) is not a PEM certificate chain")
        }
        guard !chain.isEmpty else {
            throw ClientTLSError("packet.tls.certificate: \(files.certificateChain) holds no certificate")
        }
        let keyBytes = try read(files.privateKey, what: "privateKey")
        let key: NIOSSLPrivateKey
        do {
            key = try NIOSSLPrivateKey(bytes: keyBytes, format: .pem)
        } catch {
            // The parser's error says nothing useful and the bytes are secret: name the file only.
            throw ClientTLSError("packet.tls.privateKey: \(files.privateKey) is not an unencrypted PEM private key")
        }
        var configuration = TLSConfiguration.makeServerConfiguration(
            certificateChain: chain.map { .certificate($0) }, privateKey: .privateKey(key))
        configuration.minimumTLSVersion = .tlsv12
        // A peer that never answers our close_notify holds the socket at most this long.
        configuration.shutdownTimeout = .seconds(2)
        do {
            return try NIOSSLContext(configuration: configuration)
        } catch {
            // e.g. a key that does not belong to the certificate.
            throw ClientTLSError("packet.tls: \(files.privateKey) does not fit \(files.certificateChain): \(error)")
        }
    }

    private static func read(_ path: String, what key: String) throws(ClientTLSError) -> [UInt8] {
        guard !path.isEmpty else { throw ClientTLSError("packet.tls.\(key): empty path") }
        guard let handle = FileHandle(forReadingAtPath: path) else {
            let reason = FileManager.default.fileExists(atPath: path) ? "cannot be read (permissions?)" : "does not exist"
            throw ClientTLSError("packet.tls.\(key): \(path) \(reason)")
        }
        defer { try? handle.close() }
        // Certificates and keys are a few KB; refuse anything absurd rather than read it all.
        let limit = 1 << 20
        guard let data = try? handle.read(upToCount: limit + 1) else {
            throw ClientTLSError("packet.tls.\(key): \(path) cannot be read")
        }
        guard data.count <= limit else { throw ClientTLSError("packet.tls.\(key): \(path) is larger than 1 MiB") }
        return Array(data)
    }
}
