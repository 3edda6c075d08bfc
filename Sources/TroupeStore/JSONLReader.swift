import Foundation
import TroupeCore

/// Reads a file line by line in fixed-size chunks, so memory stays constant whatever its size.
public struct JSONLReader {
    private let handle: FileHandle
    private var buffer = Data()
    private var atEOF = false
    private let chunkSize: Int
    /// Lines read so far (blank ones included), so line numbers match an editor's.
    public private(set) var lineNumber = 0
    /// Bytes consumed so far.
    public private(set) var bytesRead: Int64 = 0
    /// The file's size when opened.
    public let totalBytes: Int64

    public init(url: URL, chunkSize: Int = 1 << 20) throws {
        do {
            handle = try FileHandle(forReadingFrom: url)
        } catch {
            throw TroupeError(.invalidInput, "cannot open file for reading", context: url.path, cause: error)
        }
        let size = (try? FileManager.default.attributesOfItem(atPath: url.path)[.size] as? NSNumber)?.int64Value
        totalBytes = size ?? 0
        self.chunkSize = chunkSize
    }

    /// The next non-blank line and its number, or `nil` at the end of the file.
    public mutating func next() throws -> (number: Int, bytes: Data)? {
        while true {
            if let newline = buffer.firstIndex(of: UInt8(ascii: "\n")) {
                let line = buffer[buffer.startIndex..<newline]
                buffer.removeSubrange(buffer.startIndex...newline)
                lineNumber += 1
                bytesRead += Int64(line.count + 1)
                if Self.isBlank(line) { continue }
                return (lineNumber, Data(line))
            }
            if atEOF {
                guard !buffer.isEmpty else { return nil }
                let line = buffer
                buffer = Data()
                lineNumber += 1
                bytesRead += Int64(line.count)
                if Self.isBlank(line) { return nil }
                return (lineNumber, line)
            }
            let chunk = try handle.read(upToCount: chunkSize) ?? Data()
            if chunk.isEmpty { atEOF = true } else { buffer.append(chunk) }
        }
    }

    private static func isBlank(_ line: Data) -> Bool {
        line.allSatisfy { $0 == 32 || $0 == 9 || $0 == 13 }
    }
}
