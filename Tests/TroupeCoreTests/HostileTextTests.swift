import Foundation
import Testing
import TroupeCore

/// Text nobody here wrote: what reaches a terminal, what a JSON line may hold, what a time is.
@Suite("Hostile text")
struct HostileTextTests {
    @Test func terminalControlsAreMadeVisible() {
        let hostile = "a\u{1B}]0;pwned\u{07}b\u{1B}[2J\rc\u{08}\u{7F}\u{9B}31m\u{202E}txt.exe\u{0}"
        let shown = TerminalText.escaped(hostile)
        #expect(shown == "a\\e]0;pwned\\ab\\e[2J\\rc\\b\\x7f\\u{9b}31m\\u{202e}txt.exe\\0")
        #expect(!shown.unicodeScalars.contains { TerminalText.needsEscape($0) })
        // Text, new lines and tabs are left alone.
        #expect(TerminalText.escaped("line one\n\tline two ✓ 日本") == "line one\n\tline two ✓ 日本")
    }

    @Test func jsonEscapesWhatCouldActOnATerminal() throws {
        let text = "x\u{1B}[2J\u{9B}\u{202E}y"
        var out = ""
        JSONValue.writeString(text, to: &out)
        #expect(out == "\"x\\u001b[2J\\u009b\\u202ey\"")
        #expect(try JSONValue.parse(Array(out.utf8)) == .string(text))
    }

    @Test func duplicateJSONKeysAreRefused() {
        #expect(throws: (any Error).self) { try JSONValue.parse(Array(#"{"content":"a","content":"b"}"#.utf8)) }
        #expect(throws: (any Error).self) { try JSONValue.parse(Array(#"{"m":{"k":1,"k":2}}"#.utf8)) }
        #expect((try? JSONValue.parse(Array(#"{"a":1,"b":{"a":2}}"#.utf8))) != nil)
    }

    @Test func aTimeWithoutAZoneIsRefused() {
        for bad in ["2026-11-23T14:15:28", "2026-11-23T14:15", "2026-11-23 14:15:28.5"] {
            #expect(Timestamp.parse(bad) == nil, "\(bad)")
        }
        #expect(Timestamp.parse("2026-11-23T14:15:28+02:00") != nil)
    }
}
