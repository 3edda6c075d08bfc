"""Drives two `troupe mcp --memory-graph PERSONA` processes at once with the official Python
MCP client (PyPI `mcp`), as two clients of the MCP memory server would use it.

Usage: memory_graph.py TROUPE_BINARY HOME CONFIG PERSONA
Both clients create entities and add observations to one shared entity at the same time; then
one reads the graph in pages and opens a node. Prints one JSON object: the tools listed, the
entity names read, the shared entity's observations, the pages read, the node opened and the
text of a bad call. Exit 1 (with the reason on stderr) on failure.
"""

import asyncio
import json
import sys

from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client


def text_of(result):
    return "".join(getattr(item, "text", "") for item in result.content)


async def call(session, tool, arguments):
    result = await session.call_tool(tool, arguments)
    if result.is_error:
        raise SystemExit(f"{tool} failed: {text_of(result)}")
    return result


def params(binary, home, config, persona):
    return StdioServerParameters(
        command=binary, args=["--home", home, "--config", config, "mcp", "--memory-graph", persona], env={"HOME": home}, cwd=home)


async def writer(binary, home, config, persona, n, ready):
    async with stdio_client(params(binary, home, config, persona)) as (read, write):
        async with ClientSession(read, write) as session:
            await session.initialize()
            # Both sessions are up before either writes, so that their writes interleave.
            await ready.wait()
            for i in range(15):
                await call(session, "create_entities", {"entities": [
                    {"name": f"client{n}-{i}", "entityType": "note", "observations": [f"written by client {n}"]}]})
                await call(session, "add_observations", {"observations": [
                    {"entityName": "Shared", "contents": [f"client {n} observation {i}"]}]})


async def main(binary, home, config, persona):
    async with stdio_client(params(binary, home, config, persona)) as (read, write):
        async with ClientSession(read, write) as session:
            await session.initialize()
            tools = await session.list_tools()
            await call(session, "create_entities", {"entities": [{"name": "Shared", "entityType": "thing", "observations": []}]})

            ready = asyncio.Barrier(2)
            tasks = [asyncio.create_task(writer(binary, home, config, persona, n, ready)) for n in range(2)]
            await asyncio.gather(*tasks)

            names, relations, pages, cursor = [], 0, 0, None
            while True:
                arguments = {"limit": 7}
                if cursor:
                    arguments["cursor"] = cursor
                page = json.loads(text_of(await call(session, "read_graph", arguments)))
                names += [entity["name"] for entity in page["entities"]]
                relations += len(page["relations"])
                pages += 1
                cursor = page.get("nextCursor")
                if not cursor or pages > 50:
                    break
            whole = await call(session, "read_graph", {})
            shared = [e for e in whole.structured_content["entities"] if e["name"] == "Shared"]
            opened = json.loads(text_of(await call(session, "open_nodes", {"names": ["John_Smith"]})))
            bad = await session.call_tool("add_observations", {"observations": [{"entityName": "Nobody", "contents": ["x"]}]})
            print(json.dumps({
                "tools": sorted(tool.name for tool in tools.tools),
                "names": names,
                "relations": relations,
                "pages": pages,
                "shared": shared[0]["observations"] if shared else None,
                "opened": opened,
                "bad": {"is_error": bool(bad.is_error), "text": text_of(bad)},
            }))


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:5]))
