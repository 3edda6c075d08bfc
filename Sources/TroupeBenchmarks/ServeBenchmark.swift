import AsyncHTTPClient
import Foundation
import Logging
import MCP
import NIOCore
import ServiceLifecycle
import TroupeCore
import TroupeLLM
import TroupeMCP
import TroupeRuntime
import TroupeServer
import TroupeService
import TroupeStore
// MCP has a RequestContext of its own; ours is the caller's.
import struct TroupeService.RequestContext

/// `troupe bench serve`: what the HTTP API and MCP add to the service's own work, in one process
/// and one run. Recall of a persona with many memories under concurrent callers, over HTTP
/// (keys required, so authentication and rate limits included) against the same calls to the
/// service in process; an MCP tool call's round trip against the same call in process; a
/// streamed turn's time to its first piece over HTTP against in process, with a backend that
/// answers at once (the figures are Troupe's, not a model's). Prints figures; asserts nothing.
public struct ServeBenchmark: Sendable {
    public var memories = 100_000
    public var recalls = 2000
    public var connections = 16
    public var turns = 100
    public var toolCalls = 500

    public init() {}

    public struct Result: Sendable {
        public var memories: Int
        public var connections: Int
        public var recallHTTP: StoreBenchmark.Percentiles
        public var recallInProcess: StoreBenchmark.Percentiles
        public var recallsPerSecondHTTP: Double
        public var recallsPerSecondInProcess: Double
        public var toolCall: StoreBenchmark.Percentiles
        public var toolInProcess: StoreBenchmark.Percentiles
        public var firstPieceHTTP: StoreBenchmark.Percentiles
        public var firstPieceInProcess: StoreBenchmark.Percentiles
    }

    public func run(log: @escaping @Sendable (String) -> Void) async throws -> Result {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("troupe-bench-serve-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        let runtime = try Runtime(configuration: try CoordinatorBenchmark.home(in: root, personas: 1, policy: .keepBoth, redis: "off"))
        guard let name = runtime.personas.first?.name.rawValue else { throw TroupeError(.notFound, "the benchmark home has no persona") }
        guard let embedder = try await runtime.embedder()?.embedder else { throw TroupeError(.unavailable, "no embedder: run Scripts/setup") }
        log("storing \(memories) memories for \(name) (random vectors under \(embedder.modelID); queries are embedded for real)")
        try await CoordinatorBenchmark.fill(runtime.store, owners: [runtime.personas[0].name], perOwner: memories, slices: [.episodic, .semantic], embedder: embedder)
        let service = TroupeService(runtime: runtime, limiter: RateLimiter(), backend: ConversationBenchmark.Instant())
        let key = try await service.createKey(KeyGrant(role: .operator, ratePerSecond: 10_000, burst: 10_000), .local).text
        var rng = SplitMix64(seed: 11)
        let queries = (0..<recalls).map { _ in StoreBenchmark.sentence(&rng, words: 8) }

        let (bound, listening) = AsyncStream.makeStream(of: TroupeHTTPServer.Listen.self)
        let app = TroupeHTTPServer.application(service: service, listen: try TroupeHTTPServer.Listen("127.0.0.1:0"), keysRequired: true) {
            listening.yield($0)
            listening.finish()
        }
        let group = ServiceGroup(services: [app], logger: Logger(label: "troupe.bench"))
        var configuration = HTTPClient.Configuration()
        configuration.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit = connections
        let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        return try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            defer { Task { await group.triggerGracefulShutdown() } }
            var addresses = bound.makeAsyncIterator()
            guard let address = await addresses.next() else { throw TroupeError(.unavailable, "the server never listened") }
            let base = "http://\(address)"
            let http = HTTPCalls(client: client, base: base, key: key)

            log("warming up (index load, embedder, connections)")
            _ = try await service.recall(persona: name, query: "warm up", .local)
            try await concurrently(Array(queries.prefix(connections * 2))) { _ = try await http.recall(name, $0) }

            log("\(recalls) recalls from \(connections) concurrent callers, in process, then over HTTP")
            let (inProcess, inProcessRate) = try await timed(queries) { _ = try await service.recall(persona: name, query: $0, .local) }
            let (overHTTP, httpRate) = try await timed(queries) { try await http.recall(name, $0) }

            log("\(toolCalls) MCP recall tool calls (the SDK's client, in-memory transport), and the same calls in process")
            let mcp = try await MCPRoundTrip(service: service)
            var tool: [Double] = [], toolDirect: [Double] = []
            for query in queries.prefix(toolCalls) {
                tool.append(try await seconds { try await mcp.recall(name, query) })
                toolDirect.append(try await seconds { _ = try await service.call(.recall, ["persona": .string(name), "query": .string(query)], .local) })
            }
            await mcp.stop()

            log("\(turns) streamed turns: time to the first piece over HTTP (server-sent events) and in process")
            var firstHTTP: [Double] = [], firstDirect: [Double] = []
            for query in queries.prefix(turns) {
                firstDirect.append(try await firstPiece(service, name, query))
                firstHTTP.append(try await http.firstPiece(name, query))
            }
            await runtime.formation.drain(timeout: .seconds(600))
            try await client.shutdown()
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
            await runtime.shutdown()
            return Result(
                memories: memories, connections: connections, recallHTTP: .init(overHTTP), recallInProcess: .init(inProcess),
                recallsPerSecondHTTP: httpRate, recallsPerSecondInProcess: inProcessRate, toolCall: .init(tool), toolInProcess: .init(toolDirect),
                firstPieceHTTP: .init(firstHTTP), firstPieceInProcess: .init(firstDirect))
        }
    }

