#if canImport(Glibc)
import Glibc
#endif
import Testing
@testable import TerminalClient

@Suite("Terminal drawing")
struct TerminalDrawTests {
    /// Draws into a pipe and returns what the terminal would have received.
    private func drawn(_ frames: [ScreenFrame], width: Int) -> [String] {
        var fds: [Int32] = [0, 0]
        #expect(pipe(&fds) == 0)
        let terminal = Terminal(input: -1, output: fds[1])
        var outputs: [String] = []
        for frame in frames {
            terminal.draw(frame, width: width)
            var buffer = [UInt8](repeating: 0, count: 65536)
            // Non-blocking so an unchanged frame (nothing written) reads as empty.
            _ = fcntl(fds[0], F_SETFL, O_NONBLOCK)
            let count = read(fds[0], &buffer, buffer.count)
            outputs.append(count > 0 ? String(decoding: buffer[0..<count], as: UTF8.self) : "")
        }
        close(fds[0])
        close(fds[1])
        return outputs
    }

    @Test("one write per frame: home, styled lines, erase below; an unchanged frame is not redrawn")
    func frameOutput() {
        let frame = ScreenFrame(lines: ["title", "body"], styles: [.title, .plain], cursor: nil)
        let out = drawn([frame, frame], width: 10)
        #expect(out[0].hasPrefix("\u{1B}[?25l\u{1B}[H"))
        #expect(out[0].contains("\u{1B}[7mtitle\u{1B}[0m\u{1B}[K\r\nbody\u{1B}[K"))
        #expect(out[0].hasSuffix("\u{1B}[J"))
        #expect(out[1] == "")
    }

    @Test("a full-width line is not followed by erase-to-end-of-line, which would eat its last column")
    func fullWidthLine() {
        let frame = ScreenFrame(lines: ["0123456789", "short"], styles: [.plain, .plain], cursor: .init(row: 1, column: 2))
        let out = drawn([frame], width: 10)[0]
        #expect(out.contains("0123456789\r\n"))
        #expect(!out.contains("0123456789\u{1B}[K"))
        #expect(out.contains("short\u{1B}[K"))
        // The cursor is shown where the frame says (1-based in ANSI).
        #expect(out.hasSuffix("\u{1B}[2;3H\u{1B}[?25h"))
    }
}
