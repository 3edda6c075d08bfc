import Foundation

/// An API key read from the environment. It prints, dumps and mirrors as `<redacted>`, so a
/// backend, a configuration or an error that holds one can be logged without leaking it; only
/// the `Authorization` header ever sees ``value``.
struct APIKey: Sendable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    /// The variable it came from, which messages name instead of the key.
    let variable: String
    let value: String

    /// The key in `environment[variable]`, or `nil` when unset or empty.
    init?(variable: String, environment: [String: String]) {
        guard let value = environment[variable]?.trimmingCharacters(in: .whitespacesAndNewlines), !value.isEmpty else {
            return nil
        }
        self.variable = variable
        self.value = value
    }

    var description: String { "<redacted>" }
    var debugDescription: String { "<redacted>" }
    var customMirror: Mirror { Mirror(self, children: ["variable": variable, "value": "<redacted>"]) }
}
