"""Long-term memory of the desk (chromadb): reports, decisions, outcomes, reflections.

``DeskMemory`` imports chromadb only when constructed, so importing tradecrew stays fast.
"""

from tradecrew.memory.entries import MemoryEntry, MemoryItem, MemoryKind
from tradecrew.memory.hashing import hash_embed
from tradecrew.memory.store import DeskMemory

__all__ = ["DeskMemory", "MemoryEntry", "MemoryItem", "MemoryKind", "hash_embed"]
