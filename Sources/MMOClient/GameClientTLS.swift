import Foundation
import NIOCore
import NIOSSL
import NIOTLS
import Synchronization

/// TLS to the packet service's client port (`GameClientConfiguration.tls`). The server's
/// certificate is always verified: against the system's trust store or a CA file, and against
/// the host name (or `serverName`).
public struct GameClientTLS: Sendable, Hashable {
    /// Which certificate authorities the client trusts.
    public enum TrustRoots: Sendable, Hashable {
        /// The operating system's trust store (a server with a public certificate).
        case system
        /// The CA certificate(s) in this PEM file, only (a studio or development CA, e.g.
        /// `ca.pem` from `scripts/dev-certs.sh`).
        case caFile(String)
    }

    public var trustRoots: TrustRoots
    /// The name sent for SNI and matched against the certificate; nil: the host passed to
    /// `connect` (an IP literal is matched against the certificate's IP addresses, without SNI).
    public var serverName: String?

    public init(trustRoots: TrustRoots = .system, serverName: String? = nil) {
        self.trustRoots = trustRoots
        self.serverName = serverName
    }
}

/// One connection attempt's TLS: the context, the name to verify, and the handshake's outcome,
/// which `GameClient.connect` waits for before HELLO so that a certificate problem is reported
/// as `GameClientError.tlsFailed` rather than as a closed connection.
struct GameClientTLSConnection: Sendable {
    let context: NIOSSLContext
    let serverName: String?
    let handshake: EventLoopPromise<Void>

    /// Contexts by trust roots: a load run opens thousands of connections with the same
    /// settings, and a context (a parsed CA file, a BoringSSL SSL_CTX) is made once for them.
    /// So a CA file is read once per process (a failed read is not remembered).
    private static let contexts = Mutex<[GameClientTLS.TrustRoots: NIOSSLContext]>([:])

    /// - Throws: `GameClientError.tlsFailed` when the CA file cannot be used.
    init(_ tls: GameClientTLS, host: String, eventLoop: any EventLoop) throws {
        let trustRoots = tls.trustRoots
        if let cached = Self.contexts.withLock({ $0[trustRoots] }) {
            context = cached
        } else {
            let made = try Self.makeContext(trustRoots)
            Self.contexts.withLock { contexts in
                if contexts.count >= 16 { contexts.removeAll() }  // bounded: tools use one or two
                contexts[trustRoots] = made
            }
            context = made
        }
        let name = tls.serverName ?? host
        // IP literals are not sent as SNI; NIOSSL then checks the certificate against the peer's IP.
        serverName = Self.isIPLiteral(name) ? nil : name
        handshake = eventLoop.makePromise(of: Void.self)
    }

    private static func makeContext(_ trustRoots: GameClientTLS.TrustRoots) throws -> NIOSSLContext {
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.minimumTLSVersion = .tlsv12
        configuration.certificateVerification = .fullVerification
        switch trustRoots {
        case .system:
            configuration.trustRoots = .default
        case .caFile(let path):
            let certificates: [NIOSSLCertificate]
            do {
                certificates = try NIOSSLCertificate.fromPEMFile(path)
            } catch {
                let reason = FileManager.default.isReadableFile(atPath: path) ? "not a PEM certificate file" : "cannot be read"
                throw GameClientError.tlsFailed("CA file \(path) \(reason)")
            }
            guard !certificates.isEmpty else { throw GameClientError.tlsFailed("CA file \(path) holds no certificate") }
            configuration.trustRoots = .certificates(certificates)
        }
        do {
            return try NIOSSLContext(configuration: configuration)
        } catch {
            throw GameClientError.tlsFailed("cannot set up TLS: \(error)")
        }
    }

    /// Adds the TLS handler and the handshake watcher, in front of everything else.
    func addHandlers(to pipeline: ChannelPipeline.SynchronousOperations) throws {
        try pipeline.addHandler(try NIOSSLClientHandler(context: context, serverHostname: serverName))
        try pipeline.addHandler(TLSHandshakeWatcher(promise: handshake))
    }

