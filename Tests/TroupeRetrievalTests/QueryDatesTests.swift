import Foundation
import Testing
import TroupeRetrieval

@Suite("Dates named in queries")
struct QueryDatesTests {
    /// Wednesday 15 November 2023, 12:00 UTC.
    let now = Date(timeIntervalSince1970: 1_700_049_600)

    func day(_ y: Int, _ m: Int, _ d: Int) -> Date {
        var c = Calendar(identifier: .gregorian)
        c.timeZone = TimeZone(identifier: "UTC")!
        return c.date(from: DateComponents(year: y, month: m, day: d))!
    }

    func spans(_ text: String) -> [QueryDates.Span] { QueryDates(parsing: text, now: now).spans }

    func interval(_ a: Date, _ b: Date) -> QueryDates.Span { .interval(start: a, end: b) }

    @Test func absoluteDaysInEitherOrderWithOrWithoutCommasAndOrdinals() {
        let oct13 = interval(day(2023, 10, 13), day(2023, 10, 14))
        #expect(spans("What did Melanie show on October 13, 2023?") == [oct13])
        #expect(spans("What happened on 13 October 2023?") == [oct13])
        #expect(spans("the 13th of October, 2023") == [oct13])
        #expect(spans("on 1 Feb. 2023") == [interval(day(2023, 2, 1), day(2023, 2, 2))])
    }

    @Test func monthsAndYears() {
        #expect(spans("What setback did she face in October 2023?") == [interval(day(2023, 10, 1), day(2023, 11, 1))])
        #expect(spans("When did Melanie go camping in June?") == [.month(6)])
        #expect(spans("anything from last May") == [.month(5)])
        #expect(spans("on October 13") == [.day(month: 10, day: 13)])
        #expect(spans("How many times did she go to the beach in 2023?") == [interval(day(2023, 1, 1), day(2024, 1, 1))])
    }

    @Test func wordsThatOnlyLookLikeDatesAreNot() {
        #expect(spans("How big may a pull request be?").isEmpty)
        #expect(spans("May I ask what the plan is?").isEmpty)
        #expect(spans("March on, said the manager to Jan").isEmpty)
        #expect(spans("We have 2023 users").isEmpty)
        #expect(spans("How long did the restore rehearsal take?").isEmpty)
    }

    @Test func relativeDatesCountFromNow() {
        let today = day(2023, 11, 15)
        #expect(spans("what did I say yesterday") == [interval(day(2023, 11, 14), today)])
        #expect(spans("the plan for today") == [interval(today, day(2023, 11, 16))])
        // Weeks start on Monday: this one on the 13th.
        #expect(spans("notes from last week") == [interval(day(2023, 11, 6), day(2023, 11, 13))])
        #expect(spans("this month") == [interval(day(2023, 11, 1), day(2023, 12, 1))])
        #expect(spans("last year") == [interval(day(2022, 1, 1), day(2023, 1, 1))])
        #expect(spans("over the past week") == [interval(now.addingTimeInterval(-7 * 86_400), now)])
        let twoWeeks = now.addingTimeInterval(-14 * 86_400)
        #expect(spans("what came up two weeks ago") == [interval(twoWeeks.addingTimeInterval(-3.5 * 86_400), twoWeeks.addingTimeInterval(3.5 * 86_400))])
        #expect(spans("3 days ago") == [interval(now.addingTimeInterval(-3.5 * 86_400), now.addingTimeInterval(-2.5 * 86_400))])
    }

    @Test func distanceIsZeroInsideAndGrowsOutside() {
        let named = QueryDates(parsing: "in October 2023", now: now)
        func close(_ a: TimeInterval?, _ b: TimeInterval) -> Bool { a.map { abs($0 - b) < 1e-3 } ?? false }
        #expect(named.distance(to: day(2023, 10, 20)) == 0)
        #expect(close(named.distance(to: day(2023, 11, 3)), 2 * 86_400))
        #expect(close(named.distance(to: day(2023, 9, 29)), 2 * 86_400))
        // A month in any year: the nearest one counts.
        let june = QueryDates(parsing: "camping in June", now: now)
        #expect(june.distance(to: day(2021, 6, 30)) == 0)
        #expect(close(june.distance(to: day(2022, 7, 3)), 2 * 86_400))
        #expect(QueryDates(parsing: "nothing dated", now: now).distance(to: now) == nil)
        // An impossible day names nothing.
        #expect(QueryDates(parsing: "on 31 February 2023", now: now).isEmpty)
        #expect(QueryDates(parsing: "on February 30", now: now).isEmpty)
        #expect(QueryDates(parsing: "on February 29", now: now).spans == [.day(month: 2, day: 29)])
    }
}
