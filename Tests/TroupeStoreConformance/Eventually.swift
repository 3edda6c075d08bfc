import Foundation

/// Waits (up to `seconds`) until `condition` holds; whether it did. The bound is a hang guard,
/// not a speed check: the whole suite runs on two cores with CPU-bound tests beside it, where a
/// background job that takes 3 s alone has taken 30.
public func eventually(_ seconds: Double = 300, _ condition: () async throws -> Bool) async rethrows -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        if try await condition() { return true }
        try? await Task.sleep(for: .milliseconds(20))
    }
    return try await condition()
}
