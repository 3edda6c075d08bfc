import Foundation
import TroupeCore

/// A store as a spec names it (`sqlite:PATH`, a `postgres://` URL), with what a server's spec
/// leaves out: the schema to work in and the password.
public struct StoreAddress: Sendable, Hashable {
    /// The spec as written.
    public var spec: String
    /// A server's schema (`nil`: its default).
    public var schema: String?
    public var password: String?

    public init(_ spec: String, schema: String? = nil, password: String? = nil) {
        (self.spec, self.schema, self.password) = (spec, schema, password)
    }

    /// What comes before the first `:`, lowercased; `nil` when the spec has none.
    public var scheme: String? {
        guard let colon = spec.firstIndex(of: ":"), colon > spec.startIndex else { return nil }
        return spec[..<colon].lowercased()
    }

    /// The spec after `scheme:`.
    public var rest: String {
        guard let colon = spec.firstIndex(of: ":") else { return spec }
        return String(spec[spec.index(after: colon)...])
    }
}

/// How to open a store; each driver takes what applies to it.
public struct StoreOptions: Sendable {
    /// How long to wait for a lock another process holds (a file).
    public var busyTimeout: Double = 10
    /// How long to keep reconnecting to a server that went away (`0`: fail at once).
    public var reconnectWindow: Double = 10
    /// Connections to keep open (a server).
    public var connections = 4
    /// Whether every commit is synced to disk (`false`: at checkpoints only; a file).
    public var syncsEveryCommit = true
    /// What seals records on their way to disk (a plain store: nothing).
    public var sealer: any RecordSealer = PlainSealer()

    public init(busyTimeout: Double = 10, reconnectWindow: Double? = nil, connections: Int = 4, syncsEveryCommit: Bool = true) {
        (self.busyTimeout, self.reconnectWindow) = (busyTimeout, reconnectWindow ?? busyTimeout)
        (self.connections, self.syncsEveryCommit) = (connections, syncsEveryCommit)
    }
}

/// A kind of store, opened by the scheme of its spec.
public protocol StoreDriver: Sendable {
    /// The schemes it opens, lowercased (`sqlite`; `postgres`, `postgresql`).
    var schemes: [String] { get }
    /// How its specs are written, for errors (`sqlite:PATH`, `a postgres:// URL`).
    var form: String { get }
    /// Whether its stores are on a server (which takes a password), not in a local file.
    var isServer: Bool { get }
    /// Opens the store, creating and migrating it as needed.
    func open(_ address: StoreAddress, options: StoreOptions) throws -> any MemoryStore & MigrationEndpoint
    /// Where the store would be made if it is not there yet (a file not created); `nil` when it
    /// exists or the driver makes none.
    func notCreatedYet(_ address: StoreAddress) -> String?
    /// The store as people read its name, without a password.
    func displayed(_ address: StoreAddress) -> String
}

extension StoreDriver {
    public func notCreatedYet(_ address: StoreAddress) -> String? { nil }
}

/// The drivers a program links, by URL scheme: the runtime, `doctor`, `migrate` and
/// `reconcile` open every store through one of these, not by naming its type.
public struct StoreDrivers: Sendable {
    private var drivers: [any StoreDriver] = []

    public init(_ drivers: [any StoreDriver] = []) {
        for driver in drivers { register(driver) }
    }

    /// Adds `driver`; a scheme it shares with one registered before is its from now on.
    public mutating func register(_ driver: any StoreDriver) {
        drivers.removeAll { $0.schemes.contains(where: driver.schemes.contains) }
        drivers.append(driver)
    }

    /// The driver of `address`'s scheme.
    public func driver(for address: StoreAddress) throws -> any StoreDriver {
        guard let scheme = address.scheme, let driver = drivers.first(where: { $0.schemes.contains(scheme) }) else {
            let forms = drivers.map(\.form)
            let known = forms.count == 2 ? "neither \(forms[0]) nor \(forms[1])" : "none of " + forms.joined(separator: ", ")
            throw TroupeError(.invalidInput, "'\(address.spec)' is \(known)")
        }
        return driver
    }

    /// Opens the store `address` names.
    public func open(_ address: StoreAddress, options: StoreOptions = StoreOptions()) throws -> any MemoryStore & MigrationEndpoint {
        try driver(for: address).open(address, options: options)
    }
}
