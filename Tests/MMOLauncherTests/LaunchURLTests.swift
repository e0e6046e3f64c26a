import Foundation
import Testing

@testable import MMOLauncher

/// A valid HMAC-SHA256 signature in base64 (32 bytes -> 44 characters), with '+' and '/'.
let signature = Data((0..<32).map { UInt8(($0 * 37 + 251) % 256) }).base64EncodedString()

private func url(server: String = "play.example.com:7777", token: String = rawToken) -> String {
    "mmo://play?server=\(server)&token=\(token)"
}

private func parse(_ text: String, scheme: String = "mmo") -> Result<LaunchRequest, LaunchRequestError> {
    Result { () throws(LaunchRequestError) in try LaunchURLParser(scheme: scheme).parse(text) }
}

@Suite("Launch URL parsing")
struct LaunchURLTests {
    @Test("a well-formed URL gives the server and the token")
    func validURL() throws {
        let request = try LaunchURLParser().parse(url())
        #expect(request.server.host == "play.example.com")
        #expect(request.server.port == 7777)
        #expect(request.server.description == "play.example.com:7777")
        #expect(request.credential.value == rawToken)
    }

    @Test(
        "accepted variants: case of scheme and target, slash before the query, parameter order, IP literals",
        arguments: [
            ("MMO://PLAY?server=a.example:1&token=\(rawToken)", "a.example:1"),
            ("mmo://play/?server=a.example:1&token=\(rawToken)", "a.example:1"),
            ("mmo://play?token=\(rawToken)&server=A.Example:65535", "a.example:65535"),
            ("mmo://play?server=127.0.0.1:7777&token=\(rawToken)", "127.0.0.1:7777"),
            ("mmo://play?server=[::1]:7777&token=\(rawToken)", "[::1]:7777"),
            ("mmo://play?server=%5B2001:db8::1%5D:7777&token=\(rawToken)", "[2001:db8::1]:7777"),
            ("mmo://play?server=localhost:7777&token=\(rawToken)", "localhost:7777"),
            ("mmo://play?server=xn--bcher-kva.example:7777&token=\(rawToken)", "xn--bcher-kva.example:7777"),
        ])
    func acceptedVariants(text: String, server: String) throws {
        let request = try LaunchURLParser().parse(text)
        #expect(request.server.description == server)
        #expect(request.credential.value == rawToken)
    }

