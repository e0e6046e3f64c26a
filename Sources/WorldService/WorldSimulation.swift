import MMOProtocol
import NIOCore

/// The world's rules, with no I/O, no locks, no clock of its own and no concurrency: callers
/// `submit` commands, then `step(now:)` applies them and leaves this tick's per-session output in
/// `outputs` and the positions to save in `departed`.
///
/// One step, in order:
/// 1. gateway links that closed: their players leave silently (no one is left to tell);
/// 2. queued commands in arrival order: joins, moves (validated; refused ones get a correction),
///    chat (checked, delivered in phase 5), leaves;
/// 3. a pending `evictAll` (shutdown);
/// 4. interest: every player that joined or moved reconciles its view pairs (appear, move,
///    disappear) - several moves of one player in a tick reach observers as one `move`
///    (`WorldSimulation+Interest.swift`);
/// 5. chat delivery to everyone within `chatRadius` of the speaker, speaker included
///    (`WorldSimulation+Chat.swift`);
/// 6. output: one WORLD_UPDATE body per player that has events (more only past a frame's size)
///    (`WorldSimulation+Output.swift`).
///
/// Visibility is symmetric (everyone has the same radius), so it is stored as pairs: if A sees B
/// then B sees A, and each pair is made and dropped in one place.
///
/// Performance notes: players are stored column-wise by slot (records, positions, views and
/// updates in separate arrays) and the whole simulation is a struct, so the hot loops run without
/// class-property exclusivity checks or reference counting per pair. Events are encoded straight
/// into one update per player per tick, never stored as values; a broadcast event (a move, a
/// chat line) is encoded once and its bytes copied to each recipient (see `UpdateEncoder`).
public struct WorldSimulation {
    public let configuration: WorldConfiguration
    /// The number of the last completed step (0 before the first).
    public private(set) var tick: UInt64 = 0
    /// What the last step produced, in a stable order: joins, rejections and leaves as inputs
    /// were processed, then updates. Replaced by the next step.
    public internal(set) var outputs: [SessionOutput] = []
    /// Positions of players who left during the last step, to be saved.
    public internal(set) var departed: [CharacterPosition] = []
    /// Versions every captured state (`departed`, autosave) for the database's ordering.
    var versions = StateVersionClock()
    /// Departed characters' live states, for a quick return (`join`).
    var departures: RecentDepartures
    /// The time of the step in progress.
    var stepTime: Duration = .zero
    /// Totals since creation.
    public internal(set) var counters = SimulationCounters()

    let rules: MovementRules
    let enterRadiusSquared: Float
    let leaveRadiusSquared: Float
    let chatRadiusSquared: Float

    var zones: [ZoneState]
    let zoneIndexByID: [UInt32: Int]

    // Players, column-wise by slot. Slots are the grid's entity numbers. A slot is `occupied`
    // while a player holds it; a freed slot keeps its last player's record until it is reused,
    // so a record can always be read without unwrapping. Every slot reached through `sessions`,
    // `characters`, a view, a grid cell or `chats` is occupied (a player's removal takes it out
    // of all of them), so only loops over every slot or over this step's `entered`/`moved`/
    // `dirty` lists (which may hold players removed later in the step) check `occupied`. A freed
    // slot is reused only after the step that freed it, so no list built during a step can see
    // a slot change owner.
    var players: [PlayerInfo] = []
    var occupied: [Bool] = []
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
    /// A pending `evictAll`, with what to tell each player (nil: nothing).
    var evictAllPending: (pending: Bool, reason: ResultCode?) = (false, nil)
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
        departures = RecentDepartures(
            retention: configuration.departureRetention, capacity: configuration.maxRetainedDepartures)
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

    /// Every player leaves at the next step (after its commands), each told `reason`; with nil
    /// nobody is told (their gateways keep them and re-admit them to the next world).
    public mutating func evictAll(telling reason: ResultCode?) {
        evictAllPending = (true, reason)
    }

    /// Raises the floor of the versions given to saved states to the wall clock's `micros`
    /// (microseconds since 1970); see `StateVersionClock`. The runtime calls it every tick.
    public mutating func advanceVersionClock(toWallClockMicros micros: UInt64) {
        versions.advance(toWallClockMicros: micros)
    }

    /// A save of the character's state `version` (or newer) returned success: its retained
    /// departure state may be forgotten once `departureRetention` has passed.
    public mutating func confirmSaved(characterID: UInt64, version: UInt64) {
        departures.confirmSaved(characterID, version: version)
    }

    /// Departed characters whose live state the world still keeps.
    public var retainedDepartureCount: Int { departures.count }

    // MARK: queries

    /// Players in the world.
    public var playerCount: Int { sessions.count }

    /// Players in one zone (0 for an unknown zone).
    public func playerCount(inZone zoneID: UInt32) -> Int {
        zoneIndexByID[zoneID].map { zones[$0].playerCount } ?? 0
    }

