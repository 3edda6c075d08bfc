"""Drives `troupe mcp` over stdio with the official Python MCP client (PyPI `mcp`).

Usage: roundtrip.py TROUPE_BINARY HOME CONFIG
Prints one JSON object: the server's name, the tools listed, the stored record, the recall
results, the tool error a malformed call got, the resources listed, the slice resource read,
the update its subscription was sent for the stored record, and the speak-as prompt. Exit 1
(with the reason on stderr) on failure.
"""

import asyncio
import json
import sys

from mcp import ClientSession, StdioServerParameters, types
from mcp.client.stdio import stdio_client


def text_of(result):
    return "".join(getattr(item, "text", "") for item in result.content)


async def main(binary, home, config):
    params = StdioServerParameters(
        command=binary, args=["--home", home, "--config", config, "mcp"], env={"HOME": home}, cwd=home)
    updates = asyncio.Queue()

    async def on_message(message):
        if isinstance(message, types.ResourceUpdatedNotification):
            updates.put_nowait(str(message.params.uri))

    async with stdio_client(params) as (read, write):
        async with ClientSession(read, write, message_handler=on_message) as session:
            init = await session.initialize()
            tools = await session.list_tools()
            slice_uri = "troupe://persona/athena/semantic"
            await session.subscribe_resource(slice_uri)
            stored = await session.call_tool(
                "remember",
                {"persona": "athena", "slice": "semantic", "content": "The fire drill is on the second Tuesday of each month."})
            if stored.is_error:
                raise SystemExit(f"remember failed: {text_of(stored)}")
            recalled = await session.call_tool("recall", {"persona": "athena", "query": "when is the fire drill", "why": True})
            if recalled.is_error:
                raise SystemExit(f"recall failed: {text_of(recalled)}")
            malformed = await session.call_tool("recall", {"persona": "athena", "query": "x", "limit": "ten"})
            # Sent as the write commits; the bound is a guard against a hang only.
            updated = await asyncio.wait_for(updates.get(), timeout=60)
            resources = await session.list_resources()
            read = await session.read_resource(slice_uri)
            prompt = await session.get_prompt("speak-as", {"persona": "athena", "topic": "the fire drill"})
            print(json.dumps({
                "server": init.server_info.name,
                "tools": sorted(tool.name for tool in tools.tools),
                "schemas": sorted({tool.input_schema.get("type") for tool in tools.tools}),
                "stored": json.loads(text_of(stored)),
                "recalled": json.loads(text_of(recalled))["results"],
                "malformed": {"is_error": bool(malformed.is_error), "text": text_of(malformed)},
                "resources": sorted(str(resource.uri) for resource in resources.resources),
                "slice": json.loads(read.contents[0].text),
                "updated": updated,
                "prompt": prompt.messages[0].content.text,
            }))


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:4]))
