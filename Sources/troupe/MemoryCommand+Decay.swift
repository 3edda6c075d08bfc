import ArgumentParser
import Foundation
import TroupeCore
import TroupeRuntime
import TroupeService

extension MemoryCommand {
    /// `memory decay`: the archive and learned importance, now.
    struct Decay: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Move episodes past the persona's retention that were never recalled to the archive; let importance follow use.",
            discussion: """
                Nothing is deleted: an archived episode is a new version tagged 'archived', left out of recall but found
                with `memory recall --archive`, and exported like any memory. Conversation summaries are kept. Importance
                becomes what was written plus 0.1 for each doubling of a memory's recalls (at most 1). A long-lived runtime
                (repl, serve, mcp) does this every hour.
                """)
        @OptionGroup var global: GlobalOptions
        @Option(help: "Only this persona's memory.") var persona: String?
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            let reports = try await global.service().decay(persona: persona, .local)
            if json {
                Output.json(.object(Dictionary(uniqueKeysWithValues: reports.map { name, r in
                    (name.rawValue, JSONValue.object([
                        "archived": .array(r.archived.map(JSONValue.string)), "reweighed": .array(r.reweighed.map(JSONValue.string)),
                        "kept_for_use": .number(Double(r.keptForUse)),
                    ]))
                })))
                return
            }
            for (name, r) in reports.sorted(by: { $0.key < $1.key }) {
                Output.stdout("\(name): \(r.archived.count) episodes archived, \(r.keptForUse) past retention kept (recalled), "
                    + "\(r.reweighed.count) importances learned from use")
            }
        }
    }
}
