import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle

/// A named readiness probe: the service is ready only when every check passes.
public struct ReadinessCheck: Sendable {
    public let name: String
    public let check: @Sendable () async -> Bool
    public init(_ name: String, check: @escaping @Sendable () async -> Bool) {
        self.name = name
        self.check = check
    }
}

/// Where the admin HTTP port listens.
public struct AdminServerConfiguration: Sendable {
    public var host: String
    public var port: Int
    public init(host: String = "0.0.0.0", port: Int) {
        self.host = host
        self.port = port
    }
}

/// The per-process admin HTTP port: `/metrics` (Prometheus text), `/health/live` (the process
/// answers), `/health/ready` (every dependency answers; 503 with the failing checks otherwise).
public struct AdminServer: Service {
    private let configuration: AdminServerConfiguration
    private let checks: [ReadinessCheck]
    private let logger: Logger
    private let onBound: @Sendable (Int) -> Void

    public init(configuration: AdminServerConfiguration, checks: [ReadinessCheck], logger: Logger, onBound: @escaping @Sendable (Int) -> Void = { _ in }) {
        self.configuration = configuration
        self.checks = checks
        self.logger = logger
        self.onBound = onBound
    }

    public func run() async throws {
        let router = Router()
        router.get("/health/live") { _, _ in "ok\n" }
        let checks = self.checks
        router.get("/health/ready") { _, _ -> Response in
            var failing: [String] = []
            for check in checks where !(await check.check()) {
                failing.append(check.name)
            }
            if failing.isEmpty {
                return Response(status: .ok, body: .init(byteBuffer: ByteBuffer(string: "ready\n")))
            }
            return Response(
                status: .serviceUnavailable,
                body: .init(byteBuffer: ByteBuffer(string: "not ready: \(failing.joined(separator: ", "))\n")))
        }
        router.get("/metrics") { _, _ -> Response in
            Response(
                status: .ok,
                headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(bytes: MetricsSetup.render())))
        }
        let onBound = self.onBound
        let logger = self.logger
        let app = Application(
            router: router,
            configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "mmo-admin"),
            onServerRunning: { channel in
                // At the open-file limit the listener would spin a core retrying `accept`
                // (`ListenerAcceptPause`); Hummingbird builds the bootstrap, this is where we
                // reach its channel. First, ahead of NIO's `AcceptBackoffHandler`.
                try? await ListenerAcceptPause.install(on: channel, listener: "admin HTTP", logger: logger).get()
                let port = channel.localAddress?.port ?? 0
                logger.info("admin HTTP listening", metadata: ["port": "\(port)"])
                onBound(port)
            },
            logger: logger
        )
        try await app.runService()
    }
}
