/// A key press, decoded from the bytes a terminal sends in raw mode.
public enum Key: Equatable, Hashable, Sendable {
    /// A printable character (letters, digits, punctuation, space, any non-ASCII character).
    case character(Character)
    case up, down, left, right
    case home, end, pageUp, pageDown, insert, delete
    /// Return / Enter (CR or LF; CR LF counts once).
    case enter
    /// Backspace (DEL 0x7F or BS 0x08).
    case backspace
    case tab
    /// A lone ESC: the Escape key (an ESC not followed by a sequence within the timeout).
    case escape
    /// Ctrl plus a letter, e.g. `.control("c")` for Ctrl-C (0x03). Tab, Enter and Backspace are
    /// decoded as their own keys, not as Ctrl-I/M/H.
    case control(Character)
    /// A sequence this decoder does not know (e.g. a function key); ignored by the client.
    case unknown
}

/// Turns terminal input bytes into `Key`s.
///
/// Terminals send arrows and other special keys as escape sequences (`ESC [ A` is Up), and a
/// read may split such a sequence, or a multi-byte UTF-8 character, anywhere; the decoder keeps
/// the unfinished tail until more bytes arrive. A lone ESC is ambiguous (the Escape key, or the
/// first byte of a sequence still in flight), so it is held until `flush()`, which the caller
/// invokes when no byte has followed for a short while (~50 ms).
public struct KeyDecoder: Sendable {
    private var pending: [UInt8] = []
    /// True right after a CR, so the LF of a CR LF pair is not a second Enter.
    private var lastWasCR = false

    public init() {}

    /// True while bytes are held back waiting for the rest of a sequence.
    public var hasPending: Bool { !pending.isEmpty }

    /// Decodes `bytes` (appended to anything held back) into keys.
    public mutating func feed<Bytes: Sequence>(_ bytes: Bytes) -> [Key] where Bytes.Element == UInt8 {
        pending.append(contentsOf: bytes)
        var keys: [Key] = []
        var index = 0
        while index < pending.count {
            guard let (key, length) = decodeOne(at: index, final: false) else { break }  // incomplete
            index += length
            if let key { keys.append(key) }
        }
        pending.removeFirst(index)
        return keys
    }

    /// Decodes whatever is held back as if no more bytes will follow: a lone ESC becomes
    /// `.escape`, an unfinished sequence `.unknown` (or ESC plus its characters).
    public mutating func flush() -> [Key] {
        var keys: [Key] = []
        var index = 0
        while index < pending.count {
            guard let (key, length) = decodeOne(at: index, final: true) else { break }
            index += length
            if let key { keys.append(key) }
        }
        pending.removeAll()
        return keys
    }

    /// Decodes the key starting at `start`. Returns nil when more bytes are needed (only when
    /// `final` is false); the key may be nil for bytes that produce nothing (the LF of CR LF).
    private mutating func decodeOne(at start: Int, final: Bool) -> (Key?, Int)? {
        let byte = pending[start]
        let wasCR = lastWasCR
        lastWasCR = false
        switch byte {
        case 0x0D:
            lastWasCR = true
            return (.enter, 1)
        case 0x0A:
            return (wasCR ? nil : .enter, 1)
        case 0x7F, 0x08:
            return (.backspace, 1)
        case 0x09:
            return (.tab, 1)
        case 0x1B:
            return decodeEscape(at: start, final: final)
        case 0x00:
            return (.unknown, 1)
        case 0x01...0x1A:
            // Ctrl-A is 0x01 ... Ctrl-Z is 0x1A.
            return (.control(Character(Unicode.Scalar(byte + 0x60))), 1)
        case 0x1C...0x1F:
            return (.unknown, 1)
        case 0x20...0x7E:
            return (.character(Character(Unicode.Scalar(byte))), 1)
        default:
            return decodeUTF8(at: start, final: final)
        }
    }

    private func decodeUTF8(at start: Int, final: Bool) -> (Key?, Int)? {
        let lead = pending[start]
        let length: Int
        switch lead {
        case 0xC2...0xDF: length = 2
        case 0xE0...0xEF: length = 3
        case 0xF0...0xF4: length = 4
        default: return (.unknown, 1)  // a stray continuation byte or an invalid lead byte
        }
        let available = pending.count - start
        // Every byte after the lead must be a continuation byte; stop at the first that is not.
        for offset in 1..<min(length, available) where pending[start + offset] & 0xC0 != 0x80 {
            return (.unknown, offset)
        }
        if available < length { return final ? (.unknown, available) : nil }
        let bytes = pending[start..<start + length]
        guard let string = String(validating: bytes, as: UTF8.self), let character = string.first else {
            return (.unknown, length)
        }
        return (.character(character), length)
    }

    private func decodeEscape(at start: Int, final: Bool) -> (Key?, Int)? {
        let available = pending.count - start
        guard available >= 2 else { return final ? (.escape, 1) : nil }
        let second = pending[start + 1]
        switch second {
        case UInt8(ascii: "["):
            return decodeCSI(at: start, final: final)
        case UInt8(ascii: "O"):
            // SS3: the "application cursor keys" mode some terminals (and tmux) use for arrows.
            guard available >= 3 else { return final ? (.escape, 1) : nil }
            let key: Key = switch pending[start + 2] {
            case UInt8(ascii: "A"): .up
            case UInt8(ascii: "B"): .down
            case UInt8(ascii: "C"): .right
            case UInt8(ascii: "D"): .left
            case UInt8(ascii: "H"): .home
            case UInt8(ascii: "F"): .end
            default: .unknown
            }
            return (key, 3)
        case 0x1B:
            // ESC ESC: the first one is a complete Escape press.
            return (.escape, 1)
        default:
            // ESC then a character: Alt+key. Reported as Escape; the character follows on its own.
            return (.escape, 1)
        }
    }

    /// `ESC [ parameters final`: parameters are digits and ';', the final byte is 0x40-0x7E.
    private func decodeCSI(at start: Int, final: Bool) -> (Key?, Int)? {
        var index = start + 2
        while index < pending.count {
            let byte = pending[index]
            if (0x40...0x7E).contains(byte) {
                let parameters = String(decoding: pending[(start + 2)..<index], as: UTF8.self)
                return (csiKey(parameters: parameters, final: byte), index - start + 1)
            }
            guard (0x20...0x3F).contains(byte) else {
                // Not a well-formed sequence: drop what was read so far and resume at this byte.
                return (.unknown, index - start)
            }
            index += 1
        }
        return final ? (.unknown, pending.count - start) : nil
    }

    private func csiKey(parameters: String, final: UInt8) -> Key {
        // Modifiers (`1;5A` is Ctrl+Up) do not matter to the game: only the first number does.
        let first = parameters.split(separator: ";").first.map(String.init) ?? ""
        switch final {
        case UInt8(ascii: "A"): return .up
        case UInt8(ascii: "B"): return .down
        case UInt8(ascii: "C"): return .right
        case UInt8(ascii: "D"): return .left
        case UInt8(ascii: "H"): return .home
        case UInt8(ascii: "F"): return .end
        case UInt8(ascii: "~"):
            switch first {
            case "1", "7": return .home
            case "2": return .insert
            case "3": return .delete
            case "4", "8": return .end
            case "5": return .pageUp
            case "6": return .pageDown
            default: return .unknown
            }
        default: return .unknown
        }
    }
}
