import MMOProtocol
import NIOCore

/// The world's rules, with no I/O, no locks, no clock of its own and no concurrency: callers
/// `submit` commands, then `step(now:)` applies them and leaves this tick's per-session output in
/// `outputs` and the positions to save in `departed`.
///
/// One step, in order:
/// 1. gateway links that closed: their players leave silently (no one is left to tell);
/// 2. queued commands in arrival order: joins, moves (validated; refused ones get a correction),
///    chat (rate-limited, delivered in phase 5), leaves;
/// 3. a pending `evictAll` (shutdown);
/// 4. interest: every player that moved or joined updates its view pairs (appear, move,
///    disappear) - moves of one player within a tick collapse into one `move` per observer;
/// 5. chat delivery to everyone within `chatRadius` of the speaker, speaker included;
/// 6. encoding: one WORLD_UPDATE body per player that has events.
///
/// Visibility is symmetric (everyone has the same radius), so it is stored as pairs: if A sees B
/// then B sees A, and each pair is created and dropped in one place.
///
/// Not thread-safe: the runtime owns it and steps it from one task at a time.
public final class WorldSimulation {
    public let configuration: WorldConfiguration
    /// The number of the last completed step (0 before the first).
    public private(set) var tick: UInt64 = 0
    /// What the last step produced, in a stable order: joins/rejections/leaves as inputs were
    /// processed, then updates. Overwritten by the next step.
    public private(set) var outputs: [SessionOutput] = []
    /// Positions of players who left during the last step, to be saved.
    public private(set) var departed: [CharacterPosition] = []
    /// Totals since creation.
    public private(set) var counters = SimulationCounters()

    @usableFromInline let rules: MovementRules
    @usableFromInline let enterRadiusSquared: Float
    @usableFromInline let leaveRadiusSquared: Float
    @usableFromInline let chatRadiusSquared: Float

    var zones: [ZoneState]
    let zoneIndexByID: [UInt32: Int]
    /// Players by slot. Slots are the grid's entity numbers; freed slots are reused only after the
    /// step that freed them, so no array built during a step can see a slot change owner.
    var slots: [Player?] = []
    var freeSlots: [Int32] = []
    var releasedSlots: [Int32] = []
    var sessions: [SessionKey: Int32] = [:]
    var characters: [UInt64: Int32] = [:]
    var nextEntityID: UInt64 = 1

    // Per-step working storage. Kept between steps so a steady world does not allocate.
    var pending: [(SessionKey, PlayerCommand)] = []
    var closingLinks: [UInt32] = []
    var evictAllReason: ResultCode?
    var entered: [Player] = []
    var moved: [Player] = []
    var dirty: [Player] = []
    var chats: [PendingChat] = []
    var scratchSlots: [Int32] = []

    public init(configuration: WorldConfiguration) {
        self.configuration = configuration
        rules = MovementRules(configuration)
        enterRadiusSquared = configuration.interestRadius * configuration.interestRadius
        let leave = configuration.interestRadius * configuration.interestHysteresis
        leaveRadiusSquared = leave * leave
        chatRadiusSquared = configuration.chatRadius * configuration.chatRadius
        zones = configuration.zones.map {
            ZoneState(zone: $0, grid: InterestGrid(bounds: $0.bounds, cellSize: configuration.interestRadius))
        }
        var index: [UInt32: Int] = [:]
        for (i, zone) in configuration.zones.enumerated() { index[zone.id] = i }
        zoneIndexByID = index
    }

    // MARK: input

    /// Queues a command for the next step.
    public func submit(_ command: PlayerCommand, from key: SessionKey) {
        pending.append((key, command))
    }

    /// Every player of a gateway link leaves at the next step, without a `left` output: the link
    /// is gone. Their positions appear in `departed`.
    public func closeLink(_ link: UInt32) {
        closingLinks.append(link)
    }

    /// Every player leaves at the next step (after its commands), each told `reason`.
    public func evictAll(reason: ResultCode) {
        evictAllReason = reason
    }

    // MARK: queries

    /// Players in the world.
    public var playerCount: Int { sessions.count }

    /// Players in one zone (0 for an unknown zone).
    public func playerCount(inZone zoneID: UInt32) -> Int {
        zoneIndexByID[zoneID].map { zones[$0].playerCount } ?? 0
    }

