import Foundation
import TroupeCore

/// Keys and values of every layer for up to `capacity` positions, in f16 (half the bytes a
/// decode step reads; attention computes in Float32): per layer and KV head, one row of
/// headSize values per position for K (RoPE applied) and one for V.
///
/// The whole context is reserved at once as an anonymous mapping, whose pages the OS provides
/// only when first written: a 500-token conversation costs about 12 MB, not the full context's
/// 189 MB (SmolLM2 at 8192 positions).
final class KVCache {
    let layers: Int
    let capacity: Int
    let kvHeads: Int
    let headSize: Int
    private let base: UnsafeMutablePointer<UInt16>
    private let byteCount: Int

    init(layers: Int, capacity: Int, kvHeads: Int, headSize: Int) throws {
        self.layers = layers
        self.capacity = capacity
        self.kvHeads = kvHeads
        self.headSize = headSize
        let (values, overflow) = (layers * 2 * kvHeads * headSize).multipliedReportingOverflow(by: capacity)
        guard !overflow, values < Int.max / 4 else { throw TroupeError(.unavailable, "a KV cache of \(capacity) positions is too large") }
        byteCount = values * MemoryLayout<UInt16>.stride
        guard let mapped = mmap(nil, byteCount, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0), mapped != MAP_FAILED else {
            throw TroupeError(.unavailable, "cannot reserve \(byteCount >> 20) MB for the KV cache: \(String(cString: strerror(errno)))")
        }
        base = mapped.bindMemory(to: UInt16.self, capacity: values)
    }

    deinit { munmap(base, byteCount) }

    /// Values between one KV head's rows and the next head's.
    var headStride: Int { capacity * headSize }

    /// Layer `layer`'s keys: head h's row for position p starts at keys(layer) + h · headStride + p · headSize.
    func keys(_ layer: Int) -> UnsafeMutablePointer<UInt16> { base + (2 * layer) * kvHeads * headStride }

    func values(_ layer: Int) -> UnsafeMutablePointer<UInt16> { base + (2 * layer + 1) * kvHeads * headStride }

    /// Gives the pages back to the OS (after a long conversation); the next use starts over.
    func release() {
        _ = madvise(base, byteCount, MADV_DONTNEED)
    }
}
