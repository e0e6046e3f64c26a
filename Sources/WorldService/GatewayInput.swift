/// One input from a gateway: a command for one of its sessions. The world's own form of a
/// gateway's request; the gRPC edge (`WorldGRPCService+Contracts.swift`) builds these from the
/// wire messages.
public struct GatewayInput: Sendable, Equatable {
    /// The gateway's connection id (unique within the gateway's link).
    public var session: UInt64
    /// What the session asks for: join, move, say or leave.
    public var command: PlayerCommand

    public init(session: UInt64, command: PlayerCommand) {
        self.session = session
        self.command = command
    }
}
