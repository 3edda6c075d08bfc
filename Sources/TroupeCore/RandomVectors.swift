import Foundation

/// Random unit vectors from a seeded generator: stored vectors for tests and benchmarks that
/// need them without embedding any text.
public enum RandomVectors {
    /// `rows` unit vectors of `dimension`, row after row, drawn from `rng`.
    public static func unitRows(_ rows: Int, _ dimension: Int, _ rng: inout SplitMix64) -> [Float] {
        var values = [Float](repeating: 0, count: rows * dimension)
        for r in 0..<rows {
            var norm: Float = 0
            for i in 0..<dimension {
                // Box–Muller from two uniforms: Gaussian coordinates make uniformly spread directions.
                let u1 = Double(rng.next() >> 11 | 1) / Double(1 << 53), u2 = Double(rng.next() >> 11) / Double(1 << 53)
                let g = Float((-2 * log(u1)).squareRoot() * cos(2 * Double.pi * u2))
                values[r * dimension + i] = g
                norm += g * g
            }
            let inverse = 1 / norm.squareRoot()
            for i in 0..<dimension { values[r * dimension + i] *= inverse }
        }
        return values
    }

    /// `count` unit vectors of `dimension`, the same for the same seed.
    public static func unitVectors(_ count: Int, dimension: Int, seed: UInt64) -> [[Float]] {
        var rng = SplitMix64(seed: seed)
        let flat = unitRows(count, dimension, &rng)
        return (0..<count).map { Array(flat[($0 * dimension)..<(($0 + 1) * dimension)]) }
    }
}
