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

    // Reconnect and resume (docs/protocol.md "Reconnecting"; `GameClientConfiguration.resume`).

    /// The connection dropped while the character was in the world (`reason`: `.connectionClosed`
    /// for a network drop or a dead link, `.disconnected(IDLE_TIMEOUT or SERVER_SHUTTING_DOWN, _)`),
    /// and the SDK is reconnecting to resume it. Until `.resumed` or `.reentered`, requests wait
    /// (at most their timeout) and MOVE/SAY are dropped. If it cannot get back, `.resumeFailed`
    /// follows, then `.connectionClosed`.
    case reconnecting(reason: GameClientError)
    /// RESUME succeeded on a new connection: the same character is in the world again. Forget
    /// every entity: your entity id is now `session.entry.entityId` and a fresh snapshot follows
    /// (`WorldView.apply` does this).
    case resumed(ResumedSession)
    /// RESUME was refused (`resumeCode`, e.g. RESUME_REJECTED), so the SDK logged in again with
    /// the session token it logged in with and entered the world with the same character:
    /// `entry` is its ENTER_WORLD_RESULT. Forget every entity; a fresh snapshot follows.
    case reentered(characterId: UInt64, entry: WorldEntry, resumeCode: ResultCode)
    /// The character could not be taken back (`reason`: the refusal, or why the last attempt
    /// failed when the grace period or the attempts ran out); `.connectionClosed` follows.
    case resumeFailed(GameClientError)
    /// VIEW_RESET: the world re-admitted the character as a new entity (`entityId`) at (x, y).
    /// Forget every entity; a fresh snapshot follows (`WorldView.apply` does this).
    case viewReset(entityId: UInt64, zoneId: UInt32, x: Float, y: Float)
}
