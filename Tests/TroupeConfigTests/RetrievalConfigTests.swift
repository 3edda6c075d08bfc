import Foundation
import Testing
import TroupeConfig

@Suite("retrieval: recall options")
struct RetrievalConfigTests {
    func read(_ yaml: String) -> (RuntimeConfig.Retrieval, [String]) {
        let source = YAMLSource(text: yaml, displayPath: "troupe.yaml")
        let config = Configuration.read(runtimeFrom: source, directory: URL(fileURLWithPath: "/tmp"))
        return (config.retrieval, source.diagnostics.filter { $0.severity == .error }.map { "\($0.line):\($0.column): \($0.message)" })
    }

    @Test func defaultsTurnTheOptionsOn() {
        let (r, errors) = read("retrieval:\n  default_limit: 10\n")
        #expect(errors.isEmpty)
        #expect(r.lexicalScale == "full-match" && r.semanticScale == "best" && r.stopwords)
        #expect(r.contextWeight == 0.5 && r.contextWindow == 2 && r.contextGap == 3600)
        #expect(r.dateWeight == 0.2 && r.dateHalfLife == 7 * 86_400)
        #expect(r.balanceAdaptive && r.balanceFloor == 0.4 && r.balanceCeiling == 0.8 && r.balanceDepth == 10)
    }

    @Test func everyKeyIsRead() {
        let (r, errors) = read("""
            retrieval:
              scales:
                lexical: ceiling
                semantic: cosine
              stopwords: false
              context:
                weight: 0
                window: 3
                gap: 30m
              dates:
                weight: 0.2
                half_life: 3d
              balance:
                adaptive: false
                floor: 0.3
                ceiling: 0.9
                depth: 5
            """)
        #expect(errors.isEmpty)
        #expect(r.lexicalScale == "ceiling" && r.semanticScale == "cosine" && !r.stopwords)
        #expect(r.contextWeight == 0 && r.contextWindow == 3 && r.contextGap == 1800)
        #expect(r.dateWeight == 0.2 && r.dateHalfLife == 3 * 86_400)
        #expect(!r.balanceAdaptive && r.balanceFloor == 0.3 && r.balanceCeiling == 0.9 && r.balanceDepth == 5)
    }

    @Test func aBalanceCeilingBelowItsFloorIsAnError() {
        let (_, errors) = read("retrieval:\n  balance:\n    floor: 0.7\n    ceiling: 0.5\n    depth: 1\n")
        #expect(errors == [
            "4:14: 'retrieval.balance.ceiling' (0.5) is below its floor (0.7)",
            "5:12: 'retrieval.balance.depth' must be between 2 and 1000, found 1",
        ])
    }

    @Test func badValuesAreReportedAndKeepTheirDefaults() {
        let (r, errors) = read("""
            retrieval:
              scales:
                lexical: max
              stopwords: sometimes
              context:
                weight: 2
                window: 0
                gap: soon
                span: 4
              dates:
                half_life: 0s
            """)
        #expect(errors == [
            "3:14: 'retrieval.scales.lexical' must be one of full-match, ceiling, found 'max'",
            "4:14: expected true or false for 'retrieval.stopwords', found 'sometimes'",
            "6:13: 'retrieval.context.weight' must be between 0 and 1, found 2",
            "7:13: 'retrieval.context.window' must be between 1 and 20, found 0",
            "8:10: bad duration 'soon' for 'retrieval.context.gap' (use a number and a unit: 90s, 30m, 1h, 7d)",
            "9:5: unknown key 'span' in 'retrieval.context' (expected one of: weight, window, gap)",
            "11:16: 'retrieval.dates.half_life' must be a positive duration, found '0s'",
        ])
        #expect(r.lexicalScale == "full-match" && r.stopwords && r.contextWeight == 0.5 && r.contextWindow == 2 && r.dateHalfLife == 7 * 86_400)
    }
}