    /// Waits until the handshake is done (or fails, or `timeout` passes), closing the channel on
    /// failure. Throws `GameClientError.tlsFailed` or `.connectFailed` (timeout, closed).
    func waitForHandshake(on channel: any Channel, timeout: Duration, endpoint: String) async throws {
        let handshake = self.handshake
        let timer = channel.eventLoop.scheduleTask(in: TimeAmount(timeout)) {
            handshake.fail(GameClientError.connectFailed("\(endpoint): TLS handshake timed out"))
        }
        defer { timer.cancel() }
        do {
            try await handshake.futureResult.get()
        } catch {
            try? await channel.close()
            throw error as? GameClientError ?? Self.describe(error, endpoint: endpoint)
        }
    }

    /// Completes the promise when the connection never came about.
    func abandon() {
        handshake.fail(GameClientError.connectionClosed)
    }

    /// A handshake failure in words a player or operator can act on.
    static func describe(_ error: any Error, endpoint: String) -> GameClientError {
        let text = "\(error)"
        if let extra = error as? NIOSSLExtraError, extra == .failedToValidateHostname {
            return .tlsFailed("\(endpoint): the server's certificate is not for this host name (\(extra))")
        }
        if text.contains("CERTIFICATE_VERIFY_FAILED") {
            return .tlsFailed("\(endpoint): the server's certificate is not trusted (certificate verify failed)")
        }
        if text.contains("WRONG_VERSION_NUMBER") || text.contains("PACKET_LENGTH_TOO_LONG") || text.contains("HTTP_REQUEST") {
            return .tlsFailed("\(endpoint): the server does not speak TLS on this port (try without TLS)")
        }
        if let sslError = error as? NIOSSLError, case .uncleanShutdown = sslError {
            return .tlsFailed("\(endpoint): the server closed the connection during the TLS handshake")
        }
        return .tlsFailed("\(endpoint): \(text)")
    }

    /// A plain-TCP client on a TLS port reads the server's TLS alert (or handshake) record as a
    /// frame header: `0x15 0x03 ..` / `0x16 0x03 ..` as a length is far over any frame limit.
    /// That error becomes `.tlsFailed` with the fix; anything else is returned unchanged.
    static func explainPlainToTLS(_ error: any Error, endpoint: String) -> any Error {
        guard case .protocolViolation(let reason) = error as? GameClientError,
              let range = reason.range(of: "frameTooLarge(length: "),
              let length = UInt32(reason[range.upperBound...].prefix(while: \.isNumber))
        else { return error }
        let recordType = length >> 24, majorVersion = (length >> 16) & 0xFF
        guard (recordType == 0x15 || recordType == 0x16), majorVersion == 0x03 else { return error }
        return GameClientError.tlsFailed("\(endpoint) speaks TLS: connect with mmos://\(endpoint) (or --tls)")
    }

    static func isIPLiteral(_ host: String) -> Bool {
        var v4 = in_addr()
        var v6 = in6_addr()
        return inet_pton(AF_INET, host, &v4) == 1 || inet_pton(AF_INET6, host, &v6) == 1
    }
}

/// Sits right behind the TLS handler: completes the handshake promise on success, on the TLS
/// error (seen here before the protocol handler turns it into a plain close), or when the
/// connection closes first.
private final class TLSHandshakeWatcher: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    private let promise: EventLoopPromise<Void>

    init(promise: EventLoopPromise<Void>) {
        self.promise = promise
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case TLSUserEvent.handshakeCompleted = event {
            promise.succeed(())
        }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        promise.fail(error)
        context.fireErrorCaught(error)
    }

    func channelInactive(context: ChannelHandlerContext) {
        promise.fail(NIOSSLError.uncleanShutdown)
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        promise.fail(GameClientError.connectionClosed)
    }
}
