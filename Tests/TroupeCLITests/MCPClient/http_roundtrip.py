"""Drives `troupe serve`'s /mcp over streamable HTTP with the official Python MCP client (PyPI `mcp`).

Usage: http_roundtrip.py URL KEY
URL is the server's /mcp; KEY a client key for athena alone. Prints one JSON object: the server's
name, the tools listed, the stored record, the recall results, the personas listed, and the tool
error a recall of hestia got. Exit 1 (with the reason on stderr) on failure.
"""

import asyncio
import json
import sys

from mcp import ClientSession
from mcp.client.streamable_http import create_mcp_http_client, streamable_http_client


def text_of(result):
    return "".join(getattr(item, "text", "") for item in result.content)


async def main(url, key):
    async with create_mcp_http_client(headers={"Authorization": f"Bearer {key}"}) as http:
        async with streamable_http_client(url, http_client=http) as (read, write):
            async with ClientSession(read, write) as session:
                init = await session.initialize()
                tools = await session.list_tools()
                stored = await session.call_tool(
                    "remember", {"persona": "athena", "slice": "semantic", "content": "The fire drill is on the second Tuesday of each month."})
                if stored.is_error:
                    raise SystemExit(f"remember failed: {text_of(stored)}")
                recalled = await session.call_tool("recall", {"persona": "athena", "query": "when is the fire drill", "why": True})
                if recalled.is_error:
                    raise SystemExit(f"recall failed: {text_of(recalled)}")
                personas = await session.call_tool("list_personas", {})
                denied = await session.call_tool("recall", {"persona": "hestia", "query": "fire drill"})
                print(json.dumps({
                    "server": init.server_info.name,
                    "tools": sorted(tool.name for tool in tools.tools),
                    "stored": json.loads(text_of(stored)),
                    "recalled": json.loads(text_of(recalled))["results"],
                    "personas": sorted(persona["name"] for persona in json.loads(text_of(personas))["personas"]),
                    "denied": {"is_error": bool(denied.is_error), "text": text_of(denied)},
                }))


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:3]))