    /// A read-only view of one player, for tests and diagnostics.
    public func player(_ key: SessionKey) -> PlayerSnapshot? {
        guard let slot = sessions[key], let p = slots[Int(slot)] else { return nil }
        return PlayerSnapshot(
            entityID: p.entityID, characterID: p.characterID, zoneID: zones[p.zoneIndex].zone.id,
            position: p.position,
            visibleEntityIDs: Set(p.visible.keys.map { slots[Int($0)]!.entityID }))
    }

    /// Positions changed since the last call (or since the player joined), for autosave.
    /// Clears the "changed" marks.
    public func takeChangedPositions() -> [CharacterPosition] {
        var result: [CharacterPosition] = []
        for case let p? in slots where p.positionChanged {
            p.positionChanged = false
            result.append(characterPosition(of: p))
        }
        return result
    }

    /// Every player's position, for a save that must include everyone.
    public func allPositions() -> [CharacterPosition] {
        slots.compactMap { $0.map(characterPosition(of:)) }
    }

    // MARK: step

    /// Advances the world by one tick at time `now` (a monotonic time since some fixed origin;
    /// the simulation only ever subtracts two of them).
    public func step(now: Duration) {
        tick &+= 1
        outputs.removeAll(keepingCapacity: true)
        departed.removeAll(keepingCapacity: true)
        dirty.removeAll(keepingCapacity: true)
        entered.removeAll(keepingCapacity: true)
        moved.removeAll(keepingCapacity: true)
        chats.removeAll(keepingCapacity: true)
        freeSlots.append(contentsOf: releasedSlots)
        releasedSlots.removeAll(keepingCapacity: true)

        if !closingLinks.isEmpty {
            for link in closingLinks { removePlayers(ofLink: link) }
            closingLinks.removeAll(keepingCapacity: true)
        }

        for index in pending.indices {
            let (key, command) = pending[index]
            apply(command, from: key, now: now)
        }
        pending.removeAll(keepingCapacity: true)

        if let reason = evictAllReason {
            evictAllReason = nil
            for case let p? in slots { remove(p, telling: reason) }
        }

        for p in entered where p.inWorld { updateInterest(of: p) }
        for p in moved where p.inWorld {
            updateInterest(of: p)
            p.anchor = p.position
            p.anchorTime = now
        }
        for chat in chats { deliver(chat) }
        encodeUpdates()
    }

    // MARK: commands

    func apply(_ command: PlayerCommand, from key: SessionKey, now: Duration) {
        switch command {
        case .join(let profile, let zoneID, let position):
            join(key, profile: profile, zoneID: zoneID, position: position, now: now)

        case .move(let seq, let target):
            guard let p = player(at: key) else {
                counters.inputsForUnknownSessions += 1
                return
            }
            let zone = zones[p.zoneIndex]
            switch rules.judge(from: p.anchor, at: p.anchorTime, to: target, now: now, within: zone.zone.bounds) {
            case .accepted:
                p.position = target
                p.positionChanged = true
                zones[p.zoneIndex].grid.move(p.slot, to: target)
                if p.movedTick != tick {
                    p.movedTick = tick
                    moved.append(p)
                }
            case .outOfBounds:
                counters.movesOutOfBounds += 1
                push(.correction(seq: seq, x: p.position.x, y: p.position.y, reason: .moveOutOfBounds), to: p)
            case .tooFast:
                counters.movesTooFast += 1
                push(.correction(seq: seq, x: p.position.x, y: p.position.y, reason: .moveTooFast), to: p)
            }

        case .say(let text):
            guard let p = player(at: key) else {
                counters.inputsForUnknownSessions += 1
                return
            }
            // The gateway enforces the protocol's limit; checked again because an oversize
            // string would make every recipient's client reject the whole update.
            guard !text.isEmpty, text.utf8.count <= ProtocolLimits.maxChatBytes else {
                counters.chatInvalid += 1
                return
            }
            guard p.chat.take(limit: configuration.chatRateLimit, now: now) else {
                counters.chatRateLimited += 1
                return
            }
            chats.append(
                PendingChat(zoneIndex: p.zoneIndex, position: p.position, entityID: p.entityID, name: p.look.name, text: text))

        case .leave:
            guard let p = player(at: key) else {
                counters.inputsForUnknownSessions += 1
                return
            }
            remove(p, telling: .ok)
        }
    }

