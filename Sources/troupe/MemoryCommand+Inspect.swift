import ArgumentParser
import Foundation
import TroupeCore
import TroupeRuntime
import TroupeService
import TroupeStore

extension MemoryCommand {
    struct Working: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "A persona's live working memory, newest first (reading refreshes it).",
            discussion: "Served from Redis when the hot tier is up, else from SQLite. Expired items stay in SQLite (see `memory export --slice working`).")
        @OptionGroup var global: GlobalOptions
        @Option(help: "Whose working memory.") var persona: String
        @Flag(help: "Print JSON (one array).") var json = false

        func run() async throws {
            let items = try await global.service().workingMemory(persona: persona, .local)
            if json {
                Output.json(.array(items.map(JSONView.record)))
                return
            }
            if items.isEmpty { Output.stdout("\(persona) has no live working memory") }
            for item in items {
                Output.stdout("\(item.id)  until \(item.expiresAt.map(Timestamp.format) ?? "?")  \(item.content.replacingOccurrences(of: "\n", with: " "))")
            }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show a memory's current version.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The memory's id.") var id: String
        @Option(help: "As this persona (only its own memories and its shared slices').") var persona: String?
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            let record = try await global.service().record(id: id, persona: persona, .local)
            if json {
                Output.json(JSONView.record(record))
                return
            }
            Output.stdout("\(record.id)  \(record.owner)/\(record.slice.rawValue)  version \(record.version) by \(record.source)  "
                + "importance \(JSONValue.formatNumber(record.importance))"
                + (record.tags.isEmpty ? "" : "  tags \(record.tags.joined(separator: ", "))")
                + RecallText.provenance(record.metadata))
            Output.stdout("    \(record.content.replacingOccurrences(of: "\n", with: "\n    "))")
        }
    }

    struct History: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show every version of a memory and who wrote it, and values that lost a conflict.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The memory's id.") var id: String
        @Option(help: "As this persona (only its own memories and its shared slices').") var persona: String?
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            let history = try await global.service().history(id: id, persona: persona, .local)
            if json {
                Output.json(JSONView.history(id, history))
                return
            }
            if let r = history.forgotten {
                Output.stdout("\(id) was forgotten at \(Timestamp.format(r.forgottenAt)): \(r.versions) version\(r.versions == 1 ? "" : "s") of \(r.owner)/\(r.slice) removed" + (r.reason.map { " (\($0))" } ?? ""))
                return
            }
            for v in history.versions {
                let span = "\(Timestamp.format(v.validFrom)) → \(v.validTo.map(Timestamp.format) ?? "current")"
                Output.stdout("v\(v.version)  \(span)  by \(v.source)  importance \(JSONValue.formatNumber(v.importance))"
                    + RecallText.provenance(v.metadata))
                Output.stdout("    \(v.content.replacingOccurrences(of: "\n", with: "\n    "))")
            }
            for lost in history.lost {
                let how = lost.outcome == .reject ? "rejected" : "lost to the current version"
                Output.stdout("not kept  \(Timestamp.format(lost.writtenAt))  by \(lost.writer), based on v\(lost.baseVersion): \(how) (audit #\(lost.audit))")
                Output.stdout("    \(lost.content.replacingOccurrences(of: "\n", with: "\n    "))")
            }
            for link in history.links {
                Output.stdout("kept beside \(link.other) since \(Timestamp.format(link.at)) (audit #\(link.audit))")
            }
        }
    }

    struct Forget: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Remove a memory and all its versions for good, or all of a persona's with --shred.",
            discussion: """
                The content is deleted (and overwritten on disk); an audit line without the content remains.
                --shred (an encrypted home, `troupe vault init`) forgets every memory of --persona and destroys its data
                keys: what any copy of the store (a mirror, a backup) holds of it can no longer be read. Shared slices keep
                what the persona wrote there (they are sealed under the slice's key). The security log records it.
                """)
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The memory's id (not with --shred).") var id: String?
        @Option(help: "As this persona (only its own memories and its shared slices'); with --shred, whose memory.") var persona: String?
        @Option(help: "Why, for the audit line.") var reason: String?
        @Flag(help: "Forget all of --persona's memory and destroy its data keys.") var shred = false
        @Flag(help: "Print JSON.") var json = false

        func validate() throws {
            if shred {
                guard persona != nil, id == nil else { throw ValidationError("--shred takes --persona and no memory id") }
            } else if id == nil {
                throw ValidationError("give the memory's id (or --shred with --persona)")
            }
        }

        func run() async throws {
            guard let id else { return try await shredPersona(persona!) }
            let receipt = try await global.service().forget(id: id, persona: persona, reason: reason, .local)
            if json { Output.json(JSONView.receipt(receipt)) } else {
                Output.stdout("forgot \(id): \(receipt.versions) version\(receipt.versions == 1 ? "" : "s") removed from \(receipt.owner)/\(receipt.slice)")
            }
        }

        private func shredPersona(_ persona: String) async throws {
            let receipt = try await global.service().shred(persona: persona, reason: reason, .local)
            if json {
                Output.json(.object([
                    "persona": .string(receipt.persona), "forgotten": .number(Double(receipt.forgotten)),
                    "formation_jobs": .number(Double(receipt.formationJobs)), "keys": .array(receipt.keys.map(JSONValue.string)),
                    "at": .string(Timestamp.format(receipt.at)),
                ]))
                return
            }
            Output.stdout("shredded \(persona): \(receipt.forgotten) memories forgotten, data keys \(receipt.keys.joined(separator: ", ")) destroyed")
        }
    }
}