    @Test("a configured scheme replaces mmo")
    func customScheme() throws {
        #expect(throws: Never.self) { try LaunchURLParser(scheme: "mygame").parse("mygame://play?server=a.b:1&token=\(rawToken)") }
        #expect(throws: LaunchRequestError.wrongScheme(expected: "mygame")) {
            try LaunchURLParser(scheme: "mygame").parse(url())
        }
    }

    @Test("the signed cookie form is accepted raw, percent-encoded, and percent-encoded again inside the URL")
    func signedTokens() throws {
        let plain = "\(rawToken).\(signature)"
        #expect(signature.contains("+") || signature.contains("/"))
        let cookie = rawToken + "." + signature.replacingOccurrences(of: "+", with: "%2B").replacingOccurrences(of: "/", with: "%2F")
            .replacingOccurrences(of: "=", with: "%3D")
        let cookieInURL = cookie.replacingOccurrences(of: "%", with: "%25")
        for token in [plain, cookie, cookieInURL] {
            let request = try LaunchURLParser().parse(url(token: token))
            #expect(request.credential.value == plain, "normalized to token.base64 for \(token)")
        }
    }

    @Test(
        "wrong scheme or target is refused",
        arguments: [
            ("http://play?server=a.b:1&token=\(rawToken)", LaunchRequestError.wrongScheme(expected: "mmo")),
            ("mmox://play?server=a.b:1&token=\(rawToken)", .wrongScheme(expected: "mmo")),
            ("play?server=a.b:1&token=\(rawToken)", .wrongScheme(expected: "mmo")),
            ("", .wrongScheme(expected: "mmo")),
            ("mmo:play?server=a.b:1&token=\(rawToken)", .wrongTarget(expected: "play")),
            ("mmo:///play?server=a.b:1&token=\(rawToken)", .wrongTarget(expected: "play")),
            ("mmo://evil.example?server=a.b:1&token=\(rawToken)", .wrongTarget(expected: "play")),
            ("mmo://user@play?server=a.b:1&token=\(rawToken)", .wrongTarget(expected: "play")),
            ("mmo://play:80?server=a.b:1&token=\(rawToken)", .wrongTarget(expected: "play")),
            ("mmo://play/extra?server=a.b:1&token=\(rawToken)", .wrongTarget(expected: "play")),
            ("mmo://play//?server=a.b:1&token=\(rawToken)", .wrongTarget(expected: "play")),
            ("mmo://play", .missingQuery),
            ("mmo://play?", .missingQuery),
            ("mmo://play?server=a.b:1&token=\(rawToken)#x", .fragmentNotAllowed),
        ])
    func wrongShape(text: String, expected: LaunchRequestError) {
        #expect(parse(text) == .failure(expected))
    }

    @Test(
        "missing, duplicate, unknown and malformed parameters are refused",
        arguments: [
            ("mmo://play?token=\(rawToken)", LaunchRequestError.missingParameter("server")),
            ("mmo://play?server=a.b:1", .missingParameter("token")),
            ("mmo://play?server=a.b:1&server=c.d:2&token=\(rawToken)", .duplicateParameter("server")),
            ("mmo://play?server=a.b:1&token=\(rawToken)&token=\(rawToken)", .duplicateParameter("token")),
            ("mmo://play?server=a.b:1&token=\(rawToken)&debug=1", .unknownParameter("debug")),
            ("mmo://play?Server=a.b:1&token=\(rawToken)", .unknownParameter("Server")),
            ("mmo://play?%73erver=a.b:1&token=\(rawToken)", .encodedParameterName),
            ("mmo://play?server=a.b:1&&token=\(rawToken)", .malformedParameter),
            ("mmo://play?server=a.b:1&token=\(rawToken)&", .malformedParameter),
            ("mmo://play?server&token=\(rawToken)", .malformedParameter),
            ("mmo://play?=x&server=a.b:1&token=\(rawToken)", .malformedParameter),
            ("mmo://play?server=a.b:1;token=\(rawToken)", .missingParameter("token")),
            ("mmo://play?server=a.b:1&token=\(rawToken)&patch=https://evil.example/m.json", .patchParameterNotAccepted),
        ])
    func badParameters(text: String, expected: LaunchRequestError) {
        #expect(parse(text) == .failure(expected))
    }

    @Test("ports outside 1-65535 or not plain digits are refused", arguments: ["0", "65536", "-1", "abc", "", "07777", "+80", "99999999999999999999", "7777.0", "0x1f"])
    func badPorts(port: String) {
        #expect(parse(url(server: "a.example:" + port)) == .failure(.invalidPort))
    }

    @Test(
        "hosts with user names, paths, spaces, unicode or bad syntax are refused",
        arguments: [
            "user@a.example:1", "user:pw@a.example:1", "a.example/path:1", "%20a.example:1", "a%20b.example:1",
            "b%C3%BCcher.example:1", "-a.example:1", "a-.example:1", "a..b:1", ".a.b:1", "a.b.:1", "::1:7777", "[::1]",
            "[::1]7777", "[fe80::1%25eth0]:1", "[zz::1]:1", "999.1.1.1:1", "1.2.3:1", "010.1.1.1:1", "1.2.3.4.5:1",
            "a.example", String(repeating: "a", count: 64) + ".example:1", "a_b.example:1", "a%00.example:1",
            "[::1]:1%0A", "localhost%0d%0aX:1",
        ])
    func badHosts(server: String) {
        guard case .failure(let error) = parse(url(server: server)) else {
            Issue.record("accepted \(server)")
            return
        }
        switch error {
        case .invalidServer, .invalidPort, .badPercentEncoding: break
        default: Issue.record("unexpected error \(error) for \(server)")
        }
    }

    @Test("raw spaces, control characters and non-ASCII anywhere are refused before parsing")
    func rawBadCharacters() {
        for text in [url(server: "a b:1"), url() + " ", url().replacingOccurrences(of: "play", with: "pläy"), url() + "\n", "\t" + url()] {
            #expect(parse(text) == .failure(.invalidCharacters))
        }
    }

    static let badTokenInputs: [String] = {
        let short = String(rawToken.dropLast())
        var list: [String] = []
        list.append(short)  // 31
        list.append(rawToken + "A")  // 33
        list.append("")
        list.append(short + "'")
        list.append(short + "%22")  // "
        list.append("%27%20OR%201%3D1--")  // ' OR 1=1--
        list.append(String(rawToken.dropLast(10)) + "%3BDROP%20TABL")  // ;DROP TABL
        list.append(short + "%0A")  // newline
        list.append(short + "%00")  // NUL
        list.append(rawToken + "%0A")
        list.append(String(repeating: "A", count: 300))
        list.append(short + "%C3%A9")  // é
        list.append(short + "+")
        list.append(rawToken + ".")
        list.append(rawToken + "." + String(signature.dropLast()))  // 43 characters
        list.append(rawToken + "." + signature + "A")
        let base64URL = signature.replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
        list.append(rawToken + "." + base64URL)
        list.append(short + "." + signature)
        list.append(rawToken + "." + signature + "." + signature)
        list.append(rawToken + "." + signature.replacingOccurrences(of: "=", with: "%25253D"))  // encoded three times
        return list
    }()

    @Test("tokens of the wrong shape are refused", arguments: badTokenInputs)
    func badTokens(token: String) {
        guard case .failure(let error) = parse(url(token: token)) else {
            Issue.record("accepted token \(token)")
            return
        }
        switch error {
        case .invalidToken, .badPercentEncoding, .invalidCharacters: break
        default: Issue.record("unexpected error \(error)")
        }
    }

    @Test("broken percent-encoding is refused, including overlong UTF-8")
    func badPercentEncoding() {
        #expect(parse(url(server: "a.b:1%")) == .failure(.badPercentEncoding(parameter: "server")))
        #expect(parse(url(server: "a.b:1%2")) == .failure(.badPercentEncoding(parameter: "server")))
        #expect(parse(url(server: "a.b:%zz")) == .failure(.badPercentEncoding(parameter: "server")))
        #expect(parse(url(server: "a%C0%AE.b:1")) == .failure(.badPercentEncoding(parameter: "server")))
        #expect(parse(url(token: "%FF" + rawToken)) == .failure(.badPercentEncoding(parameter: "token")))
    }

    @Test("percent-encoded letters are the letters (RFC 3986 equivalence)")
    func encodedUnreserved() throws {
        let encoded = "%41" + rawToken.dropFirst()  // %41 is 'A'
        #expect(try LaunchURLParser().parse(url(token: String(encoded))).credential.value == rawToken)
    }

    @Test("an over-long URL is refused without being parsed")
    func overLong() {
        let text = url() + "&x=" + String(repeating: "a", count: 3000)
        #expect(parse(text) == .failure(.tooLong(limit: 2048)))
    }

    @Test("no error message contains the token")
    func messagesNeverHoldTheToken() {
        let secret = "ZyXwVuTsRqPoNmLkJiHgFeDcBa987654"
        let texts = [
            "mmo://play?server=a.b:0&token=\(secret)", "mmo://play?server=a.b:1&token=\(secret)&x=1",
            "mmo://play?server=a.b:1&token=\(secret)x", "http://play?server=a.b:1&token=\(secret)",
            "mmo://play?server=a.b:1&token=\(secret)&token=\(secret)", "mmo://play?token=\(secret)",
            "mmo://play?server=a.b:1&\(secret)=1&token=\(secret)",
        ]
        for text in texts {
            guard case .failure(let error) = parse(text) else {
                Issue.record("accepted")
                continue
            }
            #expect(!error.description.contains(secret))
            #expect(!error.description.contains(secret.prefix(12)))
        }
        let credential = try? SessionCredential.parse(secret)
        #expect(credential.map { "\($0)" } == "<session token>")
    }

    @Test("--server/--token go through the same validation")
    func optionsValidation() throws {
        let request = try LaunchRequest(server: "[::1]:7777", token: rawToken)
        #expect(request.server.isIPv6)
        #expect(throws: LaunchRequestError.invalidPort) { try LaunchRequest(server: "a.b:0", token: rawToken) }
        #expect(throws: LaunchRequestError.invalidToken) { try LaunchRequest(server: "a.b:1", token: "x") }
        // The cookie value as the browser stores it (percent-encoded) is fine as an option.
        let cookie = rawToken + "." + signature.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!
        #expect(try LaunchRequest(server: "a.b:1", token: cookie).credential.value == "\(rawToken).\(signature)")
    }

    @Test("scheme names are checked before use")
    func schemeValidation() {
        #expect(LaunchURLParser.isValidScheme("mmo"))
        #expect(LaunchURLParser.isValidScheme("my-game.v2"))
        for bad in ["", "1mmo", "mm o", "mmo+x", "mmo/", "mmo:", "http://", String(repeating: "a", count: 33)] {
            #expect(!LaunchURLParser.isValidScheme(bad), "\(bad)")
        }
    }
}
