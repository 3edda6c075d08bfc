import Foundation
import TroupeCore

/// Letta's Agent File (`.af`, letta-ai/agent-file; schema `AgentFileSchema` in letta-ai/letta):
/// `{"agents": [...], "blocks": [...], "tools": [...], …}`, or the older single-agent layout
/// with the agent's `core_memory` inline.
///
/// Per agent, into `--persona` (or the persona named as the agent): core memory blocks become
/// semantic records, the `persona` block procedural (it says how the agent behaves); user and
/// assistant messages become episodic records (said by `user` or the agent); archival passages,
/// which the format does not carry yet but exports may add (`passages`, as Letta's passage API
/// returns them), become semantic records. The system prompt, tools, tool rules, model
/// settings, files, sources and groups have no memory to map to and are reported.
public enum LettaAgentFile {
    struct Agent {
        var location: String
        var object: [String: JSONValue]
        var name: String
        var owner: PersonaID
    }

    public static func read(_ bytes: [UInt8], file: String, context: ForeignContext) throws -> ForeignRecords {
        guard case .object(let root) = try ForeignJSON.parse(bytes, file: file) else {
            throw TroupeError(.invalidInput, "not a Letta agent file: expected a JSON object", context: file)
        }
        let fileTime = ForeignJSON.time(root["created_at"])
        var agents: [Agent] = []
        if case .array(let list)? = root["agents"] {
            for (i, value) in list.enumerated() {
                guard case .object(let object) = value else { throw TroupeError(.invalidInput, "agents[\(i)] is not an agent object", context: file) }
                agents.append(try agent(object, at: "agents[\(i)]", file: file, context: context))
            }
        } else if root["core_memory"] != nil || root["messages"] != nil {
            agents.append(try agent(root, at: "the agent", file: file, context: context))
        } else {
            throw TroupeError(.invalidInput, "not a Letta agent file: no \"agents\" list (nor an agent's \"core_memory\")", context: file)
        }

        var out = ForeignRecords()
        var seen: [String: String] = [:]
        var blocks: [String: (String, [String: JSONValue])] = [:]
        if case .array(let list)? = root["blocks"] {
            for (i, value) in list.enumerated() {
                if case .object(let block) = value, let id = ForeignJSON.string(block["id"]) { blocks[id] = ("blocks[\(i)]", block) }
            }
        }
        var usedBlocks = Set<String>()
        for agent in agents {
            var inline: [(String, [String: JSONValue])] = []
            if case .array(let list)? = agent.object["core_memory"] {
                inline = list.enumerated().compactMap { i, v in
                    guard case .object(let o) = v else { return nil }
                    return ("\(agent.location).core_memory[\(i)]", o)
                }
            }
            if case .array(let ids)? = agent.object["block_ids"] {
                for id in ids.compactMap(ForeignJSON.string) {
                    guard let found = blocks[id] else {
                        out.skipped.append(.init(agent.location, field: "block_ids", "block '\(id)' is not in the file"))
                        continue
                    }
                    usedBlocks.insert(id)
                    inline.append(found)
                }
            }
            for (location, block) in inline {
                out.items += 1
                Self.block(block, at: location, agent: agent, fileTime: fileTime, context: context, into: &out, seen: &seen)
            }
            messages(of: agent, context: context, into: &out, seen: &seen)
            if case .array(let list)? = agent.object["passages"] ?? agent.object["archival_memory"] {
                for (i, value) in list.enumerated() {
                    out.items += 1
                    passage(value, at: "\(agent.location).passages[\(i)]", agent: agent, context: context, into: &out, seen: &seen)
                }
            }
            for field in ["system", "tools", "tool_rules", "llm_config", "embedding_config"] where isPresent(agent.object[field]) {
                out.skipped.append(.init(agent.location, field: field, unmapped[field]!))
            }
        }
        if case .array(let list)? = root["passages"] {
            for (i, value) in list.enumerated() {
                out.items += 1
                // A passage names its agent, or belongs to the file's one agent.
                let agentID = ForeignJSON.string(value.member("agent_id"))
                let named = agentID.flatMap { id in agents.first { ForeignJSON.string($0.object["id"]) == id } }
                guard let agent = agentID == nil ? (agents.count == 1 ? agents[0] : nil) : named else {
                    out.skipped.append(.init("passages[\(i)]", field: "agent_id", "names no agent of the file"))
                    continue
                }
                passage(value, at: "passages[\(i)]", agent: agent, context: context, into: &out, seen: &seen)
            }
        }
        for (id, (location, _)) in blocks.sorted(by: { $0.key < $1.key }) where !usedBlocks.contains(id) {
            out.items += 1
            out.skipped.append(.init(location, "a block no agent of the file uses"))
        }
        for key in ["tools", "files", "sources", "groups", "mcp_servers", "skills"] {
            guard case .array(let list)? = root[key] else { continue }
            for (i, item) in list.enumerated() {
                out.items += 1
                let name = ForeignJSON.string(item.member("name") ?? item.member("server_name") ?? item.member("file_name")).map { " '\($0)'" } ?? ""
                out.skipped.append(.init("\(key)[\(i)]\(name)", unmapped[key]!))
            }
        }
        return out
    }

