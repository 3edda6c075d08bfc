import Foundation
import TroupeCore

/// A read-only memory map of a whole model file, unmapped when released. Weights are read in
/// place from it, so a model costs its file's size in page cache, shared between processes.
///
/// `@unchecked Sendable`: the mapping is never written (PROT_READ) and lives as long as this
/// object, so any thread may read through `bytes`.
final class MappedModelFile: @unchecked Sendable {
    let path: String
    let bytes: UnsafeRawBufferPointer

    init(path: String) throws {
        self.path = path
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            throw TroupeError(.unavailable, "cannot open model file: \(String(cString: strerror(errno)))", context: path)
        }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw TroupeError(.unavailable, "cannot stat model file", context: path) }
        let count = Int(info.st_size)
        guard count > 0 else { throw TroupeError(.invalidInput, "model file is empty", context: path) }
        guard let mapped = mmap(nil, count, PROT_READ, MAP_PRIVATE, fd, 0), mapped != MAP_FAILED else {
            throw TroupeError(.unavailable, "cannot map model file: \(String(cString: strerror(errno)))", context: path)
        }
        bytes = UnsafeRawBufferPointer(start: mapped, count: count)
    }

    deinit { munmap(UnsafeMutableRawPointer(mutating: bytes.baseAddress), bytes.count) }
}

extension MappedModelFile {
    /// Drops this process's pages of `range` (whole pages inside it): their contents were copied
    /// elsewhere, so they need not count in the resident set. The file itself is untouched, and
    /// reading the range again would page it back in.
    func discard(_ range: Range<Int>) {
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        let start = (range.lowerBound + page - 1) / page * page, end = range.upperBound / page * page
        guard start < end else { return }
        _ = madvise(UnsafeMutableRawPointer(mutating: bytes.baseAddress! + start), end - start, MADV_DONTNEED)
    }
}

/// Anonymous memory for the weight matrices, on 2 MB pages where the OS offers them (Linux
/// transparent huge pages): a decode step streams all ~100 MB of weights, and with 4 KB pages it
/// spends a tenth of its time on TLB misses and prefetches that stop at page boundaries.
///
/// `@unchecked Sendable`: written once while the model loads, read-only afterwards, and alive as
/// long as the weights that point into it.
final class WeightArena: @unchecked Sendable {
    let base: UnsafeMutableRawPointer
    let size: Int
    private let mapping: UnsafeMutableRawPointer
    private let mappedSize: Int

    init(bytes: Int) throws {
        let huge = 2 << 20
        size = (bytes + huge - 1) / huge * huge
        mappedSize = size + huge
        guard let mapped = mmap(nil, mappedSize, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0), mapped != MAP_FAILED else {
            throw TroupeError(.unavailable, "cannot allocate \(bytes >> 20) MB for the model's weights: \(String(cString: strerror(errno)))")
        }
        mapping = mapped
        // Huge pages must start on a 2 MB boundary.
        let aligned = (Int(bitPattern: mapped) + huge - 1) / huge * huge
        base = UnsafeMutableRawPointer(bitPattern: aligned)!
        #if os(Linux)
        _ = madvise(base, size, MADV_HUGEPAGE)
        #endif
    }

    deinit { munmap(mapping, mappedSize) }
}
