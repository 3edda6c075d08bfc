import Foundation
import TroupeCore
import Yams

/// One YAML file being read: its text, its parsed tree and the diagnostics found so far.
///
/// Readers report into it and keep going, so that a file's every problem is listed at once.
public final class YAMLSource {
    public let displayPath: String
    let lines: [Substring]
    private var found: [Diagnostic] = []
    /// Every problem found, in the order of the file.
    public var diagnostics: [Diagnostic] {
        get { found.enumerated().sorted { ($0.element.line, $0.element.column, $0.offset) < ($1.element.line, $1.element.column, $1.offset) }.map(\.element) }
        set { found = newValue }
    }
    /// The document's root, or `nil` when the file is empty or not YAML (a diagnostic says which).
    public private(set) var root: Node?

    public init(text: String, displayPath: String) {
        self.displayPath = displayPath
        lines = Self.lines(of: text)
        do {
            root = try Yams.compose(yaml: text)
        } catch let error as YamlError {
            report(syntax: error)
        } catch {
            self.error("cannot read YAML: \(error)", line: 1, column: 1)
        }
    }

    /// The largest file read (a persona or config file is a page or two of text).
    public static let maxBytes = 1 << 20

    /// Reads `url`; a missing, unreadable, oversized or non-text file becomes a diagnostic that
    /// says what is wrong, with the line and column of a bad byte.
    public convenience init(contentsOf url: URL, displayPath: String? = nil) {
        let shown = displayPath ?? DisplayPath.of(url)
        let data: Data
        switch Self.read(url) {
        case .failure(let problem):
            self.init(text: "", displayPath: shown)
            self.diagnostics = [Diagnostic(file: shown, line: 0, column: 0, message: problem.message)]
            return
        case .success(let bytes):
            data = bytes
        }
        if let (line, column, what) = Self.badByte(in: data) {
            self.init(text: "", displayPath: shown)
            let text = String(decoding: data, as: UTF8.self)
            let source = Self.lines(of: text)
            self.diagnostics = [Diagnostic(
                file: shown, line: line, column: column, message: what, sourceLine: line <= source.count ? String(source[line - 1]) : nil)]
            return
        }
        self.init(text: String(decoding: data, as: UTF8.self), displayPath: shown)
    }

