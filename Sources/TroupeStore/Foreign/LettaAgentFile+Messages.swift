import Foundation
import TroupeCore

extension LettaAgentFile {
    /// The agent's conversation: user and assistant messages with text become episodic records;
    /// system messages, tool returns, Letta's own events (heartbeats, logins) and messages with no
    /// text (reasoning or tool calls only) are reported.
    static func messages(of agent: Agent, context: ForeignContext, into out: inout ForeignRecords, seen: inout [String: String]) {
        guard case .array(let list)? = agent.object["messages"] else { return }
        for (i, value) in list.enumerated() {
            out.items += 1
            let location = "\(agent.location).messages[\(i)]"
            guard case .object(let message) = value else {
                out.skipped.append(.init(location, "expected a message object"))
                continue
            }
            let role = ForeignJSON.string(message["role"]) ?? ""
            guard role == "user" || role == "assistant" else {
                let why = role == "system" ? "the system prompt is not a memory: write it in the persona's YAML"
                    : role == "tool" ? "a tool's return: not a turn of the conversation"
                    : role.isEmpty ? "no role" : "a message of role '\(role)': not a turn of the conversation"
                out.skipped.append(.init(location, field: role.isEmpty ? "role" : nil, why))
                continue
            }
            let (text, other) = Self.text(of: message)
            guard var text else {
                out.skipped.append(.init(location, field: "content", "no text (\(other.isEmpty ? "empty" : other.joined(separator: ", ") + " only"))"))
                continue
            }
            // MemGPT-era user turns are JSON: {"type": "user_message", "message": …} or an event.
            if role == "user", case .object(let packed)? = try? JSONValue.parse(Array(text.utf8)), let kind = ForeignJSON.string(packed["type"]) {
                guard kind == "user_message", let said = ForeignJSON.text(packed["message"]) else {
                    out.skipped.append(.init(location, field: "content", "a Letta event ('\(kind)'), not something the user said"))
                    continue
                }
                text = said
            }
            if let refusal = context.refusal(.episodic, for: agent.owner) {
                out.skipped.append(.init(location, refusal))
                continue
            }
            var letta = ForeignJSON.compact(message, dropping: ["content", "tool_calls", "tool_returns", "approvals"])
            if !other.isEmpty { letta["other_content"] = .array(other.map(JSONValue.string)) }
            var fields: [String: JSONValue] = ["letta": .object(letta), "agent": .string(agent.name)]
            let id = ForeignJSON.string(message["id"])
            if let id { fields["source_id"] = .string(id) }
            let stamp = ForeignJSON.string(message["created_at"]) ?? ""
            let record = context.record(
                .letta, owner: agent.owner, slice: .episodic, content: text.trimmingCharacters(in: .whitespacesAndNewlines),
                key: ["message", agent.name, id ?? String(i), stamp], saidBy: role == "user" ? "user" : agent.name,
                createdAt: ForeignJSON.time(message["created_at"]), tags: ["conversation"], metadata: fields)
            out.add(record, at: location, seen: &seen)
        }
    }

    /// A message's text: its `text` parts (or a plain string), else what it sent with the
    /// `send_message` tool (MemGPT agents speak through it); and the kinds of the other parts.
    static func text(of message: [String: JSONValue]) -> (String?, [String]) {
        var texts: [String] = []
        var other: [String] = []
        switch message["content"] {
        case .string(let text)?: texts.append(text)
        case .array(let parts)?:
            for part in parts {
                guard case .object(let p) = part else { continue }
                let kind = ForeignJSON.string(p["type"]) ?? "unknown"
                if kind == "text", let text = ForeignJSON.text(p["text"]) { texts.append(text) } else if kind != "text" { other.append(kind) }
            }
        default: break
        }
        if case .array(let calls)? = message["tool_calls"] {
            for call in calls {
                guard let function = call.member("function"), let name = ForeignJSON.string(function.member("name")) else { continue }
                if name == "send_message", let arguments = ForeignJSON.string(function.member("arguments")),
                    let said = ForeignJSON.text((try? JSONValue.parse(Array(arguments.utf8)))?.member("message"))
                {
                    texts.append(said)
                } else {
                    other.append("tool call \(name)")
                }
            }
        }
        let joined = texts.filter { $0.contains(where: { !$0.isWhitespace }) }.joined(separator: "\n")
        return (joined.isEmpty ? nil : joined, other)
    }
}
