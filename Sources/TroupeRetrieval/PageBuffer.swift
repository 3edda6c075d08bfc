import Foundation
internal import CKernels

/// A growable array of plain values in anonymous memory pages, for the index's big matrices.
///
/// Swift arrays grow by copying into a buffer twice the size, which for a 150 MB matrix means a
/// transient 450 MB and, once the heap has grown, memory the process keeps. Here the pages are
/// reserved with `mmap` and only those written become resident; growing remaps them (`mremap`
/// on Linux: no copy), and releasing the buffer gives them back to the system at once.
///
/// Not `Sendable`: owned by one ``IndexPartition``, used from the ``RecallIndex`` actor.
package final class PageBuffer<Element: BitwiseCopyable> {
    private var base: UnsafeMutableRawPointer?
    private var capacityBytes = 0
    package private(set) var count = 0

    init() {}

    deinit { if let base { munmap(base, capacityBytes) } }

    var isEmpty: Bool { count == 0 }

    package subscript(index: Int) -> Element {
        precondition(index >= 0 && index < count)
        return base!.load(fromByteOffset: index * MemoryLayout<Element>.stride, as: Element.self)
    }

    /// The elements in place; valid only during `body`, during which the buffer must not change.
    package func withUnsafeBufferPointer<R>(_ body: (UnsafeBufferPointer<Element>) throws -> R) rethrows -> R {
        guard let base else { return try body(UnsafeBufferPointer(start: nil, count: 0)) }
        return try body(UnsafeBufferPointer(start: base.assumingMemoryBound(to: Element.self), count: count))
    }

    func append(contentsOf elements: UnsafeBufferPointer<Element>) {
        guard !elements.isEmpty else { return }
        reserve(count + elements.count)
        (base! + count * MemoryLayout<Element>.stride).copyMemory(from: elements.baseAddress!, byteCount: elements.count * MemoryLayout<Element>.stride)
        count += elements.count
    }

    func append(contentsOf elements: [Element]) {
        elements.withUnsafeBufferPointer { append(contentsOf: $0) }
    }

    func append(repeating value: Element, count n: Int) {
        guard n > 0 else { return }
        reserve(count + n)
        (base! + count * MemoryLayout<Element>.stride).bindMemory(to: Element.self, capacity: n).initialize(repeating: value, count: n)
        count += n
    }

    /// Room for `total` elements, growing by doubling.
    private func reserve(_ total: Int) {
        let needed = total * MemoryLayout<Element>.stride
        guard needed > capacityBytes else { return }
        let page = Int(getpagesize())
        var bytes = max(capacityBytes * 2, 64 << 10)
        while bytes < needed { bytes *= 2 }
        bytes = (bytes + page - 1) / page * page
        guard let base else {
            self.base = Self.map(bytes)
            capacityBytes = bytes
            return
        }
        guard let moved = tk_grow_mapping(base, capacityBytes, bytes) else {
            fatalError("PageBuffer: cannot grow to \(bytes) bytes: \(String(cString: strerror(errno)))")
        }
        self.base = moved
        capacityBytes = bytes
    }

    private static func map(_ bytes: Int) -> UnsafeMutableRawPointer {
        guard let pages = mmap(nil, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0), pages != MAP_FAILED else {
            // Like a failed Array allocation: there is no way to go on without the memory.
            fatalError("PageBuffer: cannot map \(bytes) bytes: \(String(cString: strerror(errno)))")
        }
        return pages
    }
}
