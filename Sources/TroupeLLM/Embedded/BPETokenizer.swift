import TroupeCore

/// GPT-2 byte-level BPE as llama.cpp runs it for SmolLM2: the vocabulary, merges and token types
/// come from the GGUF; text is split by the "smollm" pre-tokenizer, each piece's UTF-8 bytes are
/// mapped to GPT-2's printable characters and merged by rank.
///
/// Control tokens (`<|im_start|>` and the like) are never found in text: ``encode(plain:)``
/// treats every character as text, so content from users, memories or other personas cannot
/// open a turn. Only the chat template inserts control tokens, by id.
struct BPETokenizer: Sendable {
    /// Token strings, by id (GPT-2's byte characters for normal tokens).
    let tokens: [String]
    /// GGUF token types: 1 normal, 2 unknown, 3 control, 4 user-defined, 5 unused, 6 byte.
    let types: [Int32]
    let ids: [String: Int32]
    /// (left id << 32 | right id) → (rank, merged id).
    let merges: [UInt64: (rank: Int32, merged: Int32)]
    /// The token of each single byte, −1 for bytes the vocabulary lacks (SmolLM2 has none for
    /// some control bytes): llama.cpp drops those, and they never merge with a neighbour.
    let byteTokens: [Int32]
    /// Each token's bytes when decoded, one after another; token i's are
    /// bytes[byteStarts[i]..<byteStarts[i + 1]]. Control tokens decode to nothing.
    let bytes: [UInt8]
    let byteStarts: [Int32]
    /// Unknown, control and user-defined tokens, longest first (for ``encode(template:)``).
    let specials: [(text: [UInt8], id: Int32)]

    init(gguf: GGUFFile) throws {
        let path = gguf.path
        func invalid(_ message: String) -> TroupeError { TroupeError(.invalidInput, "tokenizer: \(message)", context: path) }
        let model = try gguf.string("tokenizer.ggml.model")
        guard model == "gpt2" else { throw invalid("model '\(model)' is not supported (only gpt2 byte-level BPE)") }
        if let pre = gguf.metadata["tokenizer.ggml.pre"]?.string, pre != "smollm" {
            throw invalid("pre-tokenizer '\(pre)' is not supported (only smollm)")
        }
        guard let tokenValues = gguf.metadata["tokenizer.ggml.tokens"]?.array, !tokenValues.isEmpty,
            tokenValues.count < Int(Int32.max)
        else { throw invalid("tokenizer.ggml.tokens is missing or not an array") }
        let tokens = try tokenValues.map { value -> String in
            guard let s = value.string else { throw invalid("tokenizer.ggml.tokens holds a value that is not a string") }
            return s
        }
        var types = [Int32](repeating: 1, count: tokens.count)
        if let typeValues = gguf.metadata["tokenizer.ggml.token_type"]?.array {
            guard typeValues.count == tokens.count else { throw invalid("token_type has \(typeValues.count) entries for \(tokens.count) tokens") }
            for (i, value) in typeValues.enumerated() {
                guard let t = value.integer else { throw invalid("token_type holds a value that is not an integer") }
                types[i] = Int32(clamping: t)
            }
        }
        self.tokens = tokens
        self.types = types
        var ids: [String: Int32] = [:]
        ids.reserveCapacity(tokens.count)
        // A duplicated string keeps its first id, as llama.cpp's map does.
        for (i, token) in tokens.enumerated() where ids[token] == nil { ids[token] = Int32(i) }
        self.ids = ids

        let toUnicode = Self.byteToUnicode
        byteTokens = (0..<256).map { ids[String(Character(toUnicode[$0]))] ?? -1 }
        guard byteTokens.contains(where: { $0 >= 0 }) else { throw invalid("the vocabulary has no byte tokens (not GPT-2 byte-level BPE)") }

        var merges: [UInt64: (rank: Int32, merged: Int32)] = [:]
        let mergeValues = gguf.metadata["tokenizer.ggml.merges"]?.array ?? []
        merges.reserveCapacity(mergeValues.count)
        for (rank, value) in mergeValues.enumerated() {
            guard let line = value.string else { throw invalid("tokenizer.ggml.merges holds a value that is not a string") }
            // "left right": split at the first space (GPT-2's byte characters contain no space).
            guard let space = line.firstIndex(of: " ") else { throw invalid("merge \(rank) '\(line)' has no space") }
            let left = String(line[..<space]), right = String(line[line.index(after: space)...])
            guard let l = ids[left], let r = ids[right], let m = ids[left + right] else { continue }
            let key = UInt64(UInt32(bitPattern: l)) << 32 | UInt64(UInt32(bitPattern: r))
            if merges[key] == nil { merges[key] = (Int32(rank), m) }
        }
        self.merges = merges

        let fromUnicode = Dictionary(uniqueKeysWithValues: toUnicode.enumerated().map { ($1, UInt8($0)) })
        var bytes: [UInt8] = []
        var starts: [Int32] = [0]
        var specials: [(text: [UInt8], id: Int32)] = []
        for (i, token) in tokens.enumerated() {
            switch types[i] {
            case 2, 3, 4:
                if !token.isEmpty { specials.append((Array(token.utf8), Int32(i))) }
                // User-defined tokens are text and decode as written; control tokens decode to nothing.
                if types[i] == 4 { bytes += token.utf8 }
            default:
                for scalar in token.unicodeScalars {
                    if let byte = fromUnicode[scalar] { bytes.append(byte) } else { bytes += String(scalar).utf8 }
                }
            }
            starts.append(Int32(clamping: bytes.count))
        }
        self.bytes = bytes
        byteStarts = starts
        self.specials = specials.sorted { $0.text.count > $1.text.count }
    }