    /// The bytes of a regular file of at most ``maxBytes``, or what stands in the way.
    static func read(_ url: URL) -> Result<Data, ReadProblem> {
        var info = stat()
        guard stat(url.path, &info) == 0 else { return .failure(ReadProblem("cannot read file: \(String(cString: strerror(errno)))")) }
        switch info.st_mode & S_IFMT {
        case S_IFREG: break
        case S_IFDIR: return .failure(ReadProblem("is a directory, not a YAML file"))
        case S_IFIFO: return .failure(ReadProblem("is a FIFO, not a YAML file"))
        case S_IFCHR, S_IFBLK: return .failure(ReadProblem("is a device, not a YAML file"))
        default: return .failure(ReadProblem("is not a regular file"))
        }
        guard info.st_size <= maxBytes else {
            return .failure(ReadProblem("is \(ByteCount.format(Int64(info.st_size))), more than a YAML file here may be (\(ByteCount.format(Int64(maxBytes))))"))
        }
        let fd = open(url.path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return .failure(ReadProblem("cannot read file: \(String(cString: strerror(errno)))")) }
        defer { close(fd) }
        var bytes = [UInt8](repeating: 0, count: maxBytes + 1)
        var count = 0
        while count < bytes.count {
            let n = bytes.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress! + count, $0.count - count) }
            if n < 0, errno == EINTR { continue }
            guard n >= 0 else { return .failure(ReadProblem("cannot read file: \(String(cString: strerror(errno)))")) }
            if n == 0 { break }
            count += n
        }
        guard count <= maxBytes else { return .failure(ReadProblem("grew past \(ByteCount.format(Int64(maxBytes))) while being read")) }
        return .success(Data(bytes[..<count]))
    }

    /// The first byte that makes `data` not UTF-8 text (or a NUL), with its line and column.
    static func badByte(in data: Data) -> (line: Int, column: Int, message: String)? {
        let bytes = [UInt8](data)
        var line = 1, column = 1, i = 0
        while i < bytes.count {
            let byte = bytes[i]
            if byte == 0 { return (line, column, "a NUL byte: a YAML file holds text") }
            let length = byte < 0x80 ? 1 : byte >> 5 == 0b110 ? 2 : byte >> 4 == 0b1110 ? 3 : byte >> 3 == 0b11110 ? 4 : 0
            let sequence = length > 0 && i + length <= bytes.count ? Array(bytes[i..<(i + length)]) : []
            guard length > 0, !sequence.isEmpty, String(validating: sequence, as: UTF8.self) != nil else {
                return (line, column, "not valid UTF-8: byte 0x\(String(byte, radix: 16, uppercase: true)) (save the file as UTF-8)")
            }
            let lineBreak = byte == 0x0A || (byte == 0x0D && (i + 1 == bytes.count || bytes[i + 1] != 0x0A))
            if lineBreak { (line, column) = (line + 1, 1) } else if byte != 0x0D { column += 1 }
            i += length
        }
        return nil
    }

    /// The file's lines without their line breaks: LF, CRLF (as Windows writes them) or a lone
    /// CR, as YAML counts them, so that line numbers agree with the parser's.
    static func lines(of text: String) -> [Substring] {
        // By scalars: in Swift a CR LF pair is one Character, which a split on "\n" never meets.
        let scalars = text.unicodeScalars
        var lines: [Substring] = []
        var start = scalars.startIndex
        var index = start
        while index < scalars.endIndex {
            let scalar = scalars[index]
            if scalar == "\n" || scalar == "\r" {
                lines.append(Substring(scalars[start..<index]))
                var next = scalars.index(after: index)
                if scalar == "\r", next < scalars.endIndex, scalars[next] == "\n" { next = scalars.index(after: next) }
                start = next
                index = next
                continue
            }
            index = scalars.index(after: index)
        }
        lines.append(Substring(scalars[start...]))
        return lines
    }

    public var hasErrors: Bool { diagnostics.contains { $0.severity == .error } }

    /// Records a problem at `line`:`column` (1-based).
    public func error(_ message: String, line: Int, column: Int, length: Int = 1, severity: Diagnostic.Severity = .error) {
        let source = line >= 1 && line <= lines.count ? String(lines[line - 1]) : nil
        found.append(
            Diagnostic(
                file: displayPath, line: line, column: column, severity: severity, message: message,
                sourceLine: source, length: length))
    }

    /// Records a problem at `node`, underlining its text when it is a one-line scalar.
    public func error(_ message: String, at node: Node?, severity: Diagnostic.Severity = .error) {
        var length = 1
        if let scalar = node?.scalar, scalar.style == .plain, !scalar.string.contains("\n") {
            length = max(1, scalar.string.count)
        }
        error(message, line: node?.mark?.line ?? 1, column: node?.mark?.column ?? 1, length: length, severity: severity)
    }

    private func report(syntax error: YamlError) {
        switch error {
        case .scanner(let context, let problem, let mark, _),
            .parser(let context, let problem, let mark, _),
            .composer(let context, let problem, let mark, _):
            var message = "YAML syntax: \(problem)"
            if let context { message += " (\(context.text) at line \(context.mark.line))" }
            let line = mark.line >= 1 && mark.line <= lines.count ? lines[mark.line - 1] : ""
            if line.contains("\t") { message += "; tabs cannot indent YAML, use spaces" }
            self.error(message, line: mark.line, column: mark.column)
        case .duplicatedKeysInMapping(let duplicates, let context):
            let key = duplicates.first ?? "?"
            let (line, column) = secondOccurrence(of: key, after: context.mark)
            self.error("duplicate key '\(key)' (a key may appear once in a mapping)", line: line, column: column, length: key.count)
        case .reader(let problem, _, _, _):
            self.error("cannot read YAML: \(problem)", line: 1, column: 1)
        default:
            self.error("cannot read YAML: \(error)", line: 1, column: 1)
        }
    }

    /// Yams reports a duplicate key at its first occurrence; point at the repeat instead.
    private func secondOccurrence(of key: String, after mark: Mark) -> (Int, Int) {
        let column = mark.column
        // (A mark past the last line, as a file of lone CRs can give, has no repeat to find.)
        guard mark.line + 1 <= lines.count else { return (mark.line, mark.column) }
        for lineNumber in (mark.line + 1)...lines.count {
            let line = lines[lineNumber - 1]
            let start = line.index(line.startIndex, offsetBy: min(column - 1, line.count))
            let rest = line[start...]
            let indent = line[..<start]
            if indent.allSatisfy({ $0 == " " || $0 == "-" }), rest.hasPrefix(key + ":") {
                return (lineNumber, column)
            }
        }
        return (mark.line, mark.column)
    }
}

/// Why a file could not be read, in words for a diagnostic.
struct ReadProblem: Error {
    var message: String
    init(_ message: String) { self.message = message }
}
