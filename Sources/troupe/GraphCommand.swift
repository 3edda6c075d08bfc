import ArgumentParser
import Foundation
import TroupeCore
import TroupeService

/// `troupe graph`: the belief graph formed facts make — who believes what, since when, from whom.
struct GraphCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "graph",
        abstract: "Show the belief graph: entities and relations from formed facts, with validity and provenance.",
        discussion: """
            Each edge is subject —attribute→ value as a formed fact states it (read by a model, or by rules),
            or a knowledge-graph relation (the MCP memory tools, an import), with the persona or shared slice
            that believes it, since when (and until when, once superseded) and from whom.
            """)
    @OptionGroup var global: GlobalOptions
    @Option(help: "A persona (its beliefs and its shared slices') or a shared slice; the whole home without it.") var persona: String?
    @Option(help: "What was believed at this RFC 3339 time (superseded versions included).") var asOf: String?
    @Option(help: "Only the edges that name this entity, and its neighbours.") var about: String?
    @Flag(help: "Print JSON.") var json = false

    func validate() throws {
        if let asOf, Timestamp.parse(asOf) == nil { throw ValidationError("--as-of '\(asOf)' is not an RFC 3339 time such as 2026-11-23T14:15:28Z") }
    }

    func run() async throws {
        let service = TroupeService(runtime: try await global.runtime())
        let answer = try await service.graph(GraphRequest(owner: persona, asOf: asOf.flatMap(Timestamp.parse), about: about), .local)
        if json { return Output.json(answer.json) }
        if let about, answer.entity == nil || answer.edges.isEmpty {
            Output.stdout("nothing is known about '\(about)'" + (asOf.map { " as of \($0)" } ?? "") + " (\(answer.entityCount) entities, \(answer.edgeCount) edges)")
            return
        }
        for line in answer.lines { Output.stdout(line) }
        if about == nil { Output.stdout("\(answer.edges.count) edge\(answer.edges.count == 1 ? "" : "s"), \(answer.entityCount) entities") }
    }
}
