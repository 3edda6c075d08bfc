import Foundation

/// The fallback when no model is installed: words and character n-grams hashed into 384
/// signed buckets (feature hashing), sublinear counts, L2-normalised.
///
/// It knows no synonyms, so it finds only shared words and word fragments, but it is
/// deterministic (FNV-1a, not Swift's per-process seeded hash) and needs no files.
public struct HashingEmbedder: Embedder {
    public let modelID = "hashing-384-v1"
    public let dimension = 384

    public init() {}

    public func embed(_ texts: [String]) -> [[Float]] { texts.map(vector) }

    func vector(_ text: String) -> [Float] {
        var counts = [Float](repeating: 0, count: dimension)
        func add(_ bytes: some Sequence<UInt8>, weight: Float) {
            let hash = Self.fnv1a(bytes)
            let bucket = Int(hash % UInt64(dimension))
            counts[bucket] += (hash >> 63) == 0 ? weight : -weight
        }
        LexicalTokenizer.forEachWord(in: text) { word in
            add(word, weight: 1)
            // Character 3- to 5-grams of the word with boundary marks, so that "deploy" and
            // "deployment" share features.
            let marked = [UInt8(ascii: "<")] + Array(word) + [UInt8(ascii: ">")]
            for n in 3...5 where marked.count >= n {
                for start in 0...(marked.count - n) { add(marked[start..<(start + n)], weight: 0.5) }
            }
        }
        for i in counts.indices where counts[i] != 0 {
            counts[i] = counts[i] > 0 ? log1p(counts[i]) : -log1p(-counts[i])
        }
        let norm = counts.reduce(0) { $0 + $1 * $1 }.squareRoot()
        return norm > 0 ? counts.map { $0 / norm } : counts
    }

    static func fnv1a(_ bytes: some Sequence<UInt8>) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in bytes {
            hash ^= UInt64(byte)
            hash &*= 0x0000_0100_0000_01b3
        }
        return hash
    }
}
