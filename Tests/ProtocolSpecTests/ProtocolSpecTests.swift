import Foundation
import MMOProtocol
import MMOTime
import NIOCore
import PacketService
import Testing
import WorldService

/// docs/protocol.md is the contract a third-party client is written from. These tests read its
/// tables and worked example and hold the server's codecs, opcode table and defaults to them.
@Suite("docs/protocol.md agrees with the server")
struct ProtocolSpecTests {
    let spec: ProtocolSpec

    init() throws {
        spec = try ProtocolSpec.load()
    }

    private func opcodes(under heading: String) throws -> [(UInt16, String)] {
        let table = try spec.table(under: heading, firstColumn: "opcode")
        return try zip(table.column("opcode"), table.column("name")).map { cell, name in
            let hex = cell.unquoted
            guard hex.hasPrefix("0x"), let value = UInt16(hex.dropFirst(2), radix: 16) else {
                throw ProtocolSpec.SpecError("bad opcode cell \(cell)")
            }
            return (value, name)
        }
    }

    @Test("every client opcode in the spec exists with that name, and no other does")
    func clientOpcodes() throws {
        let documented = try opcodes(under: "Client → server messages")
        #expect(documented.count == 12)
        for (value, name) in documented {
            let opcode = try #require(Opcode(rawValue: value), "spec opcode \(name) is unknown to the server")
            #expect(opcode.isClientOpcode)
            #expect("\(opcode)".screamingSnakeCase == name)
        }
        let server = Opcode.allCases.filter(\.isClientOpcode).map(\.rawValue)
        #expect(Set(server) == Set(documented.map(\.0)))
    }

    @Test("every server opcode in the spec exists with that name, and no other does")
    func serverOpcodes() throws {
        let documented = try opcodes(under: "Server → client messages")
        for (value, name) in documented {
            let opcode = try #require(Opcode(rawValue: value), "spec opcode \(name) is unknown to the server")
            #expect(!opcode.isClientOpcode)
            #expect("\(opcode)".screamingSnakeCase == name)
        }
        let server = Opcode.allCases.filter { !$0.isClientOpcode }.map(\.rawValue)
        #expect(Set(server) == Set(documented.map(\.0)))
    }

    @Test("the state table is the gateway's opcode table")
    func legality() throws {
        let table = try spec.table(under: "Connection states", firstColumn: "opcode")
        let states: [(String, ConnectionState)] = [
            ("CONNECTED", .connected), ("AWAITING_LOGIN", .awaitingLogin),
            ("CHARACTER_SELECT", .characterSelect), ("IN_WORLD", .inWorld),
        ]
        let names = try table.column("opcode")
        let clientOpcodes = Opcode.allCases.filter(\.isClientOpcode)
        #expect(Set(names) == Set(clientOpcodes.map { "\($0)".screamingSnakeCase }))
        for opcode in clientOpcodes {
            let name = "\(opcode)".screamingSnakeCase
            let row = try #require(names.firstIndex(of: name))
            let rule = OpcodeTable.rule(for: opcode)
            for (column, state) in states {
                let marked = try table.column(column)[row] == "✓"
                #expect(marked == rule.legalIn.contains(state), "\(name) in \(column)")
            }
            #expect(try (table.column("request")[row] == "request") == rule.isRequest, "\(name) request")
        }
    }

