import Foundation
import GRDB
import Testing
import TroupeCore
@testable import TroupeRetrieval

@Suite("Lexical tokenizer")
struct LexicalTokenizerTests {
    @Test func classicPorterExamples() {
        let cases = [
            "caresses": "caress", "ponies": "poni", "ties": "ti", "cats": "cat", "feed": "feed", "agreed": "agre",
            "plastered": "plaster", "motoring": "motor", "sing": "sing", "conflated": "conflat", "troubled": "troubl",
            "sized": "size", "hopping": "hop", "falling": "fall", "filing": "file", "happy": "happi",
            "relational": "relat", "conditional": "condit", "rational": "ration", "generalization": "gener",
            "electrical": "electr", "hopefulness": "hope", "goodness": "good", "adjustable": "adjust", "adoption": "adopt",
            "controlling": "control", "rolls": "roll",
        ]
        for (word, stem) in cases { #expect(LexicalTokenizer.tokens(word) == [stem], "\(word)") }
    }

    @Test func splitsFoldsAndStripsDiacritics() {
        #expect(LexicalTokenizer.tokens("Hello, WORLD! it's 2026-11-24_v2") == ["hello", "world", "it", "s", "2026", "11", "24", "v2"])
        #expect(LexicalTokenizer.tokens("Café naïve Zürich") == ["cafe", "naiv", "zurich"])
        #expect(LexicalTokenizer.tokens("") == [])
    }

    /// Every word of the shipped personas and docs, plus a system word list when there is one,
    /// tokenized by SQLite's FTS5 (`porter unicode61 remove_diacritics 2`) and by ours.
    @Test func agreesWithSQLiteFTS5() async throws {
        // A word list through SQLite and through ours: seconds in a debug build, off the pool;
        // the check runs here.
        let (disagreements, texts) = try await offThePool("troupe-test.tokenizer") { () throws -> ([String], [String]) in
            let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            var texts: [String] = []
            for folder in ["Personas", "Config"] {
                let dir = root.appendingPathComponent(folder)
                for name in try FileManager.default.contentsOfDirectory(atPath: dir.path) {
                    texts.append(try String(contentsOf: dir.appendingPathComponent(name), encoding: .utf8))
                }
            }
            texts.append(try String(contentsOf: root.appendingPathComponent("README.md"), encoding: .utf8))
            texts += [
                "Ünïcödé façade résumé coöperate Ångström — naïveté", "über straße ÉCOLE", "日本語のテキスト 中文", "x²y³ ①②",
                "e-mail re-entry co_operate don't o'clock", "HTTP/2 TLS1.3 IPv6 ::1 127.0.0.1", "thumbs inside👍text",
            ]
            if let words = try? String(contentsOfFile: "/usr/share/dict/words", encoding: .utf8) {
                texts += words.split(separator: "\n").map(String.init)
            }
            let db = try DatabaseQueue()
            let expected: [[String]] = try db.write { db in
                try db.execute(sql: "CREATE VIRTUAL TABLE t USING fts5(x, tokenize='porter unicode61 remove_diacritics 2')")
                try db.execute(sql: "CREATE VIRTUAL TABLE v USING fts5vocab(t, 'instance')")
                for (i, text) in texts.enumerated() { try db.execute(sql: "INSERT INTO t(rowid, x) VALUES (?, ?)", arguments: [i, text]) }
                var tokens = [[String]](repeating: [], count: texts.count)
                for row in try Row.fetchAll(db, sql: "SELECT term, doc FROM v ORDER BY doc, offset") {
                    tokens[row["doc"] as Int].append(row["term"])
                }
                return tokens
            }
            var disagreements: [String] = []
            for (i, text) in texts.enumerated() where LexicalTokenizer.tokens(text) != expected[i] {
                let ours = LexicalTokenizer.tokens(text)
                disagreements.append("\(text.prefix(40)): ours \(ours.prefix(6)) vs FTS5 \(expected[i].prefix(6))")
            }
            return (disagreements, texts)
        }
        #expect(disagreements.count == 0, "\(disagreements.count) of \(texts.count) texts differ:\n\(disagreements.prefix(15).joined(separator: "\n"))")
    }
}
