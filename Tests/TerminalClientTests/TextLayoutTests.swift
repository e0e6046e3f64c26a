import Testing
@testable import TerminalClient

@Suite("TextLayout")
struct TextLayoutTests {
    @Test("wide characters take two columns, truncation never exceeds the width")
    func widths() {
        #expect(TextLayout.width(of: "abc") == 3)
        #expect(TextLayout.width(of: "日本") == 4)
        #expect(TextLayout.width(of: "🙂") == 2)
        let cut = TextLayout.truncate("日本語のテキスト", to: 5)
        #expect(TextLayout.width(of: cut) <= 5)
        #expect(cut == "日本")
        #expect(TextLayout.truncate("hello world", to: 8, ellipsis: true) == "hello w…")
        #expect(TextLayout.pad("ab", to: 4) == "ab  ")
    }

    @Test("wrap breaks at spaces, every line within the width, nothing lost")
    func wrap() {
        let text = "Bob: the quick brown fox jumps over the lazy dog"
        let lines = TextLayout.wrap(text, to: 12, indent: "  ")
        #expect(lines.allSatisfy { TextLayout.width(of: $0) <= 12 })
        #expect(lines.first == "Bob: the")
        #expect(lines.joined(separator: " ").split(separator: " ").joined(separator: " ") == text)
        let long = TextLayout.wrap(String(repeating: "x", count: 25), to: 10)
        #expect(long == ["xxxxxxxxxx", "xxxxxxxxxx", "xxxxx"])
    }

    @Test("sanitize removes escape sequences and bidi overrides another player could send")
    func sanitize() {
        let hostile = "hi\u{1B}[2J\u{07}\u{202E}there\nnext"
        let clean = TextLayout.sanitize(hostile)
        #expect(!clean.unicodeScalars.contains { $0.value < 0x20 || $0.value == 0x202E })
        #expect(clean.hasPrefix("hi"))
        #expect(clean.hasSuffix("there next"))
    }

    @Test("coordinates print with one decimal, negatives included")
    func format() {
        #expect(TextLayout.format(500) == "500.0")
        #expect(TextLayout.format(-3.25) == "-3.3")
        #expect(TextLayout.format(0.05) == "0.1")
        #expect(TextLayout.format(-0.5) == "-0.5")
        #expect(TextLayout.position(503, 499.5) == "(503.0, 499.5)")
    }
}
