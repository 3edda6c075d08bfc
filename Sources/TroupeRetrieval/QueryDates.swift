import Foundation

/// The dates a query names, as spans of time to hold against when memories were made.
///
/// Understood, in English and in UTC: "13 October 2023", "October 13, 2023", "October 2023",
/// "in October" or "last October" (that month in any year), "on October 13" (that day in any
/// year), "in 2023", "today", "yesterday", "this/last/past week|month|year" and "N days|weeks|
/// months|years ago". A month name counts only when capitalised and next to a day, a year or a
/// word such as "in", "since" or "last", so "may" the verb or "March" opening a sentence is no date.
public struct QueryDates: Sendable, Hashable {
    public enum Span: Sendable, Hashable {
        /// A stretch of time, `start` included, `end` not.
        case interval(start: Date, end: Date)
        /// A month (1…12) in any year.
        case month(Int)
        /// A day of a month in any year.
        case day(month: Int, day: Int)
    }

    public private(set) var spans: [Span]
    public var isEmpty: Bool { spans.isEmpty }

    public init(spans: [Span]) { self.spans = spans }

    /// The spans `text` names; relative ones ("yesterday", "last week") are taken from `now`.
    public init(parsing text: String, now: Date) {
        var parser = Parser(words: Self.words(text), now: now)
        spans = parser.run()
    }

    /// Seconds from `date` to the nearest span (0 inside one); `nil` when there is none.
    public func distance(to date: Date) -> TimeInterval? {
        spans.map { span in
            switch span {
            case .interval(let start, let end): return Self.distance(date, start, end)
            case .month(let month), .day(let month, _):
                let year = Self.calendar.component(.year, from: date)
                // Near years; for a day, enough of them to hold a 29 February.
                let years = if case .day = span { year - 4...year + 4 } else { year - 1...year + 1 }
                return years.compactMap { y -> TimeInterval? in
                    guard case .day(_, let day) = span else {
                        return Self.date(y, month, 1).map { Self.distance(date, $0, Self.add(.month, 1, to: $0)) }
                    }
                    return Self.date(y, month, day).map { Self.distance(date, $0, $0.addingTimeInterval(86_400)) }
                }.min() ?? .infinity
            }
        }.min()
    }

    static let calendar: Calendar = {
        var c = Calendar(identifier: .gregorian)
        c.timeZone = TimeZone(identifier: "UTC")!
        c.firstWeekday = 2  // weeks start on Monday (ISO 8601)
        return c
    }()

    private static func distance(_ date: Date, _ start: Date, _ end: Date) -> TimeInterval {
        date < start ? start.timeIntervalSince(date) : date >= end ? date.timeIntervalSince(end) : 0
    }

    /// The start of that day, if it exists (no 30 February).
    static func date(_ year: Int, _ month: Int, _ day: Int) -> Date? {
        let components = DateComponents(year: year, month: month, day: day)
        guard let date = calendar.date(from: components), calendar.component(.day, from: date) == day else { return nil }
        return date
    }

    static func add(_ unit: Calendar.Component, _ count: Int, to date: Date) -> Date {
        calendar.date(byAdding: unit, value: count, to: date)!
    }

    /// Runs of letters or digits, case kept.
    static func words(_ text: String) -> [Substring] {
        text.split { !($0.isLetter || $0.isNumber) }
    }

    private struct Parser {
        let words: [Substring]
        let now: Date
        private var used: Set<Int> = []

        init(words: [Substring], now: Date) {
            self.words = words
            self.now = now
        }

        static let months: [String: Int] = {
            let names = ["january", "february", "march", "april", "may", "june", "july", "august", "september", "october", "november", "december"]
            var table: [String: Int] = [:]
            for (i, name) in names.enumerated() {
                table[name] = i + 1
                table[String(name.prefix(3))] = i + 1
            }
            table["sept"] = 9
            return table
        }()
        /// Words after which a lone month name or year is a date ("in May", "since 2021").
        static let leads: Set<String> = [
            "in", "during", "since", "until", "till", "before", "after", "by", "of", "from", "through", "last", "this",
            "next", "early", "late", "mid", "around",
        ]

        func lower(_ i: Int) -> String? { words.indices.contains(i) ? words[i].lowercased() : nil }

        func month(_ i: Int) -> Int? {
            guard words.indices.contains(i), words[i].first?.isUppercase == true else { return nil }
            return Self.months[words[i].lowercased()]
        }

