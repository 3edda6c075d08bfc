/// The options of a choice as token paths: each option's tokens, written as the reply would
/// begin it (no leading space) and after a space, share their prefixes; a path's end names
/// its option. Constrained decoding walks it from the root, one allowed token at a time.
struct ChoiceTrie: Sendable {
    struct Node: Sendable {
        var children: [Int32: Int] = [:]
        /// The option a path ending here spells (the first, for options spelt alike).
        var option: Int?
    }

    private(set) var nodes: [Node] = [Node()]
    /// The longest path, in tokens.
    private(set) var depth = 0

    init(options: [String], tokenizer: BPETokenizer) {
        for (index, option) in options.enumerated() {
            insert(tokenizer.encode(plain: option), option: index)
            insert(tokenizer.encode(plain: " " + option), option: index)
        }
    }

    /// Whether a path ends at `node` with no way on (its option is chosen without another step).
    func isLeaf(_ node: Int) -> Bool { nodes[node].children.isEmpty }

    private mutating func insert(_ path: [Int32], option: Int) {
        var node = 0
        for token in path {
            if let next = nodes[node].children[token] {
                node = next
            } else {
                nodes.append(Node())
                nodes[node].children[token] = nodes.count - 1
                node = nodes.count - 1
            }
        }
        if nodes[node].option == nil { nodes[node].option = option }
        depth = max(depth, path.count)
    }

    /// What greedy decoding does at `node`: the allowed token with the largest logit (the lower
    /// id between equals), or the node's own option when ending here (one of `endTokens`) scores
    /// higher than every way on. Nil only for a node with neither (never reached).
    func step(at node: Int, logits: UnsafeMutableBufferPointer<Float>, endTokens: Set<Int32>) -> Step? {
        var best: (token: Int32, value: Float)?
        for token in nodes[node].children.keys where token >= 0 && Int(token) < logits.count {
            let value = logits[Int(token)]
            if best == nil || value > best!.value || (value == best!.value && token < best!.token) { best = (token, value) }
        }
        if let option = nodes[node].option {
            let end = endTokens.filter { $0 >= 0 && Int($0) < logits.count }.map { logits[Int($0)] }.max() ?? -.infinity
            if best == nil || end > best!.value { return .end(option) }
        }
        return best.map { .token($0.token, next: nodes[node].children[$0.token]!) }
    }

    enum Step: Equatable {
        /// Take this token, and go on from `next`.
        case token(Int32, next: Int)
        /// The reply ends here: this option.
        case end(Int)
    }
}
