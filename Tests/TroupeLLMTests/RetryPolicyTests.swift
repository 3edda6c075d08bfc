import Foundation
import Testing
@testable import TroupeLLM

@Suite("Retry policy")
struct RetryPolicyTests {
    @Test func delaysDoubleWithJitterUpToTheCap() {
        let policy = RetryPolicy(maxAttempts: 10, baseDelay: .milliseconds(500), maxDelay: .seconds(8))
        var random = SeededRandom(seed: 7)
        for attempt in 1...8 {
            let full = min(Duration.milliseconds(500) * (1 << (attempt - 1)), .seconds(8))
            for _ in 0..<50 {
                let delay = policy.delay(afterAttempt: attempt, using: &random)
                #expect(delay >= full / 2 && delay <= full, "attempt \(attempt): \(delay)")
            }
        }
        #expect(policy.delay(afterAttempt: 1, retryAfter: .seconds(20), using: &random) == .seconds(20))
    }

    @Test func retryAfterReadsSecondsAndDates() {
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        #expect(RetryPolicy.parseRetryAfter("120", now: now) == .seconds(120))
        #expect(RetryPolicy.parseRetryAfter(" 1.5 ", now: now) == .milliseconds(1500))
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss 'GMT'"
        #expect(RetryPolicy.parseRetryAfter(formatter.string(from: now + 42), now: now) == .seconds(42))
        #expect(RetryPolicy.parseRetryAfter(formatter.string(from: now - 42), now: now) == .zero)
        #expect(RetryPolicy.parseRetryAfter("soon", now: now) == nil)
        #expect(RetryPolicy.parseRetryAfter(nil, now: now) == nil)
    }

    @Test func durationsAreSpokenForMessages() {
        #expect(Duration.milliseconds(300).spoken == "300 ms")
        #expect(Duration.milliseconds(1500).spoken == "1.5 s")
        #expect(Duration.seconds(60).spoken == "60 s")
        #expect(Duration.seconds(3600).spoken == "60 min")
    }
}
