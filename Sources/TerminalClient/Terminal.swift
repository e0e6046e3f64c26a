#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The controlling terminal: raw mode through termios, the alternate screen, its size, and
/// drawing frames with ANSI escape sequences (no curses).
///
/// Raw mode turns off echo, line buffering and the keys that send signals (Ctrl-C arrives as a
/// byte, so the client can log out before it exits). Whatever happens, `restore()` must run:
/// it is called on every exit path, and again from an `atexit` handler as a last resort.
public final class Terminal {
    /// Escape sequences used, named.
    enum ANSI {
        static let alternateScreenOn = "\u{1B}[?1049h"
        static let alternateScreenOff = "\u{1B}[?1049l"
        static let hideCursor = "\u{1B}[?25l"
        static let showCursor = "\u{1B}[?25h"
        static let home = "\u{1B}[H"
        static let clearScreen = "\u{1B}[2J"
        static let clearToEndOfLine = "\u{1B}[K"
        static let clearToEndOfScreen = "\u{1B}[J"
        static let reset = "\u{1B}[0m"
        static let autowrapOff = "\u{1B}[?7l"
        static let autowrapOn = "\u{1B}[?7h"

        static func moveTo(row: Int, column: Int) -> String { "\u{1B}[\(row + 1);\(column + 1)H" }

        static func style(_ style: ScreenFrame.Style) -> String {
            switch style {
            case .plain: ""
            case .title, .selected: "\u{1B}[7m"
            case .header: "\u{1B}[1m"
            case .alert: "\u{1B}[1;31m"
            case .dim: "\u{1B}[2m"
            case .good: "\u{1B}[32m"
            }
        }
    }

    private let input: Int32
    private let output: Int32
    private var original: termios?
    private var lastFrame: ScreenFrame?

    /// True when both standard input and output are terminals.
    public static var isInteractive: Bool { isatty(STDIN_FILENO) == 1 && isatty(STDOUT_FILENO) == 1 }

    public init(input: Int32 = STDIN_FILENO, output: Int32 = STDOUT_FILENO) {
        self.input = input
        self.output = output
    }

    /// Switches to raw mode and the alternate screen (the player's scrollback is left alone).
    public func enter() throws(TerminalError) {
        var settings = termios()
        guard tcgetattr(input, &settings) == 0 else { throw TerminalError("tcgetattr failed (errno \(errno))") }
        original = settings
        TerminalRestore.save(settings, fd: input)
        var raw = settings
        // What cfmakeraw does, minus OPOST: keeping output processing means a stray "\n" from a
        // log line still returns the carriage.
        raw.c_iflag &= ~tcflag_t(IGNBRK | BRKINT | PARMRK | ISTRIP | INLCR | IGNCR | ICRNL | IXON)
        raw.c_lflag &= ~tcflag_t(ECHO | ECHONL | ICANON | ISIG | IEXTEN)
        raw.c_cflag &= ~tcflag_t(CSIZE | PARENB)
        raw.c_cflag |= tcflag_t(CS8)
        // Block until at least one byte: the reader thread does nothing else.
        withUnsafeMutableBytes(of: &raw.c_cc) { cc in
            cc[Int(VMIN)] = 1
            cc[Int(VTIME)] = 0
        }
        guard tcsetattr(input, TCSAFLUSH, &raw) == 0 else { throw TerminalError("tcsetattr failed (errno \(errno))") }
        write(ANSI.alternateScreenOn + ANSI.hideCursor + ANSI.autowrapOff + ANSI.clearScreen + ANSI.home)
    }

    /// Leaves the alternate screen and puts the terminal settings back. Safe to call twice.
    public func restore() {
        guard var settings = original else { return }
        original = nil
        write(ANSI.reset + ANSI.autowrapOn + ANSI.showCursor + ANSI.alternateScreenOff)
        _ = tcsetattr(input, TCSAFLUSH, &settings)
        TerminalRestore.clear()
    }

    /// The window size in columns and rows (80x24 if the terminal does not say).
    public func size() -> (width: Int, height: Int) {
        var size = winsize()
        if ioctl(output, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 0, size.ws_row > 0 {
            return (Int(size.ws_col), Int(size.ws_row))
        }
        return (80, 24)
    }

    /// Forgets what is on screen, so the next `draw` repaints everything (after a resize, or
    /// Ctrl-L).
    public func invalidate() {
        lastFrame = nil
        write(ANSI.clearScreen)
    }

    /// Draws `frame`, unless it is what is already on screen. Everything goes out in one write
    /// so the terminal never shows half a frame.
    /// - Parameter width: the width the frame was rendered for.
    public func draw(_ frame: ScreenFrame, width: Int) {
        guard frame != lastFrame else { return }
        lastFrame = frame
        var text = ANSI.hideCursor + ANSI.home
        for (index, line) in frame.lines.enumerated() {
            let style = ANSI.style(index < frame.styles.count ? frame.styles[index] : .plain)
            if index > 0 { text += "\r\n" }
            text += style + line + (style.isEmpty ? "" : ANSI.reset)
            // After a full-width line the cursor sits on the last column, and erasing "to the
            // end of the line" would erase that column's character.
            if TextLayout.width(of: line) < width { text += ANSI.clearToEndOfLine }
        }
        text += ANSI.clearToEndOfScreen
        if let cursor = frame.cursor {
            text += ANSI.moveTo(row: cursor.row, column: cursor.column) + ANSI.showCursor
        }
        write(text)
    }

    /// Writes all of `text` to the terminal.
    public func write(_ text: String) {
        writeAll(output, text)
    }
}

/// Writes every byte of `text` to `fd`, retrying partial writes and EINTR.
func writeAll(_ fd: Int32, _ text: String) {
    var bytes = Array(text.utf8)
    var offset = 0
    while offset < bytes.count {
        let written = bytes.withUnsafeMutableBytes { buffer in
            write(fd, buffer.baseAddress! + offset, buffer.count - offset)
        }
        if written < 0 {
            if errno == EINTR || errno == EAGAIN { continue }
            return
        }
        offset += written
    }
}

/// A terminal operation that failed.
public struct TerminalError: Error, CustomStringConvertible {
    public var description: String
    init(_ description: String) { self.description = description }
}

/// Last-resort restore for exits that skip the normal path (`exit()` from anywhere): an `atexit`
/// handler cannot capture context, so the saved settings live in a global.
enum TerminalRestore {
    // Written only by the main flow (enter/restore), read by the atexit handler at process
    // exit: never concurrently.
    nonisolated(unsafe) private static var saved: (termios, Int32)?
    nonisolated(unsafe) private static var registered = false

    static func save(_ settings: termios, fd: Int32) {
        saved = (settings, fd)
        if !registered {
            registered = true
            atexit {
                guard let saved = TerminalRestore.saved else { return }
                var settings = saved.0
                writeAll(STDOUT_FILENO, "\u{1B}[0m\u{1B}[?7h\u{1B}[?25h\u{1B}[?1049l")
                _ = tcsetattr(saved.1, TCSAFLUSH, &settings)
                TerminalRestore.saved = nil
            }
        }
    }

    static func clear() { saved = nil }
}
