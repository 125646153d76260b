"""Deterministic analyzers: pure functions of their inputs, exported to CrewAI, LangChain and MCP
through one registry (registry.py)."""
