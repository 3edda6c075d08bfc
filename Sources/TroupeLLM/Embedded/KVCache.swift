import Foundation
import TroupeCore

/// Keys and values of every layer for up to `capacity` positions, in Float32: per layer, one
/// row of kvHeads × headSize values per position for K (RoPE applied) and one for V.
///
/// The whole context is reserved at once as an anonymous mapping, whose pages the OS provides
/// only when first written: a 500-token conversation costs about 25 MB of memory, not the full
/// context's 377 MB (SmolLM2 at 8192 positions).
final class KVCache {
    let layers: Int
    let capacity: Int
    let rowWidth: Int
    private let base: UnsafeMutablePointer<Float>
    private let byteCount: Int

    init(layers: Int, capacity: Int, rowWidth: Int) throws {
        self.layers = layers
        self.capacity = capacity
        self.rowWidth = rowWidth
        let (floats, overflow) = (layers * 2 * rowWidth).multipliedReportingOverflow(by: capacity)
        guard !overflow, floats < Int.max / 8 else { throw TroupeError(.unavailable, "a KV cache of \(capacity) positions is too large") }
        byteCount = floats * MemoryLayout<Float>.stride
        guard let mapped = mmap(nil, byteCount, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0), mapped != MAP_FAILED else {
            throw TroupeError(.unavailable, "cannot reserve \(byteCount >> 20) MB for the KV cache: \(String(cString: strerror(errno)))")
        }
        base = mapped.bindMemory(to: Float.self, capacity: floats)
    }

    deinit { munmap(base, byteCount) }

    /// Layer `layer`'s keys: position p's row starts at keys(layer) + p · rowWidth.
    func keys(_ layer: Int) -> UnsafeMutablePointer<Float> { base + (2 * layer) * capacity * rowWidth }

    func values(_ layer: Int) -> UnsafeMutablePointer<Float> { base + (2 * layer + 1) * capacity * rowWidth }

    /// Gives the pages back to the OS (after a long conversation); the next use starts over.
    func release() {
        _ = madvise(base, byteCount, MADV_DONTNEED)
    }
}
