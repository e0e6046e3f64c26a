import Testing
@testable import TerminalClient

@Suite("KeyDecoder")
struct KeyDecoderTests {
    private func decode(_ bytes: [UInt8]) -> [Key] {
        var decoder = KeyDecoder()
        return decoder.feed(bytes) + decoder.flush()
    }

    @Test("arrow keys in normal (CSI) and application (SS3) mode")
    func arrows() {
        #expect(decode([0x1B, 0x5B, 0x41, 0x1B, 0x5B, 0x42, 0x1B, 0x5B, 0x43, 0x1B, 0x5B, 0x44]) == [.up, .down, .right, .left])
        #expect(decode([0x1B, 0x4F, 0x41, 0x1B, 0x4F, 0x44]) == [.up, .left])
    }

    @Test("modified arrows (Ctrl+Up is ESC [ 1 ; 5 A) still move")
    func modifiedArrows() {
        #expect(decode(Array("\u{1B}[1;5A\u{1B}[1;2C".utf8)) == [.up, .right])
    }

    @Test("tilde sequences: Home, Delete, PageUp, End; an unknown one is consumed whole")
    func tildeKeys() {
        #expect(decode(Array("\u{1B}[1~\u{1B}[3~\u{1B}[5~\u{1B}[4~".utf8)) == [.home, .delete, .pageUp, .end])
        // F5 is ESC [ 15 ~: one unknown key, not "5", "~" typed into a chat line.
        #expect(decode(Array("\u{1B}[15~x".utf8)) == [.unknown, .character("x")])
    }

    @Test("a sequence split across reads is decoded once complete")
    func splitSequence() {
        var decoder = KeyDecoder()
        #expect(decoder.feed([0x1B]) == [])
        #expect(decoder.hasPending)
        #expect(decoder.feed([0x5B]) == [])
        #expect(decoder.feed([0x43, 0x61]) == [.right, .character("a")])
        #expect(!decoder.hasPending)
    }

    @Test("a lone ESC is held until flush, then is the Escape key")
    func loneEscape() {
        var decoder = KeyDecoder()
        #expect(decoder.feed([0x1B]) == [])
        #expect(decoder.flush() == [.escape])
        #expect(!decoder.hasPending)
        // ESC ESC: the first is complete at once.
        #expect(decoder.feed([0x1B, 0x1B]) == [.escape])
        #expect(decoder.flush() == [.escape])
    }

    @Test("Enter: CR, LF and CR LF each give exactly one Enter")
    func enter() {
        #expect(decode([0x0D]) == [.enter])
        #expect(decode([0x0A]) == [.enter])
        #expect(decode([0x0D, 0x0A]) == [.enter])
        #expect(decode([0x0D, 0x0D]) == [.enter, .enter])
        var decoder = KeyDecoder()
        #expect(decoder.feed([0x0D]) == [.enter])
        #expect(decoder.feed([0x0A]) == [])  // the LF of a CR LF split over two reads
    }

    @Test("backspace, tab and control keys")
    func controlKeys() {
        #expect(decode([0x7F, 0x08, 0x09, 0x03, 0x04, 0x15]) == [.backspace, .backspace, .tab, .control("c"), .control("d"), .control("u")])
    }

    @Test("printable ASCII and WASD are characters")
    func printable() {
        #expect(decode(Array("wasd /".utf8)) == "wasd /".map { .character($0) })
    }

    @Test("UTF-8 characters, including one split between reads")
    func utf8() {
        #expect(decode(Array("é日🙂".utf8)) == [.character("é"), .character("日"), .character("🙂")])
        var decoder = KeyDecoder()
        let bytes = Array("日".utf8)
        #expect(decoder.feed(bytes[0..<2]) == [])
        #expect(decoder.feed(bytes[2...]) == [.character("日")])
    }

    @Test("invalid UTF-8 becomes unknown keys without swallowing what follows")
    func invalidUTF8() {
        #expect(decode([0xFF, 0x61]) == [.unknown, .character("a")])
        #expect(decode([0xE6, 0x61]) == [.unknown, .character("a")])  // lead byte, then not a continuation
    }
}
