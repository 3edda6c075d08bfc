import TroupeCore
import TroupeStore

extension TroupeService {
    /// Whether the service can serve (`/readyz`): the store answers a read (required), and
    /// what the hot tier and the chat model are (reported).
    public struct Readiness: Sendable {
        public var ready: Bool
        public var store: String
        public var hotTier: String
        public var model: String

        public var json: JSONValue {
            .object([
                "status": .string(ready ? "ready" : "not-ready"), "store": .string(store), "hot_tier": .string(hotTier),
                "model": .string(model),
            ])
        }
    }

    public func readiness() async -> Readiness {
        var store = "ok"
        do { _ = try await runtime.store.query(MemoryQuery(limit: 1)) } catch { store = "failing: \(Self.failure(error).message)" }
        let hotTier: String
        if runtime.configuration.runtime.redis.mode == .off {
            hotTier = "off"
        } else {
            hotTier = await runtime.hotTier() == nil ? "unavailable (recall reads the store)" : "ok"
        }
        let model = await runtime.selectBackend(for: nil).candidate.rawValue
        return Readiness(ready: store == "ok", store: store, hotTier: hotTier, model: model)
    }
}
