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
