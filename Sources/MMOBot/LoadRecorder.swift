import MMOClient
import MMOProtocol
import Synchronization

/// Moves recently sent by every bot, so a bot that sees a neighbour's MOVE event can tell when
/// it was sent. Keyed by entity id and the exact position bits (positions cross the wire as
/// IEEE-754 binary32, so an unmodified move comes back bit for bit). Sharded so bots on
/// different event loops rarely wait for the same lock.
final class MoveLedger: Sendable {
    private struct Sent {
        var x: UInt32
        var y: UInt32
        var at: ContinuousClock.Instant
    }

    /// The last `capacity` moves of one entity, newest overwriting oldest: 64 moves at 5 per
    /// second cover 12.8 s, so even a badly overloaded server's late moves still match
    /// (a dropped sample would bias the percentiles towards the fast ones).
    private struct Recent {
        static let capacity = 64
        var moves: [Sent] = []
        var next = 0

        mutating func add(_ sent: Sent) {
            if moves.count < Self.capacity {
                moves.append(sent)
            } else {
                moves[next] = sent
            }
            next = (next + 1) % Self.capacity
        }

        func find(x: UInt32, y: UInt32) -> ContinuousClock.Instant? {
            // Newest first: a bot may pass the same point twice.
            let n = moves.count
            guard n > 0 else { return nil }
            for offset in 1...n {
                let sent = moves[(next - offset + n) % n]
                if sent.x == x && sent.y == y { return sent.at }
            }
            return nil
        }
    }

    private final class Shard: Sendable {
        let entities = Mutex<[UInt64: Recent]>([:])
    }

    private let shards: [Shard] = (0..<32).map { _ in Shard() }

    func record(entityId: UInt64, x: Float, y: Float, at instant: ContinuousClock.Instant) {
        shards[Int(entityId % 32)].entities.withLock {
            $0[entityId, default: Recent()].add(Sent(x: x.bitPattern, y: y.bitPattern, at: instant))
        }
    }

    func sentAt(entityId: UInt64, x: Float, y: Float) -> ContinuousClock.Instant? {
        shards[Int(entityId % 32)].entities.withLock { entities in
            guard let recent = entities[entityId], !recent.moves.isEmpty else { return nil }
            return recent.find(x: x.bitPattern, y: y.bitPattern)
        }
    }
}

/// Everything the load run measures, shared by all bots.
final class LoadRecorder: Sendable {
    let connected = Atomic<Int>(0)
    let loggedIn = Atomic<Int>(0)
    let inWorld = Atomic<Int>(0)
    /// Bots whose connection closed while they were supposed to be playing (and that the SDK
    /// could neither resume nor log in again).
    let lostDuringRun = Atomic<Int>(0)
    /// Drops in the world the SDK reconnected after (`.reconnecting`), and how they ended:
    /// resumed (RESUME), or re-entered (RESUME refused, LOGIN + ENTER_WORLD).
    let reconnects = Atomic<Int>(0)
    let resumed = Atomic<Int>(0)
    let reentered = Atomic<Int>(0)
    let corrections = Atomic<Int>(0)
    let unmatchedMoves = Atomic<Int>(0)
    /// Latency samples count only between the end of the ramp-up and the end of the run.
    let measuring = Atomic<Bool>(false)

    /// Setup failures and in-run refusals, by label (mostly result code names).
    let failures = Mutex<[String: Int]>([:])
    let refusals = Mutex<[String: Int]>([:])
    let loginLatency = Mutex(LatencyHistogram())
    let enterLatency = Mutex(LatencyHistogram())
    /// The point bots gather around: --center-x/--center-y or the first bot's spawn point.
    let center = Mutex<BotPosition?>(nil)

    private final class LatencyShard: Sendable {
        let histogram = Mutex(LatencyHistogram())
    }

    private let moveLatencyShards: [LatencyShard] = (0..<16).map { _ in LatencyShard() }

    func fail(_ label: String) {
        failures.withLock { $0[label, default: 0] += 1 }
    }

    func refused(_ label: String) {
        refusals.withLock { $0[label, default: 0] += 1 }
    }

    /// Records the latencies one bot observed in one WORLD_UPDATE, under one lock.
    func recordMoveLatencies(_ samples: some Sequence<Duration>, shard: Int) {
        moveLatencyShards[shard % moveLatencyShards.count].histogram.withLock { histogram in
            for sample in samples { histogram.record(sample) }
        }
    }

    var moveLatency: LatencyHistogram {
        var merged = LatencyHistogram()
        for shard in moveLatencyShards { merged.merge(shard.histogram.withLock { $0 }) }
        return merged
    }
}
