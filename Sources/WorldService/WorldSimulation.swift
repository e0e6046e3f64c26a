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
/// 4. interest: every player that joined or moved reconciles its view pairs (appear, move,
///    disappear) - several moves of one player in a tick reach observers as one `move`;
/// 5. chat delivery to everyone within `chatRadius` of the speaker, speaker included;
/// 6. output: one WORLD_UPDATE body per player that has events (more only past a frame's size).
///
/// Visibility is symmetric (everyone has the same radius), so it is stored as pairs: if A sees B
/// then B sees A, and each pair is made and dropped in one place.
///
/// Performance notes: players are stored column-wise by slot (positions, views and updates in
/// separate arrays) and the whole simulation is a struct, so the hot loops run without
/// class-property exclusivity checks or reference counting per pair. Events are encoded straight
/// into one update per player per tick, never stored as values; a broadcast event (a move, a
/// chat line) is encoded once and its bytes copied to each recipient (see `UpdateEncoder`).
public struct WorldSimulation {
    public let configuration: WorldConfiguration
    /// The number of the last completed step (0 before the first).
    public private(set) var tick: UInt64 = 0
    /// What the last step produced, in a stable order: joins, rejections and leaves as inputs
    /// were processed, then updates. Replaced by the next step.
    public private(set) var outputs: [SessionOutput] = []
    /// Positions of players who left during the last step, to be saved.
    public private(set) var departed: [CharacterPosition] = []
    /// Totals since creation.
    public private(set) var counters = SimulationCounters()

    let rules: MovementRules
    let enterRadiusSquared: Float
    let leaveRadiusSquared: Float
    let chatRadiusSquared: Float

    var zones: [ZoneState]
    let zoneIndexByID: [UInt32: Int]

    // Players, column-wise by slot. A slot's `info` is nil when the slot is free. Slots are the
    // grid's entity numbers; a freed slot is reused only after the step that freed it, so no
    // slot list built during a step can see a slot change owner.
    var info: [PlayerInfo?] = []
    var positions: [Position] = []
    /// Visible players: slot -> the tick the pair was made.
    var views: [[Int32: UInt64]] = []
    /// This tick's WORLD_UPDATE under construction, nil until the player's first event.
    var updates: [UpdateEncoder?] = []
    var freeSlots: [Int32] = []
    var releasedSlots: [Int32] = []
    var sessions: [SessionKey: Int32] = [:]
    var characters: [UInt64: Int32] = [:]
    var nextEntityID: UInt64 = 1

