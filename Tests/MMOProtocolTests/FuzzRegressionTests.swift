import Foundation
import NIOCore
import Testing
import MMOProtocol

/// Replays the fuzz seed corpus (`Fuzz/Corpus/<target>/`) and every input the fuzzer ever
/// crashed on (`Tests/Fixtures/fuzz-regressions/<target>/`, kept by `scripts/fuzz.sh`) through
/// `DecoderFuzzCheck`, the very check the libFuzzer targets run: each input must be decoded or
/// refused with a `ProtocolError`, with every round-trip property holding, and never crash.
/// See Fuzz/README.md.
@Suite struct FuzzRegressionTests {
    static let repository = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let corpus = repository.appending(path: "Fuzz/Corpus")
    static let regressions = repository.appending(path: "Tests/Fixtures/fuzz-regressions")
    static let clientOpcodes = Set(Opcode.allCases.filter(\.isClientOpcode).map(\.rawValue))

    /// One valid message of every client opcode: the seed corpus is made from these.
    static let seedMessages: [ClientMessage] = [
        .hello(.init(clientName: "mmo-bot/1")), .ping(nonce: 0xDEAD_BEEF), .logout,
        .login(token: "AbCdEfGhIjKlMnOpQrStUvWxYz012345"), .characterList,
        .characterCreate(name: "Arthas", classId: 2, appearance: 0x0102_0304),
        .characterDelete(characterId: 1 << 40), .enterWorld(characterId: 42),
        .move(seq: 7, x: 500.5, y: -0.125), .say(text: "hello 🌍"), .leaveWorld,
        .resume(token: "Zm9vYmFyYmF6cXV4MTIzNDU2Nzg5MGFiY2RlZmdoaWo"),
    ]

    /// The seed corpus, file name to bytes, per target. A frame-stream seed is a split byte and
    /// one frame (split seeds 1, 2, 3...: reads of 1-16 bytes), plus whole sessions read in
    /// small and in large pieces; a client-message seed is a frame without its length prefix.
    static func seedCorpus() -> [DecoderFuzzCheck.Target: [String: [UInt8]]] {
        var frames: [String: [UInt8]] = [:]
        var messages: [String: [UInt8]] = [:]
        var session = ByteBuffer()
        for (index, message) in seedMessages.enumerated() {
            var frame = ByteBuffer()
            message.encode(into: &frame)
            session.writeImmutableBuffer(frame)
            let name = String(describing: message.opcode)
            frames[name] = [UInt8(index + 1)] + Array(frame.readableBytesView)
            messages[name] = Array(frame.readableBytesView.dropFirst(4))
        }
        frames["session-small-reads"] = [0x07] + Array(session.readableBytesView)
        frames["session-large-reads"] = [0x90] + Array(session.readableBytesView)
        return [.frameStream: frames, .clientMessage: messages]
    }

    /// Every input file in `folder` (none if it does not exist); dot files and READMEs are notes.
    static func inputs(in folder: URL) throws -> [(name: String, bytes: [UInt8])] {
        guard FileManager.default.fileExists(atPath: folder.path) else { return [] }
        return try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted()
            .filter { !$0.hasPrefix(".") && !$0.hasSuffix(".md") }
            .map { ($0, Array(try Data(contentsOf: folder.appending(path: $0)))) }
    }

    @Test(arguments: DecoderFuzzCheck.Target.allCases)
    func crashInputsAreDecodedOrRefusedNeverBroken(_ target: DecoderFuzzCheck.Target) throws {
        // The folder (with its README) exists even while it holds no input: a wrong path here
        // would silently replay nothing.
        #expect(FileManager.default.fileExists(atPath: Self.regressions.appending(path: "README.md").path))
        for input in try Self.inputs(in: Self.regressions.appending(path: target.rawValue)) {
            do {
                _ = try DecoderFuzzCheck.check(target, input: ByteBuffer(bytes: input.bytes))
            } catch {
                Issue.record("fuzz-regressions/\(target.rawValue)/\(input.name): \(error)")
            }
        }
    }

    @Test(arguments: DecoderFuzzCheck.Target.allCases)
    func seedCorpusDecodesEveryClientMessage(_ target: DecoderFuzzCheck.Target) throws {
        let files = try Self.inputs(in: Self.corpus.appending(path: target.rawValue))
        #expect(files.count >= Self.clientOpcodes.count)
        var decoded = Set<UInt16>()
        for input in files {
            let outcome = try DecoderFuzzCheck.check(target, input: ByteBuffer(bytes: input.bytes))
            #expect(outcome.rejection == nil, "Corpus/\(target.rawValue)/\(input.name) was refused")
            decoded.formUnion(outcome.decodedOpcodes)
        }
        #expect(decoded == Self.clientOpcodes, "the seed corpus must hold every client message")
    }

    @Test func seedMessagesCoverEveryClientOpcode() {
        #expect(Set(Self.seedMessages.map(\.opcode.rawValue)) == Self.clientOpcodes,
                "add the new message to seedMessages and regenerate the corpus (Fuzz/README.md)")
    }

    /// The committed corpus is what `seedCorpus()` makes; `MMO_WRITE_FUZZ_CORPUS=1` rewrites it.
    @Test func seedCorpusFilesMatchTheSeedMessages() throws {
        let write = ProcessInfo.processInfo.environment["MMO_WRITE_FUZZ_CORPUS"] == "1"
        for (target, files) in Self.seedCorpus() {
            let folder = Self.corpus.appending(path: target.rawValue)
            if write { try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true) }
            for (name, bytes) in files {
                let url = folder.appending(path: name)
                if write { try Data(bytes).write(to: url) }
                let onDisk = try? Data(contentsOf: url)
                #expect(onDisk.map(Array.init) == bytes,
                        "Corpus/\(target.rawValue)/\(name) is stale: MMO_WRITE_FUZZ_CORPUS=1 swift test --filter FuzzRegressionTests")
            }
        }
    }

    /// What the replay relies on: a refusal is the `ProtocolError` the server would close with,
    /// naming the frame's own opcode, and an incomplete frame is neither decoded nor refused.
    @Test func refusalsAreProtocolErrorsNamingTheFrame() throws {
        // A HELLO whose name length runs past the body, then a frame announcing 1 MiB.
        var stream: [UInt8] = [0x00, 0, 0, 0, 8, 0x00, 0x01, 0x4D, 0x4D, 0x4F, 0x52, 0, 1]
        stream += [0, 16, 0, 0, 0x00, 0x02]
        let malformed = try DecoderFuzzCheck.check(.frameStream, input: ByteBuffer(bytes: stream))
        #expect(malformed.rejection == .malformed(opcode: Opcode.hello.rawValue, reason: "truncated"))
        #expect(malformed.decodedOpcodes.isEmpty)

        let oversize = try DecoderFuzzCheck.check(.frameStream, input: ByteBuffer(bytes: [0x03, 0, 16, 0, 0, 0, 2]))
        #expect(oversize.rejection == .frameTooLarge(length: 1 << 20, limit: DecoderFuzzCheck.maxFrameSize))

        let serverOpcode = try DecoderFuzzCheck.check(.clientMessage, input: ByteBuffer(bytes: [0x80, 0x02, 0, 0, 0, 1]))
        #expect(serverOpcode.rejection == .unknownOpcode(Opcode.pong.rawValue))

        let incomplete = try DecoderFuzzCheck.check(.frameStream, input: ByteBuffer(bytes: [0x01, 0, 0, 0, 6, 0x00, 0x02, 0]))
        #expect(incomplete == DecoderFuzzCheck.Outcome(), "an incomplete frame is neither decoded nor refused")
    }
}
