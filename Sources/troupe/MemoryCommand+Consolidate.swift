import ArgumentParser
import Foundation
import TroupeCore
import TroupeRuntime
import TroupeService

extension MemoryCommand {
    /// `memory consolidate`: each conversation summarised now into a dated episodic summary.
    struct Consolidate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Summarise each conversation's turns into one dated episodic summary, linked to the turns it covers.",
            discussion: """
                Every sentence of a summary is taken word for word from a turn, after its speaker's name, and the
                summary's metadata names the turn of each (sentences) and every turn it covers (covers). A conversation
                needs \(Runtime.consolidationMinTurns) turns; one that went on since its summary gets a new version of it.
                A long-lived runtime (repl, serve, mcp) does this by itself for conversations quiet for \
                \(Int(Runtime.consolidationQuiet / 60)) minutes.
                """)
        @OptionGroup var global: GlobalOptions
        @Option(help: "Only this persona's conversations.") var persona: String?
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            let reports = try await global.service().consolidate(persona: persona, .local)
            if json {
                Output.json(.object(Dictionary(uniqueKeysWithValues: reports.map { name, r in
                    (name.rawValue, JSONValue.object([
                        "conversations": .number(Double(r.conversations)), "waiting": .number(Double(r.waiting)),
                        "new": .number(Double(r.written.count - r.updated)), "updated": .number(Double(r.updated)),
                        "unchanged": .number(Double(r.unchanged)),
                        "summaries": .array(r.written.map { .object(["id": .string($0.id), "conversation": .string($0.conversation), "content": .string($0.content)]) }),
                    ]))
                })))
                return
            }
            for (name, r) in reports.sorted(by: { $0.key < $1.key }) where r.conversations > 0 {
                Output.stdout("\(name): \(r.conversations) conversations: \(r.written.count - r.updated) summarised, \(r.updated) summaries brought up to date, "
                    + "\(r.unchanged) up to date, \(r.waiting) left for later (too short, or nothing stated)")
            }
        }
    }
}
