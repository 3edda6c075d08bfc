import Foundation
import TroupeCore
import TroupeLLM

extension JSONView {
    /// A turn as `troupe chat --json` and session logs give it, with the prompt as sent (a
    /// `{role, content}` per message) and what was dropped to fit it.
    public static func turn(_ t: TurnRecord) -> JSONValue {
        let timings = t.timings
        var timing: [String: JSONValue] = [
            "recall_ms": .number(round6(timings.recall)), "assembly_ms": .number(round6(timings.assembly)),
            "model_ms": .number(round6(timings.model)), "storing_ms": .number(round6(timings.storing)),
        ]
        if let first = timings.firstToken { timing["first_token_ms"] = .number(round6(first)) }
        var object: [String: JSONValue] = [
            "conversation": .string(t.conversation), "turn": .number(Double(t.number)), "persona": .string(t.persona.rawValue),
            "speaker": .string(t.speaker), "message": .string(t.message), "reply": .string(t.reply), "finish": .string(t.finish.rawValue),
            "backend": .object([
                "kind": .string(t.backend.kind), "model": .string(t.backend.model), "location": .string(t.backend.location),
                "context_length": .number(Double(t.backend.contextLength)),
            ]),
            "usage": .object(["prompt_tokens": .number(Double(t.promptTokens)), "completion_tokens": .number(Double(t.completionTokens))]),
            "recalled": .array(t.recalled.map(hit)), "timings": .object(timing),
            "outdated": .array(t.outdated.map {
                .object([
                    "said": .string($0.said), "now": .string($0.now), "id": .string($0.id), "contradicts": .bool($0.contradicts),
                    "unanswered": .bool($0.unanswered),
                ])
            }),
            "prompt": .array(t.prompt.map { .object(["role": .string($0.role.rawValue), "content": .string($0.content)]) }),
            "dropped": .object([
                "exchange": .number(Double(t.dropped.exchange)), "memories": .number(Double(t.dropped.memories)),
                "notes": .number(Double(t.dropped.notes)),
            ]),
            "written": .array(t.written.map { w in
                var o: [String: JSONValue] = [
                    "what": .string(w.what.rawValue), "id": .string(w.id), "slice": .string(w.slice.rawValue), "content": .string(w.content),
                ]
                if let v = w.replacedVersion { o["replaced_version"] = .number(Double(v)) }
                if let f = w.flagged { o["flagged"] = .string(f) }
                if let d = w.disputes { o["disputes"] = .string(d) }
                if let p = w.provenance { o["provenance"] = .object(p.metadata.merging(["trust": .number(Double(p.trust))]) { $1 }) }
                return .object(o)
            }),
        ]
        if let failure = t.failure { object["failure"] = .string(failure) }
        return .object(object)
    }
}
