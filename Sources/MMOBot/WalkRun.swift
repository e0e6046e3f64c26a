import Foundation
import MMOClient
import MMOProtocol
import MMOTime
import Synchronization

/// What `mmo-bot walk` does: one character walks along x toward `targetX` at `speed`, for
/// `duration`, logging every move it sends with a wall-clock stamp.
public struct WalkConfiguration: Sendable {
    public var host: String
    public var port: Int
    /// TLS to the client port (`mmos://`, `--tls`); nil: plain TCP.
    public var tls: GameClientTLS? = nil
    public var token: String
    public var character: String
    public var classId: UInt8
    /// Walk along x toward this value (y stays where the character entered).
    public var targetX: Float
    /// Units per second; keep it under the server's speed limit.
    public var speed: Float
    public var stepInterval: Duration
    /// How long to walk once in the world.
    public var duration: Duration
    /// Keep retrying connect, login and ENTER_WORLD for this long (a dependency coming back).
    public var retryFor: Duration

    public init(
        host: String = "127.0.0.1", port: Int = 7777, token: String, character: String, classId: UInt8 = 1,
        targetX: Float, speed: Float = 4, stepInterval: Duration = .milliseconds(200), duration: Duration = .seconds(10),
        retryFor: Duration = .zero
    ) {
        self.host = host
        self.port = port
        self.token = token
        self.character = character
        self.classId = classId
        self.targetX = targetX
        self.speed = speed
        self.stepInterval = stepInterval
        self.duration = duration
        self.retryFor = retryFor
    }

    public func validate() throws(BotConfigurationError) {
        guard speed > 0 else { throw BotConfigurationError("--speed must be positive") }
        guard stepInterval > .zero else { throw BotConfigurationError("--step-ms must be positive") }
        guard duration >= .zero, retryFor >= .zero else { throw BotConfigurationError("--seconds and --retry-for must not be negative") }
    }
}

/// A walk whose log lets a script measure how much progress the server kept through a crash
/// (scripts/chaos.sh): because the walk is monotonic along x, a saved x maps back to the moment
/// the bot sent it. Lines (stable, parsed by scripts; times are Unix milliseconds):
///
///     ENTERED <ms> <x> <y> attempts=<n> waited_ms=<ms>
///     MOVE <ms> <x> <y>
///     CORRECTION <ms> <x> <y> <REASON>
///     LEFT <ms> <CODE> | CLOSED <ms> <reason>
///     RECONNECTING <ms> <reason>            (the connection dropped; the SDK resumes)
///     RESUMED <ms> <x> <y> entity=<id>      (the server's live position)
///     REENTERED <ms> <x> <y> <CODE>         (RESUME refused with CODE; logged in and entered again)
///     RESUME_FAILED <ms> <reason>
///     DONE <ms> <x> <y>
///     RECONNECTS drops=<n> resumed=<n> reentered=<n> lost=<0|1>
///     FAIL <reason>
public final class WalkRun: Sendable {
    private let configuration: WalkConfiguration
    private let output: BotOutput
    /// The server's latest word on our position (a CORRECTION), or why we are out of the world.
    private let inbox = Mutex(WalkInbox())

    public init(configuration: WalkConfiguration, output: @escaping BotOutput) {
        self.configuration = configuration
        self.output = output
    }