    /// A read-only view of one player, for tests and diagnostics.
    public func player(_ key: SessionKey) -> PlayerSnapshot? {
        guard let slot = sessions[key] else { return nil }
        let s = Int(slot)
        let p = players[s]
        return PlayerSnapshot(
            entityID: p.entityID, characterID: p.characterID, zoneID: zones[p.zoneIndex].zone.id,
            position: positions[s], visibleEntityIDs: Set(views[s].keys.map { players[Int($0)].entityID }))
    }

    /// Positions changed since the last call (or since the player joined), for autosave.
    /// Clears the "changed" marks.
    public mutating func takeChangedPositions() -> [CharacterPosition] {
        var result: [CharacterPosition] = []
        takeChangedPositions(bucket: 0, of: 1, into: &result)
        return result
    }

    /// Like `takeChangedPositions()`, for the players in one autosave bucket only (slots
    /// `bucket`, `bucket + bucketCount`, ...; see `AutosaveSchedule`), appended to `result`.
    /// Costs one visit per slot in the bucket.
    public mutating func takeChangedPositions(bucket: Int, of bucketCount: Int, into result: inout [CharacterPosition]) {
        var s = bucket
        while s < players.count {
            if occupied[s] && players[s].positionChanged {
                players[s].positionChanged = false
                result.append(characterPosition(of: Int32(s)))
            }
            s += bucketCount
        }
    }

    // MARK: step

    /// Advances the world by one tick at time `now` (a monotonic time since some fixed origin;
    /// the simulation only ever subtracts two of them).
    public mutating func step(now: Duration) {
        tick &+= 1
        stepTime = now
        departures.prune(now: now)
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

        if evictAllPending.pending {
            let reason = evictAllPending.reason
            evictAllPending = (false, nil)
            for s in occupied.indices where occupied[s] { remove(Int32(s), telling: reason) }
        }

        for index in entered.indices {
            let slot = entered[index]
            if occupied[Int(slot)] { updateInterest(of: slot) }
        }
        for index in moved.indices {
            let slot = moved[index]
            guard occupied[Int(slot)] else { continue }
            updateInterest(of: slot)
        }
        for index in chats.indices { deliver(chats[index]) }
        collectUpdates()
    }

    // MARK: commands

    mutating func apply(_ command: PlayerCommand, from key: SessionKey, now: Duration) {
        if case .join(let profile, let zoneID, let position, let stateVersion, let resume) = command {
            if resume, sessions[key] == nil, let slot = characters[profile.characterID] {
                return rebind(slot, to: key)
            }
            return join(key, profile: profile, zoneID: zoneID, position: position, recordVersion: stateVersion, now: now)
        }
        guard let slot = sessions[key] else {
            counters.inputsForUnknownSessions += 1
            return
        }
        switch command {
        case .join:
            break
        case .move(let seq, let target):
            move(slot, seq: seq, to: target, now: now)
        case .say(let text):
            say(text, from: slot)
        case .leave:
            remove(slot, telling: .ok)
        }
    }

    mutating func move(_ slot: Int32, seq: UInt32, to target: Position, now: Duration) {
        let s = Int(slot)
        let p = players[s]
        let current = positions[s]
        var budget = p.moveBudget
        let verdict = rules.judge(from: current, to: target, budget: &budget, now: now, within: zones[p.zoneIndex].zone.bounds)
        players[s].moveBudget = budget
        switch verdict {
        case .accepted:
            positions[s] = target
            players[s].positionChanged = true
            zones[p.zoneIndex].grid.move(slot, to: target)
            if p.movedTick != tick {
                players[s].movedTick = tick
                moved.append(slot)
            }
        case .outOfBounds:
            counters.movesOutOfBounds += 1
            push(.correction(seq: seq, x: current.x, y: current.y, reason: .moveOutOfBounds), to: slot)
        case .tooFast:
            counters.movesTooFast += 1
            push(.correction(seq: seq, x: current.x, y: current.y, reason: .moveTooFast), to: slot)
        }
    }

    mutating func join(
        _ key: SessionKey, profile: PlayerProfile, zoneID requestedZoneID: UInt32, position requestedPosition: Position,
        recordVersion: UInt64, now: Duration
    ) {
        guard sessions[key] == nil else { return reject(key, .alreadyInWorld) }
        // The world is the authority on live state: a character that left moments ago starts
        // where it was, not at the record the join carries, which the gateway may have read
        // before the leave's save landed (RecentDepartures). A newer record wins (another world
        // process saved the character since).
        var zoneID = requestedZoneID
        var position = requestedPosition
        var fromLiveState = false
        // A character the world knows keeps its movement budget: entering again neither
        // refills a teleport nor costs a walker its banked jitter allowance.
        var moveBudget = rules.initialBudget(at: now)
        if characters[profile.characterID] == nil, let live = departures.entry(of: profile.characterID),
            live.state.version > recordVersion, zoneIndexByID[live.state.zoneID] != nil
        {
            zoneID = live.state.zoneID
            position = live.state.position
            moveBudget = live.moveBudget
            fromLiveState = true
        }
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
            if players[Int(old)].zoneIndex == zoneIndex {
                start = positions[Int(old)]
                moveBudget = players[Int(old)].moveBudget
            }
            remove(old, telling: .loggedInElsewhere)
        }
        guard zones[zoneIndex].playerCount < configuration.maxPlayersPerZone else { return reject(key, .worldFull) }