    func join(_ key: SessionKey, profile: PlayerProfile, zoneID: UInt32, position: Position, now: Duration) {
        guard sessions[key] == nil else { return reject(key, .alreadyInWorld) }
        let zoneIndex: Int
        if zoneID == 0 {
            zoneIndex = 0
        } else if let index = zoneIndexByID[zoneID] {
            zoneIndex = index
        } else {
            return reject(key, .zoneUnavailable)
        }
        let zone = zones[zoneIndex].zone
        var start = zoneID != 0 && zone.bounds.contains(position) ? position : zone.spawn

        // The newest session wins: the old one is told and removed first. Its live position is
        // newer than the saved one the join carries.
        if let oldSlot = characters[profile.characterID], let old = slots[Int(oldSlot)] {
            if old.zoneIndex == zoneIndex { start = old.position }
            remove(old, telling: .loggedInElsewhere)
        }
        guard zones[zoneIndex].playerCount < configuration.maxPlayersPerZone else { return reject(key, .worldFull) }

        let slot: Int32
        if let free = freeSlots.popLast() {
            slot = free
        } else {
            slot = Int32(slots.count)
            slots.append(nil)
        }
        let look = WorldEvent.EntityAppearance(
            entityId: nextEntityID,
            name: profile.name.truncatedUTF8(maxBytes: ProtocolLimits.maxCharacterNameBytes),
            classId: profile.classID, appearance: profile.appearance, level: profile.level, x: 0, y: 0)
        let p = Player(
            slot: slot, key: key, entityID: nextEntityID, characterID: profile.characterID, zoneIndex: zoneIndex,
            look: look, position: start, now: now, chat: ChatBucket(limit: configuration.chatRateLimit, now: now))
        nextEntityID += 1
        p.positionChanged = start != position || zoneID == 0
        slots[Int(slot)] = p
        sessions[key] = slot
        characters[profile.characterID] = slot
        zones[zoneIndex].grid.insert(slot, at: start)
        zones[zoneIndex].playerCount += 1

        outputs.append(SessionOutput(key: key, outcome: .joined(entityID: p.entityID, zoneID: zone.id, position: start)))
        // The player sees itself first, so its client knows its own entity before any neighbour.
        push(.appear(p.appearance), to: p)
        entered.append(p)
    }

    func reject(_ key: SessionKey, _ code: ResultCode) {
        counters.joinsRejected += 1
        outputs.append(SessionOutput(key: key, outcome: .rejected(code)))
    }

    func removePlayers(ofLink link: UInt32) {
        for case let p? in slots where p.key.link == link { remove(p, telling: nil) }
    }

    /// Takes `p` out of the world: observers see it disappear, its position is queued for saving,
    /// and its session is told `reason` (nil: nobody to tell).
    func remove(_ p: Player, telling reason: ResultCode?) {
        for other in p.visible.keys {
            let q = slots[Int(other)].unsafelyUnwrapped
            q.visible.removeValue(forKey: p.slot)
            push(.disappear(entityId: p.entityID), to: q)
        }
        p.visible.removeAll()
        p.inWorld = false
        zones[p.zoneIndex].grid.remove(p.slot)
        zones[p.zoneIndex].playerCount -= 1
        sessions.removeValue(forKey: p.key)
        if characters[p.characterID] == p.slot { characters.removeValue(forKey: p.characterID) }
        slots[Int(p.slot)] = nil
        releasedSlots.append(p.slot)
        departed.append(characterPosition(of: p))
        if let reason { outputs.append(SessionOutput(key: p.key, outcome: .left(reason))) }
    }

    // MARK: interest

    /// Reconciles `p`'s view pairs with its current position: existing pairs beyond the leave
    /// radius are dropped, the rest learn p's new position, and entities inside the enter radius
    /// that p does not see yet appear (both ways), subject to `maxVisibleEntities` on both sides.
    func updateInterest(of p: Player) {
        let cap = configuration.maxVisibleEntities
        scratchSlots.removeAll(keepingCapacity: true)
        for (other, since) in p.visible {
            let q = slots[Int(other)].unsafelyUnwrapped
            if q.position.distanceSquared(to: p.position) > leaveRadiusSquared {
                scratchSlots.append(other)
            } else if since != tick {
                // A pair made this tick already carried p's latest position in its appear.
                push(.move(entityId: p.entityID, x: p.position.x, y: p.position.y), to: q)
            }
        }
        for other in scratchSlots {
            let q = slots[Int(other)].unsafelyUnwrapped
            p.visible.removeValue(forKey: other)
            q.visible.removeValue(forKey: p.slot)
            push(.disappear(entityId: q.entityID), to: p)
            push(.disappear(entityId: p.entityID), to: q)
        }

        guard p.visible.count < cap else { return }
        let center = p.position
        zones[p.zoneIndex].grid.forEachCandidate(near: center, radius: configuration.interestRadius) { other in
            guard other != p.slot, p.visible.count < cap else { return }
            let q = slots[Int(other)].unsafelyUnwrapped
            guard q.position.distanceSquared(to: center) <= enterRadiusSquared,
                q.visible.count < cap, p.visible[other] == nil
            else { return }
            p.visible[other] = tick
            q.visible[p.slot] = tick
            push(.appear(q.appearance), to: p)
            push(.appear(p.appearance), to: q)
        }
    }

