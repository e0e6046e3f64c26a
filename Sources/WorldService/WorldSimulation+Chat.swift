import MMOProtocol

/// A say-line accepted during a step, delivered after interest so it reaches the players around
/// the speaker's position at the end of the step.
struct PendingChat {
    var zoneIndex: Int
    var position: Position
    var entityID: UInt64
    var name: String
    var text: String
}

extension WorldSimulation {
    /// Queues a say-line for delivery. Flood control and the length limit are the gateway's
    /// (it answers its client with CHAT_RATE_LIMITED / CHAT_TOO_LONG); the world checks the
    /// length again only defensively, because one oversize line would make every recipient's
    /// client reject its whole update.
    mutating func say(_ text: String, from slot: Int32) {
        guard !text.isEmpty, text.utf8.count <= ProtocolLimits.maxChatBytes else {
            counters.chatInvalid += 1
            return
        }
        let s = Int(slot)
        let p = players[s]
        chats.append(
            PendingChat(zoneIndex: p.zoneIndex, position: positions[s], entityID: p.entityID, name: p.look.name, text: text))
    }

    /// Sends a line to every player in the speaker's zone within `chatRadius`, the speaker
    /// included, regardless of view caps.
    mutating func deliver(_ chat: PendingChat) {
        let line = encodeOnce(.chat(entityId: chat.entityID, name: chat.name, text: chat.text))
        let grid = zones[chat.zoneIndex].grid
        grid.forEachCandidate(near: chat.position, radius: configuration.chatRadius) { other in
            if positions[Int(other)].distanceSquared(to: chat.position) <= chatRadiusSquared {
                push(encoded: line, to: other)
            }
        }
    }
}