    static let unmapped: [String: String] = [
        "system": "the system prompt is not a memory: write it in the persona's YAML",
        "tools": "a tool: Troupe's personas have no tools to map it to",
        "tool_rules": "tool rules: Troupe's personas have no tools",
        "llm_config": "model settings: Troupe's model is chosen in its config",
        "embedding_config": "embedding settings: Troupe embeds with its own model",
        "files": "a file: not a memory (import its text with `memory import`)",
        "sources": "a data source: not a memory",
        "groups": "a multi-agent group: write a Troupe session for it",
        "mcp_servers": "an MCP server: not a memory",
        "skills": "a skill: not a memory",
    ]

    private static func isPresent(_ value: JSONValue?) -> Bool {
        switch value {
        case nil, .null?: return false
        case .array(let list)?: return !list.isEmpty
        case .string(let text)?: return !text.isEmpty
        default: return true
        }
    }

    /// The agent at `location` and the persona its memories go to.
    private static func agent(_ object: [String: JSONValue], at location: String, file: String, context: ForeignContext) throws -> Agent {
        let name = ForeignJSON.text(object["name"]) ?? ForeignJSON.string(object["id"]) ?? "agent"
        if let owner = context.owner {
            try context.check(owner)
            return Agent(location: location, object: object, name: name, owner: owner)
        }
        guard let owner = PersonaID(rawValue: name.lowercased()), context.knownOwners.map({ $0.contains(owner) }) ?? true else {
            throw TroupeError(
                .invalidInput, "\(location) is the agent '\(name)', which is no persona here: pass --persona to say whose memories they become",
                context: file)
        }
        return Agent(location: location, object: object, name: name, owner: owner)
    }

    /// A core memory block: its value, as one record.
    private static func block(
        _ block: [String: JSONValue], at location: String, agent: Agent, fileTime: Date?, context: ForeignContext,
        into out: inout ForeignRecords, seen: inout [String: String]
    ) {
        let label = ForeignJSON.text(block["label"]) ?? "block"
        guard let value = ForeignJSON.text(block["value"]) else {
            out.skipped.append(.init(location, field: "value", "the block '\(label)' is empty"))
            return
        }
        let slice: SliceKind = label == "persona" ? .procedural : .semantic
        if let refusal = context.refusal(slice, for: agent.owner) {
            out.skipped.append(.init(location, refusal))
            return
        }
        var fields: [String: JSONValue] = ["letta": .object(ForeignJSON.compact(block, dropping: ["value"])), "agent": .string(agent.name)]
        if let id = ForeignJSON.string(block["id"]) { fields["source_id"] = .string(id) }
        let created = ForeignJSON.time(block["created_at"]) ?? fileTime
        let record = context.record(
            .letta, owner: agent.owner, slice: slice, content: value.trimmingCharacters(in: .whitespacesAndNewlines),
            key: ["block", agent.name, label], saidBy: agent.name, createdAt: created, validFrom: ForeignJSON.time(block["updated_at"]) ?? created,
            tags: ["core-memory", label], metadata: fields)
        out.add(record, at: location, seen: &seen)
    }

    /// An archival passage (`{"id", "text", "created_at", "tags"?}`).
    private static func passage(
        _ value: JSONValue, at location: String, agent: Agent, context: ForeignContext, into out: inout ForeignRecords,
        seen: inout [String: String]
    ) {
        guard case .object(let passage) = value, let text = ForeignJSON.text(passage["text"] ?? passage["content"]) else {
            out.skipped.append(.init(location, field: "text", "a passage needs its text"))
            return
        }
        if let refusal = context.refusal(.semantic, for: agent.owner) {
            out.skipped.append(.init(location, refusal))
            return
        }
        var tags = ["archival"]
        if case .array(let list)? = passage["tags"] { tags += list.compactMap(ForeignJSON.text) }
        var fields: [String: JSONValue] = ["letta": .object(ForeignJSON.compact(passage, dropping: ["text", "content", "embedding"])), "agent": .string(agent.name)]
        let id = ForeignJSON.string(passage["id"])
        if let id { fields["source_id"] = .string(id) }
        let created = ForeignJSON.time(passage["created_at"])
        let record = context.record(
            .letta, owner: agent.owner, slice: .semantic, content: text.trimmingCharacters(in: .whitespacesAndNewlines),
            key: ["passage", agent.name, id ?? text, ForeignJSON.string(passage["created_at"]) ?? ""], saidBy: agent.name,
            createdAt: created, tags: tags, metadata: fields)
        out.add(record, at: location, seen: &seen)
    }
}

extension JSONValue {
    /// The member `key` of an object (`nil` for anything else).
    func member(_ key: String) -> JSONValue? {
        guard case .object(let members) = self else { return nil }
        return members[key]
    }
}