    /// True when the character entered the world (whatever happened afterwards).
    public func walk() async -> Bool {
        let started = ContinuousClock.now
        var attempts = 0
        var entered: (GameClient, WorldEntry)?
        var lastError = ""
        while entered == nil {
            attempts += 1
            do {
                entered = try await enter()
            } catch {
                lastError = "\(error)"
                if ContinuousClock.now - started >= configuration.retryFor { break }
                try? await Task.sleep(for: .milliseconds(250))
            }
        }
        guard let (client, entry) = entered else {
            output("FAIL no world entry after \(attempts) attempts: \(lastError)")
            return false
        }
        let waited = (ContinuousClock.now - started).wholeMilliseconds
        output("ENTERED \(Self.now()) \(entry.x) \(entry.y) attempts=\(attempts) waited_ms=\(waited)")

        let consumer = Task { [self] in
            for await event in client.events { observe(event) }
        }
        var x = entry.x
        let y = entry.y
        let direction: Float = configuration.targetX >= x ? 1 : -1
        let step = configuration.speed * Float(configuration.stepInterval.inSeconds)
        let end = ContinuousClock.now + configuration.duration
        while ContinuousClock.now < end {
            let news = inbox.withLock { box -> WalkInbox in
                let copy = box
                box.correction = nil
                return copy
            }
            if news.out { break }
            if let corrected = news.correction { x = corrected }
            // Link-dead while the SDK reconnects: no moves (they would be dropped anyway).
            if client.isReconnecting {
                try? await Task.sleep(for: configuration.stepInterval)
                continue
            }
            let remaining = (configuration.targetX - x) * direction
            if remaining > 0 {
                x += direction * min(step, remaining)
                do {
                    _ = try client.move(x: x, y: y)
                    output("MOVE \(Self.now()) \(x) \(y)")
                } catch {
                    break
                }
            }
            try? await Task.sleep(for: configuration.stepInterval)
        }
        if client.isConnected, !inbox.withLock({ $0.out }) {
            try? await client.leaveWorld()
            await client.logout()
        } else {
            await client.close()  // e.g. still reconnecting: stop that
        }
        consumer.cancel()
        output("DONE \(Self.now()) \(x) \(y)")
        let counts = inbox.withLock { $0 }
        output("RECONNECTS drops=\(counts.drops) resumed=\(counts.resumed) reentered=\(counts.reentered) lost=\(counts.lost ? 1 : 0)")
        return true
    }

    private func enter() async throws -> (GameClient, WorldEntry) {
        let client = try await GameClient.connect(
            host: configuration.host, port: configuration.port, clientName: "mmo-bot-walk", timeout: .seconds(5),
            configuration: .with(tls: configuration.tls))
        do {
            _ = try await client.login(token: configuration.token)
            let list = try await client.listCharacters()
            let id: UInt64
            if let existing = list.named(configuration.character) {
                id = existing.id
            } else {
                id = try await client.createCharacter(name: configuration.character, classId: configuration.classId).id
            }
            return (client, try await client.enterWorld(characterId: id))
        } catch {
            await client.close()
            throw error
        }
    }

    private func observe(_ event: ClientEvent) {
        switch event {
        case .world(_, let events):
            for case .correction(_, let x, let y, let reason) in events {
                inbox.withLock { $0.correction = x }
                output("CORRECTION \(Self.now()) \(x) \(y) \(reason.name)")
            }
        case .leftWorld(let code):
            inbox.withLock { $0.out = true }
            output("LEFT \(Self.now()) \(code.name)")
        case .disconnected(let code, _):
            inbox.withLock { $0.out = true }
            output("CLOSED \(Self.now()) \(code.name)")
        case .connectionClosed:
            inbox.withLock { $0.out = true }
            output("CLOSED \(Self.now()) connection-closed")
        case .refused:
            break
        case .reconnecting(let reason):
            inbox.withLock { $0.drops += 1 }
            output("RECONNECTING \(Self.now()) \(BotFormat.token(reason))")
        case .resumed(let session):
            // Walk on from where the server has the character (it kept its live position).
            inbox.withLock {
                $0.resumed += 1
                $0.correction = session.entry.x
            }
            output("RESUMED \(Self.now()) \(session.entry.x) \(session.entry.y) entity=\(session.entry.entityId)")
        case .reentered(_, let entry, let code):
            inbox.withLock {
                $0.reentered += 1
                $0.correction = entry.x
            }
            output("REENTERED \(Self.now()) \(entry.x) \(entry.y) \(code.name)")
        case .resumeFailed(let reason):
            inbox.withLock { $0.lost = true }
            output("RESUME_FAILED \(Self.now()) \(BotFormat.token(reason))")
        case .viewReset(_, _, let x, _):
            inbox.withLock { $0.correction = x }
        }
    }

    static func now() -> Int64 { Int64((Date().timeIntervalSince1970 * 1000).rounded()) }
}

/// What the event consumer tells the walking loop.
struct WalkInbox: Sendable {
    var correction: Float?
    var out = false
    var drops = 0
    var resumed = 0
    var reentered = 0
    /// The SDK could neither resume the character nor log in and enter again.
    var lost = false
}
