import Foundation
import TroupeCore
import TroupeStore

/// The records of one owner's slice, as the recall index holds them: one contiguous Float32
/// matrix of vectors, an inverted index, and the per-row facts ranking needs.
///
/// Owned by ``RecallIndex`` and used only from that actor, so it is a plain non-Sendable class.
/// Rows are appended; a removed or superseded row is marked dead and dropped when the partition
/// compacts, so a row number never changes under a running search.
final class IndexPartition {
    struct Key: Hashable, Sendable {
        var owner: PersonaID
        var slice: SliceKind
    }

    let key: Key
    let dimension: Int
    private(set) var ids: [String] = []
    private(set) var live: [Bool] = []
    private(set) var createdAt: [Double] = []
    /// The store's order of first writes (``IndexEntry/sequence``): it orders records made at the
    /// same instant.
    private(set) var sequence: [Int64] = []
    private(set) var importance: [Double] = []
    /// Seconds since 1970 at which the row leaves the live set (infinity: never).
    private(set) var expiresAt: [Double] = []
    private(set) var tags: [[String]] = []
    /// Whether the row has a vector of the index's model (rows without one score 0 on cosine).
    private(set) var hasVector: [Bool] = []
    /// `rows × dimension` Float32, row-major, in pages that grow without copying.
    private(set) var vectors = PageBuffer<Float>()
    /// The same rows as int8 codes with a scale and an error margin each (see ``QuantizedRows``):
    /// a single query screens these, a quarter of the bytes, and re-scores the best exactly.
    private(set) var quantized = QuantizedRows.Storage()
    private(set) var lexical = LexicalPostings()
    private var rowOf: [String: Int] = [:]
    /// Rows in conversation order, for neighbours (see IndexPartition+Context.swift).
    var timeline = PartitionTimeline()
    private(set) var liveCount = 0
    /// Tokens in live rows, for BM25's average length.
    private(set) var liveLength = 0

    init(key: Key, dimension: Int) {
        self.key = key
        self.dimension = dimension
    }

    var rowCount: Int { ids.count }

    /// Runs `body` with the Float32 matrix and its int8 copy.
    func withMatrices<R>(_ body: (UnsafeBufferPointer<Float>, QuantizedRows) -> R) -> R {
        vectors.withUnsafeBufferPointer { matrix in quantized.withRows { body(matrix, $0) } }
    }

    /// The live row holding `id`.
    func row(of id: String) -> Int? { rowOf[id] }

    /// Adds `entry` as a new row (retiring the row of an older version of it).
    func upsert(_ entry: IndexEntry, terms: [Int32]) {
        remove(entry.id)
        rowOf[entry.id] = ids.count
        ids.append(entry.id)
        live.append(true)
        createdAt.append(entry.createdAt.timeIntervalSince1970)
        sequence.append(entry.sequence)
        timeline.append(Int32(ids.count - 1), after: precedes)
        importance.append(entry.importance)
        expiresAt.append(entry.expiresAt?.timeIntervalSince1970 ?? .infinity)
        tags.append(entry.tags)
        if let vector = entry.vector, vector.count == dimension {
            vectors.append(contentsOf: vector)
            hasVector.append(true)
            vector.withUnsafeBufferPointer { quantized.append($0, rows: 1, dimension: dimension) }
        } else {
            vectors.append(repeating: 0, count: dimension)
            hasVector.append(false)
            quantized.appendZeroRow(dimension: dimension)
        }
        lexical.append(terms: terms)
        liveCount += 1
        liveLength += terms.count + Int(LexicalPostings.scopeTokens)
    }

    /// Marks the row of `id` dead, if there is one.
    func remove(_ id: String) {
        guard let row = rowOf.removeValue(forKey: id) else { return }
        live[row] = false
        liveCount -= 1
        liveLength -= Int(lexical.lengths[row])
        compactIfSparse()
    }

    /// Drops dead rows once they are a quarter of the partition (and not a handful).
    private func compactIfSparse() {
        let dead = ids.count - liveCount
        guard dead >= 256, dead * 4 >= ids.count else { return }
        var newRow = [Int32?](repeating: nil, count: ids.count)
        var next: Int32 = 0
        for row in ids.indices where live[row] {
            newRow[row] = next
            next += 1
        }
        func keep<T>(_ values: [T]) -> [T] { values.indices.compactMap { live[$0] ? values[$0] : nil } }
        let packed = PageBuffer<Float>()
        vectors.withUnsafeBufferPointer { vectors in
            for row in ids.indices where live[row] {
                packed.append(contentsOf: UnsafeBufferPointer(rebasing: vectors[row * dimension..<(row + 1) * dimension]))
            }
        }
        vectors = packed
        quantized.filter(dimension: dimension) { live[$0] }
        ids = keep(ids)
        createdAt = keep(createdAt)
        sequence = keep(sequence)
        timeline.compact(newRow)
        importance = keep(importance)
        expiresAt = keep(expiresAt)
        tags = keep(tags)
        hasVector = keep(hasVector)
        lexical.compact(newRow)
        live = Array(repeating: true, count: ids.count)
        rowOf = Dictionary(uniqueKeysWithValues: ids.enumerated().map { ($1, $0) })
    }
}
