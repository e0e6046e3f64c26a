import MMOClient
import MMOProtocol

/// What the scenario has seen: its own APPEAR and chat echo, the expected peer's APPEAR, MOVE
/// and chat, corrections, and why the connection ended. Fed every event; pure, so the checks
/// are tested without a server.
struct ScenarioObservations {
    var view = WorldView()
    var peerId: UInt64?
    var peerName = ""
    var sawSelfAppear = false
    var heardOwnChat = false
    var sawPeerAppear = false
    var sawPeerMove = false
    var sawPeerChat = false
    var corrections: [(seq: UInt32, reason: ResultCode)] = []
    var closedReason: String?
    /// Drops in the world the SDK reconnected after.
    var reconnects = 0
    var leftWorld: ResultCode?

    func checksPassed(expecting peer: String?) -> Bool {
        sawSelfAppear && heardOwnChat && (peer == nil || (sawPeerAppear && sawPeerMove && sawPeerChat))
    }

    /// Applies one event; returns the PASS/INFO lines it earns (each check passes once).
    /// Names compare without regard to case, as the server stores them capitalized.
    mutating func apply(_ event: ClientEvent, character: String, peer: String?) -> [String] {
        let peer = peer?.lowercased()
        let me = character.lowercased()
        var lines: [String] = []
        view.apply(event)
        switch event {
        case .world(_, let events):
            for worldEvent in events {
                switch worldEvent {
                case .appear(let a) where a.name.lowercased() == me:
                    if !sawSelfAppear {
                        sawSelfAppear = true
                        lines.append("PASS saw own APPEAR as entity \(a.entityId) at \(BotFormat.position(a.x, a.y))")
                    }
                case .appear(let a) where a.name.lowercased() == peer:
                    // A new entity id on every world entry: follow the latest.
                    peerId = a.entityId
                    peerName = a.name
                    if !sawPeerAppear {
                        sawPeerAppear = true
                        lines.append("PASS saw peer \(a.name) appear as entity \(a.entityId) at \(BotFormat.position(a.x, a.y))")
                    }
                case .move(let id, let x, let y) where id == peerId && peerId != nil:
                    if !sawPeerMove {
                        sawPeerMove = true
                        lines.append("PASS saw peer \(peerName) move to \(BotFormat.position(x, y))")
                    }
                case .chat(_, let name, let text) where name.lowercased() == me:
                    if !heardOwnChat {
                        heardOwnChat = true
                        lines.append("PASS heard own chat line \"\(text)\"")
                    }
                case .chat(let id, let name, let text) where name.lowercased() == peer || (id == peerId && peerId != nil):
                    if !sawPeerChat {
                        sawPeerChat = true
                        lines.append("PASS saw peer \(name) say \"\(text)\"")
                    }
                case .correction(let seq, let x, let y, let reason):
                    corrections.append((seq, reason))
                    lines.append("INFO move \(seq) corrected to \(BotFormat.position(x, y)): \(reason)")
                default:
                    break
                }
            }
        case .refused(let opcode, let code):
            lines.append("INFO server refused opcode 0x\(String(opcode, radix: 16)): \(code)")
        case .leftWorld(let code):
            leftWorld = code
        case .disconnected(let code, let message):
            closedReason = "DISCONNECT \(code) \(message)"
        case .connectionClosed:
            if closedReason == nil { closedReason = "connection closed" }
        case .reconnecting(let reason):
            reconnects += 1
            lines.append("INFO connection lost in the world (\(reason)); reconnecting")
        case .resumed(let session):
            lines.append("INFO resumed as entity \(session.entry.entityId) at \(BotFormat.position(session.entry.x, session.entry.y))")
        case .reentered(_, let entry, let code):
            lines.append("INFO resume refused (\(code.name)); logged in again and entered as entity \(entry.entityId) at \(BotFormat.position(entry.x, entry.y))")
        case .resumeFailed(let reason):
            closedReason = "could not resume: \(reason)"
        case .viewReset(let entityId, _, let x, let y):
            lines.append("INFO view reset: now entity \(entityId) at \(BotFormat.position(x, y))")
        }
        return lines
    }
}

/// The scenario's walk: straight to the target first (if any), then round a one-step square
/// so every step is a real move the peer can see.
struct ScenarioWalk {
    /// Offsets of the square's corners, in steps from the anchor.
    static let square: [(Float, Float)] = [(1, 0), (1, 1), (0, 1), (0, 0)]

    let step: Float
    private(set) var position: BotPosition
    private(set) var target: BotPosition?
    private var anchor: BotPosition
    private var corner = 0

    init(from start: BotPosition, target: BotPosition?, step: Float) {
        self.step = step
        position = start
        anchor = start
        self.target = target
    }

    /// The step length for a scenario: never more than 1 unit, and within the speed margin.
    static func stepLength(maxSpeed: Float, interval: Duration) -> Float {
        min(1, BotPacing.stepLength(maxSpeed: maxSpeed, interval: interval))
    }

    /// Advances one step; `reached` is the target on the step that arrives there.
    mutating func next() -> (position: BotPosition, reached: BotPosition?) {
        if let goal = target {
            let (next, arrived) = position.stepped(towards: goal, by: step)
            position = next
            guard arrived else { return (position, nil) }
            anchor = goal
            target = nil
            return (position, goal)
        }
        let offset = Self.square[corner % Self.square.count]
        corner += 1
        position = BotPosition(x: anchor.x + offset.0 * step, y: anchor.y + offset.1 * step)
        return (position, nil)
    }
}
