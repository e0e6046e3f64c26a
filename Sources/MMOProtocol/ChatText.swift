/// What a chat line may contain. Chat is shown to other players, so characters that act on a
/// terminal or a text layout instead of being read are refused (CHAT_INVALID_TEXT): C0 controls
/// (ESC sequences, CR/LF that fake a new line, BEL, TAB, NUL), DEL, C1 controls, the line and
/// paragraph separators U+2028/U+2029, and the bidirectional embeddings, overrides and isolates
/// U+202A-U+202E and U+2066-U+2069 (text that displays differently from what it is).
public enum ChatText {
    /// True if no scalar of `text` is forbidden. No allocation: runs on every SAY.
    public static func isAllowed(_ text: String) -> Bool {
        for scalar in text.unicodeScalars where isForbidden(scalar) {
            return false
        }
        return true
    }

    public static func isForbidden(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x00...0x1F, 0x7F...0x9F, 0x2028, 0x2029, 0x202A...0x202E, 0x2066...0x2069: true
        default: false
        }
    }
}