    // MARK: chat

    func deliver(_ chat: PendingChat) {
        let event = WorldEvent.chat(entityId: chat.entityID, name: chat.name, text: chat.text)
        zones[chat.zoneIndex].grid.forEachCandidate(near: chat.position, radius: configuration.chatRadius) { other in
            let q = slots[Int(other)].unsafelyUnwrapped
            if q.position.distanceSquared(to: chat.position) <= chatRadiusSquared { push(event, to: q) }
        }
    }

    // MARK: output

    /// Appends `event` to `p`'s events for this tick; the first event of a tick registers `p`
    /// for encoding and recycles last tick's array.
    @inline(__always)
    func push(_ event: WorldEvent, to p: Player) {
        if p.eventTick != tick {
            p.eventTick = tick
            p.events.removeAll(keepingCapacity: true)
            dirty.append(p)
        }
        p.events.append(event)
    }

    /// One WORLD_UPDATE body per player with events (more only if one would exceed a frame).
    func encodeUpdates() {
        for p in dirty where p.inWorld {
            var builder = WorldUpdateBuilder(tick: tick, capacity: 16 + p.events.count * 24)
            for event in p.events {
                if builder.append(event) { continue }
                // Full (65535 events or a 1 MiB frame): ship it and continue in a second update.
                outputs.append(SessionOutput(key: p.key, outcome: .update(builder.buffer)))
                builder = WorldUpdateBuilder(tick: tick)
                builder.append(event)
            }
            outputs.append(SessionOutput(key: p.key, outcome: .update(builder.buffer)))
            // Drop references to this tick's names and chat lines now rather than next time.
            p.events.removeAll(keepingCapacity: true)
        }
    }

    @inline(__always)
    func player(at key: SessionKey) -> Player? {
        guard let slot = sessions[key] else { return nil }
        return slots[Int(slot)]
    }

    func characterPosition(of p: Player) -> CharacterPosition {
        CharacterPosition(characterID: p.characterID, zoneID: zones[p.zoneIndex].zone.id, position: p.position)
    }
}

/// A read-only view of one player.
public struct PlayerSnapshot: Sendable, Equatable {
    public var entityID: UInt64
    public var characterID: UInt64
    public var zoneID: UInt32
    public var position: Position
    /// Entities this player currently sees (itself excluded).
    public var visibleEntityIDs: Set<UInt64>
}

struct ZoneState {
    let zone: Zone
    var grid: InterestGrid
    var playerCount = 0
}

struct PendingChat {
    var zoneIndex: Int
    var position: Position
    var entityID: UInt64
    var name: String
    var text: String
}

/// A player in the world. A class so the interest loops can update two players at once without
/// copying either; only the simulation touches it.
final class Player {
    let slot: Int32
    let key: SessionKey
    let entityID: UInt64
    let characterID: UInt64
    let zoneIndex: Int
    /// Name, class and looks, as sent in `appear` (its x/y are filled in when sent).
    let look: WorldEvent.EntityAppearance
    var position: Position
    /// Last position accepted in an earlier tick, and when: moves are judged against it.
    var anchor: Position
    var anchorTime: Duration
    var chat: ChatBucket
    /// Visible players: slot -> the tick the pair was made.
    var visible: [Int32: UInt64] = [:]
    var events: [WorldEvent] = []
    var eventTick: UInt64 = 0
    var movedTick: UInt64 = 0
    var positionChanged = false
    var inWorld = true

    init(
        slot: Int32, key: SessionKey, entityID: UInt64, characterID: UInt64, zoneIndex: Int,
        look: WorldEvent.EntityAppearance, position: Position, now: Duration, chat: ChatBucket
    ) {
        self.slot = slot
        self.key = key
        self.entityID = entityID
        self.characterID = characterID
        self.zoneIndex = zoneIndex
        self.look = look
        self.position = position
        self.anchor = position
        self.anchorTime = now
        self.chat = chat
    }

    /// The `appear` payload at the current position.
    var appearance: WorldEvent.EntityAppearance {
        var a = look
        a.x = position.x
        a.y = position.y
        return a
    }
}
