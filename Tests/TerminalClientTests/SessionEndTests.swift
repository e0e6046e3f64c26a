import MMOClient
import MMOProtocol
import Testing
@testable import TerminalClient

@Suite("Login refusals, disconnects and takeovers")
struct SessionEndTests {
    @Test("login refusals say what to do, and exit with status 2", arguments: [
        (ResultCode.tokenExpired, "Your session has expired: sign in on the web site again"),
        (ResultCode.tokenUnknown, "Your session is not valid any more"),
        (ResultCode.tokenMalformed, "The session token is not valid"),
        (ResultCode.tokenBadSignature, "not signed by this game's web site"),
        (ResultCode.accountBanned, "This account is banned"),
        (ResultCode.serviceUnavailable, "The game server is unavailable right now"),
        (ResultCode.rateLimited, "Too many login attempts"),
    ])
    func loginRefused(code: ResultCode, message: String) {
        var h = Harness()
        h.send(.connected(serverVersion: 1))
        h.send(.failed(.login, .refused(code)))
        #expect(h.model.screen == .ended)
        let frame = h.frame()
        #expect(frame.contains("Cannot log in"))
        #expect(frame.text.contains(message))
        #expect(frame.contains("Press any key to exit"))
        #expect(h.press(.character(" ")) == [.exit(code: ExitStatus.loginRefused, logout: false)])
    }

    @Test("a login that times out is not called a refusal: exit status 4")
    func loginTimeout() {
        var h = Harness()
        h.send(.connected(serverVersion: 1))
        h.send(.failed(.login, .timedOut(.login)))
        #expect(h.frame().contains("The server did not answer in time"))
        #expect(h.model.ending?.code == ExitStatus.connectionLost)
    }

    @Test("a server that cannot be reached is named, exit status 4")
    func connectFailed() {
        var h = Harness()
        h.send(.failed(.connect, .connectFailed("connection refused")))
        #expect(h.frame().text.contains("Cannot reach the game server at 127.0.0.1:7777"))
        #expect(h.press(.enter) == [.exit(code: ExitStatus.connectionLost, logout: false)])
    }

    @Test("taken over: 'You logged in from another place', later events ignored, exit status 3")
    func takeover() {
        var h = Harness.inWorld()
        h.send(.server(.disconnected(code: .loggedInElsewhere, message: "logged in elsewhere")))
        h.send(.server(.connectionClosed))
        #expect(h.model.screen == .ended)
        let frame = h.frame()
        #expect(frame.contains("Disconnected"))
        #expect(frame.contains("You logged in from another place"))
        #expect(!frame.contains("connection to the server was lost"))
        #expect(h.press(.character("q")) == [.exit(code: ExitStatus.disconnected, logout: false)])
    }

    @Test("the server shutting down is reported as such")
    func shutdown() {
        var h = Harness.atCharacterSelect()
        h.send(.server(.disconnected(code: .serverShuttingDown, message: "maintenance")))
        #expect(h.frame().contains("The server is shutting down: try again later"))
        #expect(h.model.ending?.code == ExitStatus.disconnected)
    }

    @Test("a connection lost without goodbye ends with status 4; so does a request failing with it")
    func connectionLost() {
        var h = Harness.inWorld()
        h.send(.server(.connectionClosed))
        #expect(h.frame().contains("The connection to the server was lost"))
        #expect(h.model.ending?.code == ExitStatus.connectionLost)

        var h2 = Harness.atCharacterSelect()
        h2.press(.character("r"))
        h2.send(.failed(.listCharacters, .connectionClosed))
        #expect(h2.model.ending?.code == ExitStatus.connectionLost)
    }

    @Test("a request refused with DISCONNECT ends the session with the DISCONNECT's reason")
    func requestDisconnected() {
        var h = Harness.atCharacterSelect()
        h.press(.enter)
        h.send(.failed(.enterWorld, .disconnected(.loggedInElsewhere, message: "")))
        #expect(h.frame().contains("You logged in from another place"))
    }

    @Test("removed from the world by the server: back to the list with the reason")
    func removedFromWorld() {
        var h = Harness.inWorld()
        #expect(h.send(.server(.leftWorld(.serviceUnavailable))) == [.listCharacters])
        #expect(h.model.screen == .characterSelect)
        #expect(h.frame().contains("The world service became unavailable"))
    }

    @Test("SIGTERM logs out and exits with 128+15")
    func terminate() {
        var h = Harness.inWorld()
        #expect(h.send(.terminate(code: 143)) == [.exit(code: 143, logout: true)])
    }

    @Test("Ctrl-C quits from any screen, logging out when connected")
    func controlC() {
        var h = Harness()
        #expect(h.press(.control("c")) == [.exit(code: 0, logout: false)])
        var h2 = Harness.inWorld()
        h2.press(.enter)  // even while typing
        #expect(h2.press(.control("c")) == [.exit(code: 0, logout: true)])
    }

    @Test("the terminal going away (end of input) exits even from the final screen")
    func terminalGone() {
        var h = Harness.inWorld()
        h.send(.server(.disconnected(code: .serverShuttingDown, message: "")))
        #expect(h.send(.endOfInput) == [.exit(code: ExitStatus.disconnected, logout: false)])
        var h2 = Harness.inWorld()
        #expect(h2.send(.endOfInput) == [.exit(code: 0, logout: true)])
    }
}
