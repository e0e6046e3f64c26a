import MMOProtocol

/// What a player knows about the world, rebuilt from the events the server sends: which
/// entities are in view, their names and last known positions, and recent chat.
///
/// A pure value: feed it events (`apply`) and ask it questions; no I/O, so bots and tests can
/// drive it directly.
public struct WorldView: Sendable {
    /// An entity in view.
    public struct Entity: Sendable, Equatable {
        public var id: UInt64
        public var name: String
        public var classId: UInt8
        public var appearance: UInt32
        public var level: UInt16
        public var x: Float
        public var y: Float
        /// How many MOVE events were seen for it since it appeared.
        public var moves: Int
    }

    /// A chat line heard.
    public struct ChatLine: Sendable, Equatable {
        public var tick: UInt64
        public var entityId: UInt64
        public var name: String
        public var text: String
    }

    /// Entities in view by id, including the player's own entity once it has appeared.
    public private(set) var entities: [UInt64: Entity] = [:]
    /// The player's own entity (from ENTER_WORLD_RESULT); CORRECTION events move it.
    public var selfEntityId: UInt64?
    /// The tick of the last WORLD_UPDATE applied.
    public private(set) var lastTick: UInt64 = 0
    /// The most recent chat lines, oldest first, at most `chatHistoryLimit`.
    public private(set) var chat: [ChatLine] = []
    public var chatHistoryLimit: Int
    /// Corrections received: moves the server refused.
    public private(set) var corrections: [(seq: UInt32, reason: ResultCode)] = []
    /// False after LEFT_WORLD or a closed connection.
    public private(set) var inWorld: Bool

    /// - Parameters:
    ///   - selfEntityId: the player's entity from `WorldEntry.entityId`.
    ///   - selfPosition: where ENTER_WORLD put the player, known before its APPEAR event arrives.
    public init(selfEntityId: UInt64? = nil, selfName: String = "", selfPosition: (x: Float, y: Float)? = nil, chatHistoryLimit: Int = 100) {
        self.selfEntityId = selfEntityId
        self.chatHistoryLimit = chatHistoryLimit
        self.inWorld = selfEntityId != nil
        if let selfEntityId, let selfPosition {
            entities[selfEntityId] = Entity(id: selfEntityId, name: selfName, classId: 0, appearance: 0, level: 0,
                                            x: selfPosition.x, y: selfPosition.y, moves: 0)
        }
    }

    /// Convenience: a view for a player who just entered the world.
    public init(entry: WorldEntry, selfName: String = "") {
        self.init(selfEntityId: entry.entityId, selfName: selfName, selfPosition: (entry.x, entry.y))
    }

    /// Applies a client event; world updates are applied event by event.
    public mutating func apply(_ event: ClientEvent) {
        switch event {
        case .world(let tick, let events):
            for worldEvent in events { apply(worldEvent, tick: tick) }
        case .leftWorld, .disconnected, .connectionClosed:
            // Nothing seen before is still valid once out of the world.
            entities.removeAll()
            inWorld = false
        case .refused, .reconnecting, .resumeFailed:
            break
        case .resumed(let session):
            reset(selfEntityId: session.entry.entityId, x: session.entry.x, y: session.entry.y)
        case .reentered(_, let entry, _):
            reset(selfEntityId: entry.entityId, x: entry.x, y: entry.y)
        case .viewReset(let entityId, _, let x, let y):
            reset(selfEntityId: entityId, x: x, y: y)
        }
    }

    /// Forgets every entity after a resume, a re-entry or a VIEW_RESET: the player is now
    /// `selfEntityId` at (x, y), and a fresh snapshot follows. Chat and corrections are kept.
    public mutating func reset(selfEntityId newId: UInt64, x: Float, y: Float) {
        let name = selfEntityId.flatMap { entities[$0]?.name } ?? ""
        entities.removeAll()
        selfEntityId = newId
        entities[newId] = Entity(id: newId, name: name, classId: 0, appearance: 0, level: 0, x: x, y: y, moves: 0)
        inWorld = true
    }

    /// Applies one world event seen at `tick`.
    public mutating func apply(_ event: WorldEvent, tick: UInt64) {
        lastTick = max(lastTick, tick)
        inWorld = true
        switch event {
        case .appear(let a):
            entities[a.entityId] = Entity(id: a.entityId, name: a.name, classId: a.classId, appearance: a.appearance,
                                          level: a.level, x: a.x, y: a.y, moves: 0)
        case .move(let id, let x, let y):
            // A move for an entity never announced is kept as a nameless entity rather than lost.
            var entity = entities[id] ?? Entity(id: id, name: "", classId: 0, appearance: 0, level: 0, x: x, y: y, moves: 0)
            entity.x = x
            entity.y = y
            entity.moves += 1
            entities[id] = entity
        case .disappear(let id):
            entities[id] = nil
        case .chat(let id, let name, let text):
            chat.append(ChatLine(tick: tick, entityId: id, name: name, text: text))
            if chat.count > chatHistoryLimit { chat.removeFirst(chat.count - chatHistoryLimit) }
        case .correction(let seq, let x, let y, let reason):
            corrections.append((seq, reason))
            if let selfEntityId {
                entities[selfEntityId, default: Entity(id: selfEntityId, name: "", classId: 0, appearance: 0, level: 0,
                                                       x: x, y: y, moves: 0)].x = x
                entities[selfEntityId]!.y = y
            }
        }
    }

    /// Records the player's own move (the server may not echo it back).
    public mutating func moveSelf(x: Float, y: Float) {
        guard let selfEntityId else { return }
        entities[selfEntityId, default: Entity(id: selfEntityId, name: "", classId: 0, appearance: 0, level: 0,
                                               x: x, y: y, moves: 0)].x = x
        entities[selfEntityId]!.y = y
    }

    // MARK: questions

    /// The entity with this name, if in view. Names are unique per world without regard to
    /// case, and compared that way.
    public func entity(named name: String) -> Entity? {
        let wanted = name.lowercased()
        return entities.values.first { $0.name.lowercased() == wanted }
    }

    /// The entity with this id, if in view.
    public func entity(id: UInt64) -> Entity? { entities[id] }

    /// True when an entity with this name is in view.
    public func sees(_ name: String) -> Bool { entity(named: name) != nil }

    /// Last known position of the named entity.
    public func position(of name: String) -> (x: Float, y: Float)? {
        entity(named: name).map { ($0.x, $0.y) }
    }

    /// The player's own last known position.
    public var selfPosition: (x: Float, y: Float)? {
        selfEntityId.flatMap { entities[$0] }.map { ($0.x, $0.y) }
    }

    /// Entities in view other than the player.
    public var others: [Entity] {
        entities.values.filter { $0.id != selfEntityId }
    }

    /// Chat lines heard from the named speaker, oldest first.
    public func chatLines(from name: String) -> [ChatLine] {
        let wanted = name.lowercased()
        return chat.filter { $0.name.lowercased() == wanted }
    }
}
