import TroupeCore
import TroupeRuntime
import TroupeStore

/// What a new key may do and how often, as its creator asks.
public struct KeyGrant: Sendable, Hashable {
    public var role: Principal.Role
    /// For a client key, the personas it acts as (at least one); none for the others.
    public var personas: [String]
    public var label: String
    public var ratePerSecond: Double
    public var burst: Int

    public static let defaultRate = 20.0
    public static let defaultBurst = 40
    static let rateRange = 0.01...10_000.0
    static let burstRange = 1...10_000

    public init(role: Principal.Role, personas: [String] = [], label: String = "", ratePerSecond: Double = defaultRate, burst: Int = defaultBurst) {
        (self.role, self.personas, self.label, self.ratePerSecond, self.burst) = (role, personas, label, ratePerSecond, burst)
    }

    /// A grant from a request's JSON (`POST /v1/keys`), checked against ``schema``.
    public init(arguments: [String: JSONValue]?) throws(ArgumentError) {
        let input = try Arguments(arguments, schema: Self.schema)
        guard let role = Principal.Role(rawValue: try input.required("role")) else { throw ArgumentError(field: "role", "is not a role") }
        self.init(
            role: role, personas: input.strings("personas") ?? [], label: input.string("label") ?? "",
            ratePerSecond: input.double("rate") ?? Self.defaultRate, burst: input.int("burst") ?? Self.defaultBurst)
    }

    public static let schema: JSONValue = Operation.object([
        "role": .object([
            "type": .string("string"), "enum": .array(Principal.Role.allCases.map { .string($0.rawValue) }),
            "description": .string("admin (everything, and keys), operator (every persona) or client (only its personas)."),
        ]),
        "personas": .object([
            "type": .string("array"), "items": Operation.persona, "maxItems": .number(256),
            "description": .string("For a client key: the personas it acts as."),
        ]),
        "label": .object(["type": .string("string"), "maxLength": .number(200), "description": .string("What the key is for.")]),
        "rate": .object([
            "type": .string("number"), "minimum": .number(rateRange.lowerBound), "maximum": .number(rateRange.upperBound),
            "description": .string("Requests a second on average (default \(Int(defaultRate))).")]),
        "burst": .object([
            "type": .string("integer"), "minimum": .number(Double(burstRange.lowerBound)), "maximum": .number(Double(burstRange.upperBound)),
            "description": .string("Requests at once (default \(defaultBurst)).")]),
    ], required: ["role"])
}

extension JSONView {
    /// A key as `troupe keys list --json` gives it: never its secret, nor its secret's hash.
    public static func key(_ key: StoredKey) -> JSONValue {
        var object: [String: JSONValue] = [
            "id": .string(key.id), "role": .string(key.role), "personas": .array(key.personas.map(JSONValue.string)),
            "label": .string(key.label), "created_at": .string(Timestamp.format(key.createdAt)),
            "rate_per_second": .number(key.ratePerSecond), "burst": .number(Double(key.burst)),
            "revoked_at": key.revokedAt.map { .string(Timestamp.format($0)) } ?? .null,
        ]
        object["active"] = .bool(key.revokedAt == nil)
        return .object(object)
    }

    /// A key just made, with the whole key (shown once).
    public static func created(_ created: CreatedKey) -> JSONValue {
        guard case .object(var object) = key(created.stored) else { return key(created.stored) }
        object["key"] = .string(created.text)
        return .object(object)
    }

    /// A line of the security log (`troupe audit --security --json`).
    public static func securityEvent(_ event: SecurityEvent) -> JSONValue {
        .object([
            "seq": .number(Double(event.seq)), "at": .string(Timestamp.format(event.at)), "kind": .string(event.kind.rawValue),
            "key": event.keyID.map(JSONValue.string) ?? .null, "source": .string(event.source), "detail": .string(event.detail),
        ])
    }
}

