import Foundation

/// Turns texts into unit vectors; a recall scores only vectors of the same `modelID` together.
public protocol Embedder: Sendable {
    /// Recorded with every stored vector.
    var modelID: String { get }
    var dimension: Int { get }
    /// One L2-normalised vector per text, in order.
    func embed(_ texts: [String]) throws -> [[Float]]
}
