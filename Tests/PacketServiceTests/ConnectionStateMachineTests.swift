import MMOProtocol
import NIOCore
import Testing
@testable import PacketService

typealias Action = ConnectionStateMachine.Action
typealias CloseAction = ConnectionStateMachine.CloseAction

let t0 = NIODeadline.uptimeNanoseconds(1_000_000_000)
let limits = ConnectionStateMachine.Limits(.test)
let account = AccountIdentity(id: "acc-1", displayName: "Name acc-1")

func validSession(_ id: String = "acc-1") -> SessionValidation {
    SessionValidation(status: .valid, accountId: id, displayName: "Name \(id)")
}

func selected(_ id: UInt64) -> CharacterSelection {
    CharacterSelection(status: .ok, character: FakeCharacters.character(id))
}

extension ConnectionStateMachine {
    /// Most tests are not about time: their messages arrive at `t0`.
    mutating func receive(_ message: ClientMessage) -> Action {
        receive(message, now: t0)
    }
}

let entry = WorldEntry(entityId: 1001, zoneId: 7, x: 10.5, y: -4, tickRateHz: 20)

/// Limits with resuming off (`packet.resumeGraceSeconds` 0): a drop leaves the world at once.
let noResume: ConnectionStateMachine.Limits = {
    var l = limits
    l.resumeGrace = .zero
    return l
}()

/// A machine driven through the real events into `state`.
func machine(in state: ConnectionState, limits custom: ConnectionStateMachine.Limits = limits) -> ConnectionStateMachine {
    var m = ConnectionStateMachine(limits: custom, now: t0)
    if state == .connected { return m }
    _ = m.receive(.hello(.init(clientName: "test")))
    if state == .awaitingLogin { return m }
    _ = m.receive(.login(token: "token-acc-1"))
    _ = m.loginCompleted(.success(validSession()))
    _ = m.accountClaimed()
    if state == .characterSelect { return m }
    _ = m.receive(.enterWorld(characterId: 1))
    _ = m.selectCharacterCompleted(.success(selected(1)))
    _ = m.worldJoinAccepted(entry)
    if state == .inWorld { return m }
    _ = m.kick(.ok, reason: "closing")
    return m
}

/// One sample of every client message.
let sampleMessages: [ClientMessage] = [
    .hello(.init(clientName: "test")), .ping(nonce: 7), .logout, .login(token: "token-acc-1"),
    .characterList, .characterCreate(name: "Arwen", classId: 1, appearance: 5),
    .characterDelete(characterId: 2), .enterWorld(characterId: 1), .move(seq: 3, x: 1, y: 2),
    .say(text: "hello"), .leaveWorld, .resume(token: "resume-token"),
]

/// The protocol's legality table, restated from the spec (not read from OpcodeTable).
let legalStates: [Opcode: Set<ConnectionState>] = [
    .hello: [.connected],
    .ping: [.awaitingLogin, .characterSelect, .inWorld],
    .logout: [.awaitingLogin, .characterSelect, .inWorld],
    .login: [.awaitingLogin], .resume: [.awaitingLogin],
    .characterList: [.characterSelect], .characterCreate: [.characterSelect],
    .characterDelete: [.characterSelect], .enterWorld: [.characterSelect],
    .move: [.inWorld], .say: [.inWorld], .leaveWorld: [.inWorld],
]

func expectedLegalAction(_ message: ClientMessage, in state: ConnectionState) -> Action {
    switch message {
    case .hello: .write(.helloAck(version: ProtocolLimits.version, maxClientFrame: 4096))
    case .ping(let n): .write(.pong(nonce: n))
    case .logout: .close(CloseAction(disconnect: .ok, reason: "logged out", leaveWorld: state == .inWorld))
    case .login(let token): .validateSession(token: token)
    case .resume(let token): .claimResumeToken(token)
    case .characterList: .listCharacters(accountId: "acc-1")
    case .characterCreate(let n, let c, let a): .createCharacter(accountId: "acc-1", name: n, classId: c, appearance: a)
    case .characterDelete(let id): .deleteCharacter(accountId: "acc-1", characterId: id)
    case .enterWorld(let id): .selectCharacter(accountId: "acc-1", characterId: id)
    case .move(let s, let x, let y): .forwardMove(seq: s, x: x, y: y)
    case .say(let text): .forwardSay(text: text)
    case .leaveWorld: .leaveWorld(reply: .leftWorld(code: .ok))
    }
}

