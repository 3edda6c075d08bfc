/// The block of recalled memories in a prompt: how the conversation layer writes it, and how
/// a backend (the offline one) finds it again.
///
/// ```
/// <recalled-memories count="2">
/// [1] semantic | athena | m-12
/// > The deploy moved to Friday.
/// > Ben asked for it.
/// [2] episodic | user | e-3
/// > We talked about the release.
/// </recalled-memories>
/// ```
///
/// The markers sit alone on their lines; every line of a memory's content starts with `> `, so
/// no content line can be a marker. For a model's sake, which reads text and not lines, a
/// marker inside content is escaped too: `<recalled-memories` and `</recalled-memories`
/// (any case) get a backslash after the `<` (`<\/recalled-memories`), and a run of backslashes
/// already there gets one more, so ``parse(_:)`` gives back exactly what was rendered. The
/// header's fields (`kind | source | id`) escape `\`, `|`, CR and LF as `\\`, `\|`, `\r`, `\n`.
/// Content's CRLF line ends are rendered as LF, and a block whose lines end in CRLF parses.
public enum RecalledBlock {
    /// One recalled memory, as the prompt shows it.
    public struct Memory: Sendable, Hashable {
        /// The slice kind: `semantic`, `episodic`, `procedural`, `working`.
        public var kind: String
        /// Whose memory: a persona or a shared slice.
        public var source: String
        public var id: String
        public var content: String

        public init(kind: String, source: String, id: String, content: String) {
            self.kind = kind
            self.source = source
            self.id = id
            self.content = content
        }
    }

    public static let openMarker = "<recalled-memories"
    public static let closeMarker = "</recalled-memories>"

    /// The block for `memories`, in their order, without a trailing newline.
    public static func render(_ memories: [Memory]) -> String {
        var out = ["\(openMarker) count=\"\(memories.count)\">"]
        for (index, memory) in memories.enumerated() {
            let header = [memory.kind, memory.source, memory.id].map(escapeField).joined(separator: " | ")
            out.append("[\(index + 1)] \(header)")
            for line in lines(of: memory.content) {
                out.append("> " + escapeMarkers(line.hasSuffix("\r") ? String(line.unicodeScalars.dropLast()) : line))
            }
        }
        out.append(closeMarker)
        return out.joined(separator: "\n")
    }

    /// The memories of the last block in `text`; `nil` when there is none. Lines inside the
    /// block that fit neither a header nor content are skipped; a block that is never closed
    /// yields what it held.
    public static func parse(_ text: String) -> [Memory]? {
        var found: [Parsed]?
        var current: [Parsed]?
        for line in lines(of: text) {
            // A CR before the LF is part of the line end: a prompt whose line ends became CRLF
            // on the way still parses (and content's own CRLFs were rendered as LF).
            let line = line.hasSuffix("\r") ? String(line.unicodeScalars.dropLast()) : line
            if current == nil {
                if line.hasPrefix(openMarker), line.hasSuffix(">") { current = [] }
                continue
            }
            if line == closeMarker {
                found = current
                current = nil
            } else if line.hasPrefix("> ") || line == ">" {
                guard let last = current?.indices.last else { continue }
                let content = line == ">" ? "" : unescapeMarkers(String(line.unicodeScalars.dropFirst(2)))
                current![last].append(content)
            } else if let memory = header(line) {
                current?.append(memory)
            }
        }
        return (current ?? found)?.map(\.memory)
    }

    /// The memories of the last message that holds a block, searching from the end.
    public static func find(in messages: [ChatMessage]) -> [Memory]? {
        for message in messages.reversed() {
            if let memories = parse(message.content) { return memories }
        }
        return nil
    }

    /// Lines split at each LF scalar: a CRLF is one `Character`, so splitting on the character
    /// `\n` would keep CRLF-separated text on one line.
    private static func lines(of text: String) -> [String] {
        text.unicodeScalars.split(separator: "\n", omittingEmptySubsequences: false).map { String(String.UnicodeScalarView($0)) }
    }

    private struct Parsed {
        var memory: Memory
        var started = false

        mutating func append(_ line: String) {
            memory.content += started ? "\n" + line : line
            started = true
        }
    }

    private static func header(_ line: String) -> Parsed? {
        guard line.hasPrefix("["), let close = line.firstIndex(of: "]"),
              Int(line[line.index(after: line.startIndex)..<close]) != nil else { return nil }
        var rest = Substring(line[line.index(after: close)...])
        guard rest.first == " " else { return nil }
        rest = rest.dropFirst()
        var fields: [String] = []
        var field = ""
        var escaped = false
        for character in rest {
            if escaped {
                switch character {
                case "n": field.append("\n")
                case "r": field.append("\r")
                default: field.append(character)
                }
                escaped = false
            } else if character == "\\" {
                escaped = true
            } else if character == "|" {
                fields.append(field)
                field = ""
            } else {
                field.append(character)
            }
        }
        fields.append(field)
        guard fields.count == 3, fields[0].hasSuffix(" "), fields[1].hasPrefix(" "), fields[1].hasSuffix(" "),
              fields[2].hasPrefix(" ") || fields[2].isEmpty else { return nil }
        // The separator is ` | `: exactly one space on each side belongs to it.
        let kind = String(fields[0].dropLast())
        let source = String(fields[1].dropFirst().dropLast())
        let id = String(fields[2].dropFirst())
        return Parsed(memory: Memory(kind: kind, source: source, id: id, content: ""))
    }

    private static func escapeField(_ text: String) -> String {
        var out = ""
        for character in text {
            switch character {
            case "\\": out += "\\\\"
            case "|": out += "\\|"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\r\n": out += "\\r\\n"
            default: out.append(character)
            }
        }
        return out
    }

    /// `<` + backslashes + (`/`)`recalled-memories`, any case: one more backslash.
    static func escapeMarkers(_ text: String) -> String { restuff(text, adding: true) }

    static func unescapeMarkers(_ text: String) -> String { restuff(text, adding: false) }

    private static func restuff(_ text: String, adding: Bool) -> String {
        guard text.contains("<") else { return text }
        let name = Array("recalled-memories".utf8)
        let bytes = Array(text.utf8)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count + 4)
        var i = 0
        while i < bytes.count {
            out.append(bytes[i])
            guard bytes[i] == UInt8(ascii: "<") else {
                i += 1
                continue
            }
            var j = i + 1
            while j < bytes.count, bytes[j] == UInt8(ascii: "\\") { j += 1 }
            let slashes = j - i - 1
            var k = j
            if k < bytes.count, bytes[k] == UInt8(ascii: "/") { k += 1 }
            let matches = k + name.count <= bytes.count
                && zip(bytes[k..<(k + name.count)], name).allSatisfy { lower($0) == $1 }
            if matches, adding || slashes > 0 {
                let count = adding ? slashes + 1 : slashes - 1
                out.append(contentsOf: repeatElement(UInt8(ascii: "\\"), count: count))
                i = j
            } else {
                i += 1
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    private static func lower(_ byte: UInt8) -> UInt8 {
        byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z") ? byte + 32 : byte
    }
}
