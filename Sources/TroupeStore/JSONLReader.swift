import Foundation
import TroupeCore

/// Reads a file line by line in fixed-size chunks, so memory stays constant whatever its size:
/// a line longer than `maxLineBytes` is not kept but skipped to its end, and reported as such.
public struct JSONLReader {
    /// One line of the file: its number (blank lines counted, so numbers match an editor's)
    /// and bytes, or only its length when it was longer than the limit.
    public struct Line: Sendable {
        public var number: Int
        public var bytes: Data
        /// The line's length when it went over the limit (`bytes` is then empty).
        public var overLimit: Int64?
    }

    private let handle: FileHandle
    /// Bytes read but not yet returned start at `cursor`; consumed lines are dropped only when a
    /// new chunk is read, so taking a line never moves the rest of the buffer.
    private var buffer: [UInt8] = []
    private var cursor = 0
    /// Where the search for the next newline resumes (nothing before it is a newline).
    private var scanned = 0
    /// The length so far of an over-long line whose bytes are being skipped.
    private var skipping: Int64?
    private var atEOF = false
    private let chunkSize: Int
    /// The longest line kept, in bytes.
    public let maxLineBytes: Int
    /// Lines read so far (blank ones included).
    public private(set) var lineNumber = 0
    /// Bytes consumed so far.
    public private(set) var bytesRead: Int64 = 0
    /// The file's size when opened.
    public let totalBytes: Int64

    public init(url: URL, chunkSize: Int = 1 << 20, maxLineBytes: Int = 4 << 20) throws {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory), isDirectory.boolValue {
            throw TroupeError(.invalidInput, "is a directory, not a JSONL file", context: url.path)
        }
        do {
            handle = try FileHandle(forReadingFrom: url)
        } catch {
            throw TroupeError(.invalidInput, "cannot open file for reading (\(Self.reason(error)))", context: url.path)
        }
        let size = (try? FileManager.default.attributesOfItem(atPath: url.path)[.size] as? NSNumber)?.int64Value
        totalBytes = size ?? 0
        self.chunkSize = max(1, chunkSize)
        self.maxLineBytes = max(1, maxLineBytes)
    }

    /// The next non-blank line, or `nil` at the end of the file.
    public mutating func next() throws -> Line? {
        while true {
            if let newline = buffer[scanned...].firstIndex(of: UInt8(ascii: "\n")) {
                let line = buffer[cursor..<newline]
                cursor = newline + 1
                scanned = cursor
                lineNumber += 1
                bytesRead += Int64(line.count + 1)
                if let skipped = skipping {
                    skipping = nil
                    return Line(number: lineNumber, bytes: Data(), overLimit: skipped + Int64(line.count))
                }
                if line.count > maxLineBytes { return Line(number: lineNumber, bytes: Data(), overLimit: Int64(line.count)) }
                if Self.isBlank(line) { continue }
                return Line(number: lineNumber, bytes: Data(line), overLimit: nil)
            }
            if atEOF {
                guard cursor < buffer.count || skipping != nil else { return nil }
                let line = buffer[cursor...]
                cursor = buffer.count
                scanned = cursor
                lineNumber += 1
                bytesRead += Int64(line.count)
                if let skipped = skipping {
                    skipping = nil
                    return Line(number: lineNumber, bytes: Data(), overLimit: skipped + Int64(line.count))
                }
                if line.count > maxLineBytes { return Line(number: lineNumber, bytes: Data(), overLimit: Int64(line.count)) }
                if Self.isBlank(line) { return nil }
                return Line(number: lineNumber, bytes: Data(line), overLimit: nil)
            }
            // No newline in what is held: an over-long line is dropped as it goes.
            if buffer.count - cursor > maxLineBytes {
                let dropped = buffer.count - cursor
                skipping = (skipping ?? 0) + Int64(dropped)
                bytesRead += Int64(dropped)
                cursor = buffer.count
            }
            scanned = buffer.count
            let chunk: Data
            do {
                chunk = try handle.read(upToCount: chunkSize) ?? Data()
            } catch {
                throw TroupeError(.invalidInput, "cannot read the file (\(Self.reason(error)))", context: "line \(lineNumber + 1)")
            }
            let consumed = cursor
            buffer.removeSubrange(0..<consumed)
            cursor = 0
            scanned -= consumed
            if chunk.isEmpty { atEOF = true } else { buffer.append(contentsOf: chunk) }
        }
    }

    private static func isBlank(_ line: ArraySlice<UInt8>) -> Bool {
        line.allSatisfy { $0 == 32 || $0 == 9 || $0 == 13 }
    }

    /// What went wrong, as the system says it (not Foundation's error dump).
    package static func reason(_ error: any Error) -> String {
        let ns = error as NSError
        if let posix = ns.userInfo[NSUnderlyingErrorKey] as? NSError, posix.domain == NSPOSIXErrorDomain {
            return String(cString: strerror(Int32(posix.code)))
        }
        if ns.domain == NSPOSIXErrorDomain { return String(cString: strerror(Int32(ns.code))) }
        switch ns.code {
        case NSFileReadNoPermissionError: return "permission denied"
        case NSFileReadNoSuchFileError, NSFileNoSuchFileError: return "no such file"
        default: return ns.localizedDescription
        }
    }
}