@Suite struct ConnectionStateMachineTests {
    @Test(arguments: [ConnectionState.connected, .awaitingLogin, .characterSelect, .inWorld], sampleMessages)
    func everyOpcodeInEveryState(state: ConnectionState, message: ClientMessage) {
        var m = machine(in: state)
        #expect(m.state == state)
        let action = m.receive(message)
        if legalStates[message.opcode]!.contains(state) {
            #expect(action == expectedLegalAction(message, in: state))
        } else if state == .connected {
            // Anything but HELLO first closes at once, however lenient the illegal-frame limit.
            #expect(action == .close(CloseAction(disconnect: .illegalState, reason: "HELLO must come first", leaveWorld: false)))
            #expect(m.state == .closed)
        } else {
            #expect(action == .write(.error(requestOpcode: message.opcode.rawValue, code: .illegalState)))
            #expect(m.state == state)
            #expect(m.illegalFrames == 1)
        }
    }

    @Test(arguments: sampleMessages)
    func nothingHappensOnceClosed(message: ClientMessage) {
        var m = machine(in: .closed)
        #expect(m.state == .closed)
        #expect(m.receive(message) == .none)
        #expect(m.receive(frame: Frame(opcode: message.opcode.rawValue, body: ByteBuffer()), now: t0) == .none)
        #expect(m.timeoutDeadline == nil)
    }

    @Test func opcodeTableMatchesTheSpec() {
        for opcode in Opcode.allCases where opcode.isClientOpcode {
            let rule = OpcodeTable.rule(for: opcode)
            let states = Set(ConnectionState.allCases.filter { rule.legalIn.contains($0) })
            #expect(states == legalStates[opcode], "\(opcode)")
        }
        for opcode in Opcode.allCases where !opcode.isClientOpcode {
            #expect(OpcodeTable.rule(for: opcode).legalIn.isEmpty)
        }
        let requests = Opcode.allCases.filter { OpcodeTable.rule(for: $0).isRequest }
        #expect(Set(requests) == [.login, .resume, .characterList, .characterCreate, .characterDelete, .enterWorld, .leaveWorld])
    }

    // MARK: handshake

    @Test func helloMovesToAwaitingLogin() {
        var m = machine(in: .connected)
        #expect(m.receive(.hello(.init(clientName: "c"))) == .write(.helloAck(version: ProtocolLimits.version, maxClientFrame: 4096)))
        #expect(m.state == .awaitingLogin)
    }

    @Test func frameBeforeHelloCloses() {
        var m = machine(in: .connected)
        let ping = Frame(opcode: Opcode.ping.rawValue, body: ByteBuffer(bytes: [0, 0, 0, 1]))
        #expect(m.receive(frame: ping, now: t0) == .close(CloseAction(disconnect: .illegalState, reason: "HELLO must come first", leaveWorld: false)))
        #expect(m.state == .closed)
        #expect(m.receive(.hello(.init(clientName: "late"))) == .none)
    }

    @Test func decodingErrorsBeforeHelloKeepTheirCodes() {
        var m = machine(in: .connected)
        let action = m.receive(frame: Frame(opcode: Opcode.ping.rawValue, body: ByteBuffer(bytes: [1])), now: t0)
        guard case .close(let close) = action else { Issue.record("\(action)"); return }
        #expect(close.disconnect == .malformedPacket)
    }

    @Test func helloWithBadMagicCloses() {
        var m = machine(in: .connected)
        let action = m.receive(.hello(.init(magic: 0xDEAD_BEEF, clientName: "c")))
        guard case .close(let close) = action else { Issue.record("\(action)"); return }
        #expect(close.disconnect == .badHello)
        #expect(m.state == .closed)
    }

    @Test func helloWithOtherVersionCloses() {
        var m = machine(in: .connected)
        let action = m.receive(.hello(.init(version: 99, clientName: "c")))
        guard case .close(let close) = action else { Issue.record("\(action)"); return }
        #expect(close.disconnect == .unsupportedVersion)
        #expect(m.state == .closed)
    }

    // MARK: frames

