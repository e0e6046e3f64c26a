/// One rendered screen: plain text lines (no escape sequences), each at most the width it was
/// rendered for, plus a style per line and where the cursor goes. The terminal shell turns it
/// into ANSI sequences; tests read `lines` directly.
public struct ScreenFrame: Equatable, Sendable {
    /// How a whole line is drawn.
    public enum Style: Equatable, Sendable {
        case plain
        /// Reverse video bar (title).
        case title
        /// Bold (section headings).
        case header
        /// Reverse video (the selected list row).
        case selected
        /// Bold red (errors, disconnect reasons).
        case alert
        /// Faint (key hints).
        case dim
        /// Green (a confirmation or success message).
        case good
    }

    /// A position on the screen, 0-based.
    public struct Cursor: Equatable, Sendable {
        public var row: Int
        public var column: Int
        public init(row: Int, column: Int) {
            self.row = row
            self.column = column
        }
    }

    public var lines: [String]
    /// Same count as `lines`.
    public var styles: [Style]
    /// Where to show the cursor (while typing); nil hides it.
    public var cursor: Cursor?

    public init(lines: [String] = [], styles: [Style] = [], cursor: Cursor? = nil) {
        self.lines = lines
        self.styles = styles
        self.cursor = cursor
    }

    /// All lines joined with newlines, for searching in tests and logs.
    public var text: String { lines.joined(separator: "\n") }

    /// True when some line contains `text`.
    public func contains(_ text: String) -> Bool { lines.contains { $0.contains(text) } }

    /// The first line containing `text`.
    public func line(containing text: String) -> String? { lines.first { $0.contains(text) } }
}

/// Collects lines for a frame of a fixed size: every line is cut to the width and lines past
/// the height are dropped, so no screen can overflow the terminal whatever its content.
struct FrameBuilder {
    let width: Int
    let height: Int
    private(set) var frame = ScreenFrame()

    init(width: Int, height: Int) {
        self.width = max(0, width)
        self.height = max(0, height)
    }

    var count: Int { frame.lines.count }
    var remaining: Int { max(0, height - frame.lines.count) }

    /// Adds a line, cut to the width; bars (title, selected) are padded to the full width.
    mutating func add(_ text: String, _ style: ScreenFrame.Style = .plain) {
        guard frame.lines.count < height else { return }
        let cut = TextLayout.truncate(text, to: width, ellipsis: width > 8)
        frame.lines.append(style == .title || style == .selected ? TextLayout.pad(cut, to: width) : cut)
        frame.styles.append(style)
    }

    /// Adds `text` wrapped over as many lines as it needs (within the height).
    mutating func addWrapped(_ text: String, _ style: ScreenFrame.Style = .plain, indent: String = "") {
        for line in TextLayout.wrap(text, to: width, indent: indent) { add(line, style) }
    }

    /// Adds empty lines until `rows` lines remain.
    mutating func fill(leaving rows: Int) {
        while remaining > rows { add("") }
    }

    mutating func setCursor(row: Int, column: Int) {
        guard row < height, width > 0 else { return }
        frame.cursor = ScreenFrame.Cursor(row: row, column: min(column, width - 1))
    }
}
