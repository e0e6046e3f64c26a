/// Measuring, cutting and cleaning text for a fixed-width terminal grid.
///
/// Widths are counted in terminal columns: most characters take one, East Asian wide characters
/// and most emoji take two, combining marks ride on the character before them. The table is an
/// approximation of `wcwidth` that needs no locale, so tests and every terminal agree.
public enum TextLayout {
    /// Columns `character` occupies.
    public static func width(of character: Character) -> Int {
        guard let scalar = character.unicodeScalars.first else { return 0 }
        let value = scalar.value
        if value < 0x20 || (0x7F..<0xA0).contains(value) { return 0 }
        if character.unicodeScalars.contains(where: { $0.value == 0xFE0F }) { return 2 }  // emoji presentation
        return isWide(value) ? 2 : 1
    }

    /// Columns `text` occupies.
    public static func width(of text: some StringProtocol) -> Int {
        text.reduce(0) { $0 + width(of: $1) }
    }

    /// The longest prefix of `text` that fits in `columns`, cut at a character boundary. When
    /// the text had to be cut and `ellipsis` is set, the last column shows "…".
    public static func truncate(_ text: String, to columns: Int, ellipsis: Bool = false) -> String {
        guard columns > 0 else { return "" }
        if width(of: text) <= columns { return text }
        let budget = ellipsis ? columns - 1 : columns
        var used = 0
        var result = ""
        for character in text {
            let w = width(of: character)
            if used + w > budget { break }
            used += w
            result.append(character)
        }
        return ellipsis ? result + "…" : result
    }

    /// `text` cut to `columns` and padded with spaces to exactly that width.
    public static func pad(_ text: String, to columns: Int) -> String {
        let cut = truncate(text, to: columns)
        let missing = columns - width(of: cut)
        return missing > 0 ? cut + String(repeating: " ", count: missing) : cut
    }

    /// The last characters of `text` that fit in `columns` (for an input line longer than the
    /// screen: the end, where the cursor is, stays visible).
    public static func tail(_ text: String, fitting columns: Int) -> String {
        guard columns > 0 else { return "" }
        var used = 0
        var characters: [Character] = []
        for character in text.reversed() {
            let w = width(of: character)
            if used + w > columns { break }
            used += w
            characters.append(character)
        }
        return String(characters.reversed())
    }

    /// Splits `text` into lines of at most `columns`, breaking at spaces when it can, mid-word
    /// when a word is longer than a line. Continuation lines start with `indent`.
    public static func wrap(_ text: String, to columns: Int, indent: String = "") -> [String] {
        guard columns > 0 else { return [] }
        if width(of: text) <= columns { return [text] }
        let indent = truncate(indent, to: columns / 2)
        var lines: [String] = []
        var current = ""
        for character in text {
            let w = width(of: character)
            if w > columns { continue }  // a wide character on a 1-column screen: nowhere to put it
            while width(of: current) + w > columns {
                // Break at the last space after the indent, if there is one; mid-word otherwise.
                let searchFrom = current.hasPrefix(indent) ? current.index(current.startIndex, offsetBy: indent.count) : current.startIndex
                if let space = current[searchFrom...].lastIndex(of: " "), space > searchFrom {
                    lines.append(String(current[..<space]))
                    current = indent + String(current[current.index(after: space)...])
                } else if current == indent {
                    current = ""  // the indent alone leaves no room: drop it for this line
                } else {
                    lines.append(current)
                    current = indent
                }
            }
            current.append(character)
        }
        if !current.isEmpty && current != indent { lines.append(current) }
        return lines
    }

    /// `text` made safe to print: control characters (which could move the cursor, change
    /// colours or retitle the terminal if another player put them in a chat line) and
    /// bidirectional overrides become "�"; tabs and newlines become spaces.
    public static func sanitize(_ text: String) -> String {
        var result = ""
        result.reserveCapacity(text.utf8.count)
        for character in text {
            guard let scalar = character.unicodeScalars.first else { continue }
            let value = scalar.value
            if value == 0x09 || value == 0x0A || value == 0x0D {
                result.append(" ")
            } else if value < 0x20 || (0x7F..<0xA0).contains(value) || (0x202A...0x202E).contains(value)
                        || (0x2066...0x2069).contains(value) || value == 0x200E || value == 0x200F {
                result.append("�")
            } else {
                result.append(character)
            }
        }
        return result
    }

    /// A coordinate with one decimal ("500.0", "-3.5"), without Foundation's formatter.
    public static func format(_ value: Float, decimals: Int = 1) -> String {
        guard value.isFinite else { return "\(value)" }
        var scale = 1.0
        for _ in 0..<decimals { scale *= 10 }
        let scaled = (Double(value) * scale).rounded()
        let negative = scaled < 0
        let magnitude = Int64(abs(scaled))
        let integer = magnitude / Int64(scale)
        var text = (negative ? "-" : "") + String(integer)
        if decimals > 0 {
            let fraction = String(magnitude % Int64(scale))
            text += "." + String(repeating: "0", count: decimals - fraction.count) + fraction
        }
        return text
    }

    /// "(x, y)" with one decimal each.
    public static func position(_ x: Float, _ y: Float) -> String {
        "(\(format(x)), \(format(y)))"
    }

    private static func isWide(_ value: UInt32) -> Bool {
        switch value {
        case 0x1100...0x115F, 0x231A...0x231B, 0x2329...0x232A, 0x23E9...0x23EC, 0x23F0, 0x23F3,
             0x25FD...0x25FE, 0x2614...0x2615, 0x2648...0x2653, 0x267F, 0x2693, 0x26A1, 0x26AA...0x26AB,
             0x26BD...0x26BE, 0x26C4...0x26C5, 0x26CE, 0x26D4, 0x26EA, 0x26F2...0x26F3, 0x26F5, 0x26FA,
             0x26FD, 0x2705, 0x270A...0x270B, 0x2728, 0x274C, 0x274E, 0x2753...0x2755, 0x2757,
             0x2795...0x2797, 0x27B0, 0x27BF, 0x2B1B...0x2B1C, 0x2B50, 0x2B55,
             0x2E80...0x303E, 0x3041...0x33FF, 0x3400...0x4DBF, 0x4E00...0x9FFF, 0xA000...0xA4CF,
             0xA960...0xA97F, 0xAC00...0xD7A3, 0xF900...0xFAFF, 0xFE10...0xFE19, 0xFE30...0xFE6F,
             0xFF00...0xFF60, 0xFFE0...0xFFE6, 0x1F004, 0x1F0CF, 0x1F18E, 0x1F191...0x1F19A,
             0x1F200...0x1F251, 0x1F300...0x1F64F, 0x1F680...0x1F6FF, 0x1F7E0...0x1F7EB,
             0x1F900...0x1F9FF, 0x1FA70...0x1FAFF, 0x20000...0x2FFFD, 0x30000...0x3FFFD:
            return true
        default:
            return false
        }
    }
}
