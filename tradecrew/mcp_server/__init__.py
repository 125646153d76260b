"""MCP server: drive the desk from Claude Desktop or any MCP client, in plain language."""

from tradecrew.mcp_server.server import build_server

__all__ = ["build_server"]
