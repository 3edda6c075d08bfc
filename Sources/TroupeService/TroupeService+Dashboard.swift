import Foundation
import TroupeCore
import TroupeRuntime
import TroupeStore

/// What the dashboard reads beyond the API's other calls: a persona's slices and counts, its
/// beliefs with every version (a page at a time), its last turns, and a session run's turns as
/// its log grows. Reads only; each one checks the caller as the calls it resembles do.
extension TroupeService {
    /// The most facts one page of ``beliefs(persona:slice:after:limit:_:)`` holds.
    public static let beliefsPageLimit = 500

    /// A page of beliefs: records with every version, and the id to ask for the next page after.
    public struct BeliefsPage: Sendable {
        public struct Fact: Sendable {
            public var id: String
            /// Every version, oldest first (the last is current); values that lost a conflict;
            /// records kept beside it after one.
            public var history: RecordHistory
            /// Records of the page's owner that dispute this one (written by a source of lower trust).
            public var disputedBy: [String]
        }
        public var facts: [Fact]
        /// The last fact's id when there may be more, else `nil`.
        public var next: String?
    }

    /// Current records of `persona`'s `slice` (or of the shared slice `shared` it belongs to)
    /// in canonical order (oldest first) after the record `after`, at most `limit`, each with
    /// its history: when each value held (valid_from … valid_to), who wrote it, values that
    /// lost a conflict, and which records dispute it.
    public func beliefs(
        persona: String, shared: String? = nil, slice: SliceKind, after: String?, limit: Int, _ context: RequestContext
    ) async throws -> BeliefsPage {
        guard (1...Self.beliefsPageLimit).contains(limit) else {
            throw ArgumentError(field: "limit", "must be a whole number from 1 to \(Self.beliefsPageLimit)")
        }
        let actor = try await actor(persona, context)
        var (owner, slice) = (actor.name, slice)
        if let shared {
            let sharedSlice = try sharedSlice(shared, context)
            guard sharedSlice.members.contains(actor.name) else {
                throw TroupeError(.denied, "\(persona) does not belong to shared slice '\(shared)'")
            }
            (owner, slice) = (sharedSlice.name, sharedSlice.kind)
        }
        var cursor: MemoryRecord?
        if let after {
            guard let record = try await runtime.store.get(after), record.owner == owner, record.slice == slice else {
                throw ArgumentError(field: "after", "'\(after)' is not a current record of \(owner)'s \(slice.rawValue) slice")
            }
            cursor = record
        }
        let page = try await runtime.store.query(
            MemoryQuery(owners: [owner], slices: [slice], order: .canonical, limit: limit + 1, after: cursor))
        let shown = Array(page.prefix(limit))
        // Disputes point from the claim to the fact (formation tags the claim `disputed`); the
        // page's facts are looked up among the claims.
        let claims = try await runtime.store.query(
            MemoryQuery(owners: [owner], slices: [slice], tag: "disputed", order: .newestFirst, limit: 1000))
        var disputedBy: [String: [String]] = [:]
        for claim in claims {
            if case .object(let m)? = claim.metadata, case .string(let target)? = m["disputes"] { disputedBy[target, default: []].append(claim.id) }
        }
        // Histories read a few at a time (the store reads concurrently), kept in the page's order.
        let store = runtime.store
        var histories: [String: RecordHistory] = [:]
        try await withThrowingTaskGroup(of: (String, RecordHistory).self) { group in
            var next = shown.makeIterator()
            func add() {
                guard let record = next.next() else { return }
                group.addTask { (record.id, try await store.history(record.id)) }
            }
            for _ in 0..<4 { add() }
            while let (id, history) = try await group.next() {
                histories[id] = history
                add()
            }
        }
        let facts = shown.map { record in
            // Forgotten between the page's query and its history: the version the page read.
            let history = histories[record.id].flatMap { $0.versions.isEmpty ? nil : $0 } ?? RecordHistory(versions: [record], forgotten: nil)
            return BeliefsPage.Fact(id: record.id, history: history, disputedBy: disputedBy[record.id] ?? [])
        }
        return BeliefsPage(facts: facts, next: page.count > limit ? shown.last?.id : nil)
    }

