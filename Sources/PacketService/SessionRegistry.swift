import MMOProtocol
import NIOCore
import Synchronization

/// How other parts of the gateway reach one connection: everything goes through its event loop.
struct ConnectionHandle: Sendable {
    let id: UInt64
    let eventLoop: any EventLoop
    let handler: NIOLoopBound<PacketConnectionHandler>

    /// Disconnects the connection with `code`; the future completes once its world session (if
    /// any) has been handed to the world link as a leave (or, with `keepCharacter`, left
    /// link-dead for a RESUME to take over).
    func kick(_ code: ResultCode, reason: String, keepCharacter: Bool = false) -> EventLoopFuture<Void> {
        let handler = self.handler
        return eventLoop.submit { handler.value.kick(code, reason: reason, keepCharacter: keepCharacter) }
    }
}

/// A character left in the world by a dropped connection (docs/protocol.md "Reconnecting"),
/// under the world session id of that connection, until RESUME takes it over or the grace
/// period ends (then the gateway sends its leave).
struct LinkDeadSession: Sendable, Equatable {
    /// The dropped connection's id: the character's session in the world.
    let session: UInt64
    let accountId: String
    let characterId: UInt64
    /// Its resume token, to discard when the character leaves (held in memory only).
    let resumeToken: String?
}

/// The gateway's in-memory view of its connections: connection id -> connection (world output
/// routing, shutdown broadcast), account -> connection id (takeover on a second login), and the
/// per-address limits (`AddressLimiter`), all under one lock so admission is atomic.
final class SessionRegistry: Sendable {
    private struct State {
        var connections: [UInt64: ConnectionHandle] = [:]
        var accounts: [String: UInt64] = [:]
        /// Link-dead characters: at most one per account, so reconnect loops cannot pile them up.
        var linkDead: [String: LinkDeadSession] = [:]
        var linkDeadAccounts: [UInt64: String] = [:]
        var accepting = true
        var maxConnections: Int
        var addresses: AddressLimiter
    }

    enum RegisterResult: Equatable {
        /// Counted under `addressKey` (nil: not counted, e.g. an exempt address); pass it back
        /// to `unregister`, `mayLogIn` and `recordFailedLogin`.
        case registered(addressKey: ClientAddress?)
        case full
        case shuttingDown
        case tooManyFromAddress
        case addressBlocked
    }

    private let state: Mutex<State>

    /// - Parameter addressLimits: defaults to the configuration defaults (loopback exempt).
    init(maxConnections: Int, addressLimits: AddressLimiter.Configuration = .init(PacketServerConfiguration(gatewayId: ""))) {
        self.state = Mutex(State(maxConnections: maxConnections, addresses: AddressLimiter(addressLimits)))
    }

    /// Open connections beyond which new ones are refused (`.full`).
    var maxConnections: Int {
        get { state.withLock { $0.maxConnections } }
        set { state.withLock { $0.maxConnections = newValue } }
    }

    var connectionCount: Int { state.withLock { $0.connections.count } }

    func register(_ handle: ConnectionHandle, address: ClientAddress? = nil, now: NIODeadline = .now()) -> RegisterResult {
        state.withLock { state in
            guard state.accepting else { return .shuttingDown }
            let key: ClientAddress?
            switch state.addresses.admit(address, now: now) {
            case .admitted(let k): key = k
            case .tooManyConnections: return .tooManyFromAddress
            case .blocked: return .addressBlocked
            }
            guard state.connections.count < state.maxConnections else {
                if let key { state.addresses.release(key, now: now) }
                return .full
            }
            state.connections[handle.id] = handle
            return .registered(addressKey: key)
        }
    }

    /// Forgets the connection and, if it still owns `account`, the account too.
    func unregister(_ id: UInt64, account: String?, addressKey: ClientAddress? = nil, now: NIODeadline = .now()) {
        state.withLock { state in
            state.connections[id] = nil
            if let account, state.accounts[account] == id {
                state.accounts[account] = nil
            }
            if let addressKey { state.addresses.release(addressKey, now: now) }
        }
    }

    /// False while the address is blocked for failed logins.
    func mayLogIn(addressKey: ClientAddress?, now: NIODeadline) -> Bool {
        guard addressKey != nil else { return true }
        return state.withLock { $0.addresses.mayLogIn(addressKey, now: now) }
    }

    /// Counts a failed LOGIN against the address; true if that blocked it.
    func recordFailedLogin(addressKey: ClientAddress?, now: NIODeadline) -> Bool {
        guard addressKey != nil else { return false }
        return state.withLock { $0.addresses.recordFailedLogin(addressKey, now: now) }
    }