    // Per-step working storage, kept between steps so a steady world does not allocate.
    var pending: [(SessionKey, PlayerCommand)] = []
    var closingLinks: [UInt32] = []
    var evictAllReason: ResultCode?
    var entered: [Int32] = []
    var moved: [Int32] = []
    var dirty: [Int32] = []
    var chats: [PendingChat] = []
    var scratch: [Int32] = []
    /// Full updates of players whose events exceeded one frame this tick (rare).
    var spilled: [Int32: [ByteBuffer]] = [:]
    /// Holds one broadcast event's encoding while it is copied to its recipients.
    var eventBytes: ByteBuffer
    let allocator = ByteBufferAllocator()

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
        eventBytes = allocator.buffer(capacity: 64)
    }

    // MARK: input

    /// Queues a command for the next step.
    public mutating func submit(_ command: PlayerCommand, from key: SessionKey) {
        pending.append((key, command))
    }

    /// Every player of a gateway link leaves at the next step, without a `left` output: the link
    /// is gone. Their positions appear in `departed`.
    public mutating func closeLink(_ link: UInt32) {
        closingLinks.append(link)
    }

    /// Every player leaves at the next step (after its commands), each told `reason`.
    public mutating func evictAll(reason: ResultCode) {
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
        guard let slot = sessions[key], let p = info[Int(slot)] else { return nil }
        return PlayerSnapshot(
            entityID: p.entityID, characterID: p.characterID, zoneID: zones[p.zoneIndex].zone.id,
            position: positions[Int(slot)],
            visibleEntityIDs: Set(views[Int(slot)].keys.map { info[Int($0)]!.entityID }))
    }

    /// Positions changed since the last call (or since the player joined), for autosave.
    /// Clears the "changed" marks.
    public mutating func takeChangedPositions() -> [CharacterPosition] {
        var result: [CharacterPosition] = []
        for slot in info.indices where info[slot]?.positionChanged == true {
            info[slot]!.positionChanged = false
            result.append(characterPosition(of: Int32(slot)))
        }
        return result
    }

    /// Every player's position, for a save that must include everyone.
    public func allPositions() -> [CharacterPosition] {
        info.indices.compactMap { info[$0] == nil ? nil : characterPosition(of: Int32($0)) }
    }

    // MARK: step

    /// Advances the world by one tick at time `now` (a monotonic time since some fixed origin;
    /// the simulation only ever subtracts two of them).
    public mutating func step(now: Duration) {
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
            let links = closingLinks
            closingLinks.removeAll(keepingCapacity: true)
            for link in links { removePlayers(ofLink: link) }
        }

        if !pending.isEmpty {
            var commands: [(SessionKey, PlayerCommand)] = []
            swap(&commands, &pending)
            for (key, command) in commands { apply(command, from: key, now: now) }
            commands.removeAll(keepingCapacity: true)
            swap(&commands, &pending)  // give the capacity back for the next tick
        }

        if let reason = evictAllReason {
            evictAllReason = nil
            for slot in info.indices where info[slot] != nil { remove(Int32(slot), telling: reason) }
        }

        for index in entered.indices {
            let slot = entered[index]
            if info[Int(slot)] != nil { updateInterest(of: slot) }
        }
        for index in moved.indices {
            let slot = moved[index]
            guard info[Int(slot)] != nil else { continue }
            updateInterest(of: slot)
            info[Int(slot)]!.anchor = positions[Int(slot)]
            info[Int(slot)]!.anchorTime = now
        }
        for index in chats.indices { deliver(chats[index]) }
        collectUpdates()
    }

    // MARK: commands

    mutating func apply(_ command: PlayerCommand, from key: SessionKey, now: Duration) {
        if case .join(let profile, let zoneID, let position) = command {
            return join(key, profile: profile, zoneID: zoneID, position: position, now: now)
        }
        guard let slot = sessions[key] else {
            counters.inputsForUnknownSessions += 1
            return
        }
        let s = Int(slot)
        switch command {
        case .join:
            break

        case .move(let seq, let target):
            let p = info[s]!
            let current = positions[s]
            switch rules.judge(
                from: p.anchor, at: p.anchorTime, to: target, now: now, within: zones[p.zoneIndex].zone.bounds)
            {
            case .accepted:
                positions[s] = target
                info[s]!.positionChanged = true
                zones[p.zoneIndex].grid.move(slot, to: target)
                if p.movedTick != tick {
                    info[s]!.movedTick = tick
                    moved.append(slot)
                }
            case .outOfBounds:
                counters.movesOutOfBounds += 1
                push(.correction(seq: seq, x: current.x, y: current.y, reason: .moveOutOfBounds), to: slot)
            case .tooFast:
                counters.movesTooFast += 1
                push(.correction(seq: seq, x: current.x, y: current.y, reason: .moveTooFast), to: slot)
            }

        case .say(let text):
            // The gateway enforces the protocol's limit; checked again because one oversize line
            // would make every recipient's client reject its whole update.
            guard !text.isEmpty, text.utf8.count <= ProtocolLimits.maxChatBytes else {
                counters.chatInvalid += 1
                return
            }
            guard info[s]!.chat.take(limit: configuration.chatRateLimit, now: now) else {
                counters.chatRateLimited += 1
                return
            }
            let p = info[s]!
            chats.append(
                PendingChat(
                    zoneIndex: p.zoneIndex, position: positions[s], entityID: p.entityID, name: p.look.name, text: text))

        case .leave:
            remove(slot, telling: .ok)
        }
    }

    mutating func join(_ key: SessionKey, profile: PlayerProfile, zoneID: UInt32, position: Position, now: Duration) {
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
        // newer than the saved one this join carries.
        if let old = characters[profile.characterID] {
            if info[Int(old)]!.zoneIndex == zoneIndex { start = positions[Int(old)] }
            remove(old, telling: .loggedInElsewhere)
        }
        guard zones[zoneIndex].playerCount < configuration.maxPlayersPerZone else { return reject(key, .worldFull) }

        let slot: Int32
        if let free = freeSlots.popLast() {
            slot = free
        } else {
            slot = Int32(info.count)
            info.append(nil)
            positions.append(start)
            views.append([:])
            updates.append(nil)
        }
        let entityID = nextEntityID
        nextEntityID += 1
        let look = WorldEvent.EntityAppearance(
            entityId: entityID,
            name: profile.name.truncatedUTF8(maxBytes: ProtocolLimits.maxCharacterNameBytes),
            classId: profile.classID, appearance: profile.appearance, level: profile.level, x: 0, y: 0)
        info[Int(slot)] = PlayerInfo(
            key: key, entityID: entityID, characterID: profile.characterID, zoneIndex: zoneIndex, look: look,
            anchor: start, anchorTime: now, chat: ChatBucket(limit: configuration.chatRateLimit, now: now),
            // A substituted position must reach the database even if the player never moves.
            positionChanged: start != position || zoneID == 0)
        positions[Int(slot)] = start
        sessions[key] = slot
        characters[profile.characterID] = slot
        zones[zoneIndex].grid.insert(slot, at: start)
        zones[zoneIndex].playerCount += 1

        outputs.append(SessionOutput(key: key, outcome: .joined(entityID: entityID, zoneID: zone.id, position: start)))
        // The player sees itself first, so its client knows its own entity before any neighbour.
        push(.appear(appearance(of: slot)), to: slot)
        entered.append(slot)
    }

    mutating func reject(_ key: SessionKey, _ code: ResultCode) {
        counters.joinsRejected += 1
        outputs.append(SessionOutput(key: key, outcome: .rejected(code)))
    }

    mutating func removePlayers(ofLink link: UInt32) {
        for slot in info.indices where info[slot]?.key.link == link { remove(Int32(slot), telling: nil) }
    }

    /// Takes a player out of the world: observers see it disappear, its position is queued for
    /// saving, and its session is told `reason` (nil: nobody to tell).
    mutating func remove(_ slot: Int32, telling reason: ResultCode?) {
        let s = Int(slot)
        guard let p = info[s] else { return }
        var view: [Int32: UInt64] = [:]
        swap(&view, &views[s])
        for other in view.keys {
            views[Int(other)].removeValue(forKey: slot)
            push(.disappear(entityId: p.entityID), to: other)
        }
        departed.append(characterPosition(of: slot))
        zones[p.zoneIndex].grid.remove(slot)
        zones[p.zoneIndex].playerCount -= 1
        sessions.removeValue(forKey: p.key)
        if characters[p.characterID] == slot { characters.removeValue(forKey: p.characterID) }
        info[s] = nil
        updates[s] = nil  // events for a player who is gone are never sent
        spilled.removeValue(forKey: slot)
        releasedSlots.append(slot)
        if let reason { outputs.append(SessionOutput(key: p.key, outcome: .left(reason))) }
    }

    // MARK: interest

    /// Reconciles a player's view pairs with its current position: pairs beyond the leave radius
    /// are dropped, the rest learn the new position, and entities inside the enter radius that
    /// are not seen yet appear (both ways), within `maxVisibleEntities` on both sides.
    mutating func updateInterest(of slot: Int32) {
        let s = Int(slot)
        let center = positions[s]
        let entityID = info[s]!.entityID
        let cap = configuration.maxVisibleEntities

        scratch.removeAll(keepingCapacity: true)
        if !views[s].isEmpty {
            let view = views[s]  // a shared copy: this player's own view is not changed in the loop
            let move = encodeOnce(.move(entityId: entityID, x: center.x, y: center.y))
            for (other, since) in view {
                if positions[Int(other)].distanceSquared(to: center) > leaveRadiusSquared {
                    scratch.append(other)
                } else if since != tick {
                    // A pair made this tick already carried the latest position in its appear.
                    push(encoded: move, to: other)
                }
            }
        }
        for index in scratch.indices {
            let other = scratch[index]
            views[s].removeValue(forKey: other)
            views[Int(other)].removeValue(forKey: slot)
            push(.disappear(entityId: info[Int(other)]!.entityID), to: slot)
            push(.disappear(entityId: entityID), to: other)
        }

        guard views[s].count < cap else { return }
        let grid = zones[info[s]!.zoneIndex].grid
        grid.forEachCandidate(near: center, radius: configuration.interestRadius) { other in
            guard other != slot,
                positions[Int(other)].distanceSquared(to: center) <= enterRadiusSquared,
                views[s].count < cap, views[Int(other)].count < cap,
                views[s][other] == nil
            else { return }
            views[s][other] = tick
            views[Int(other)][slot] = tick
            push(.appear(appearance(of: other)), to: slot)
            push(.appear(appearance(of: slot)), to: other)
        }
    }

    // MARK: chat

    mutating func deliver(_ chat: PendingChat) {
        let line = encodeOnce(.chat(entityId: chat.entityID, name: chat.name, text: chat.text))
        let grid = zones[chat.zoneIndex].grid
        grid.forEachCandidate(near: chat.position, radius: configuration.chatRadius) { other in
            if positions[Int(other)].distanceSquared(to: chat.position) <= chatRadiusSquared {
                push(encoded: line, to: other)
            }
        }
    }

    // MARK: output

    /// Encodes `event` into the player's update for this tick.
    @inline(__always)
    mutating func push(_ event: WorldEvent, to slot: Int32) {
        let s = Int(slot)
        startUpdateIfNeeded(s)
        if !updates[s]!.append(event) {
            spill(s)
            _ = updates[s]!.append(event)
        }
    }

    /// Copies an event encoded by `encodeOnce` into the player's update for this tick.
    @inline(__always)
    mutating func push(encoded event: ByteBuffer, to slot: Int32) {
        let s = Int(slot)
        startUpdateIfNeeded(s)
        if !updates[s]!.append(encoded: event) {
            spill(s)
            _ = updates[s]!.append(encoded: event)
        }
    }

    /// A player's first event of the tick starts its update and registers it for output.
    @inline(__always)
    mutating func startUpdateIfNeeded(_ s: Int) {
        guard updates[s] == nil else { return }
        // Sized for a move from everyone in view, so a typical update never reallocates.
        updates[s] = UpdateEncoder(
            tick: tick, capacity: 32 + 24 * views[s].count, maxBodyBytes: configuration.maxUpdateBodyBytes,
            allocator: allocator)
        dirty.append(Int32(s))
    }

    /// The update is full (65535 events or `maxUpdateBodyBytes`): set it aside and start another.
    mutating func spill(_ s: Int) {
        spilled[Int32(s), default: []].append(updates[s]!.finish())
        updates[s] = UpdateEncoder(
            tick: tick, capacity: 1024, maxBodyBytes: configuration.maxUpdateBodyBytes, allocator: allocator)
    }

    /// Encodes a broadcast event once; the result is shared by all its recipients.
    mutating func encodeOnce(_ event: WorldEvent) -> ByteBuffer {
        eventBytes.clear()
        event.encode(into: &eventBytes)
        return eventBytes
    }

    /// Moves every player's finished update into `outputs`.
    mutating func collectUpdates() {
        for index in dirty.indices {
            let slot = dirty[index]
            let s = Int(slot)
            guard var update = updates[s], let key = info[s]?.key else { continue }
            updates[s] = nil  // leaves `update` the buffer's only owner: finish() patches in place
            if let earlier = spilled.removeValue(forKey: slot) {
                for body in earlier { outputs.append(SessionOutput(key: key, outcome: .update(body))) }
            }
            outputs.append(SessionOutput(key: key, outcome: .update(update.finish())))
        }
    }

    /// The `appear` payload of a player at its current position.
    func appearance(of slot: Int32) -> WorldEvent.EntityAppearance {
        var a = info[Int(slot)]!.look
        let p = positions[Int(slot)]
        a.x = p.x
        a.y = p.y
        return a
    }

    func characterPosition(of slot: Int32) -> CharacterPosition {
        let p = info[Int(slot)]!
        return CharacterPosition(characterID: p.characterID, zoneID: zones[p.zoneIndex].zone.id, position: positions[Int(slot)])
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

/// The per-player data the hot loops do not need.
struct PlayerInfo {
    let key: SessionKey
    let entityID: UInt64
    let characterID: UInt64
    let zoneIndex: Int
    /// Name, class and looks, as sent in `appear` (x/y are filled in when sent).
    let look: WorldEvent.EntityAppearance
    /// Last position accepted in an earlier tick, and when: moves are judged against it.
    var anchor: Position
    var anchorTime: Duration
    var chat: ChatBucket
    var movedTick: UInt64 = 0
    var positionChanged: Bool
}
