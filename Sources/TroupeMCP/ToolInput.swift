import Foundation
import MCP

/// A tool's arguments, checked against the tool's own JSON schema before any call: the subset
/// of JSON Schema the tools use (`object` with `properties`, `required`,
/// `additionalProperties: false`; `string` with `minLength`, `maxLength` and `enum`;
/// `integer` and `number` with `minimum` and `maximum`; `boolean`; `array` of strings).
///
/// A failure names the field (``ToolInputError``); nothing is called.
struct ToolInput: Sendable {
    let values: [String: Value]

    init(_ arguments: [String: Value]?, schema: Value) throws(ToolInputError) {
        let arguments = arguments ?? [:]
        guard case .object(let schema) = schema, case .object(let properties)? = schema["properties"] else {
            throw ToolInputError(field: nil, "the tool has no usable schema")
        }
        if case .array(let required)? = schema["required"] {
            for case .string(let name) in required where arguments[name] == nil || arguments[name] == .null {
                throw ToolInputError(field: name, "is required")
            }
        }
        for (name, value) in arguments.sorted(by: { $0.key < $1.key }) {
            guard case .object(let property)? = properties[name] else {
                let known = properties.keys.sorted().joined(separator: ", ")
                throw ToolInputError(field: name, "is not an argument of this tool (its arguments: \(known))")
            }
            if value == .null { continue }
            try Self.check(value, against: property, field: name)
        }
        values = arguments.filter { $0.value != .null }
    }

    private static func check(_ value: Value, against property: [String: Value], field: String) throws(ToolInputError) {
        guard case .string(let type)? = property["type"] else { return }
        switch (type, value) {
        case ("string", .string(let text)):
            if case .int(let least)? = property["minLength"], text.count < least {
                throw ToolInputError(field: field, least == 1 ? "must not be empty" : "must be at least \(least) characters")
            }
            if case .int(let most)? = property["maxLength"], text.count > most {
                throw ToolInputError(field: field, "must be at most \(most) characters")
            }
            if case .array(let allowed)? = property["enum"], !allowed.contains(value) {
                throw ToolInputError(field: field, "must be one of \(allowed.compactMap(\.stringValue).joined(separator: ", ")), not '\(text)'")
            }
        case ("integer", _):
            guard let number = Self.integer(value) else { throw ToolInputError(field: field, "must be a whole number") }
            try range(Double(number), property, field)
        case ("number", _):
            guard let number = Self.number(value) else { throw ToolInputError(field: field, "must be a number") }
            try range(number, property, field)
        case ("boolean", .bool):
            break
        case ("array", .array(let items)):
            if case .object(let item)? = property["items"] {
                for (index, element) in items.enumerated() { try check(element, against: item, field: "\(field)[\(index)]") }
            }
            if case .int(let most)? = property["maxItems"], items.count > most {
                throw ToolInputError(field: field, "must have at most \(most) items")
            }
        default:
            throw ToolInputError(field: field, "must be \(type == "integer" ? "an" : "a") \(type)")
        }
    }

    private static func range(_ number: Double, _ property: [String: Value], _ field: String) throws(ToolInputError) {
        let least = property["minimum"].flatMap(Self.number), most = property["maximum"].flatMap(Self.number)
        guard number.isFinite, number >= (least ?? -.infinity), number <= (most ?? .infinity) else {
            let bounds = [least.map { "at least \(Self.text($0))" }, most.map { "at most \(Self.text($0))" }].compactMap { $0 }
            throw ToolInputError(field: field, "must be \(bounds.isEmpty ? "a finite number" : bounds.joined(separator: " and "))")
        }
    }

    static func integer(_ value: Value) -> Int? {
        switch value {
        case .int(let n): return n
        case .double(let d) where d.rounded() == d && abs(d) < 1e15: return Int(d)
        default: return nil
        }
    }

    static func number(_ value: Value) -> Double? {
        switch value {
        case .int(let n): return Double(n)
        case .double(let d): return d
        default: return nil
        }
    }

    private static func text(_ x: Double) -> String { x.rounded() == x ? String(Int(x)) : String(x) }

    // MARK: Reading checked values

    func string(_ name: String) -> String? { values[name]?.stringValue }
    func int(_ name: String) -> Int? { values[name].flatMap(Self.integer) }
    func double(_ name: String) -> Double? { values[name].flatMap(Self.number) }
    func bool(_ name: String) -> Bool? { values[name]?.boolValue }
    func strings(_ name: String) -> [String]? { values[name]?.arrayValue?.compactMap(\.stringValue) }

    /// A required string (the schema checked it is there).
    func required(_ name: String) throws(ToolInputError) -> String {
        guard let value = string(name) else { throw ToolInputError(field: name, "is required") }
        return value
    }
}

/// A tool argument that does not fit the tool's schema: which one, and how.
struct ToolInputError: Error, CustomStringConvertible {
    let field: String?
    let message: String

    init(field: String?, _ message: String) {
        self.field = field
        self.message = message
    }

    var description: String { field.map { "invalid argument '\($0)': \(message)" } ?? "invalid arguments: \(message)" }
}