    /// How many current memories `persona` holds in each slice, and each shared slice it
    /// belongs to that the caller may read (`owner/slice` → count).
    public func memoryCounts(persona: String, _ context: RequestContext) async throws -> [(owner: String, slice: SliceKind, count: Int)] {
        let actor = try await actor(persona, context)
        let shared = Set(sharedSlices(context).filter { $0.members.contains(actor.name) }.map(\.name.rawValue))
        let stats = try await runtime.stats()
        return stats.buckets.filter { $0.owner == actor.name.rawValue || shared.contains($0.owner) }.map { ($0.owner, $0.slice, $0.count) }
    }

    /// `persona`'s last turns in this process's conversations, newest first, at most `limit`:
    /// every conversation's for an operator, a client's own conversations' for a client.
    public func recentTurns(persona: String, limit: Int, _ context: RequestContext) async throws -> [TurnRecord] {
        let actor = try await actor(persona, context)
        let owner = context.principal.role == .client ? context.principal.id : nil
        var turns: [(used: UInt64, turn: TurnRecord)] = []
        for (used, conversation) in await conversations.all(startedBy: owner) {
            for turn in await conversation.turns where turn.persona == actor.name { turns.append((used, turn)) }
        }
        // Most recently used conversation first, and its latest turns first.
        turns.sort { ($0.used, $0.turn.number) > ($1.used, $1.turn.number) }
        return turns.prefix(limit).map(\.turn)
    }

    /// `persona`'s last turns, newest first, at most `limit`, each as `chat --json` gives it
    /// (without the prompt) with a `source`: `conversation` for this process's conversations
    /// (``recentTurns(persona:limit:_:)``), then, for an operator, `session NAME` for the newest
    /// session runs' turns (their logs; a session runs in a runtime of its own).
    public func lastTurns(persona: String, limit: Int, _ context: RequestContext) async throws -> [JSONValue] {
        var turns: [JSONValue] = try await recentTurns(persona: persona, limit: limit, context).map { turn in
            guard case .object(var object) = Self.turn(turn) else { return Self.turn(turn) }
            object["source"] = .string("conversation")
            return .object(object)
        }
        guard turns.count < limit, context.principal.actsOnWholeHome else { return turns }
        let runs = try await sessionRuns(context).sorted { ($0.start ?? "", $0.name) > ($1.start ?? "", $1.name) }
        for run in runs.prefix(5) where turns.count < limit {
            for case .object(var turn) in try await sessionTurns(named: run.name, after: 0, context).turns.reversed()
            where turn["persona"] == .string(persona) && turns.count < limit {
                turn["source"] = .string("session \(run.name)")
                turns.append(.object(turn))
            }
        }
        return turns
    }

    /// The turns of the session run `name` from its log (written and fsynced as each turn
    /// ends, so a running session's turns come as they are written), after the first `after`,
    /// each without its prompt and model calls; and whether the run has ended.
    public func sessionTurns(named name: String, after: Int, _ context: RequestContext) async throws -> (turns: [JSONValue], ended: Bool) {
        try context.checkWholeHome("read a session run")
        try Self.checkSessionName(name)
        let log = sessionFolder(name).appendingPathComponent("log.jsonl")
        return try await offThePool("troupe.sessions.turns") {
            guard let text = try? String(contentsOf: log, encoding: .utf8) else {
                throw TroupeError(.notFound, "no session run '\(name)' (no log.jsonl)")
            }
            var turns: [JSONValue] = []
            var ended = false
            for line in text.split(separator: "\n") {
                // A line still being written (or cut short by a kill) does not parse: it is left for later.
                guard case .object(var object)? = try? JSONValue.parse(Array(line.utf8)) else { break }
                switch object["kind"] {
                case .string("turn"):
                    for key in ["prompt", "calls", "choice"] { object[key] = nil }
                    turns.append(.object(object))
                case .string("end"): ended = true
                default: break
                }
            }
            return (Array(turns.dropFirst(max(0, after))), ended)
        }
    }
}
