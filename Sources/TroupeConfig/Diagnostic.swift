import Foundation

/// A problem in a config or persona file, located like a compiler's:
/// `Personas/athena.yaml:12:3: error: unknown key 'memroy' (did you mean 'memory'?)`.
public struct Diagnostic: Sendable, Hashable, CustomStringConvertible {
    public enum Severity: String, Sendable { case error, warning, note }

    /// The file as shown to the user (relative to the working directory when it is below it).
    public var file: String
    /// 1-based line and column; 0 when the problem has no position (a missing file).
    public var line: Int
    public var column: Int
    public var severity: Severity
    public var message: String
    /// The offending source line, shown under the message with a caret.
    public var sourceLine: String?
    /// How many characters the caret underlines.
    public var length: Int

    public init(
        file: String, line: Int, column: Int, severity: Severity = .error, message: String,
        sourceLine: String? = nil, length: Int = 1
    ) {
        self.file = file
        self.line = line
        self.column = column
        self.severity = severity
        self.message = message
        self.sourceLine = sourceLine
        self.length = length
    }

    /// `file:line:column: severity: message`.
    public var description: String {
        let position = line > 0 ? "\(file):\(line):\(column)" : file
        return "\(position): \(severity.rawValue): \(message)"
    }

    /// The description, then the source line and a caret under the problem. A long line is
    /// shown clipped around the column (`…` where it was cut).
    public var rendered: String {
        guard let sourceLine, column > 0 else { return description }
        var shown = Array(sourceLine)
        var caret = column - 1
        let width = 120
        if shown.count > width {
            let start = max(0, min(caret - width / 2, shown.count - width))
            let end = min(shown.count, start + width)
            var clipped = Array(shown[start..<end])
            if end < shown.count { clipped.append("…") }
            if start > 0 {
                clipped.insert("…", at: 0)
                caret = caret - start + 1
            }
            shown = clipped
        }
        let indent = String(shown.prefix(caret).map { $0 == "\t" ? "\t" : " " })
        let underline = "^" + String(repeating: "~", count: max(0, min(length, width) - 1))
        return "\(description)\n\(String(shown))\n\(indent)\(underline)"
    }
}

/// The error thrown when files do not validate; carries every diagnostic, not only the first.
public struct ConfigError: Error, CustomStringConvertible, Sendable {
    public var diagnostics: [Diagnostic]

    public init(_ diagnostics: [Diagnostic]) { self.diagnostics = diagnostics }

    public var errors: [Diagnostic] { diagnostics.filter { $0.severity == .error } }

    public var description: String {
        let count = errors.count
        let files = Set(errors.map(\.file)).sorted()
        return diagnostics.map(\.rendered).joined(separator: "\n")
            + "\n\(count) error\(count == 1 ? "" : "s") in \(files.joined(separator: ", "))"
    }
}

/// Paths as shown in messages: relative to the working directory when the file is below it.
public enum DisplayPath {
    public static func of(_ url: URL, relativeTo base: URL? = nil) -> String {
        let path = url.standardizedFileURL.path
        let root = (base ?? URL(fileURLWithPath: FileManager.default.currentDirectoryPath))
            .standardizedFileURL.path
        let prefix = root.hasSuffix("/") ? root : root + "/"
        return path.hasPrefix(prefix) ? String(path.dropFirst(prefix.count)) : path
    }
}
