import Foundation
import TroupeCore
import TroupeLLM
import TroupeRetrieval

/// A session's `log.jsonl`: a header, a line per turn (speaker, what was recalled with every
/// score component, the prompt as sent and what was dropped to fit it, memory writes, conflicts
/// and their resolution, the model's reply and every model call, the backend, timings), and an
/// end line. Each line is fsynced as it is written, so a killed run can be resumed from it.
public struct SessionLog: Sendable {
    public struct Turn: Sendable {
        public var round: Int
        public var scope: String
        public var record: TurnRecord
        /// Shared-slice writes of the turn and how their slice's policy resolved them.
        public var shared: [SharedEntry]
        /// Every model call of the turn, in order (the reply, then fact extraction).
        public var calls: [RecordedCall]
    }

    /// A write to a shared slice and its outcome (for the log, the transcript and replays).
    public struct SharedEntry: Sendable, Hashable {
        public var slice: String
        public var record: String
        public var base: Int
        public var outcome: String
        public var audit: Int64?
        public var content: String
    }

    let url: URL

    init(url: URL) { self.url = url }

    /// Starts the log anew with its header.
    func start(_ header: JSONValue) throws {
        try? FileManager.default.removeItem(at: url)
        try append(header)
    }

    func append(_ value: JSONValue) throws {
        let fd = open(url.path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw TroupeError(.storage, "cannot write the session log: \(String(cString: strerror(errno)))", context: url.path) }
        defer { close(fd) }
        let bytes = Array((value.canonicalText + "\n").utf8)
        let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        guard written == bytes.count, fsync(fd) == 0 else {
            throw TroupeError(.storage, "cannot write the session log: \(String(cString: strerror(errno)))", context: url.path)
        }
    }

    /// The lines of a log: header, turns (as objects), end (if the run ended).
    static func read(_ url: URL) throws -> (header: [String: JSONValue], turns: [[String: JSONValue]], end: [String: JSONValue]?) {
        let text: String
        do { text = try String(contentsOf: url, encoding: .utf8) } catch {
            throw TroupeError(.invalidInput, "cannot read the session log", context: url.path, cause: error)
        }
        var header: [String: JSONValue]?
        var turns: [[String: JSONValue]] = []
        var end: [String: JSONValue]?
        for (number, line) in text.split(separator: "\n").enumerated() {
            // A line cut short by a kill is the last one; it and what follows are dropped.
            guard case .object(let object)? = try? JSONValue.parse(Array(line.utf8)), case .string(let kind)? = object["kind"] else {
                if number == 0 { throw TroupeError(.invalidInput, "line 1 is not a session log header", context: url.path) }
                break
            }
            switch kind {
            case "session": header = object
            case "turn": turns.append(object)
            case "end": end = object
            default: break
            }
        }
        guard let header else { throw TroupeError(.invalidInput, "no session header", context: url.path) }
        return (header, turns, end)
    }

    /// A round's time (the session's clock as the round started), for replays to date alike.
    static func clockLine(round: Int, at time: Date) -> JSONValue {
        .object(["kind": .string("clock"), "round": .number(Double(round)), "at": .string(Timestamp.format(time))])
    }

    /// The rounds' times a log recorded.
    static func times(_ url: URL) throws -> [Int: Date] {
        let text: String
        do { text = try String(contentsOf: url, encoding: .utf8) } catch {
            throw TroupeError(.invalidInput, "cannot read the session log", context: url.path, cause: error)
        }
        var times: [Int: Date] = [:]
        for line in text.split(separator: "\n") {
            guard case .object(let o)? = try? JSONValue.parse(Array(line.utf8)), o["kind"] == .string("clock"),
                case .number(let round)? = o["round"], case .string(let at)? = o["at"], let time = Timestamp.parse(at)
            else { continue }
            times[Int(round)] = time
        }
        return times
    }

    /// A replay's log, given the model calls of the log it replayed (a replay asks no model, so
    /// its turns have none of their own): it can be replayed in turn, and committed.
    static func copyCalls(into url: URL, from recorded: [[String: JSONValue]]) throws {
        var byScope: [String: [String: JSONValue]] = [:]
        for line in recorded { if case .string(let scope)? = line["scope"] { byScope[scope] = line } }
        let text = try String(contentsOf: url, encoding: .utf8)
        var out = ""
        for line in text.split(separator: "\n") {
            guard case .object(var o)? = try? JSONValue.parse(Array(line.utf8)), o["kind"] == .string("turn"),
                case .string(let scope)? = o["scope"], let source = byScope[scope]
            else {
                out += line + "\n"
                continue
            }
            if let calls = source["calls"] { o["calls"] = calls }
            if case .object(var choice)? = o["choice"], case .object(let recordedChoice)? = source["choice"] {
                choice["calls"] = recordedChoice["calls"]
                o["choice"] = .object(choice)
            }
            out += JSONValue.object(o).canonicalText + "\n"
        }
        let temporary = url.appendingPathExtension("tmp")
        try out.write(to: temporary, atomically: false, encoding: .utf8)
        guard rename(temporary.path, url.path) == 0 else {
            throw TroupeError(.storage, "cannot write the session log: \(String(cString: strerror(errno)))", context: url.path)
        }
    }

    /// A turn's line.
    static func line(_ turn: Turn) -> JSONValue {
        guard case .object(var object) = JSONView.turn(turn.record) else { return .null }
        object["kind"] = .string("turn")
        object["round"] = .number(Double(turn.round))
        object["scope"] = .string(turn.scope)
        object["calls"] = .array(turn.calls.map(\.json))
        object["shared"] = .array(turn.shared.map { e in
            var o: [String: JSONValue] = [
                "slice": .string(e.slice), "record": .string(e.record), "base": .number(Double(e.base)), "outcome": .string(e.outcome),
                "content": .string(e.content),
            ]
            if let audit = e.audit { o["audit"] = .number(Double(audit)) }
            return .object(o)
        })
        return .object(object)
    }
}
