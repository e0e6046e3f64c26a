import MMOProtocol

/// Something the server told the client without being asked, delivered on `GameClient.events`
/// (and to `GameClientConfiguration.eventObserver`) in arrival order.
public enum ClientEvent: Sendable, Equatable {
    /// One WORLD_UPDATE frame: the events of one tick (a tick may span several frames).
    case world(tick: UInt64, events: [WorldEvent])
    /// LEFT_WORLD: the character is out of the world, either because `leaveWorld()` asked or
    /// because the server removed it (`code` says why).
    case leftWorld(ResultCode)
    /// `ERROR(requestOpcode, code)` for a message that has no pending request, e.g. a SAY refused
    /// with CHAT_RATE_LIMITED.
    case refused(requestOpcode: UInt16, code: ResultCode)
    /// DISCONNECT: the server is about to close the connection (e.g. LOGGED_IN_ELSEWHERE).
    case disconnected(code: ResultCode, message: String)
    /// The connection is closed; this is always the last event and the stream then finishes.
    case connectionClosed
}
