import Foundation
import TroupeCore
import TroupeRuntime
import TroupeStore

/// A question to the belief graph (`troupe graph`).
public struct GraphRequest: Sendable {
    /// A persona (its own beliefs and its shared slices'), or a shared slice; the whole home
    /// when `nil` (the operator's).
    public var owner: String?
    /// What was believed at this time (superseded versions included); now when `nil`.
    public var asOf: Date?
    /// Only the edges that name this entity.
    public var about: String?

    public init(owner: String? = nil, asOf: Date? = nil, about: String? = nil) {
        self.owner = owner
        self.asOf = asOf
        self.about = about
    }
}

/// What the graph answered: the edges asked for, and the sizes of the graph they came from.
public struct GraphAnswer: Sendable {
    public var edges: [BeliefGraph.Edge]
    /// The entity asked `about`, when the graph knows it.
    public var entity: BeliefGraph.Entity?
    /// The entities one hop from it (for `about`).
    public var neighbours: [String] = []
    public var entityCount: Int
    public var edgeCount: Int
    /// Whose memory it was built from.
    public var owners: [PersonaID]?
    /// Seconds to read the records and build the index; seconds to answer on it.
    public var buildSeconds: Double
    public var answerSeconds: Double
}

extension TroupeService {
    /// The belief graph of a persona (with its shared slices), a shared slice or the whole home,
    /// at a time, or only what it holds about one entity. A client asks only about personas it
    /// may act as and shared slices they belong to.
    public func graph(_ request: GraphRequest, _ context: RequestContext) async throws -> GraphAnswer {
        var owners: [PersonaID]?
        if let name = request.owner {
            let owner = try self.owner(name, context)
            if let persona = runtime.personas.first(where: { $0.name == owner }) {
                owners = runtime.readableOwners(of: persona)
            } else {
                owners = [owner]
            }
        } else {
            try context.checkWholeHome("read the whole home's belief graph")
        }
        let start = DispatchTime.now()
        let graph = try await runtime.beliefGraph(owners: owners, history: request.asOf != nil)
        let built = DispatchTime.now()
        var answer = GraphAnswer(edges: [], entityCount: graph.entityCount, edgeCount: graph.edges.count, owners: owners, buildSeconds: 0, answerSeconds: 0)
        if let about = request.about {
            answer.edges = graph.about(about, at: request.asOf)
            answer.entity = graph.entity(about)
            answer.neighbours = graph.neighbours(of: about, at: request.asOf)
        } else {
            answer.edges = graph.edges(at: request.asOf)
        }
        let done = DispatchTime.now()
        answer.buildSeconds = Double(built.uptimeNanoseconds - start.uptimeNanoseconds) / 1e9
        answer.answerSeconds = Double(done.uptimeNanoseconds - built.uptimeNanoseconds) / 1e9
        return answer
    }
}