    @Test("result codes: the table is exactly the server's codes, each with a documented use")
    func resultCodes() throws {
        let table = try spec.table(under: "Result codes", firstColumn: "code")
        let documented = try zip(table.column("code"), table.column("name")).map { code, name in
            (try #require(UInt16(code)), name)
        }
        #expect(documented.map(\.0) == ResultCode.all.map(\.0.rawValue))
        #expect(documented.map(\.1) == ResultCode.all.map(\.1))
        for (code, meaning) in try zip(table.column("code"), table.column("meaning")) where code != "0" {
            #expect(!meaning.isEmpty, "result code \(code) has no documented use")
        }
    }

    @Test("event kinds match the codec, and their field lists match the encoded size")
    func worldEvents() throws {
        let table = try spec.table(under: "World updates", firstColumn: "kind")
        let samples: [String: WorldEvent] = [
            "APPEAR": .appear(.init(entityId: 1, name: "Ann", classId: 1, appearance: 0, level: 1, x: 0, y: 0)),
            "MOVE": .move(entityId: 1, x: 0, y: 0),
            "DISAPPEAR": .disappear(entityId: 1),
            "CHAT": .chat(entityId: 1, name: "Ann", text: "Ann"),
            "CORRECTION": .correction(seq: 1, x: 0, y: 0, reason: .moveTooFast),
        ]
        let kinds = try table.column("kind").map { try #require(UInt8($0)) }
        for (index, name) in try table.column("event").enumerated() {
            let event = try #require(samples[name], "no sample for \(name)")
            var buffer = ByteBuffer()
            event.encode(into: &buffer)
            #expect(buffer.getInteger(at: 0, as: UInt8.self) == kinds[index], "\(name) kind byte")
            // Every string in a sample is 3 bytes, so its wire size is 2 + 3.
            let sizes = ["u8": 1, "u16": 2, "u32": 4, "u64": 8, "f32": 4, "string": 5]
            // The layout is the backquoted list before any " — " remark.
            let layout = try table.column("fields")[index].components(separatedBy: " — ")[0]
            let fields = layout.split(separator: ",").map { String($0).unquoted }
            let size = try fields.reduce(1) { total, field in
                let type = String(field.split(separator: " ").first ?? "")
                return total + (try #require(sizes[type], "unknown field type in \(field)"))
            }
            #expect(buffer.readableBytes == size, "\(name): spec says \(size) bytes")
        }
        #expect(Set(kinds) == Set(samples.values.map { event in
            var b = ByteBuffer()
            event.encode(into: &b)
            return b.getInteger(at: 0, as: UInt8.self) ?? 0
        }))
    }

    @Test("the limits table is the codec's limits")
    func limits() throws {
        let table = try spec.table(under: "Limits", firstColumn: "field")
        let expected: [String: Int] = [
            "client name in HELLO": ProtocolLimits.maxClientNameBytes,
            "session token in LOGIN": ProtocolLimits.maxTokenBytes,
            "resume token (RESUME, RESUME_TOKEN)": ProtocolLimits.maxResumeTokenBytes,
            "character name (CHARACTER_CREATE, Character, APPEAR, CHAT)": ProtocolLimits.maxCharacterNameBytes,
            "chat text (SAY, CHAT)": ProtocolLimits.maxChatBytes,
            "account id in LOGIN_RESULT": ProtocolLimits.maxAccountIdBytes,
            "display name in LOGIN_RESULT": ProtocolLimits.maxDisplayNameBytes,
            "message in DISCONNECT, detail in CHARACTER_CREATE_RESULT": ProtocolLimits.maxMessageBytes,
        ]
        let fields = try table.column("field")
        #expect(Set(fields) == Set(expected.keys))
        for (field, value) in try zip(fields, table.column("max bytes")) {
            #expect(Int(value) == expected[field], "\(field)")
        }
    }