        func day(_ i: Int) -> Int? {
            guard words.indices.contains(i) else { return nil }
            let word = words[i].lowercased()
            let digits = word.prefix { $0.isNumber }
            guard (1...2).contains(digits.count), ["", "st", "nd", "rd", "th"].contains(String(word.dropFirst(digits.count))),
                let value = Int(digits), (1...31).contains(value)
            else { return nil }
            return value
        }

        func year(_ i: Int) -> Int? {
            guard words.indices.contains(i), words[i].count == 4, let value = Int(words[i]), (1900...2199).contains(value) else { return nil }
            return value
        }

        mutating func take(_ indices: Int...) { used.formUnion(indices) }

        mutating func run() -> [Span] {
            var spans: [Span] = []
            for i in words.indices where !used.contains(i) {
                if let m = month(i) {
                    if let span = monthSpan(m, at: i) { spans.append(span) }
                } else if let y = year(i), let lead = lower(i - 1), Self.leads.contains(lead) || lead == "year" {
                    let start = QueryDates.date(y, 1, 1)!
                    spans.append(.interval(start: start, end: QueryDates.add(.year, 1, to: start)))
                    take(i)
                } else if let span = relativeSpan(at: i) {
                    spans.append(span)
                }
            }
            return spans
        }

        /// "13 October 2023", "13th of October", "October 13, 2023", "October 2023", "in October".
        mutating func monthSpan(_ m: Int, at i: Int) -> Span? {
            let before = day(i - 1).map { ($0, i - 1) } ?? (lower(i - 1) == "of" ? day(i - 2).map { ($0, i - 2) } : nil)
            let after = year(i + 1) == nil ? day(i + 1).map { ($0, i + 1) } : nil
            let dayFound = before ?? after
            let yearAt = after != nil ? i + 2 : i + 1
            if let (d, at) = dayFound {
                take(i, at)
                if let y = year(yearAt) {
                    take(yearAt)
                    // No such day (31 February): nothing is named.
                    return QueryDates.date(y, m, d).map { .interval(start: $0, end: $0.addingTimeInterval(86_400)) }
                }
                return QueryDates.date(2000, m, d) != nil ? .day(month: m, day: d) : nil  // 2000 was a leap year
            }
            if let y = year(i + 1) {
                take(i, i + 1)
                let start = QueryDates.date(y, m, 1)!
                return .interval(start: start, end: QueryDates.add(.month, 1, to: start))
            }
            guard let lead = lower(i - 1), Self.leads.contains(lead) else { return nil }
            take(i)
            return .month(m)
        }

        /// "today", "yesterday", "last week", "this month", "past year", "three days ago".
        mutating func relativeSpan(at i: Int) -> Span? {
            let c = QueryDates.calendar
            let today = c.startOfDay(for: now)
            switch lower(i) {
            case "today": return .interval(start: today, end: today.addingTimeInterval(86_400))
            case "yesterday": return .interval(start: today.addingTimeInterval(-86_400), end: today)
            case "this", "last", "past":
                let units: [String: Calendar.Component] = ["week": .weekOfYear, "month": .month, "year": .year]
                guard let name = lower(i + 1), let unit = units[name], let current = c.dateInterval(of: unit, for: now) else { return nil }
                take(i, i + 1)
                switch lower(i) {
                case "this": return .interval(start: current.start, end: current.end)
                case "last": return .interval(start: QueryDates.add(unit, -1, to: current.start), end: current.start)
                default: return .interval(start: QueryDates.add(unit, -1, to: now), end: now)
                }
            default:
                let counts = ["a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10]
                let units: [String: TimeInterval] = ["day": 86_400, "week": 7 * 86_400, "month": 30.44 * 86_400, "year": 365.25 * 86_400]
                guard let word = lower(i), let n = counts[word] ?? Int(word), n > 0, n < 1000, let unitWord = lower(i + 1),
                    let unit = units[unitWord.hasSuffix("s") ? String(unitWord.dropLast()) : unitWord], lower(i + 2) == "ago"
                else { return nil }
                take(i, i + 1, i + 2)
                // The unit around that point: "two weeks ago" is a week centred fourteen days back.
                let centre = now.addingTimeInterval(-Double(n) * unit)
                return .interval(start: centre.addingTimeInterval(-unit / 2), end: centre.addingTimeInterval(unit / 2))
            }
        }
    }
}
