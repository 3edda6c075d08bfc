import Foundation
import Testing
import TroupeCore

@Suite("Core value types")
struct CoreTests {
    @Test func timestampsRoundTripToTheMillisecond() {
        for ms: Int64 in [0, 1, 999, 1_790_000_000_123, -86_400_001, 951_782_400_000] {
            #expect(Timestamp.parseMilliseconds(Timestamp.format(milliseconds: ms)) == ms)
        }
        #expect(Timestamp.format(milliseconds: 951_782_400_000) == "2000-02-29T00:00:00.000Z")
        #expect(Timestamp.parseMilliseconds("2026-11-23T14:15:28+01:00") == Timestamp.parseMilliseconds("2026-11-23T13:15:28Z"))
        #expect(Timestamp.parseMilliseconds("2026-11-23T14:15:28.123456Z")! % 1000 == 123)
        #expect(Timestamp.parseMilliseconds("2026-11-23") == Timestamp.parseMilliseconds("2026-11-23T00:00:00Z"))
        for bad in ["2026-02-30", "2026-13-01", "yesterday", "2026-11-23T25:00Z", "2026-11-23T10:00:00Zjunk"] {
            #expect(Timestamp.parse(bad) == nil, "\(bad)")
        }
    }

    @Test func sha256MatchesKnownVectors() {
        #expect(SHA256.hex(of: Array("abc".utf8)) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(SHA256.hex(of: []) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        let long = Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8)
        #expect(SHA256.hex(of: long) == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
    }

    @Test func stableIDsDependOnOwnerSliceContentAndTime() {
        let a = MemoryRecord.stableID(owner: "athena", slice: .semantic, content: "x", createdAt: nil)
        #expect(a == MemoryRecord.stableID(owner: "athena", slice: .semantic, content: "x", createdAt: nil))
        #expect(a != MemoryRecord.stableID(owner: "artemis", slice: .semantic, content: "x", createdAt: nil))
        #expect(a != MemoryRecord.stableID(owner: "athena", slice: .episodic, content: "x", createdAt: nil))
        #expect(a != MemoryRecord.stableID(owner: "athena", slice: .semantic, content: "x", createdAt: Date(timeIntervalSince1970: 1)))
    }

    @Test func personaNamesAreValidated() {
        #expect(PersonaID(rawValue: "team-decisions_2") != nil)
        for bad in ["", "Athena", "2a", "a b", "a.b", String(repeating: "a", count: 65)] {
            #expect(PersonaID(rawValue: bad) == nil, "\(bad)")
        }
    }

    @Test func canonicalJSONIsStable() {
        let v = JSONValue.object(["b": .number(1), "a": .array([.string("q\"\n"), .bool(false), .null, .number(2.5)])])
        #expect(v.canonicalText == #"{"a":["q\"\n",false,null,2.5],"b":1}"#)
    }

    @Test func suggestionsFindTypos() {
        #expect(Suggestion.closest(to: "memroy", in: ["memory", "name"]) == "memory")
        #expect(Suggestion.closest(to: "avatar", in: ["memory", "name"]) == nil)
    }
}
