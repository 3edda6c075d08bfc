import Foundation
import TroupeCore
import TroupeLLM
import TroupeStore

/// What one consolidation pass did.
public struct ConsolidationReport: Sendable {
    /// Conversations looked at, and those left for later (still going, or too short).
    public var conversations = 0
    public var waiting = 0
    /// Summaries written new, written again for a conversation that went on, and already up to date.
    public var written: [EpisodeSummary] = []
    public var updated = 0
    public var unchanged = 0
}

extension Runtime {
    /// A conversation is summarised once it has this many turns…
    public static let consolidationMinTurns = 3
    /// …and, in the background, once it has been quiet this long.
    public static let consolidationQuiet: Double = 15 * 60

    /// Summarises each conversation of `persona` (its episodes) into one dated episodic summary
    /// linked to the turns it covers (``EpisodeSummary``): by the persona's model when it is a
    /// capable one (an OpenAI-compatible server; `model` stands in for it), each sentence kept only
    /// where a turn holds it, else extractively. With `quiet`, only conversations whose last turn
    /// is at least that old; a summary already covering every turn is left alone (whichever way
    /// it was written), one that covers fewer gets a new version.
    public func consolidate(_ persona: PersonaID, quiet: Double? = nil, model given: (any ChatBackend)? = nil) async throws -> ConsolidationReport {
        var query = MemoryQuery(slices: [.episodic])
        query.owners = [persona]
        query.order = .canonical
        query.limit = 5000
        var conversations: [String: [EpisodeSummary.Turn]] = [:]
        var summaries: [String: MemoryRecord] = [:]
        while true {
            let page = try await store.query(query)
            for record in page {
                if record.tags.contains(EpisodeSummary.tag), case .object(let m)? = record.metadata, case .string(let of)? = m["summary_of"] {
                    summaries[of] = record
                } else if let (conversation, turn) = EpisodeSummary.turn(record, persona: persona.rawValue) {
                    conversations[conversation, default: []].append(turn)
                }
            }
            guard page.count == query.limit, let last = page.last else { break }
            query.after = last
        }

        var report = ConsolidationReport(conversations: conversations.count)
        var model = given
        // Only a server is made for it: never the embedded model (it would load a GGUF to summarise badly).
        if model == nil, !conversations.isEmpty, let definition = try? definition(persona.rawValue),
            case .openAI = await selectBackend(for: definition).choice
        {
            model = try? await chatBackend(for: definition).backend
        }
        if let backend = model, !MemoryFormation.readsFacts(backend.description) { model = nil }
        var batch: [MemoryRecord] = []
        let now = clock.now()
        for (conversation, turns) in conversations.sorted(by: { $0.key < $1.key }) {
            let latest = turns.map(\.record.createdAt).max() ?? now
            guard turns.count >= Self.consolidationMinTurns, now.timeIntervalSince(latest) >= (quiet ?? 0) else {
                report.waiting += 1
                continue
            }
            if let held = summaries[conversation], Self.covers(held) == Set(turns.map(\.record.id)) {
                report.unchanged += 1
                continue
            }
            var made: EpisodeSummary?
            if let model {
                made = await EpisodeSummary.byModel(owner: persona, conversation: conversation, turns: turns, persona: persona.rawValue, backend: model)
            }
            guard let summary = made ?? EpisodeSummary.make(owner: persona, conversation: conversation, turns: turns, persona: persona.rawValue) else {
                report.waiting += 1
                continue
            }
            let saidBy = turns.compactMap { Provenance($0.record.metadata)?.saidBy }.first ?? "user"
            let record = summary.record(saidBy: saidBy)
            if let held = summaries[conversation] {
                if held.hasSameValue(as: record) { report.unchanged += 1; continue }
                report.updated += 1
            }
            report.written.append(summary)
            batch.append(record)
        }
        if !batch.isEmpty { _ = try await writes.upsert(batch, writer: "consolidation") }
        return report
    }

    /// The turn ids a summary record covers.
    static func covers(_ summary: MemoryRecord) -> Set<String> {
        guard case .object(let m)? = summary.metadata, case .array(let ids)? = m["covers"] else { return [] }
        return Set(ids.compactMap { if case .string(let id) = $0 { id } else { nil } })
    }

    /// In the background (``run()``): every five minutes, each persona's quiet conversations
    /// (skipped when nothing was written since the last pass and no conversation was waiting to
    /// go quiet); every hour, each persona's decay (``decay(_:)``: retention and recalls move
    /// with time, not with writes).
    func keepConsolidating() async {
        var last: (cursor: Int64, waiting: Int)?
        var passes = 0
        while !Task.isCancelled {
            guard (try? await Task.sleep(for: .seconds(300))) != nil else { return }
            passes += 1
            if passes % 12 == 0 {
                for persona in personas {
                    do { _ = try await decay(persona.name) } catch { logger.warning("decaying \(persona.name)'s memory failed: \(error)") }
                }
            }
            guard let cursor = try? await store.changeCursor() else { continue }
            if let last, last.cursor == cursor, last.waiting == 0 { continue }
            var waiting = 0
            for persona in personas {
                do {
                    waiting += try await consolidate(persona.name, quiet: Self.consolidationQuiet).waiting
                } catch {
                    logger.warning("consolidating \(persona.name)'s conversations failed: \(error)")
                }
            }
            last = (cursor, waiting)
        }
    }
}
