"""Render a report's sections to self-contained HTML or to Markdown with PNGs beside it.

Sections are plain data (paragraphs, key/value lists, tables, images) holding unescaped text;
escaping happens here and only here, so no caller can forget it. Headlines and notes are
untrusted text: they are escaped like everything else and never interpreted.
"""

from __future__ import annotations

import base64
import html
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from string import Template


@dataclass(frozen=True)
class Para:
    text: str
    tone: str = ""  # "", "good", "bad", "warn": a hint for the colour only


@dataclass(frozen=True)
class KeyValues:
    rows: list[tuple[str, str]]


@dataclass(frozen=True)
class Table:
    headers: list[str]
    rows: list[list[str]]


@dataclass(frozen=True)
class Image:
    key: str  # file-name suffix in Markdown mode
    png: bytes
    alt: str


Block = Para | KeyValues | Table | Image


@dataclass
class Section:
    anchor: str
    title: str
    blocks: Sequence[Block] = field(default_factory=list)


@dataclass
class Document:
    title: str
    subtitle: str
    banner: str | None
    sections: list[Section]
    footer: str


def _e(text: str) -> str:
    return html.escape(str(text), quote=True)


def _html_block(block: Block) -> str:
    if isinstance(block, Para):
        tone = f' class="{block.tone}"' if block.tone else ""
        return f"<p{tone}>{_e(block.text)}</p>"
    if isinstance(block, KeyValues):
        rows = "".join(f"<tr><th>{_e(k)}</th><td>{_e(v)}</td></tr>" for k, v in block.rows)
        return f'<table class="kv">{rows}</table>'
    if isinstance(block, Table):
        head = "".join(f"<th>{_e(h)}</th>" for h in block.headers)
        body = "".join(
            "<tr>" + "".join(f"<td>{_e(c)}</td>" for c in row) + "</tr>" for row in block.rows
        )
        return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
    data = base64.b64encode(block.png).decode("ascii")
    return f'<img alt="{_e(block.alt)}" src="data:image/png;base64,{data}">'


def render_html(doc: Document) -> str:
    """One HTML page with every chart embedded as a base64 PNG: no file beside it needed."""
    template = Template(
        resources.files("tradecrew.research").joinpath("templates/report.html").read_text("utf-8")
    )
    nav = "".join(f'<a href="#{_e(s.anchor)}">{_e(s.title)}</a>' for s in doc.sections)
    sections = "\n".join(
        f'<section id="{_e(s.anchor)}"><h2>{_e(s.title)}</h2>'
        + "".join(_html_block(b) for b in s.blocks)
        + "</section>"
        for s in doc.sections
    )
    banner = f'<div class="banner">{_e(doc.banner)}</div>' if doc.banner else ""
    return template.substitute(
        title=_e(doc.title),
        subtitle=_e(doc.subtitle),
        banner=banner,
        nav=nav,
        sections=sections,
        footer=_e(doc.footer),
    )


_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]#!|~])")


def _m(text: str) -> str:
    # Escape HTML first (Markdown passes raw HTML through), then Markdown's own syntax.
    flat = " ".join(str(text).split())
    return _MD_SPECIAL.sub(r"\\\1", html.escape(flat, quote=False))


def _md_block(block: Block, stem: str, folder: Path, written: list[Path]) -> str:
    if isinstance(block, Para):
        return _m(block.text)
    if isinstance(block, KeyValues):
        return "\n".join(f"- **{_m(k)}**: {_m(v)}" for k, v in block.rows)
    if isinstance(block, Table):
        head = "| " + " | ".join(_m(h) for h in block.headers) + " |"
        rule = "|" + "---|" * len(block.headers)
        rows = ["| " + " | ".join(_m(c) for c in row) + " |" for row in block.rows]
        return "\n".join([head, rule, *rows])
    name = f"{stem}_{block.key}.png"
    path = folder / name
    path.write_bytes(block.png)
    written.append(path)
    return f"![{_m(block.alt)}]({name})"


def render_markdown(doc: Document, out: Path) -> tuple[str, list[Path]]:
    """Markdown text for ``out`` and the PNG files it wrote beside it (``<stem>_<key>.png``)."""
    written: list[Path] = []
    parts = [f"# {_m(doc.title)}", f"*{_m(doc.subtitle)}*"]
    if doc.banner:
        parts.append(f"> **{_m(doc.banner)}**")
    for s in doc.sections:
        parts.append(f"## {_m(s.title)}")
        parts.extend(_md_block(b, out.stem, out.parent, written) for b in s.blocks)
    parts.append(f"---\n{_m(doc.footer)}")
    return "\n\n".join(parts) + "\n", written
