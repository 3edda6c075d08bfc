import Foundation
import TroupeCore

/// An operation's arguments, checked against the operation's JSON schema before any call
/// (``Operation/schema``): the subset of JSON Schema the operations use (`object` with
/// `properties`, `required`, `additionalProperties: false`; `string` with `minLength`,
/// `maxLength` and `enum`; `integer` and `number` with `minimum` and `maximum`; `boolean`;
/// `array` with `items` and `maxItems`; nested `object`s with `properties` and `required`).
///
/// A failure names the argument (``ArgumentError``); nothing is called. Every front end checks
/// with it: MCP tool arguments, HTTP request bodies.
public struct Arguments: Sendable {
    public let values: [String: JSONValue]

    public init(_ arguments: [String: JSONValue]?, schema: JSONValue) throws(ArgumentError) {
        let arguments = arguments ?? [:]
        guard case .object(let schema) = schema, case .object(let properties)? = schema["properties"] else {
            throw ArgumentError(field: nil, "the operation has no usable schema")
        }
        if case .array(let required)? = schema["required"] {
            for case .string(let name) in required where arguments[name] == nil || arguments[name] == .null {
                throw ArgumentError(field: name, "is required")
            }
        }
        for (name, value) in arguments.sorted(by: { $0.key < $1.key }) {
            guard case .object(let property)? = properties[name] else {
                let known = properties.keys.sorted().joined(separator: ", ")
                throw ArgumentError(field: name, "is not an argument of this operation (its arguments: \(known.isEmpty ? "none" : known))")
            }
            if value == .null { continue }
            try Self.check(value, against: property, field: name)
        }
        values = arguments.filter { $0.value != .null }
    }

    private static func check(_ value: JSONValue, against property: [String: JSONValue], field: String) throws(ArgumentError) {
        guard case .string(let type)? = property["type"] else { return }
        switch (type, value) {
        case ("string", .string(let text)):
            if let least = property["minLength"].flatMap(integer), text.count < least {
                throw ArgumentError(field: field, least == 1 ? "must not be empty" : "must be at least \(least) characters")
            }
            if let most = property["maxLength"].flatMap(integer), text.count > most {
                throw ArgumentError(field: field, "must be at most \(most) characters")
            }
            if case .array(let allowed)? = property["enum"], !allowed.contains(value) {
                let names = allowed.compactMap { if case .string(let s) = $0 { s } else { nil } }
                throw ArgumentError(field: field, "must be one of \(names.joined(separator: ", ")), not '\(text)'")
            }
        case ("integer", _):
            guard let number = integer(value) else { throw ArgumentError(field: field, "must be a whole number") }
            try range(Double(number), property, field)
        case ("number", .number(let number)):
            try range(number, property, field)
        case ("boolean", .bool):
            break
        case ("object", .object(let members)):
            // A nested object (the knowledge-graph tools' entities and relations): its own
            // required members and properties, named by their path.
            if case .array(let required)? = property["required"] {
                for case .string(let name) in required where members[name] == nil || members[name] == .null {
                    throw ArgumentError(field: "\(field).\(name)", "is required")
                }
            }
            if case .object(let inner)? = property["properties"] {
                for (name, member) in members.sorted(by: { $0.key < $1.key }) where member != .null {
                    guard case .object(let spec)? = inner[name] else {
                        // Unknown members are let through unless the schema closes the object.
                        guard property["additionalProperties"] == .bool(false) else { continue }
                        throw ArgumentError(field: "\(field).\(name)", "is not expected here (expected: \(inner.keys.sorted().joined(separator: ", ")))")
                    }
                    try check(member, against: spec, field: "\(field).\(name)")
                }
            }
        case ("array", .array(let items)):
            if let most = property["maxItems"].flatMap(integer), items.count > most {
                throw ArgumentError(field: field, "must have at most \(most) items")
            }
            if case .object(let item)? = property["items"] {
                for (index, element) in items.enumerated() { try check(element, against: item, field: "\(field)[\(index)]") }
            }
        default:
            throw ArgumentError(field: field, "must be \(type == "integer" || type == "array" ? "an" : "a") \(type)")
        }
    }

    private static func range(_ number: Double, _ property: [String: JSONValue], _ field: String) throws(ArgumentError) {
        func bound(_ key: String) -> Double? { if case .number(let n)? = property[key] { n } else { nil } }
        let least = bound("minimum"), most = bound("maximum")
        guard number.isFinite, number >= (least ?? -.infinity), number <= (most ?? .infinity) else {
            let bounds = [least.map { "at least \(text($0))" }, most.map { "at most \(text($0))" }].compactMap { $0 }
            throw ArgumentError(field: field, "must be \(bounds.isEmpty ? "a finite number" : bounds.joined(separator: " and "))")
        }
    }

    static func integer(_ value: JSONValue) -> Int? {
        guard case .number(let n) = value, n.rounded() == n, abs(n) < 1e15 else { return nil }
        return Int(n)
    }

    private static func text(_ x: Double) -> String { x.rounded() == x ? String(Int(x)) : String(x) }

    // MARK: Reading checked values

    public func string(_ name: String) -> String? { if case .string(let s)? = values[name] { s } else { nil } }
    public func int(_ name: String) -> Int? { values[name].flatMap(Self.integer) }
    public func double(_ name: String) -> Double? { if case .number(let n)? = values[name] { n } else { nil } }
    public func bool(_ name: String) -> Bool? { if case .bool(let b)? = values[name] { b } else { nil } }
    public func strings(_ name: String) -> [String]? {
        guard case .array(let items)? = values[name] else { return nil }
        return items.compactMap { if case .string(let s) = $0 { s } else { nil } }
    }

    /// A required string (the schema checked it is there).
    public func required(_ name: String) throws(ArgumentError) -> String {
        guard let value = string(name) else { throw ArgumentError(field: name, "is required") }
        return value
    }
}

/// An argument that does not fit the operation's schema: which one, and how.
public struct ArgumentError: Error, CustomStringConvertible, Sendable {
    public let field: String?
    public let message: String

    public init(field: String?, _ message: String) {
        self.field = field
        self.message = message
    }

    public var description: String { field.map { "invalid argument '\($0)': \(message)" } ?? "invalid arguments: \(message)" }
}
