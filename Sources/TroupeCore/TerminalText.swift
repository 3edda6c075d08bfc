/// Text made safe for a terminal: the one place where characters that could act on the
/// terminal (clear the screen, retitle the window, move the cursor, ring the bell, overwrite a
/// line, reverse the text's direction) are made visible instead.
///
/// Human output (every line the CLI prints, model replies in the REPL, transcripts) goes
/// through ``escaped(_:)``; JSON output escapes the same characters as `\uXXXX`.
public enum TerminalText {
    /// `text` with control characters shown as escapes: `\e` (ESC), `\a`, `\b`, `\r`, `\0`,
    /// `\x7f` and `\xNN` for the other C0 controls and DEL, `\u{NN}` for C1 controls and the
    /// bidirectional overrides. Newlines and tabs stay.
    public static func escaped(_ text: String) -> String {
        guard text.unicodeScalars.contains(where: needsEscape) else { return text }
        var out = String.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            guard needsEscape(scalar) else {
                out.append(scalar)
                continue
            }
            out.append(contentsOf: escape(scalar).unicodeScalars)
        }
        return String(out)
    }

    /// Whether `scalar` could act on a terminal (or reorder what is shown) if printed as is.
    public static func needsEscape(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x0A, 0x09: return false
        case 0x00..<0x20, 0x7F, 0x80..<0xA0: return true
        // Bidirectional embeddings, overrides and isolates, and the marks.
        case 0x200E, 0x200F, 0x061C, 0x202A...0x202E, 0x2066...0x2069: return true
        default: return false
        }
    }

    private static func escape(_ scalar: Unicode.Scalar) -> String {
        switch scalar.value {
        case 0x1B: return "\\e"
        case 0x07: return "\\a"
        case 0x08: return "\\b"
        case 0x0D: return "\\r"
        case 0x00: return "\\0"
        case 0x00..<0x20, 0x7F: return "\\x" + hex(scalar.value, width: 2)
        default: return "\\u{" + hex(scalar.value, width: 2) + "}"
        }
    }

    private static func hex(_ value: UInt32, width: Int) -> String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: max(0, width - digits.count)) + digits
    }
}
