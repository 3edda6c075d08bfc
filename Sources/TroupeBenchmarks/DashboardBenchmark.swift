import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import ServiceLifecycle
import TroupeCore
import TroupeRuntime
import TroupeServer
import TroupeService
import TroupeStore

/// `troupe bench dashboard`: what each read of the dashboard costs over HTTP (keys required) on
/// a persona with many semantic memories, some of them superseded: the page and its script,
/// the counts, a page of beliefs with every version at the start and from the middle, recall
/// with every component, the health figures. Prints figures; asserts nothing.
public struct DashboardBenchmark: Sendable {
    public var memories = 100_000
    public var superseded = 1000
    public var repeats = 20

    public init() {}

    public struct Line: Sendable {
        public var read: String
        public var latency: StoreBenchmark.Percentiles
        public var bytes: Int
    }

    public struct Result: Sendable {
        public var memories: Int
        public var superseded: Int
        public var lines: [Line]

        public var text: String {
            (["dashboard reads over HTTP at \(memories) semantic memories (\(superseded) superseded once):"]
                + lines.map {
                    "  " + $0.read.padding(toLength: 44, withPad: " ", startingAt: 0)
                        + String(format: "p50 %7.2f ms  p99 %7.2f ms  %8d bytes", $0.latency.p50 * 1000, $0.latency.p99 * 1000, $0.bytes)
                })
                .joined(separator: "\n")
        }
    }

    public func run(log: @escaping @Sendable (String) -> Void) async throws -> Result {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("troupe-bench-dashboard-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        let runtime = try Runtime(configuration: try CoordinatorBenchmark.home(in: root, personas: 1, policy: .keepBoth, redis: "off"))
        guard let persona = runtime.personas.first?.name else { throw TroupeError(.notFound, "the benchmark home has no persona") }
        guard let embedder = try await runtime.embedder()?.embedder else { throw TroupeError(.unavailable, "no embedder: run Scripts/setup") }
        log("storing \(memories) semantic memories for \(persona), superseding \(superseded) of them")
        try await CoordinatorBenchmark.fill(runtime.store, owners: [persona], perOwner: memories, slices: [.semantic], embedder: embedder)
        let now = Date()
        for n in stride(from: 0, to: memories, by: max(1, memories / max(1, superseded))).prefix(superseded) {
            _ = try await runtime.store.update(
                "\(persona)-\(n)", expectedVersion: 1, change: MemoryChange(content: "Revised note \(n)."), writer: "bench", at: now)
        }
        let service = TroupeService(runtime: runtime)
        let key = try await service.createKey(KeyGrant(role: .operator, ratePerSecond: 10_000, burst: 10_000), .local).text

        let (bound, listening) = AsyncStream.makeStream(of: TroupeHTTPServer.Listen.self)
        let app = TroupeHTTPServer.application(service: service, listen: try TroupeHTTPServer.Listen("127.0.0.1:0"), keysRequired: true) {
            listening.yield($0)
            listening.finish()
        }
        let group = ServiceGroup(services: [app], logger: Logger(label: "troupe.bench"))
        let client = HTTPClient(eventLoopGroupProvider: .singleton)
        return try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            defer { Task { await group.triggerGracefulShutdown() } }
            var addresses = bound.makeAsyncIterator()
            guard let address = await addresses.next() else { throw TroupeError(.unavailable, "the server never listened") }
            let base = "http://\(address)", p = "/v1/personas/\(persona)"
            // A record from the middle of the slice: the page after it is one deep in the slice.
            let middle = "\(persona)-\(memories / 2 + 1)"
            let reads: [(String, String, String?)] = [
                ("the page (/)", "/", nil), ("its script", "/dashboard/app.js", nil), ("whoami", "/v1/whoami", nil),
                ("personas", "/v1/personas", nil), ("counts", "\(p)/counts", nil), ("last turns", "\(p)/turns?limit=3", nil),
                ("beliefs, first page of 100", "\(p)/beliefs?limit=100", nil),
                ("beliefs, 100 after a record in the middle", "\(p)/beliefs?limit=100&after=\(middle)", nil),
                ("beliefs, a page of 500", "\(p)/beliefs?limit=500", nil),
                ("recall with every component", "\(p)/recall", #"{"query": "the quarterly review of the storage budget", "why": true}"#),
                ("readyz", "/readyz", nil), ("stats", "/v1/stats", nil), ("metrics", "/metrics", nil),
            ]
            log("warming up (index load, embedder, connections)")
            _ = try await Self.call(client, base + "\(p)/recall", key, #"{"query": "warm up"}"#)
            var lines: [Line] = []
            for (name, path, body) in reads {
                var samples: [Double] = [], bytes = 0
                for _ in 0..<repeats {
                    samples.append(try await seconds { bytes = try await Self.call(client, base + path, key, body) })
                }
                lines.append(Line(read: name, latency: .init(samples), bytes: bytes))
                log("\(name): done")
            }
            try await client.shutdown()
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
            await runtime.shutdown()
            return Result(memories: memories, superseded: superseded, lines: lines)
        }
    }

    /// One read (a POST when it has a body); the answer's size.
    static func call(_ client: HTTPClient, _ url: String, _ key: String, _ body: String?) async throws -> Int {
        var request = HTTPClientRequest(url: url)
        request.headers.add(name: "authorization", value: "Bearer \(key)")
        if let body {
            request.method = .POST
            request.headers.add(name: "content-type", value: "application/json")
            request.body = .bytes(ByteBuffer(string: body))
        }
        let response = try await client.execute(request, timeout: .seconds(120))
        let answer = try await response.body.collect(upTo: 64 << 20)
        guard response.status == .ok else { throw TroupeError(.unavailable, "\(url) answered \(response.status.code): \(String(buffer: answer))") }
        return answer.readableBytes
    }
}
