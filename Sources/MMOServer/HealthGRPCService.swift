import GRPCCore
import MMOContracts
import MMOUtils
import Synchronization

/// The readiness checks of one process, per service name: filled while the process is
/// assembled, read on every health question (`/health/ready` and `grpc.health.v1.Health`).
final class ReadinessRegistry: Sendable {
    private let checks = Mutex<[(service: String, check: ReadinessCheck)]>([])

    /// Adds `check` to the service named `service` (a fully qualified gRPC service name).
    func add(_ check: ReadinessCheck, to service: String) {
        checks.withLock { $0.append((service, check)) }
    }

    /// Whether the process serves `service` (the empty name: the process as a whole).
    func knows(_ service: String) -> Bool {
        service.isEmpty || checks.withLock { $0.contains { $0.service == service } }
    }

    /// The checks of `service`, or every check of the process for the empty name; a check
    /// shared by several services (same name) appears once.
    func checks(of service: String) -> [ReadinessCheck] {
        let all = checks.withLock { $0 }
        var seen = Set<String>()
        return all.filter { (service.isEmpty || $0.service == service) && seen.insert($0.check.name).inserted }.map(\.check)
    }

    /// Whether every check of `service` passes now.
    func isServing(_ service: String) async -> Bool {
        for check in checks(of: service) where !(await check.check()) { return false }
        return true
    }
}

/// The standard gRPC health service (`grpc.health.v1.Health`) on every gRPC port of the process.
///
/// `Check` answers SERVING when every readiness check of the named service passes (the empty name
/// asks about the whole process), NOT_SERVING otherwise, and NOT_FOUND for a service this process
/// does not run. The checks are the same as `/health/ready`'s: each service's real dependencies.
/// `Watch` is UNIMPLEMENTED, which the protocol allows ("clients should assume this method is
/// not supported"): a stream per watcher would also hold up graceful shutdown.
struct HealthGRPCService: Grpc_Health_V1_Health.SimpleServiceProtocol {
    let registry: ReadinessRegistry

    func check(request: Grpc_Health_V1_HealthCheckRequest, context: ServerContext) async throws -> Grpc_Health_V1_HealthCheckResponse {
        guard registry.knows(request.service) else {
            throw RPCError(code: .notFound, message: "unknown service '\(request.service.prefix(128))'")
        }
        var response = Grpc_Health_V1_HealthCheckResponse()
        response.status = await registry.isServing(request.service) ? .serving : .notServing
        return response
    }

    func watch(
        request: Grpc_Health_V1_HealthCheckRequest, response: RPCWriter<Grpc_Health_V1_HealthCheckResponse>, context: ServerContext
    ) async throws {
        throw RPCError(code: .unimplemented, message: "Watch is not supported; poll Check")
    }
}

/// A readiness check that asks another service's health over gRPC (in-process or TCP): the
/// dependency is ready only if it answers SERVING within two seconds.
enum HealthProbe {
    static let timeout: Duration = .seconds(2)

    static func check(_ name: String, service: String, client: Grpc_Health_V1_Health.Client<some ClientTransport>) -> ReadinessCheck {
        ReadinessCheck(name) {
            var request = Grpc_Health_V1_HealthCheckRequest()
            request.service = service
            var options = CallOptions.defaults
            options.timeout = timeout
            do {
                return try await client.check(request, options: options).status == .serving
            } catch {
                return false
            }
        }
    }
}