    /// Runs `call` on every item, `connections` at a time.
    func concurrently(_ items: [String], _ call: @escaping @Sendable (String) async throws -> Void) async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            var next = items.makeIterator()
            for _ in 0..<connections { if let item = next.next() { group.addTask { try await call(item) } } }
            while try await group.next() != nil { if let item = next.next() { group.addTask { try await call(item) } } }
        }
    }

    /// Each call's latency, and calls a second over the whole run, `connections` at a time.
    func timed(_ items: [String], _ call: @escaping @Sendable (String) async throws -> Void) async throws -> ([Double], Double) {
        let samples = LockedBox<[Double]>([])  // appended to by the concurrent callers
        let start = ContinuousClock.now
        try await concurrently(items) { item in
            let took = try await seconds { try await call(item) }
            samples.withLock { $0.append(took) }
        }
        return (samples.value, Double(items.count) / Self.elapsed(since: start))
    }

    /// In process: from starting the turn to its first piece of reply.
    func firstPiece(_ service: TroupeService, _ persona: String, _ message: String) async throws -> Double {
        let start = ContinuousClock.now
        let handle = try await service.startTurn(persona: persona, message: message, .local)
        var first: Double?
        for try await event in handle.events {
            if first == nil, case .delta = event { first = Self.elapsed(since: start) }
        }
        return first ?? Self.elapsed(since: start)
    }

    static func elapsed(since start: ContinuousClock.Instant) -> Double {
        let d = start.duration(to: .now).components
        return Double(d.seconds) + Double(d.attoseconds) * 1e-18
    }
}

/// How long `body` takes, in seconds.
func seconds(_ body: () async throws -> Void) async throws -> Double {
    let start = ContinuousClock.now
    try await body()
    return ServeBenchmark.elapsed(since: start)
}

/// The benchmark's HTTP calls, with its key.
struct HTTPCalls: Sendable {
    let client: HTTPClient
    let base: String
    let key: String

    func request(_ path: String, _ body: JSONValue) -> HTTPClientRequest {
        var request = HTTPClientRequest(url: base + path)
        request.method = .POST
        request.headers.add(name: "authorization", value: "Bearer \(key)")
        request.headers.add(name: "content-type", value: "application/json")
        request.body = .bytes(ByteBuffer(string: body.canonicalText))
        return request
    }

    func recall(_ persona: String, _ query: String) async throws {
        let response = try await client.execute(request("/v1/personas/\(persona)/recall", .object(["query": .string(query)])), timeout: .seconds(120))
        _ = try await response.body.collect(upTo: 16 << 20)
        guard response.status == .ok else { throw TroupeError(.unavailable, "recall over HTTP answered \(response.status.code)") }
    }

    /// From sending the turn to the first `delta` event's bytes; the rest of the stream is read.
    func firstPiece(_ persona: String, _ message: String) async throws -> Double {
        let start = ContinuousClock.now
        let response = try await client.execute(request("/v1/personas/\(persona)/say/stream", .object(["message": .string(message)])), timeout: .seconds(120))
        var first: Double?, seen = ""
        for try await chunk in response.body {
            seen += String(buffer: chunk)
            if first == nil, seen.contains("event: delta") { first = ServeBenchmark.elapsed(since: start) }
        }
        return first ?? ServeBenchmark.elapsed(since: start)
    }
}

/// An MCP client connected to Troupe's MCP server over the SDK's in-memory transport.
struct MCPRoundTrip: Sendable {
    let client: Client
    let server: Server

    init(service: TroupeService) async throws {
        server = await TroupeMCPServer(service: service, context: .local).makeServer()
        client = Client(name: "troupe-bench", version: "1")
        let (clientSide, serverSide) = await InMemoryTransport.createConnectedPair()
        try await server.start(transport: serverSide)
        _ = try await client.connect(transport: clientSide)
    }

    func recall(_ persona: String, _ query: String) async throws {
        let (_, isError) = try await client.callTool(name: "recall", arguments: ["persona": .string(persona), "query": .string(query)])
        if isError == true { throw TroupeError(.unavailable, "the recall tool failed") }
    }

    func stop() async {
        await client.disconnect()
        await server.stop()
    }
}

extension ServeBenchmark.Result {
    public var text: String {
        func f(_ p: StoreBenchmark.Percentiles) -> String { String(format: "p50 %.2f ms  p99 %.2f ms", p.p50 * 1000, p.p99 * 1000) }
        return [
            "troupe serve at \(memories) memories, \(connections) concurrent callers:",
            "  recall over HTTP    \(f(recallHTTP))   \(String(format: "%.0f", recallsPerSecondHTTP)) recalls/s",
            "  recall in process   \(f(recallInProcess))   \(String(format: "%.0f", recallsPerSecondInProcess)) recalls/s",
            "  MCP recall tool call \(f(toolCall))   (the same call in process: \(f(toolInProcess)))",
            "  streamed turn, first piece over HTTP \(f(firstPieceHTTP))   (in process: \(f(firstPieceInProcess)))",
        ].joined(separator: "\n")
    }
}