    /// Makes `id` the connection of `account`; returns the connection that had it before, if any
    /// (the caller kicks it).
    func claim(account: String, for id: UInt64) -> ConnectionHandle? {
        state.withLock { state in
            let previous = state.accounts.updateValue(id, forKey: account)
            guard let previous, previous != id else { return nil }
            return state.connections[previous]
        }
    }

    /// The connection currently logged in to `account` (tests, admin).
    func connectionId(forAccount account: String) -> UInt64? {
        state.withLock { $0.accounts[account] }
    }

    // MARK: - Link-dead characters

    var linkDeadCount: Int { state.withLock { $0.linkDead.count } }

    /// Records a link-dead character; returns the account's previous one (the caller ends it:
    /// one per account).
    func addLinkDead(_ entry: LinkDeadSession) -> LinkDeadSession? {
        state.withLock { state in
            let previous = state.linkDead.updateValue(entry, forKey: entry.accountId)
            if let previous { state.linkDeadAccounts[previous.session] = nil }
            state.linkDeadAccounts[entry.session] = entry.accountId
            return previous?.session == entry.session ? nil : previous
        }
    }

    /// Forgets the link-dead character of world session `session` (its grace ended, or the
    /// world took it away); nil if it is not link-dead (any more).
    func removeLinkDead(session: UInt64) -> LinkDeadSession? {
        state.withLock { state in
            guard let account = state.linkDeadAccounts.removeValue(forKey: session) else { return nil }
            return state.linkDead.removeValue(forKey: account)
        }
    }

    /// Forgets the account's link-dead character (a LOGIN of the account ends it).
    func removeLinkDead(account: String) -> LinkDeadSession? {
        state.withLock { state in
            guard let entry = state.linkDead.removeValue(forKey: account) else { return nil }
            state.linkDeadAccounts[entry.session] = nil
            return entry
        }
    }

    /// The account's link-dead character on this gateway, if any (tests, admin).
    func linkDead(account: String) -> LinkDeadSession? {
        state.withLock { $0.linkDead[account] }
    }

    /// Stops registering new connections and returns every open one.
    func beginShutdown() -> [ConnectionHandle] {
        state.withLock { state in
            state.accepting = false
            return Array(state.connections.values)
        }
    }

    func allConnections() -> [ConnectionHandle] {
        state.withLock { Array($0.connections.values) }
    }

    /// Routes one world batch: one lock acquisition, one hop per event loop, one flush per
    /// connection. Outputs for connections that are gone are dropped. Returns true when a
    /// link-dead character was taken away by the world (for the gauge).
    @discardableResult
    func deliver<Outputs: Sequence>(_ outputs: Outputs) -> Bool where Outputs.Element == (session: UInt64, output: WorldOutput) {
        var perLoop: [ObjectIdentifier: LoopDelivery] = [:]
        var linkDeadChanged = false
        state.withLock { state in
            for (session, output) in outputs {
                guard let handle = state.connections[session] else {
                    // The world took a link-dead character away (a RESUME, here or on another
                    // gateway, or an ENTER_WORLD of it elsewhere): nothing left to expire.
                    if case .left = output, let account = state.linkDeadAccounts.removeValue(forKey: session) {
                        state.linkDead[account] = nil
                        linkDeadChanged = true
                    }
                    continue
                }
                perLoop[ObjectIdentifier(handle.eventLoop), default: LoopDelivery(eventLoop: handle.eventLoop)]
                    .append(output, for: handle)
            }
        }
        for delivery in perLoop.values {
            delivery.eventLoop.execute {
                for (handle, outputs) in delivery.sessions {
                    handle.handler.value.receiveWorldOutputs(outputs)
                }
            }
        }
        return linkDeadChanged
    }
}

/// The outputs of one world batch bound for one event loop, grouped by connection.
private struct LoopDelivery: Sendable {
    let eventLoop: any EventLoop
    private(set) var sessions: [(ConnectionHandle, [WorldOutput])] = []
    private var index: [UInt64: Int] = [:]

    init(eventLoop: any EventLoop) {
        self.eventLoop = eventLoop
    }

    mutating func append(_ output: WorldOutput, for handle: ConnectionHandle) {
        if let i = index[handle.id] {
            sessions[i].1.append(output)
        } else {
            index[handle.id] = sessions.count
            sessions.append((handle, [output]))
        }
    }
}
