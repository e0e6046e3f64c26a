import Logging
import NIOCore

// Link-dead characters (docs/protocol.md "Reconnecting", docs/packet-service.md): a connection
// in the world that drops (or goes silent, or is closed by a shutdown) does not take its
// character out of the world. The character stays, under the dropped connection's world session
// id, for `resumeGrace`; a RESUME takes it over (the world re-binds it to the new session and
// tells the old one `left`, which `SessionRegistry.deliver` uses to forget it), or the grace
// ends and the gateway sends its leave (the world saves it). Bounded: one per account
// (`SessionRegistry.addLinkDead`), each from a connection that existed.

extension GatewayServices {
    /// How long a resume token lives while its connection is open: until a little after the
    /// next session re-check, which refreshes it (without re-checks, a day). A token whose
    /// gateway died without noticing the drop so dies on its own.
    var resumeTokenTTLWhileConnected: Duration {
        let recheck = Duration.nanoseconds(limits.sessionRecheckInterval.nanoseconds)
        let grace = Duration.nanoseconds(limits.resumeGrace.nanoseconds)
        guard recheck > .zero else { return .seconds(86_400) }
        return max(recheck * 2, .seconds(60)) + grace
    }

    /// The connection `session` closed with its character in the world: keep it link-dead for
    /// the grace period, with its token (if any) valid for that long.
    func enterLinkDead(
        session: UInt64, _ character: ConnectionStateMachine.LinkDeadCharacter, token: String?, eventLoop: any EventLoop
    ) {
        let entry = LinkDeadSession(
            session: session, accountId: character.accountId, characterId: character.characterId, resumeToken: token)
        if let displaced = registry.addLinkDead(entry) {
            // One per account: the older link-dead character goes now.
            endLinkDead(displaced)
        }
        metrics.linkDeadSessions.record(registry.linkDeadCount)
        let grace = Duration.nanoseconds(limits.resumeGrace.nanoseconds)
        if let token {
            let store = resumeTokens
            let logger = self.logger
            Task {
                do {
                    try await store.expire(token, accountId: character.accountId, after: grace)
                } catch {
                    logger.warning("could not set a resume token's grace period", metadata: ["error": "\(error)"])
                }
            }
        }
        let services = self
        eventLoop.scheduleTask(in: limits.resumeGrace) {
            // Gone already if resumed (or taken by the world): then nothing to do.
            guard let expired = services.registry.removeLinkDead(session: session) else { return }
            services.logger.debug("link-dead character's grace period ended", metadata: ["session": "\(session)"])
            services.endLinkDead(expired)
        }
    }

    /// Takes a link-dead character out of the world (which saves it) and kills its token.
    func endLinkDead(_ entry: LinkDeadSession) {
        world.leave(session: entry.session)
        discardResumeToken(entry.resumeToken)
        metrics.linkDeadSessions.record(registry.linkDeadCount)
    }

    /// A LOGIN of `accountId`: its link-dead character here leaves the world at once, and its
    /// resume token (wherever issued) dies. The LOGIN takes over; ENTER_WORLD starts the
    /// character from its live state.
    func endAccountResume(accountId: String) {
        if let entry = registry.removeLinkDead(account: accountId) { endLinkDead(entry) }
        let store = resumeTokens
        let logger = self.logger
        Task {
            do {
                try await store.revoke(accountId: accountId)
            } catch {
                logger.warning("could not revoke a resume token", metadata: ["error": "\(error)"])
            }
        }
    }

    func discardResumeToken(_ token: String?) {
        guard let token else { return }
        let store = resumeTokens
        let logger = self.logger
        Task {
            do {
                try await store.discard(token)
            } catch {
                logger.warning("could not discard a resume token", metadata: ["error": "\(error)"])
            }
        }
    }
}