        // Every entry is a new entity, even for a character seen before: clients drop what they
        // knew about the old entity id when it disappears.
        let entityID = nextEntityID
        nextEntityID += 1
        let look = WorldEvent.EntityAppearance(
            entityId: entityID,
            name: profile.name.truncatedUTF8(maxBytes: ProtocolLimits.maxCharacterNameBytes),
            classId: profile.classID, appearance: profile.appearance, level: profile.level, x: 0, y: 0)
        let record = PlayerInfo(
            key: key, entityID: entityID, characterID: profile.characterID, zoneIndex: zoneIndex, look: look,
            moveBudget: moveBudget,
            // A substituted position must reach the database even if the player never moves.
            // A live state needs no save of its own: it is saved (or queued) already.
            positionChanged: !fromLiveState && (start != position || zoneID == 0))

        let slot: Int32
        if let free = freeSlots.popLast() {
            slot = free
            players[Int(slot)] = record
            occupied[Int(slot)] = true
            positions[Int(slot)] = start
        } else {
            slot = Int32(players.count)
            players.append(record)
            occupied.append(true)
            positions.append(start)
            views.append([:])
            updates.append(nil)
        }
        sessions[key] = slot
        characters[profile.characterID] = slot
        departures.forget(profile.characterID)
        zones[zoneIndex].grid.insert(slot, at: start)
        zones[zoneIndex].playerCount += 1

        outputs.append(SessionOutput(key: key, outcome: .joined(entityID: entityID, zoneID: zone.id, position: start)))
        // The player sees itself first, so its client knows its own entity before any neighbour.
        push(.appear(appearance(of: slot)), to: slot)
        entered.append(slot)
    }

    /// RESUME of a character in the world: the player in `slot` now answers to `key`, keeping its
    /// entity, position, movement budget and view pairs (so observers see nothing). The old
    /// session is told it is out (`left(LOGGED_IN_ELSEWHERE)`: its gateway forgets it); the new
    /// one gets `joined` with the same entity id, then a fresh snapshot: `appear` for itself,
    /// then for everyone in view. Whatever was queued for the old session this tick is dropped:
    /// the snapshot supersedes it.
    mutating func rebind(_ slot: Int32, to key: SessionKey) {
        let s = Int(slot)
        let old = players[s].key
        sessions.removeValue(forKey: old)
        players[s].key = key
        sessions[key] = slot
        updates[s] = nil
        spilled.removeValue(forKey: slot)
        counters.resumes += 1
        outputs.append(SessionOutput(key: old, outcome: .left(.loggedInElsewhere)))
        outputs.append(SessionOutput(
            key: key,
            outcome: .joined(entityID: players[s].entityID, zoneID: zones[players[s].zoneIndex].zone.id, position: positions[s])))
        push(.appear(appearance(of: slot)), to: slot)
        // In a stable order (entity ids), so a resumed client's snapshot is reproducible.
        let seen = views[s].keys.sorted { players[Int($0)].entityID < players[Int($1)].entityID }
        for other in seen { push(.appear(appearance(of: other)), to: slot) }
    }

    mutating func reject(_ key: SessionKey, _ code: ResultCode) {
        counters.joinsRejected += 1
        outputs.append(SessionOutput(key: key, outcome: .rejected(code)))
    }

    mutating func removePlayers(ofLink link: UInt32) {
        for s in players.indices where occupied[s] && players[s].key.link == link { remove(Int32(s), telling: nil) }
    }

    /// Takes a player out of the world: observers see it disappear, its position is queued for
    /// saving, and its session is told `reason` (nil: nobody to tell). A no-op for a free slot.
    mutating func remove(_ slot: Int32, telling reason: ResultCode?) {
        let s = Int(slot)
        guard occupied[s] else { return }
        let p = players[s]
        var view: [Int32: UInt64] = [:]
        swap(&view, &views[s])
        for other in view.keys {
            views[Int(other)].removeValue(forKey: slot)
            push(.disappear(entityId: p.entityID), to: other)
        }
        let state = characterPosition(of: slot)
        departed.append(state)
        departures.record(state, moveBudget: p.moveBudget, at: stepTime)
        zones[p.zoneIndex].grid.remove(slot)
        zones[p.zoneIndex].playerCount -= 1
        sessions.removeValue(forKey: p.key)
        if characters[p.characterID] == slot { characters.removeValue(forKey: p.characterID) }
        occupied[s] = false
        updates[s] = nil  // events for a player who is gone are never sent
        spilled.removeValue(forKey: slot)
        releasedSlots.append(slot)
        if let reason { outputs.append(SessionOutput(key: p.key, outcome: .left(reason))) }
    }

    /// Where the player in `slot` stands, as saved, with a new version.
    mutating func characterPosition(of slot: Int32) -> CharacterPosition {
        let p = players[Int(slot)]
        return CharacterPosition(
            characterID: p.characterID, zoneID: zones[p.zoneIndex].zone.id, position: positions[Int(slot)],
            version: versions.next())
    }
}
