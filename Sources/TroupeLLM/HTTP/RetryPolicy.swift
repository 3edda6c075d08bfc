import Foundation

/// When and how long an HTTP backend waits before trying a request again.
///
/// Retried: a connection that could not be made or closed before the reply began, 429 and 5xx.
/// Never retried: anything after the first token (the caller has seen part of a reply; a second
/// one would differ), and a first-token timeout (the server is busy with the request; asking
/// again would queue a second generation behind the first).
public struct RetryPolicy: Sendable, Hashable {
    /// Tries in all, the first included; 1 disables retries.
    public var maxAttempts: Int
    /// The wait before the first retry; each later retry doubles it.
    public var baseDelay: Duration
    /// No computed wait exceeds this.
    public var maxDelay: Duration
    /// The longest `Retry-After` that is honoured; a server asking for more gets an error saying
    /// how long it asked for, rather than a caller stuck for minutes.
    public var maxRetryAfter: Duration

    public init(maxAttempts: Int = 3, baseDelay: Duration = .milliseconds(500), maxDelay: Duration = .seconds(8),
                maxRetryAfter: Duration = .seconds(30)) {
        self.maxAttempts = max(1, maxAttempts)
        self.baseDelay = baseDelay
        self.maxDelay = maxDelay
        self.maxRetryAfter = maxRetryAfter
    }

    /// The wait after failed try number `attempt` (1 for the first), with "equal jitter": half
    /// the exponential delay is fixed and half random, so clients that failed together do not
    /// retry together, yet none retries at once. A `Retry-After` the server sent wins when longer.
    public func delay(afterAttempt attempt: Int, retryAfter: Duration? = nil,
                      using random: inout some RandomNumberGenerator) -> Duration {
        let exponent = min(max(attempt - 1, 0), 30)
        let scaled = baseDelay * (1 << exponent)
        let capped = scaled > maxDelay ? maxDelay : scaled
        let jittered = capped / 2 + capped / 2 * Double.random(in: 0...1, using: &random)
        guard let retryAfter else { return jittered }
        return max(retryAfter, jittered)
    }

    /// Reads a `Retry-After` header: seconds (`120`) or an HTTP date (`Wed, 21 Oct 2026 07:28:00
    /// GMT`), relative to `now`. `nil` when absent or unreadable; a date in the past is zero.
    public static func parseRetryAfter(_ value: String?, now: Date) -> Duration? {
        guard let text = value?.trimmingCharacters(in: .whitespaces), !text.isEmpty else { return nil }
        if let seconds = Double(text), seconds.isFinite, seconds >= 0 {
            return .milliseconds(Int64((min(seconds, 86_400) * 1000).rounded()))
        }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        // RFC 9110's preferred form, then the two obsolete ones it still requires readers to accept.
        for format in ["EEE, dd MMM yyyy HH:mm:ss zzz", "EEEE, dd-MMM-yy HH:mm:ss zzz", "EEE MMM d HH:mm:ss yyyy"] {
            formatter.dateFormat = format
            if let date = formatter.date(from: text) {
                let seconds = max(0, min(date.timeIntervalSince(now), 86_400))
                return .milliseconds(Int64((seconds * 1000).rounded()))
            }
        }
        return nil
    }
}
