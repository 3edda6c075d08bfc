import Foundation
import TroupeCore

/// What a session run's folder says of it: read from its `log.jsonl` (the header, one line per
/// turn, the end line once the run ended). A run without an end line was killed, or is running.
public struct SessionStatus: Sendable {
    /// The folder's name (`sessions/<name>` in the home).
    public var name: String
    public var title: String
    /// The session file, as the run named it.
    public var file: String
    /// The run's id (empty for a log older than run ids).
    public var run: String
    public var clock: String
    public var start: String?
    public var turns: Int
    /// Whether the log has its end line.
    public var ended: Bool
    public var stoppedBy: String?
    /// Each expectation and whether it passed, once the run ended.
    public var expectations: [(expectation: String, passed: Bool)]
    public var transcript: URL
    public var log: URL

    /// Whether every expectation passed (`nil` until the run ended).
    public var passed: Bool? { ended ? expectations.allSatisfy(\.passed) : nil }

    /// The status of the run whose outputs are in `folder`; a folder without a log is not found.
    /// Reads the whole log (it holds every prompt): call it off the cooperative pool.
    public static func read(_ folder: URL) throws -> SessionStatus {
        let log = folder.appendingPathComponent("log.jsonl")
        guard FileManager.default.fileExists(atPath: log.path) else {
            throw TroupeError(.notFound, "no session run '\(folder.lastPathComponent)' (no log.jsonl)")
        }
        let (header, turns, end) = try SessionLog.read(log)
        func text(_ object: [String: JSONValue]?, _ key: String) -> String? {
            if case .string(let value)? = object?[key] { value } else { nil }
        }
        var expectations: [(String, Bool)] = []
        if case .array(let list)? = end?["expectations"] {
            for case .object(let e) in list {
                if case .string(let what)? = e["expectation"], case .bool(let passed)? = e["passed"] { expectations.append((what, passed)) }
            }
        }
        return SessionStatus(
            name: folder.lastPathComponent, title: text(header, "title") ?? "", file: text(header, "file") ?? "", run: text(header, "run") ?? "",
            clock: text(header, "clock") ?? "fixed", start: text(header, "start"), turns: turns.count, ended: end != nil,
            stoppedBy: text(end, "stopped_by"), expectations: expectations,
            transcript: folder.appendingPathComponent("transcript.md"), log: log)
    }

    /// `{"name", "title", "file", "run", "clock", "start"?, "turns", "ended", "stopped_by"?,
    /// "passed"?, "expectations", "transcript", "log"}`.
    public var json: JSONValue {
        var object: [String: JSONValue] = [
            "name": .string(name), "title": .string(title), "file": .string(file), "run": .string(run), "clock": .string(clock),
            "turns": .number(Double(turns)), "ended": .bool(ended), "transcript": .string(transcript.path), "log": .string(log.path),
            "expectations": .array(expectations.map { .object(["expectation": .string($0.expectation), "passed": .bool($0.passed)]) }),
        ]
        if let start { object["start"] = .string(start) }
        if let stoppedBy { object["stopped_by"] = .string(stoppedBy) }
        if let passed { object["passed"] = .bool(passed) }
        return .object(object)
    }
}
