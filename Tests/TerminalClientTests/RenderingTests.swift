import MMOClient
import MMOProtocol
import Testing
@testable import TerminalClient

@Suite("Rendering fits the terminal")
struct RenderingTests {
    /// Models on every screen, filled with awkward content (long names, wide characters,
    /// many players, long chat).
    static func screens() -> [(String, ClientScreenModel)] {
        var result: [(String, ClientScreenModel)] = []
        result.append(("connecting", Harness().model))

        var select = Harness.atCharacterSelect((1...8).map {
            CharacterSummary(id: UInt64($0), name: "Averyveryverylon", classId: UInt8($0 % 5), appearance: 0, level: 999,
                             zoneId: 1, x: -123.45, y: 99999)
        })
        result.append(("select", select.model))
        select.press(.character("c"))
        select.type("日本語の名前と非常に長いテキスト", enter: false)
        result.append(("create form", select.model))

        var world = Harness.inWorld()
        for i in 0..<60 {
            world.world(.player(UInt64(100 + i), "Player\(i)wxyzabcdef", x: 500 + Float(i % 11) * 3 - 15, y: 500 + Float(i / 11) * 4 - 12))
        }
        for i in 0..<30 {
            world.world(.chat(entityId: 100, name: "Player0", text: "message \(i) 🙂 日本語 " + String(repeating: "long ", count: i)))
        }
        world.world(.correction(seq: 1, x: 500, y: 500, reason: .moveTooFast))
        result.append(("world", world.model))
        world.press(.enter)
        world.type(String(repeating: "typing a very long line ", count: 8), enter: false)
        result.append(("world typing", world.model))

        var ended = Harness.inWorld()
        ended.send(.server(.disconnected(code: .loggedInElsewhere, message: "")))
        result.append(("ended", ended.model))
        return result
    }

    @Test("no line is wider than the terminal and no frame taller, at any size")
    func fits() {
        let widths = [1, 5, 10, 23, 24, 30, 40, 60, 80, 84, 100, 120, 200]
        let heights = [1, 3, 5, 6, 8, 12, 24, 40, 60]
        for (name, model) in Self.screens() {
            for width in widths {
                for height in heights {
                    let frame = model.render(width: width, height: height)
                    #expect(frame.lines.count <= height, "\(name) \(width)x\(height): \(frame.lines.count) lines")
                    #expect(frame.styles.count == frame.lines.count, "\(name) \(width)x\(height)")
                    for line in frame.lines {
                        #expect(TextLayout.width(of: line) <= width, "\(name) \(width)x\(height): \(line)")
                    }
                    if let cursor = frame.cursor {
                        #expect(cursor.row < frame.lines.count && cursor.column < width, "\(name) \(width)x\(height) cursor")
                    }
                }
            }
        }
    }

    @Test("a frame fills the whole height, so the status and hints sit at the bottom")
    func fillsHeight() {
        let world = Harness.inWorld()
        let frame = world.frame(width: 80, height: 24)
        #expect(frame.lines.count == 24)
        #expect(frame.lines[23].contains("WASD"))
    }

    @Test("a terminal too small gets a notice instead of a broken layout")
    func tooSmall() {
        let frame = Harness.inWorld().frame(width: 20, height: 4)
        #expect(frame.text.contains("too small"))
        #expect(frame.lines.count <= 4)
    }

    @Test("narrow terminals drop the map but keep players and chat")
    func narrow() {
        var h = Harness.inWorld()
        h.world(.player(9, "Bob", x: 503, y: 500), .chat(entityId: 9, name: "Bob", text: "hi"))
        let narrow = h.frame(width: 40, height: 16)
        #expect(narrow.contains("Bob"))
        #expect(narrow.contains("Bob: hi"))
        #expect(!narrow.text.contains("+---"))
        let wide = h.frame(width: 120, height: 40)
        #expect(wide.text.contains("+---"))
    }
}
