import Foundation
import TroupeCore

/// Reads a file line by line in fixed-size chunks, so memory stays constant whatever its size.
public struct JSONLReader {
    private let handle: FileHandle
    /// Bytes read but not yet returned start at `cursor`; consumed lines are dropped only when a
    /// new chunk is read, so taking a line never moves the rest of the buffer.
    private var buffer: [UInt8] = []
    private var cursor = 0
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
            if let newline = buffer[cursor...].firstIndex(of: UInt8(ascii: "\n")) {
                let line = buffer[cursor..<newline]
                cursor = newline + 1
                lineNumber += 1
                bytesRead += Int64(line.count + 1)
                if Self.isBlank(line) { continue }
                return (lineNumber, Data(line))
            }
            if atEOF {
                guard cursor < buffer.count else { return nil }
                let line = buffer[cursor...]
                cursor = buffer.count
                lineNumber += 1
                bytesRead += Int64(line.count)
                if Self.isBlank(line) { return nil }
                return (lineNumber, Data(line))
            }
            let chunk = try handle.read(upToCount: chunkSize) ?? Data()
            buffer.removeSubrange(0..<cursor)
            cursor = 0
            if chunk.isEmpty { atEOF = true } else { buffer.append(contentsOf: chunk) }
        }
    }

    private static func isBlank(_ line: ArraySlice<UInt8>) -> Bool {
        line.allSatisfy { $0 == 32 || $0 == 9 || $0 == 13 }
    }
}