    @Test func undecodableFramesClose() {
        var m = machine(in: .awaitingLogin)
        let unknown = m.receive(frame: Frame(opcode: 0x1234, body: ByteBuffer()), now: t0)
        guard case .close(let c1) = unknown else { Issue.record("\(unknown)"); return }
        #expect(c1.disconnect == .unknownOpcode)

        var m2 = machine(in: .awaitingLogin)
        let malformed = m2.receive(frame: Frame(opcode: Opcode.ping.rawValue, body: ByteBuffer(bytes: [1, 2])), now: t0)
        guard case .close(let c2) = malformed else { Issue.record("\(malformed)"); return }
        #expect(c2.disconnect == .malformedPacket)

        var m3 = machine(in: .awaitingLogin)
        let serverOpcode = m3.receive(frame: Frame(opcode: Opcode.pong.rawValue, body: ByteBuffer(bytes: [0, 0, 0, 1])), now: t0)
        guard case .close(let c3) = serverOpcode else { Issue.record("\(serverOpcode)"); return }
        #expect(c3.disconnect == .unknownOpcode)
    }

    @Test(arguments: [
        (ProtocolError.frameTooLarge(length: 5000, limit: 4096), ResultCode.frameTooLarge),
        (.frameTooShort(length: 1), .malformedPacket),
        (.unknownOpcode(0x7777), .unknownOpcode),
        (.malformed(opcode: 1, reason: "truncated"), .malformedPacket),
    ])
    func protocolErrorsDisconnectWithTheirCode(error: ProtocolError, code: ResultCode) {
        var m = machine(in: .inWorld)
        let action = m.protocolError(error)
        guard case .close(let close) = action else { Issue.record("\(action)"); return }
        #expect(close.disconnect == code)
        #expect(close.leaveWorld)
        #expect(m.state == .closed)
    }

    @Test func decodedFramesAreHandled() {
        var m = machine(in: .awaitingLogin)
        #expect(m.receive(frame: Frame(opcode: Opcode.ping.rawValue, body: ByteBuffer(bytes: [0, 0, 0, 9])), now: t0) == .write(.pong(nonce: 9)))
    }

    // MARK: limits

    @Test func tooManyIllegalFramesClose() {
        var m = machine(in: .awaitingLogin)
        for _ in 0..<limits.maxIllegalFrames {
            #expect(m.receive(.move(seq: 1, x: 0, y: 0)) == .write(.error(requestOpcode: Opcode.move.rawValue, code: .illegalState)))
        }
        #expect(m.state == .awaitingLogin)
        let action = m.receive(.characterList)
        guard case .close(let close) = action else { Issue.record("\(action)"); return }
        #expect(close.disconnect == .illegalState)
    }

    @Test func rateLimitDropsThenDisconnects() {
        var m = machine(in: .inWorld)
        let ping = Frame(opcode: Opcode.ping.rawValue, body: ByteBuffer(bytes: [0, 0, 0, 1]))
        // machine(in:) used 4 frames' worth of events but not frames: the full burst is available.
        for _ in 0..<limits.rateLimitBurst {
            #expect(m.receive(frame: ping, now: t0) == .write(.pong(nonce: 1)))
        }
        for _ in 0..<limits.maxRateLimitedFrames {
            #expect(m.receive(frame: ping, now: t0) == .write(.error(requestOpcode: Opcode.ping.rawValue, code: .rateLimited)))
        }
        // A second later the bucket holds 30 tokens again.
        let later = t0 + .seconds(1)
        for _ in 0..<30 {
            #expect(m.receive(frame: ping, now: later) == .write(.pong(nonce: 1)))
        }
        let action = m.receive(frame: ping, now: later)
        guard case .close(let close) = action else { Issue.record("\(action)"); return }
        #expect(close.disconnect == .rateLimited)
        #expect(close.leaveWorld)
    }

    @Test func tokenBucketRefillsAtItsRate() {
        var bucket = TokenBucket(ratePerSecond: 10, burst: 2, now: t0)
        let times: [TimeAmount] = [.zero, .zero, .zero, .milliseconds(50), .milliseconds(100), .seconds(60), .seconds(60), .seconds(60)]
        let taken = times.map { bucket.take(now: t0 + $0) }
        #expect(taken == [true, true, false, false, true, true, true, false])
    }

    @Test func tokenBucketFromAPeriod() {
        var bucket = TokenBucket(tokens: 5, per: .seconds(10), now: t0)
        #expect(bucket.ratePerSecond == 0.5 && bucket.burst == 5)
        let taken = (0..<6).map { _ in bucket.take(now: t0) }
        #expect(taken == [true, true, true, true, true, false])
        let early = bucket.take(now: t0 + .milliseconds(1999))
        let onTime = bucket.take(now: t0 + .seconds(2))
        #expect(!early && onTime)
    }

    // MARK: busy