    /// The id of a control or other token, by its text (for the chat template).
    func id(of token: String) -> Int32? { ids[token] }

    var count: Int { tokens.count }

    /// The ids of `text`, every character of it treated as text (a control token's spelling
    /// included).
    func encode(plain text: String) -> [Int32] {
        var out: [Int32] = []
        let scalars = Array(text.unicodeScalars)
        for piece in Self.preTokenize(scalars) { appendBPE(scalars[piece], to: &out) }
        return out
    }

    /// The ids of `text` with control and user-defined tokens recognised (longest first), as
    /// llama.cpp tokenizes with `parse_special`. Only for text the program wrote itself: never
    /// pass content from users, memories or models here.
    func encode(template text: String) -> [Int32] {
        var out: [Int32] = []
        let utf8 = Array(text.utf8)
        var start = 0, i = 0
        while i < utf8.count {
            if let special = specials.first(where: { utf8.count - i >= $0.text.count && utf8[i..<(i + $0.text.count)].elementsEqual($0.text) }) {
                if start < i { out += encode(plain: String(decoding: utf8[start..<i], as: UTF8.self)) }
                out.append(special.id)
                i += special.text.count
                start = i
            } else {
                i += 1
            }
        }
        if start < utf8.count { out += encode(plain: String(decoding: utf8[start...], as: UTF8.self)) }
        return out
    }

    /// The bytes token `id` stands for (nothing for control tokens and ids out of range).
    func bytes(of id: Int32) -> ArraySlice<UInt8> {
        guard id >= 0, Int(id) < tokens.count else { return [] }
        return bytes[Int(byteStarts[Int(id)])..<Int(byteStarts[Int(id) + 1])]
    }

    /// The text of `ids` (invalid UTF-8 replaced by U+FFFD).
    func decode(_ ids: [Int32]) -> String {
        var out: [UInt8] = []
        for id in ids { out += bytes(of: id) }
        return String(decoding: out, as: UTF8.self)
    }

    /// GPT-2's reversible map from bytes to printable characters: printable Latin-1 bytes stand
    /// for themselves, the rest (space, control bytes …) for U+0100 onwards in byte order.
    static let byteToUnicode: [Unicode.Scalar] = {
        var table = [Unicode.Scalar](repeating: " ", count: 256)
        var extra: UInt32 = 0
        for byte in 0..<256 {
            let printable = (33...126).contains(byte) || (161...172).contains(byte) || (174...255).contains(byte)
            if printable {
                table[byte] = Unicode.Scalar(UInt32(byte))!
            } else {
                table[byte] = Unicode.Scalar(256 + extra)!
                extra += 1
            }
        }
        return table
    }()
}
