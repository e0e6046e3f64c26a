import GRPCCore
import MMOContracts

/// The five services. Any subset can run in one process; the rest are reached over gRPC.
public enum ServiceKind: String, CaseIterable, Sendable, Comparable {
    case database, auth, character, world, packet

    /// Default gRPC port of each service (the packet service has none; it speaks TCP to clients).
    public var defaultGRPCPort: Int {
        switch self {
        case .database: 50051
        case .auth: 50052
        case .character: 50053
        case .world: 50054
        case .packet: 0
        }
    }

    /// Default admin HTTP port when the service runs alone (`mmo serve` uses 9100).
    public var defaultAdminPort: Int {
        switch self {
        case .database: 9101
        case .auth: 9102
        case .character: 9103
        case .world: 9104
        case .packet: 9105
        }
    }

    /// The fully qualified gRPC service name, taken from the generated descriptor so a rename in
    /// the .proto cannot leave a stale copy here. Nil for the packet service, which has no gRPC API.
    public var grpcServiceName: String? {
        switch self {
        case .database: Mmo_DatabaseService.descriptor.fullyQualifiedService
        case .auth: Mmo_AuthService.descriptor.fullyQualifiedService
        case .character: Mmo_CharacterService.descriptor.fullyQualifiedService
        case .world: Mmo_WorldService.descriptor.fullyQualifiedService
        case .packet: nil
        }
    }

    /// The services this one calls: it can do its job only while they can.
    public var dependencies: [ServiceKind] {
        switch self {
        case .database: []
        case .auth, .character, .world: [.database]
        case .packet: [.auth, .character, .world]
        }
    }

    /// The name this service's health is asked under (`grpc.health.v1.Health/Check`): its gRPC
    /// service name; the packet service, which has no gRPC API, only in this process's registry.
    public var healthName: String { grpcServiceName ?? "mmo.PacketService" }

    /// The services whose RPCs are request/response and so carry a deadline. The world's RPC is
    /// the long-lived gateway stream, which must not time out.
    public static let requestResponse: [ServiceKind] = [.database, .auth, .character]

    /// Start-up order: dependencies first (shutdown runs in reverse).
    public static func < (a: ServiceKind, b: ServiceKind) -> Bool {
        allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)!
    }

    /// Parses `all` or a comma-separated list such as `auth,character`.
    public static func parseList(_ text: String) throws -> [ServiceKind] {
        if text.trimmingCharacters(in: .whitespaces) == "all" { return allCases }
        var result: [ServiceKind] = []
        for part in text.split(separator: ",") {
            let name = part.trimmingCharacters(in: .whitespaces)
            guard let kind = ServiceKind(rawValue: name) else {
                throw ServerConfigurationError("unknown service '\(name)' (expected all or a list of: \(allCases.map(\.rawValue).joined(separator: ", ")))")
            }
            if !result.contains(kind) { result.append(kind) }
        }
        guard !result.isEmpty else { throw ServerConfigurationError("no service selected") }
        return result.sorted()
    }
}

/// A configuration value that cannot be used; the message names the key.
public struct ServerConfigurationError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