    @Test func requestsAreServedOneAtATime() {
        var m = machine(in: .awaitingLogin)
        #expect(m.receive(.login(token: "a")) == .validateSession(token: "a"))
        #expect(m.receive(.login(token: "b")) == .write(.error(requestOpcode: Opcode.login.rawValue, code: .busy)))
        #expect(m.receive(.ping(nonce: 1)) == .write(.pong(nonce: 1)))

        var c = machine(in: .characterSelect)
        #expect(c.receive(.characterList) == .listCharacters(accountId: "acc-1"))
        for message in [ClientMessage.characterList, .characterCreate(name: "A", classId: 1, appearance: 1), .characterDelete(characterId: 1), .enterWorld(characterId: 1)] {
            #expect(c.receive(message) == .write(.error(requestOpcode: message.opcode.rawValue, code: .busy)))
        }
        #expect(c.characterListCompleted(.success(CharacterList(maxCharacters: 0, characters: []))) == .write(.characterListResult(code: .ok, maxCharacters: 0, characters: [])))
        #expect(c.receive(.characterList) == .listCharacters(accountId: "acc-1"))
    }

    @Test func enteringTheWorldIsBusyUntilTheWorldAnswers() {
        var m = machine(in: .characterSelect)
        _ = m.receive(.enterWorld(characterId: 1))
        _ = m.selectCharacterCompleted(.success(selected(1)))
        #expect(m.isJoiningWorld)
        #expect(m.receive(.characterList) == .write(.error(requestOpcode: Opcode.characterList.rawValue, code: .busy)))
        #expect(m.receive(.move(seq: 1, x: 0, y: 0)) == .write(.error(requestOpcode: Opcode.move.rawValue, code: .illegalState)))
        #expect(!m.acceptsWorldUpdates)
    }

    // MARK: login

    @Test(arguments: [
        (SessionValidation.Status.malformed, ResultCode.tokenMalformed), (.unknown, .tokenUnknown), (.expired, .tokenExpired),
        (.badSignature, .tokenBadSignature), (.banned, .accountBanned), (.unrecognized, .internalError),
    ])
    func failedLoginsMapTheStatus(status: SessionValidation.Status, code: ResultCode) {
        var m = machine(in: .awaitingLogin)
        _ = m.receive(.login(token: "t"))
        #expect(m.loginCompleted(.success(SessionValidation(status: status))) == .write(.loginResult(code: code, accountId: "", displayName: "")))
        #expect(m.state == .awaitingLogin)
        #expect(m.failedLogins == 1)
    }

