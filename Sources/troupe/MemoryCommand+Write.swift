import ArgumentParser
import Foundation
import TroupeCore
import TroupeRuntime
import TroupeService
import TroupeStore

extension MemoryCommand {
    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Add a memory to one of a persona's slices, or to a shared slice it belongs to.")
        @OptionGroup var global: GlobalOptions
        @Option(help: "Whose memory (the writer, for a shared slice).") var persona: String
        @Option(help: "A private slice: working, episodic, semantic or procedural.") var slice: SliceKind?
        @Option(help: ArgumentHelp("A shared slice the persona belongs to (instead of --slice).", valueName: "name")) var shared: String?
        @Option(help: "How much it matters, 0 to 1.") var importance: Double = 0.5
        @Option(name: .customLong("tag"), help: "A tag (repeatable).") var tags: [String] = []
        @Flag(help: "Print the stored record as JSON.") var json = false
        @Argument(help: "The memory's text.") var text: String

        func validate() throws {
            guard (slice == nil) != (shared == nil) else { throw ValidationError("give either --slice or --shared") }
            try FlagRange.check(importance.isNaN ? -1 : importance, 0...1, "--importance")
            guard !text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else { throw ValidationError("the text is empty") }
        }

        func run() async throws {
            let service = try await global.service()
            let record = try await service.remember(
                persona: persona, content: text, in: shared.map(MemoryTarget.shared) ?? .slice(slice!), importance: importance, tags: tags, .local)
            if json { Output.json(JSONView.record(record)) } else { Output.stdout("added \(record.id) to \(record.owner)/\(record.slice.rawValue)") }
        }
    }

    struct Update: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write a new version of a memory, based on the version you read.",
            discussion: """
                A persona updates its own memories and those of the shared slices it belongs to. When
                --base-version is no longer current: for a private memory the update is refused (read it
                again and retry); for a shared one the slice's policy decides (last-writer-wins, priority,
                keep-both or reject), the losing value stays in the history (`memory history ID`) and the
                resolution is audited (`troupe audit`). Exit code 1 when the update was refused.
                """)
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The memory's id.") var id: String
        @Option(help: "Who writes.") var persona: String
        @Option(help: ArgumentHelp("The version the new value is based on (see `memory show`).", valueName: "n")) var baseVersion: Int
        @Option(help: "A new importance, 0 to 1.") var importance: Double?
        @Option(name: .customLong("tag"), help: "Replace the tags (repeatable).") var tags: [String] = []
        @Flag(help: "Print JSON.") var json = false
        @Argument(help: "The new text (omit to keep it).") var text: String?

        func validate() throws {
            try FlagRange.check(baseVersion, 1...Int(Int32.max), "--base-version")
            try FlagRange.check(importance.map { $0.isNaN ? -1 : $0 }, 0...1, "--importance")
            if let text, text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty { throw ValidationError("the text is empty") }
            guard text != nil || importance != nil || !tags.isEmpty else { throw ValidationError("nothing to change: give TEXT, --importance or --tag") }
        }

        func run() async throws {
            let change = MemoryChange(
                content: text.map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }, importance: importance, tags: tags.isEmpty ? nil : tags)
            let outcome = try await global.service().update(persona: persona, id: id, basedOn: baseVersion, change: change, .local)
            if json {
                Output.json(JSONView.outcome(outcome))
                return
            }
            let current = outcome.current
            let audit = outcome.audit.map { ", audit #\($0)" } ?? ""
            switch outcome.kind {
            case .applied:
                Output.stdout("\(id) is now version \(current.version)")
            case .overwrote:
                Output.stdout("\(id) is now version \(current.version): your write was based on version \(baseVersion) and replaced "
                    + "version \(current.version - 1), which stays in the history (last writer wins\(audit))")
            case .keptCurrent:
                Output.stdout("\(id) stays at version \(current.version) by \(current.source), who outranks \(persona); "
                    + "your value is kept in its history (priority\(audit))")
            case .keptBoth:
                Output.stdout("\(id) stays at version \(current.version) and your value is the new memory \(outcome.sibling?.id ?? "?"), "
                    + "linked to it (keep both\(audit))")
            case .rejected:
                Output.stdout("\(id) stays at version \(current.version)")
            }
        }
    }
}
