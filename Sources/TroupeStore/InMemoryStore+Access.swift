import Foundation
import TroupeCore

extension InMemoryStore: AccessStore {
    public func createKey(_ key: StoredKey) throws {
        guard !apiKeys.contains(where: { $0.id == key.id }) else {
            throw TroupeError(.duplicate, "a key with this id exists already", context: key.id)
        }
        apiKeys.append(key)
    }

    public func key(id: String) -> StoredKey? { apiKeys.first { $0.id == id } }

    public func keys() -> [StoredKey] { apiKeys }

    public func revokeKey(id: String, at time: Date) -> StoredKey? {
        guard let i = apiKeys.firstIndex(where: { $0.id == id }) else { return nil }
        if apiKeys[i].revokedAt == nil { apiKeys[i].revokedAt = time }
        return apiKeys[i]
    }

    @discardableResult
    public func appendSecurityEvent(_ event: SecurityEvent) -> SecurityEvent {
        var event = event
        event.seq = (securityLog.last?.seq ?? 0) + 1
        securityLog.append(event)
        return event
    }

    public func securityEvents(_ query: SecurityEventQuery) -> [SecurityEvent] {
        let matching = securityLog.reversed().filter(query.matches)
        return query.limit.map { Array(matching.prefix($0)) } ?? matching
    }
}
