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
        lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        do {
            root = try Yams.compose(yaml: text)
        } catch let error as YamlError {
            report(syntax: error)
        } catch {
            self.error("cannot read YAML: \(error)", line: 1, column: 1)
        }
    }

    /// Reads `url`; a missing or unreadable file becomes a diagnostic.
    public convenience init(contentsOf url: URL, displayPath: String? = nil) {
        let shown = displayPath ?? DisplayPath.of(url)
        do {
            let data = try Data(contentsOf: url)
            guard let text = String(data: data, encoding: .utf8) else {
                self.init(text: "", displayPath: shown)
                self.diagnostics = [Diagnostic(file: shown, line: 0, column: 0, message: "file is not valid UTF-8")]
                return
            }
            self.init(text: text, displayPath: shown)
        } catch {
            self.init(text: "", displayPath: shown)
            self.diagnostics = [
                Diagnostic(file: shown, line: 0, column: 0, message: "cannot read file: \(error.localizedDescription)")
            ]
        }
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
        for lineNumber in (mark.line + 1)..<(lines.count + 1) {
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
