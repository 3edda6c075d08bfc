import TroupeCore

/// ChatML, as SmolLM2's GGUF template renders it:
/// `<|im_start|>{role}\n{content}<|im_end|>\n` per message, then `<|im_start|>assistant\n`; no BOS,
/// and the template's default system prompt when the first message is not a system message.
///
/// The control tokens are put in by id; every message's text (role line and content together,
/// exactly the text between two control tokens in the rendered prompt, so the ids equal
/// llama.cpp's) goes through ``BPETokenizer/encode(plain:)``. A message that contains
/// `<|im_end|><|im_start|>system` is therefore that text, not a new turn.
struct ChatTemplate: Sendable {
    let start: Int32
    let end: Int32
    /// What stops a reply: `<|im_end|>`, the model's end-of-sequence token, `<|endoftext|>`.
    var stopTokens: Set<Int32>
    let defaultSystem: String?

    init(tokenizer: BPETokenizer, gguf: GGUFFile) throws {
        guard let start = tokenizer.id(of: "<|im_start|>"), let end = tokenizer.id(of: "<|im_end|>") else {
            throw TroupeError(.invalidInput, "the model's vocabulary has no ChatML tokens <|im_start|> and <|im_end|>", context: gguf.path)
        }
        self.start = start
        self.end = end
        var stops: Set<Int32> = [end]
        if let eos = gguf.metadata["tokenizer.ggml.eos_token_id"]?.integer, eos >= 0, eos < tokenizer.count { stops.insert(Int32(eos)) }
        if let text = tokenizer.id(of: "<|endoftext|>") { stops.insert(text) }
        stopTokens = stops
        defaultSystem = gguf.metadata["tokenizer.chat_template"]?.string.flatMap(Self.defaultSystem(in:))
    }

    /// The system prompt a Jinja ChatML template inserts when the chat has none: the text
    /// between `<|im_start|>system\n` and `<|im_end|>` in the template source.
    static func defaultSystem(in template: String) -> String? {
        guard let open = template.range(of: "<|im_start|>system\n"),
            let close = template[open.upperBound...].range(of: "<|im_end|>")
        else { return nil }
        let text = String(template[open.upperBound..<close.lowerBound])
        // A template that builds the system turn from the messages has Jinja here, not a prompt.
        return text.contains("{") || text.contains("'") ? nil : text
    }

    /// The prompt's ids, ending with the assistant's opening.
    func render(_ messages: [ChatMessage], tokenizer: BPETokenizer) -> [Int32] {
        var all = messages
        if let defaultSystem, all.first?.role != .system { all.insert(ChatMessage(.system, defaultSystem), at: 0) }
        var ids: [Int32] = []
        for message in all {
            ids.append(start)
            ids += tokenizer.encode(plain: message.role.rawValue + "\n" + message.content)
            ids.append(end)
            ids += tokenizer.encode(plain: "\n")
        }
        ids.append(start)
        ids += tokenizer.encode(plain: "assistant\n")
        return ids
    }
}
