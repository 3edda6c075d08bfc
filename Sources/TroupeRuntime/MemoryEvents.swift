import Foundation
import TroupeCore
import TroupeStore

/// What happened to a memory, as the write path made it known. It names the record, never its
/// content: subscribers (the server's event stream, later the dashboard) learn what changed and
/// read the record if they may.
public struct MemoryEvent: Sendable, Hashable {
    public enum Kind: String, Sendable, Hashable, CaseIterable {
        /// A new record.
        case written
        /// A new version of a record replaced the one before (an update, a fact that changed).
        case superseded
        /// A new fact that contradicts one it does not replace (kept side by side, marked).
        case disputed
        /// A record and all its versions removed.
        case forgotten
        /// A stale write to a shared slice, resolved by the slice's policy.
        case conflictResolved = "conflict-resolved"
    }

    public var kind: Kind
    public var id: String
    public var owner: String
    public var slice: SliceKind
    public var version: Int
    public var at: Date
    /// For `disputed`, the fact it disputes; for `conflict-resolved`, `policy: outcome`.
    public var detail: String?

    public init(kind: Kind, id: String, owner: String, slice: SliceKind, version: Int, at: Date, detail: String? = nil) {
        (self.kind, self.id, self.owner, self.slice, self.version, self.at, self.detail) = (kind, id, owner, slice, version, at, detail)
    }

    /// The event of a record just committed.
    init(committed record: MemoryRecord, at time: Date) {
        var kind: Kind = record.version > 1 ? .superseded : .written
        var detail: String?
        if case .object(let metadata)? = record.metadata, case .string(let disputed)? = metadata["disputes"] {
            (kind, detail) = (.disputed, disputed)
        }
        self.init(kind: kind, id: record.id, owner: record.owner.rawValue, slice: record.slice, version: record.version, at: time, detail: detail)
    }

    public var json: JSONValue {
        .object([
            "kind": .string(kind.rawValue), "id": .string(id), "owner": .string(owner), "slice": .string(slice.rawValue),
            "version": .number(Double(version)), "at": .string(Timestamp.format(at)), "detail": detail.map(JSONValue.string) ?? .null,
        ])
    }
}

/// Hands each memory event to every subscriber. Publishing never waits: a subscriber that falls
/// behind by more than its buffer loses the oldest events it has not read (it can read the
/// records themselves), and the write path goes on.
///
/// Events come from this process's write path and from other writers' commits read off the
/// store's change feed (Runtime+Events.swift); the same version of a record may reach both, so
/// the hub remembers the last versions it told of and tells each once.
public final class MemoryEventHub: Sendable {
    /// Locked: writers publish from any task while subscribers come and go; the closures only
    /// copy or change the dictionary.
    private let subscribers = LockedBox<[UUID: AsyncStream<MemoryEvent>.Continuation]>([:])
    /// The versions told of lately (`id#version`, `id#forgotten`), oldest first in `order`.
    private let told = LockedBox<(keys: Set<String>, order: [String])>(([], []))
    static let remembered = 4096

    public init() {}

    /// Events from now on, until the stream is let go of.
    public func subscribe(buffer: Int = 1024) -> AsyncStream<MemoryEvent> {
        let (stream, continuation) = AsyncStream.makeStream(of: MemoryEvent.self, bufferingPolicy: .bufferingNewest(buffer))
        let id = UUID()
        continuation.onTermination = { [subscribers] _ in _ = subscribers.withLock { $0.removeValue(forKey: id) } }
        subscribers.withLock { $0[id] = continuation }
        return stream
    }

    /// How many subscribe now.
    public var count: Int { subscribers.withLock { $0.count } }

    func publish(_ events: [MemoryEvent]) {
        let fresh = told.withLock { told in
            events.filter { event in
                // A conflict's resolution names the version that stayed: not a new version, always told.
                guard event.kind != .conflictResolved else { return true }
                let key = event.kind == .forgotten ? "\(event.id)#forgotten" : "\(event.id)#\(event.version)"
                guard told.keys.insert(key).inserted else { return false }
                told.order.append(key)
                if told.order.count > Self.remembered {
                    let dropped = told.order.prefix(told.order.count - Self.remembered)
                    for old in dropped { told.keys.remove(old) }
                    told.order.removeFirst(dropped.count)
                }
                return true
            }
        }
        guard !fresh.isEmpty else { return }
        let continuations = subscribers.withLock { Array($0.values) }
        for continuation in continuations { for event in fresh { continuation.yield(event) } }
    }
}

extension Runtime {
    /// Every commit of this runtime, as events.
    public var events: MemoryEventHub { writes.events }
}
