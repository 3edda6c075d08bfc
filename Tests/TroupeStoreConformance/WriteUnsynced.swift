import Foundation

extension Data {
    /// Writes the bytes to `url` as `write(to:options: .atomic)` does (a temporary file renamed
    /// over it), without syncing them to disk. Foundation's writes call fsync, which on a busy
    /// disk holds the calling thread (in a test, often the cooperative pool's) for seconds; a
    /// test's files need no durability.
    public func writeUnsynced(to url: URL) throws {
        let temporary = url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).\(UUID().uuidString)").path
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
        var written = 0
        while written < count {
            let n = withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + written, $0.count - written) }
            guard n > 0 else {
                let code = POSIXErrorCode(rawValue: errno) ?? .EIO
                close(fd)
                unlink(temporary)
                throw POSIXError(code)
            }
            written += n
        }
        close(fd)
        guard rename(temporary, url.path) == 0 else {
            let code = POSIXErrorCode(rawValue: errno) ?? .EIO
            unlink(temporary)
            throw POSIXError(code)
        }
    }
}

extension String {
    /// Writes the text, UTF-8, to `url` as ``Foundation/Data/writeUnsynced(to:)`` does.
    public func writeUnsynced(to url: URL) throws { try Data(utf8).writeUnsynced(to: url) }
}
