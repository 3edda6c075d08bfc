import Foundation
import TroupeConfig
import TroupeCore
import TroupeStore

/// How a session ended: why it stopped, what its expectations found, where its outputs are.
public struct SessionResult: Sendable {
    public struct Check: Sendable {
        public var expectation: String
        public var passed: Bool
        /// What was found instead (or what matched).
        public var found: String
    }

    public var title: String
    public var stoppedBy: String
    public var rounds: Int
    public var turns: Int
    public var conflicts: Int
    public var checks: [Check]
    public var transcript: URL
    public var log: URL
    /// For a sandboxed run with expectations: whether its memory changes went into the home.
    public var committed: Bool?
    public var seconds: Double
    public var modelSeconds: Double

    public var passed: Bool { checks.allSatisfy(\.passed) }

    public var json: JSONValue {
        var object: [String: JSONValue] = [
            "title": .string(title), "stopped_by": .string(stoppedBy), "rounds": .number(Double(rounds)), "turns": .number(Double(turns)),
            "conflicts": .number(Double(conflicts)), "passed": .bool(passed), "transcript": .string(transcript.path), "log": .string(log.path),
            "seconds": .number((seconds * 1000).rounded() / 1000), "model_seconds": .number((modelSeconds * 1000).rounded() / 1000),
            "expectations": .array(checks.map { .object(["expectation": .string($0.expectation), "passed": .bool($0.passed), "found": .string($0.found)]) }),
        ]
        if let committed { object["committed"] = .bool(committed) }
        return .object(object)
    }
}

extension SessionRun {
    /// Checks the expectations, writes the transcript and the log's end line.
    func finish() async throws -> SessionResult {
        var checks: [SessionResult.Check] = []
        let conflicts = await runtime.coordinator.committed.conflicts - conflictsBefore
        for expectation in definition.expectations { checks.append(try await check(expectation, conflicts: conflicts)) }
        let rounds = Set(turns.map(\.round)).count
        let modelSeconds = turns.reduce(0) { $0 + $1.record.timings.model } / 1000
        let result = SessionResult(
            title: definition.title, stoppedBy: stoppedBy, rounds: rounds, turns: turns.count, conflicts: conflicts, checks: checks,
            transcript: runner.transcriptURL, log: runner.logURL, committed: nil, seconds: Date().timeIntervalSince(startedAt),
            modelSeconds: modelSeconds)
        try SessionTranscript.markdown(definition, turns: turns, result: result, decision: decided)
            .write(to: runner.transcriptURL, atomically: true, encoding: .utf8)
        try log.append(.object([
            "kind": .string("end"), "stopped_by": .string(stoppedBy), "turns": .number(Double(turns.count)),
            "conflicts": .number(Double(conflicts)),
            "expectations": .array(checks.map { .object(["expectation": .string($0.expectation), "passed": .bool($0.passed)]) }),
        ]))
        return result
    }

    /// Whether `record` comes from `origin`. A record without provenance is its `source`'s: a
    /// persona's (a decision a reply wrote) or else an operator's, a person's.
    func matches(_ record: MemoryRecord, _ origin: SessionDefinition.Origin?) -> Bool {
        guard let origin else { return true }
        let provenance = Provenance(record.metadata)
        if let saidBy = origin.saidBy, (provenance?.saidBy ?? record.source) != saidBy { return false }
        let persona = (try? runtime.definition(record.source)) != nil
        if let by = origin.by, (provenance?.source.rawValue ?? (persona ? "persona" : "person")) != by { return false }
        return true
    }

    func check(_ expectation: SessionDefinition.Expectation, conflicts: Int) async throws -> SessionResult.Check {
        switch expectation {
        case .recalls(let persona, let query, let slice, let contains, let origin):
            let hits = try await runtime.persona(persona.rawValue).recall(query, slices: slice.map { [$0] }, limit: 10)
            let hit = hits.first { $0.record.content.localizedCaseInsensitiveContains(contains) && matches($0.record, origin) }
            return .init(
                expectation: "\(persona) recalls \"\(contains)\" for \"\(query)\"" + (slice.map { " from \($0.rawValue) memory" } ?? "")
                    + (origin.map { " (\($0.description))" } ?? ""),
                passed: hit != nil,
                found: hit.map { "\($0.record.id): \($0.record.content)" }
                    ?? (hits.isEmpty ? "nothing recalled" : "recalled instead: " + hits.prefix(3).map { "\"\($0.record.content.prefix(80))\"" }.joined(separator: ", ")))
        case .holds(let slice, let contains, let origin):
            let records = try await runtime.store.query(MemoryQuery(owners: [slice]))
            let match = records.first { $0.content.localizedCaseInsensitiveContains(contains) && matches($0, origin) }
            return .init(
                expectation: "the shared slice \(slice) holds a record matching \"\(contains)\"" + (origin.map { " (\($0.description))" } ?? ""),
                passed: match != nil,
                found: match.map { "\($0.id): \($0.content)" } ?? "\(records.count) records, none matching")
        case .untouched(let slice):
            let after = try await runtime.store.sliceVersions(owners: [slice], slices: SliceKind.allCases)
            let before = versionsBefore.filter { $0.key.hasPrefix("\(slice)/") }
            return .init(
                expectation: "nothing was written to \(slice)", passed: after == before,
                found: after == before ? "untouched" : "written to during the session")
        case .stoppedBy(let reason):
            return .init(expectation: "the run stopped because of \(reason)", passed: stoppedBy == reason, found: "stopped because of \(stoppedBy)")
        case .conflictsAtMost(let limit):
            return .init(expectation: "at most \(limit) conflicts", passed: conflicts <= limit, found: "\(conflicts) conflicts")
        }
    }
}