    @Test("the defaults table is what a gateway and a world ship with")
    func defaults() throws {
        let table = try spec.table(under: "Defaults", firstColumn: "limit")
        let packet = PacketServerConfiguration(gatewayId: "spec")
        let world = WorldConfiguration()
        let expected: [String: Double] = [
            "maximum client frame, bytes": Double(packet.maxFrameSize),
            "HELLO timeout, seconds": packet.helloTimeout.inSeconds,
            "login timeout, seconds": packet.loginTimeout.inSeconds,
            "idle timeout, seconds": packet.idleTimeout.inSeconds,
            "resume grace, seconds": packet.resumeGrace.inSeconds,
            "frames per second": packet.rateLimitFramesPerSecond,
            "frame burst": Double(packet.rateLimitBurst),
            "rate-limited frames before DISCONNECT": Double(packet.maxRateLimitedFrames),
            "illegal frames before DISCONNECT": Double(packet.maxIllegalFrames),
            "failed logins before DISCONNECT": Double(packet.maxFailedLogins),
            "chat lines per window": Double(packet.chatRateLimitLines),
            "chat window, seconds": packet.chatRateLimitPeriod.inSeconds,
            "chat radius, units": Double(world.chatRadius),
            "interest radius, units": Double(world.interestRadius),
            "interest hysteresis": Double(world.interestHysteresis),
            "visible entities": Double(world.maxVisibleEntities),
            "tick rate, Hz": Double(world.tickRateHz),
            "walking speed, units per second": Double(world.maxSpeed),
            "speed tolerance": Double(world.speedTolerance),
            "move slack, units": Double(world.moveSlack),
            "longest credited pause, seconds": world.maxCreditedMoveTime.inSeconds,
        ]
        let limits = try table.column("limit")
        #expect(Set(limits) == Set(expected.keys))
        for (limit, value) in try zip(limits, table.column("default")) {
            let documented = try #require(Double(value), "\(limit): \(value) is not a number")
            let actual = try #require(expected[limit])
            #expect(abs(documented - actual) < 1e-6, "\(limit): spec \(documented), server \(actual)")
        }
    }

    @Test("the worked example decodes to the messages it describes and re-encodes byte for byte")
    func workedExample() throws {
        let frames = spec.example
        let expected: [Any] = [
            ClientMessage.hello(.init(clientName: "bot")),
            ServerMessage.helloAck(version: 2, maxClientFrame: 4096),
            ClientMessage.login(token: "AbCdEfGhIjKlMnOpQrStUvWxYz012345"),
            ServerMessage.loginResult(code: .ok, accountId: "u1", displayName: "Ann"),
            ClientMessage.characterList,
            ServerMessage.characterListResult(code: .ok, maxCharacters: 8, characters: [
                CharacterSummary(id: 7, name: "Arthas", classId: 1, appearance: 0, level: 1, zoneId: 1, x: 500, y: 500),
            ]),
            ClientMessage.enterWorld(characterId: 7),
            ServerMessage.enterWorldResult(code: .ok, entry: WorldEntry(entityId: 42, zoneId: 1, x: 500, y: 500, tickRateHz: 20)),
            ServerMessage.resumeToken(token: "Zm9vYmFyYmF6cXV4MTIzNDU2Nzg5MGFiY2RlZmdoaWo", graceSeconds: 60),
            ClientMessage.move(seq: 1, x: 501, y: 500),
            ServerMessage.worldUpdate(tick: 1234, events: [.move(entityId: 9, x: 498.5, y: 502)]),
            ServerMessage.disconnect(code: .loggedInElsewhere, message: "logged in elsewhere"),
        ]
        #expect(frames.count == expected.count)
        for (frame, message) in zip(frames, expected) {
            var buffer = ByteBuffer(bytes: frame.bytes)
            let parsed = try #require(try FrameParser(maxFrameSize: ProtocolLimits.maxServerFrame).parse(&buffer), "\(frame.note)")
            #expect(buffer.readableBytes == 0, "trailing bytes after: \(frame.note)")
            var encoded = ByteBuffer()
            if frame.fromClient {
                let want = try #require(message as? ClientMessage, "\(frame.note) should be from the server")
                #expect(try ClientMessage.decode(parsed) == want, "\(frame.note)")
                want.encode(into: &encoded)
            } else {
                let want = try #require(message as? ServerMessage, "\(frame.note) should be from the client")
                #expect(try ServerMessage.decode(parsed) == want, "\(frame.note)")
                want.encode(into: &encoded)
            }
            #expect(Array(encoded.readableBytesView) == frame.bytes, "\(frame.note)")
        }
    }
}
