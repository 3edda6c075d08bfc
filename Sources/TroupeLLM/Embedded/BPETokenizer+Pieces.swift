/// The "smollm" pre-tokenizer and the merging of one piece.
///
/// The pre-tokenizer is llama.cpp's: every \p{N} character stands alone, then each stretch
/// between them is split by GPT-2's pattern
/// `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`, written out here
/// as a scanner over Unicode scalars with the classes from `Unicode.Scalar.Properties`.
extension BPETokenizer {
    enum Class { case letter, number, space, other }

    static func classify(_ scalar: Unicode.Scalar) -> Class {
        let properties = scalar.properties
        if properties.isWhitespace { return .space }
        switch properties.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter: return .letter
        case .decimalNumber, .letterNumber, .otherNumber: return .number
        default: return .other
        }
    }

    /// The pieces of `scalars`, in order, as index ranges.
    static func preTokenize(_ scalars: [Unicode.Scalar]) -> [Range<Int>] {
        let classes = scalars.map(classify)
        var pieces: [Range<Int>] = []
        var start = 0
        for (i, c) in classes.enumerated() where c == .number {
            split(scalars, classes, start..<i, into: &pieces)
            pieces.append(i..<(i + 1))
            start = i + 1
        }
        split(scalars, classes, start..<scalars.count, into: &pieces)
        return pieces
    }

    /// GPT-2's pattern over one stretch (which holds no \p{N}), alternatives tried in order.
    private static func split(_ s: [Unicode.Scalar], _ classes: [Class], _ range: Range<Int>, into pieces: inout [Range<Int>]) {
        let end = range.upperBound
        var i = range.lowerBound
        func run(from j: Int, of c: Class) -> Int {
            var k = j
            while k < end, classes[k] == c { k += 1 }
            return k
        }
        while i < end {
            // 's 't 're 've 'm 'll 'd (lower case only, as the pattern is written)
            if s[i] == "'", i + 1 < end {
                let next = s[i + 1]
                if next == "s" || next == "t" || next == "m" || next == "d" {
                    pieces.append(i..<(i + 2))
                    i += 2
                    continue
                }
                if i + 2 < end, (next == "r" && s[i + 2] == "e") || (next == "v" && s[i + 2] == "e") || (next == "l" && s[i + 2] == "l") {
                    pieces.append(i..<(i + 3))
                    i += 3
                    continue
                }
            }
            // ` ?\p{L}+`, ` ?\p{N}+`, ` ?[^\s\p{L}\p{N}]+`: an optional space, then a run of one class.
            let lead = s[i] == " " && i + 1 < end && classes[i + 1] != .space ? i + 1 : i
            if classes[lead] != .space {
                let stop = run(from: lead, of: classes[lead])
                pieces.append(i..<stop)
                i = stop
                continue
            }
            // `\s+(?!\S)`: a run of spaces, less its last one when text follows; a lone space
            // before text falls to `\s+`.
            let stop = run(from: i, of: .space)
            let taken = stop < end && stop - i > 1 ? stop - 1 : stop
            pieces.append(i..<taken)
            i = taken
        }
    }

    /// Appends the ids of one piece: its UTF-8 bytes as byte tokens, then merges, lowest rank
    /// first (leftmost among equals), until no adjacent pair has a merge. A heap of candidate
    /// pairs keeps a long piece (a pasted base64 blob) at n log n.
    func appendBPE(_ piece: ArraySlice<Unicode.Scalar>, to out: inout [Int32]) {
        var symbols: [Int32] = []
        for scalar in piece { UTF8.encode(scalar) { symbols.append(byteTokens[Int($0)]) } }
        if symbols.count < 2 {
            out += symbols.filter { $0 >= 0 }
            return
        }
        let n = symbols.count
        var next = Array(1...n), previous = Array(-1..<(n - 1))
        var alive = [Bool](repeating: true, count: n)
        var heap = PairHeap()
        func consider(_ left: Int) {
            let right = next[left]
            guard left >= 0, right < n else { return }
            let key = UInt64(UInt32(bitPattern: symbols[left])) << 32 | UInt64(UInt32(bitPattern: symbols[right]))
            if let merge = merges[key] { heap.push(PairHeap.Entry(rank: merge.rank, position: Int32(left), left: symbols[left], right: symbols[right])) }
        }
        for i in 0..<(n - 1) { consider(i) }
        while let top = heap.pop() {
            let left = Int(top.position), right = next[left]
            // Entries go stale when a neighbour merged first; the symbols must still be these.
            guard alive[left], right < n, symbols[left] == top.left, symbols[right] == top.right else { continue }
            let key = UInt64(UInt32(bitPattern: top.left)) << 32 | UInt64(UInt32(bitPattern: top.right))
            symbols[left] = merges[key]!.merged
            alive[right] = false
            next[left] = next[right]
            if next[right] < n { previous[next[right]] = left }
            if previous[left] >= 0 { consider(previous[left]) }
            consider(left)
        }
        var i = 0
        while i < n {
            if symbols[i] >= 0 { out.append(symbols[i]) }
            i = next[i]
        }
    }
}

/// A binary min-heap of merge candidates ordered by (rank, position).
struct PairHeap {
    struct Entry {
        var rank: Int32, position: Int32, left: Int32, right: Int32
        func precedes(_ other: Entry) -> Bool { rank != other.rank ? rank < other.rank : position < other.position }
    }

    private var items: [Entry] = []

    mutating func push(_ entry: Entry) {
        items.append(entry)
        var i = items.count - 1
        while i > 0 {
            let parent = (i - 1) / 2
            guard items[i].precedes(items[parent]) else { break }
            items.swapAt(i, parent)
            i = parent
        }
    }

    mutating func pop() -> Entry? {
        guard let first = items.first else { return nil }
        let last = items.removeLast()
        if !items.isEmpty {
            items[0] = last
            var i = 0
            while true {
                let l = 2 * i + 1, r = l + 1
                var best = i
                if l < items.count, items[l].precedes(items[best]) { best = l }
                if r < items.count, items[r].precedes(items[best]) { best = r }
                if best == i { break }
                items.swapAt(i, best)
                i = best
            }
        }
        return first
    }
}
