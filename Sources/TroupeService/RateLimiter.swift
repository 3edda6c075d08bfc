import TroupeCore

/// Per-key token buckets: a key may make `burst` requests at once, then `rate` a second on
/// average. Held in the serving process (each `serve` limits its own share of the traffic).
public final class RateLimiter: Sendable {
    public enum Decision: Sendable, Equatable {
        case allowed
        /// Refused: the next request will be allowed after `retryAfter` seconds. `starts` is true
        /// for the first refusal after an allowed request (the one the security log records).
        case limited(retryAfter: Double, starts: Bool)
    }

    struct Bucket {
        var tokens: Double
        var refilled: Double
        var limited = false
    }

    /// Locked: every request of every connection takes from it; the closure does arithmetic only.
    private let buckets = LockedBox<[String: Bucket]>([:])
    private let seconds: @Sendable () -> Double

    /// A limiter on the monotonic clock, or on `seconds` (any clock that never goes back; for
    /// tests).
    public init(seconds: (@Sendable () -> Double)? = nil) {
        if let seconds {
            self.seconds = seconds
        } else {
            let start = ContinuousClock.now
            self.seconds = {
                let elapsed = start.duration(to: .now).components
                return Double(elapsed.seconds) + Double(elapsed.attoseconds) * 1e-18
            }
        }
    }

    /// Takes one token from `key`'s bucket, which holds at most `burst` and gains `rate` a second.
    public func take(_ key: String, rate: Double, burst: Int) -> Decision {
        let now = seconds()
        let capacity = Double(max(burst, 1))
        return buckets.withLock { buckets in
            var bucket = buckets[key] ?? Bucket(tokens: capacity, refilled: now)
            bucket.tokens = min(capacity, bucket.tokens + max(0, now - bucket.refilled) * rate)
            bucket.refilled = now
            defer { buckets[key] = bucket }
            if bucket.tokens >= 1 {
                bucket.tokens -= 1
                bucket.limited = false
                return .allowed
            }
            let starts = !bucket.limited
            bucket.limited = true
            return .limited(retryAfter: (1 - bucket.tokens) / max(rate, .leastNonzeroMagnitude), starts: starts)
        }
    }
}
