import MMOContracts

/// The inputs waiting for the world link's writer (`WorldLink`), bounded.
///
/// Why: the writer sends only as fast as the world reads (HTTP/2 flow control), and inputs keep
/// coming from every connection meanwhile: a world that stalls or a stream that hangs without
/// failing (until keepalive notices) let this queue grow with every move of every player.
/// Bounded three ways:
/// - a session has at most `maxMovesPerSession` moves waiting; a newer one then replaces its
///   last one in place. Only the newest position matters, and the world judges a move against a
///   budget of distance per time (`MovementRules`), so one longer step is never refused where
///   the steps it replaces were accepted. Below the cap nothing changes (the world sees every
///   move of an ordinary burst). A join or leave of the session starts afresh: a later move
///   queues after it, never in the slot of one before it.
/// - a session has at most `maxChatPerSession` chat lines waiting; more are dropped.
/// - moves and chat together are at most `maxInputs`; beyond that they are dropped.
/// Joins and leaves are never dropped: a lost join strands a client waiting for its answer, a
/// lost leave a character in the world. They are bounded anyway: one connection has at most one
/// join or leave outstanding at a time (its state machine waits for the answer).
///
/// A plain value: `WorldLink` keeps one for the next batch and one for inputs held while joins
/// are re-read after a reconnect, both under its lock.
struct WorldInputQueue {
    struct Limits: Sendable, Equatable {
        /// Moves and chat lines waiting, all sessions together.
        var maxInputs: Int
        /// Moves one session may have waiting before newer ones replace the last.
        var maxMovesPerSession: Int
        /// Chat lines one session may have waiting.
        var maxChatPerSession: Int

        /// 65,536 inputs are at most about 17 MB of chat lines (256 bytes each plus framing)
        /// and a few MB of moves; a gateway's players send far fewer between two batches. 64
        /// moves are 3 s of a client moving at 20 Hz.
        init(maxInputs: Int = 65_536, maxMovesPerSession: Int = 64, maxChatPerSession: Int = 16) {
            self.maxInputs = maxInputs
            self.maxMovesPerSession = maxMovesPerSession
            self.maxChatPerSession = maxChatPerSession
        }
    }

    /// What became of an appended input.
    enum Outcome: Equatable {
        case queued
        /// A move replaced the session's last move waiting (it had `maxMovesPerSession`).
        case coalesced
        case droppedMove
        case droppedChat
    }

    let limits: Limits
    private(set) var inputs: [Mmo_GatewayInput] = []
    /// Each session's moves waiting since its last join or leave, and the index in `inputs` of
    /// the last of them.
    private var moves: [UInt64: (count: Int, last: Int)] = [:]
    private var chatLines: [UInt64: Int] = [:]
    /// Moves and chat lines in `inputs`.
    private var droppable = 0

    init(limits: Limits) {
        self.limits = limits
    }

    var isEmpty: Bool { inputs.isEmpty }
    var count: Int { inputs.count }

    mutating func append(_ input: Mmo_GatewayInput) -> Outcome {
        let session = input.sessionID
        switch input.kind {
        case .move:
            let waiting = moves[session]
            if let waiting, waiting.count >= limits.maxMovesPerSession {
                inputs[waiting.last] = input
                return .coalesced
            }
            guard droppable < limits.maxInputs else { return .droppedMove }
            moves[session] = ((waiting?.count ?? 0) + 1, inputs.count)
        case .say:
            let lines = chatLines[session, default: 0]
            guard lines < limits.maxChatPerSession, droppable < limits.maxInputs else { return .droppedChat }
            chatLines[session] = lines + 1
        case .join, .leave, nil:
            // A move after this belongs after it, not in the slot of one before it.
            moves[session] = nil
            inputs.append(input)
            return .queued
        }
        droppable += 1
        inputs.append(input)
        return .queued
    }

    /// Appends inputs that must all go out (replayed joins), in order; the bounds don't apply.
    mutating func appendUnbounded(contentsOf joins: [Mmo_GatewayInput]) {
        for join in joins { moves[join.sessionID] = nil }
        inputs.append(contentsOf: joins)
    }

    /// Appends everything `other` holds after what is here, keeping the bounds (joins and
    /// leaves all, moves coalesced, the rest as room allows). Returns what was dropped.
    mutating func append(contentsOf other: WorldInputQueue) -> (moves: Int, chat: Int) {
        var dropped = (moves: 0, chat: 0)
        for input in other.inputs {
            switch append(input) {
            case .droppedMove: dropped.moves += 1
            case .droppedChat: dropped.chat += 1
            case .queued, .coalesced: break
            }
        }
        return dropped
    }

    /// Everything waiting, oldest first; the queue is empty afterwards.
    mutating func takeAll() -> [Mmo_GatewayInput] {
        let taken = inputs
        removeAll()
        return taken
    }

    mutating func removeAll() {
        inputs = []
        moves = [:]
        chatLines = [:]
        droppable = 0
    }
}