    @Test func tooManyFailedLoginsClose() {
        var m = machine(in: .awaitingLogin)
        let expired = SessionValidation(status: .expired)
        for _ in 1..<limits.maxFailedLogins {
            _ = m.receive(.login(token: "t"))
            #expect(m.loginCompleted(.success(expired)) == .write(.loginResult(code: .tokenExpired, accountId: "", displayName: "")))
        }
        _ = m.receive(.login(token: "t"))
        let action = m.loginCompleted(.success(expired))
        // The last login still gets its own answer; the DISCONNECT is about the limit.
        #expect(action == .close(CloseAction(
            message: .loginResult(code: .tokenExpired, accountId: "", displayName: ""),
            disconnect: .rateLimited, reason: "too many failed logins", leaveWorld: false)))
        #expect(m.state == .closed)
        #expect(m.failedLogins == limits.maxFailedLogins)
    }

    @Test func authOutageIsNotTheClientsFault() {
        var m = machine(in: .awaitingLogin)
        for _ in 0..<(limits.maxFailedLogins * 2) {
            _ = m.receive(.login(token: "t"))
            #expect(m.loginCompleted(.failure(FakeAuthenticator.Outage())) == .write(.loginResult(code: .serviceUnavailable, accountId: "", displayName: "")))
        }
        #expect(m.failedLogins == 0)
        #expect(m.state == .awaitingLogin)
    }

    @Test func successfulLoginClaimsTheAccountFirst() {
        var m = machine(in: .awaitingLogin)
        _ = m.receive(.login(token: "token-acc-1"))
        #expect(m.loginCompleted(.success(validSession())) == .claimAccount(account))
        #expect(m.state == .awaitingLogin)
        #expect(m.receive(.login(token: "x")) == .write(.error(requestOpcode: Opcode.login.rawValue, code: .busy)))
        #expect(m.accountClaimed() == .write(.loginResult(code: .ok, accountId: "acc-1", displayName: "Name acc-1")))
        #expect(m.state == .characterSelect)
        #expect(m.account == account)
        #expect(m.accountClaimed() == .none)
    }

    @Test func validStatusWithoutAccountIsAnError() {
        var m = machine(in: .awaitingLogin)
        _ = m.receive(.login(token: "t"))
        #expect(m.loginCompleted(.success(SessionValidation(status: .valid))) == .write(.loginResult(code: .internalError, accountId: "", displayName: "")))
    }

    // MARK: takeover

    @Test func kickedWhileClaimingNeverLogsIn() {
        var m = machine(in: .awaitingLogin)
        _ = m.receive(.login(token: "token-acc-1"))
        _ = m.loginCompleted(.success(validSession()))
        #expect(m.kick(.loggedInElsewhere, reason: "elsewhere") == .close(CloseAction(disconnect: .loggedInElsewhere, reason: "elsewhere", leaveWorld: false)))
        #expect(m.accountClaimed() == .none)
        #expect(m.state == .closed)
    }

    @Test func kickedInTheWorldLeavesIt() {
        var m = machine(in: .inWorld)
        #expect(m.kick(.loggedInElsewhere, reason: "elsewhere") == .close(CloseAction(disconnect: .loggedInElsewhere, reason: "elsewhere", leaveWorld: true)))
        #expect(m.kick(.loggedInElsewhere, reason: "again") == .none)
    }

    @Test func kickedWhileJoiningLeavesTheWorld() {
        var m = machine(in: .characterSelect)
        _ = m.receive(.enterWorld(characterId: 1))
        _ = m.selectCharacterCompleted(.success(selected(1)))
        // Not in the world yet: nothing to keep link-dead, even at shutdown.
        #expect(m.kick(.serverShuttingDown, reason: "bye") == .close(CloseAction(disconnect: .serverShuttingDown, reason: "bye", leaveWorld: true)))
        #expect(m.worldJoinAccepted(entry) == .none)
    }

    @Test func peerClosingInTheWorldLeavesIt() {
        var m = machine(in: .inWorld, limits: noResume)
        #expect(m.connectionClosed() == .close(CloseAction(disconnect: nil, reason: "connection closed", leaveWorld: true)))
        #expect(m.connectionClosed() == .none)
        var n = machine(in: .characterSelect)
        #expect(n.connectionClosed() == .close(CloseAction(disconnect: nil, reason: "connection closed", leaveWorld: false)))
    }

    // MARK: characters

    @Test func characterResultsAreConverted() {
        var m = machine(in: .characterSelect)
        _ = m.receive(.characterList)
        var long = FakeCharacters.character(1)
        long.classId = 300
        long.level = 70000
        let list = CharacterList(maxCharacters: 8, characters: [long])
        #expect(m.characterListCompleted(.success(list)) == .write(.characterListResult(
            code: .ok, maxCharacters: 8,
            characters: [CharacterSummary(id: 1, name: "Hero1", classId: 255, appearance: 0xABCD, level: 65535, zoneId: 7, x: 10.5, y: -4)])))

        _ = m.receive(.characterCreate(name: "x", classId: 1, appearance: 1))
        let refused = CharacterCreation(status: .nameInvalid, detail: "too short")
        #expect(m.characterCreateCompleted(.success(refused)) == .write(.characterCreateResult(code: .nameInvalid, character: nil, detail: "too short")))

        _ = m.receive(.characterCreate(name: "Arwen", classId: 1, appearance: 1))
        let created = CharacterCreation(status: .ok, character: FakeCharacters.character(3))
        #expect(m.characterCreateCompleted(.success(created)) == .write(.characterCreateResult(
            code: .ok, character: CharacterSummary(id: 3, name: "Hero3", classId: 2, appearance: 0xABCD, level: 3, zoneId: 7, x: 10.5, y: -4), detail: "")))

        _ = m.receive(.characterCreate(name: "Arwen", classId: 1, appearance: 1))
        #expect(m.characterCreateCompleted(.success(CharacterCreation(status: .ok))) == .write(.characterCreateResult(
            code: .internalError, character: nil, detail: "character service sent no character")))

        _ = m.receive(.characterDelete(characterId: 9))
        #expect(m.characterDeleteCompleted(.success(.notFound)) == .write(.characterDeleteResult(code: .characterNotFound, characterId: 9)))

        _ = m.receive(.characterDelete(characterId: 1))
        #expect(m.characterDeleteCompleted(.failure(FakeAuthenticator.Outage())) == .write(.characterDeleteResult(code: .serviceUnavailable, characterId: 1)))
        _ = m.receive(.characterList)
        #expect(m.characterListCompleted(.failure(FakeAuthenticator.Outage())) == .write(.characterListResult(code: .serviceUnavailable, maxCharacters: 0, characters: [])))
        #expect(m.characterListCompleted(.success(list)) == .none, "an answer nobody asked for is ignored")
    }

    @Test(arguments: [
        (CharacterStatus.nameInvalid, ResultCode.nameInvalid), (.nameTaken, .nameTaken), (.slotLimit, .slotLimit),
        (.classInvalid, .classInvalid), (.appearanceInvalid, .appearanceInvalid), (.notFound, .characterNotFound),
        (.ok, .ok), (.unrecognized, .internalError),
    ])
    func characterStatusesMap(status: CharacterStatus, code: ResultCode) {
        #expect(status.resultCode == code)
    }

    // MARK: world

    @Test func enterWorldSelectsThenJoins() {
        var m = machine(in: .characterSelect)
        #expect(m.receive(.enterWorld(characterId: 2)) == .selectCharacter(accountId: "acc-1", characterId: 2))
        let action = m.selectCharacterCompleted(.success(selected(2)))
        #expect(action == .joinWorld(WorldJoin(
            character: CharacterRecord(id: 2, name: "Hero2", classId: 2, appearance: 0xABCD, level: 3, zoneId: 7, x: 10.5, y: -4),
            accountId: "acc-1")))
        #expect(m.worldSessionOpen)
        #expect(m.worldJoinAccepted(entry) == .writeAndIssueResumeToken(
            .enterWorldResult(code: .ok, entry: entry),
            ResumeTicket(accountId: "acc-1", displayName: "Name acc-1", sessionToken: "token-acc-1", characterId: 2)))
        #expect(m.state == .inWorld)
        #expect(m.acceptsWorldUpdates)
    }

    @Test func theJoinNamesTheCharacterAskedFor() {
        var m = machine(in: .characterSelect)
        _ = m.receive(.enterWorld(characterId: 2))
        let action = m.selectCharacterCompleted(.success(CharacterSelection(status: .ok, character: FakeCharacters.character(99))))
        guard case .joinWorld(let join) = action else { Issue.record("\(action)"); return }
        #expect(join.character.id == 2)
    }

    @Test func enterWorldFailures() {
        var m = machine(in: .characterSelect)
        _ = m.receive(.enterWorld(characterId: 9))
        #expect(m.selectCharacterCompleted(.success(CharacterSelection(status: .notFound))) == .write(.enterWorldResult(code: .characterNotFound, entry: nil)))
        #expect(!m.worldSessionOpen)

        _ = m.receive(.enterWorld(characterId: 1))
        #expect(m.selectCharacterCompleted(.success(CharacterSelection(status: .ok))) == .write(.enterWorldResult(code: .internalError, entry: nil)),
                "OK without a character is the service's fault")
        #expect(!m.worldSessionOpen)

        _ = m.receive(.enterWorld(characterId: 1))
        #expect(m.selectCharacterCompleted(.failure(FakeAuthenticator.Outage())) == .write(.enterWorldResult(code: .serviceUnavailable, entry: nil)))

        _ = m.receive(.enterWorld(characterId: 1))
        _ = m.selectCharacterCompleted(.success(selected(1)))
        #expect(m.worldJoinRejected(.worldFull) == .write(.enterWorldResult(code: .worldFull, entry: nil)))
        #expect(!m.worldSessionOpen)
        #expect(m.state == .characterSelect)

        _ = m.receive(.enterWorld(characterId: 1))
        _ = m.selectCharacterCompleted(.success(selected(1)))
        #expect(m.joinTimedOut() == .leaveWorld(reply: .enterWorldResult(code: .serviceUnavailable, entry: nil)))
        #expect(m.joinTimedOut() == .none)
        #expect(m.worldJoinAccepted(entry) == .none, "a late acceptance is ignored (the leave already went out)")
        #expect(m.state == .characterSelect)
    }

    @Test func leaveWorldAnswersAtOnce() {
        var m = machine(in: .inWorld)
        #expect(m.receive(.leaveWorld) == .leaveWorld(reply: .leftWorld(code: .ok)))
        #expect(m.state == .characterSelect)
        #expect(!m.worldSessionOpen)
        #expect(m.worldLeft(.ok) == .none, "the world's acknowledgement of our own leave is ignored")
        #expect(m.receive(.enterWorld(characterId: 1)) == .selectCharacter(accountId: "acc-1", characterId: 1))
    }

    @Test func worldCanRemoveTheCharacter() {
        var m = machine(in: .inWorld)
        #expect(m.worldLeft(.loggedInElsewhere) == .write(.leftWorld(code: .loggedInElsewhere)))
        #expect(m.state == .characterSelect)
        #expect(m.connectionClosed() == .close(CloseAction(disconnect: nil, reason: "connection closed", leaveWorld: false)))
    }

    @Test func worldLinkLoss() {
        var inWorld = machine(in: .inWorld)
        #expect(inWorld.worldLinkLost() == .write(.leftWorld(code: .serviceUnavailable)))
        #expect(inWorld.state == .characterSelect)

        var joining = machine(in: .characterSelect)
        _ = joining.receive(.enterWorld(characterId: 1))
        _ = joining.selectCharacterCompleted(.success(selected(1)))
        #expect(joining.worldLinkLost() == .write(.enterWorldResult(code: .serviceUnavailable, entry: nil)))
        #expect(!joining.hasPendingRequest)

        var selecting = machine(in: .characterSelect)
        #expect(selecting.worldLinkLost() == .none)
    }

    @Test func emptySayIsIgnored() {
        var m = machine(in: .inWorld)
        #expect(m.receive(.say(text: "")) == .none)
    }

    // MARK: chat

    @Test func overLongSayIsRefusedAndTheConnectionStays() {
        var m = machine(in: .inWorld)
        let longest = String(repeating: "é", count: ProtocolLimits.maxChatBytes / 2)  // 2 bytes each
        #expect(m.receive(.say(text: longest)) == .forwardSay(text: longest))
        #expect(m.receive(.say(text: longest + "a")) == .write(.error(requestOpcode: 0x0031, code: .chatTooLong)))
        #expect(m.state == .inWorld)
        #expect(m.illegalFrames == 0)
    }

    /// ESC (terminal escapes), CR/LF (fake lines), BEL, C1 controls, DEL, line/paragraph
    /// separators and bidi overrides/isolates (text that reads differently than it is) never
    /// reach other players; they cost no chat token.
    @Test(arguments: ["\u{1B}[2J", "line\r\nSystem: you are banned", "ding\u{07}", "tab\there", "nul\u{0}",
                      "del\u{7F}", "c1\u{85}", "c1\u{9B}31m", "sep\u{2028}x", "para\u{2029}x",
                      "evil\u{202E}gnp.exe", "lre\u{202A}", "pdf\u{202C}", "isolate\u{2066}x\u{2069}", "fsi\u{2068}"])
    func sayWithControlOrBidiCharactersIsRefused(text: String) {
        var m = machine(in: .inWorld)
        for _ in 0..<(limits.chatRateLimitLines + 1) {
            #expect(m.receive(.say(text: text)) == .write(.error(requestOpcode: Opcode.say.rawValue, code: .chatInvalidText)))
        }
        #expect(m.state == .inWorld)
        #expect(m.receive(.say(text: "fine")) == .forwardSay(text: "fine"))
    }

    @Test func ordinaryUnicodeChatIsForwarded() {
        var m = machine(in: .inWorld)
        for text in ["héllo wörld", "日本語", "مرحبا بالعالم", "emoji 👋🏽 ok", "quotes \"' <b>"] {
            #expect(m.receive(.say(text: text), now: t0 + .seconds(60)) == .forwardSay(text: text))
        }
    }

    @Test func overLongSayCostsNoChatToken() {
        var m = machine(in: .inWorld)
        let tooLong = String(repeating: "a", count: ProtocolLimits.maxChatBytes + 1)
        for _ in 0..<(limits.chatRateLimitLines * 3) {
            #expect(m.receive(.say(text: tooLong)) == .write(.error(requestOpcode: Opcode.say.rawValue, code: .chatTooLong)))
        }
        for i in 0..<limits.chatRateLimitLines {
            #expect(m.receive(.say(text: "line \(i)")) == .forwardSay(text: "line \(i)"))
        }
    }

    @Test func chatIsRateLimitedPerConnection() {
        // Default: 5 lines per 10 s, all 5 at once, then one every 2 s.
        #expect(limits.chatRateLimitLines == 5 && limits.chatRateLimitPeriod == .seconds(10))
        var m = machine(in: .inWorld)
        for i in 0..<5 {
            #expect(m.receive(.say(text: "hi \(i)"), now: t0) == .forwardSay(text: "hi \(i)"))
        }
        let limited = Action.write(.error(requestOpcode: Opcode.say.rawValue, code: .chatRateLimited))
        #expect(m.receive(.say(text: "too fast"), now: t0) == limited)
        #expect(m.receive(.say(text: "too fast"), now: t0 + .milliseconds(1999)) == limited)
        #expect(m.receive(.say(text: "again"), now: t0 + .seconds(2)) == .forwardSay(text: "again"))
        #expect(m.receive(.say(text: "too fast"), now: t0 + .seconds(2)) == limited)
        // Refused lines are not counted as illegal, and the connection stays in the world.
        #expect(m.state == .inWorld)
        #expect(m.illegalFrames == 0)
        // Moving is not chat.
        #expect(m.receive(.move(seq: 1, x: 1, y: 1), now: t0 + .seconds(2)) == .forwardMove(seq: 1, x: 1, y: 1))
    }

    @Test func chatRateLimitIsConfigurable() {
        var configuration = PacketServerConfiguration.test
        configuration.chatRateLimitLines = 2
        configuration.chatRateLimitPeriod = .seconds(1)
        var m = machine(in: .inWorld, limits: .init(configuration))
        #expect(m.receive(.say(text: "a")) == .forwardSay(text: "a"))
        #expect(m.receive(.say(text: "b")) == .forwardSay(text: "b"))
        #expect(m.receive(.say(text: "c")) == .write(.error(requestOpcode: Opcode.say.rawValue, code: .chatRateLimited)))
        #expect(m.receive(.say(text: "d"), now: t0 + .milliseconds(500)) == .forwardSay(text: "d"))
    }

    // MARK: timeouts

    @Test func helloTimeout() {
        var m = machine(in: .connected)
        #expect(m.timeoutDeadline == t0 + .seconds(10))
        #expect(m.timerFired(now: t0 + .seconds(9)) == .none)
        let action = m.timerFired(now: t0 + .seconds(10))
        guard case .close(let close) = action else { Issue.record("\(action)"); return }
        #expect(close.disconnect == .idleTimeout)
    }

    @Test func loginDeadlineCountsFromHelloAndPingsDoNotMoveIt() {
        var m = ConnectionStateMachine(limits: limits, now: t0)
        _ = m.receive(.hello(.init(clientName: "test")), now: t0 + .seconds(2))
        #expect(m.timeoutDeadline == t0 + .seconds(12))
        let ping = Frame(opcode: Opcode.ping.rawValue, body: ByteBuffer(bytes: [0, 0, 0, 1]))
        _ = m.receive(frame: ping, now: t0 + .seconds(11))
        #expect(m.timeoutDeadline == t0 + .seconds(12))
        #expect(m.timerFired(now: t0 + .seconds(12) - .nanoseconds(1)) == .none)
        #expect(m.timerFired(now: t0 + .seconds(12))
            == .close(CloseAction(disconnect: .loginTimeout, reason: "no login in time", leaveWorld: false)))
    }

    @Test func loginDeadlineHoldsWhileALoginIsPendingAndEndsWithTheLogin() {
        var m = machine(in: .awaitingLogin)
        _ = m.receive(.login(token: "token-acc-1"))
        #expect(m.timerFired(now: t0 + .seconds(10)) == .close(CloseAction(disconnect: .loginTimeout, reason: "no login in time", leaveWorld: false)))

        var loggedIn = machine(in: .characterSelect)
        #expect(loggedIn.timeoutDeadline == t0 + .seconds(60))
        #expect(loggedIn.timerFired(now: t0 + .seconds(30)) == .none)
    }

    @Test func idleTimeoutMovesWithEveryFrame() {
        var m = machine(in: .inWorld)
        let ping = Frame(opcode: Opcode.ping.rawValue, body: ByteBuffer(bytes: [0, 0, 0, 1]))
        _ = m.receive(frame: ping, now: t0 + .seconds(50))
        #expect(m.timeoutDeadline == t0 + .seconds(110))
        #expect(m.timerFired(now: t0 + .seconds(60)) == .none)
        let action = m.timerFired(now: t0 + .seconds(110))
        #expect(action == .close(CloseAction(
            disconnect: .idleTimeout, reason: "no frame in time", leaveWorld: false,
            linkDead: .init(accountId: "acc-1", characterId: 1))))
    }
}
