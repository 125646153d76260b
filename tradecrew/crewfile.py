"""``crew.yaml``: the crew's agents and tasks, plus the desk's ``hybrid_ai`` settings section.

Users change the crew by editing this file alone, so it is validated strictly on load and a
mistake is reported with the file and the field, not a traceback.
"""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
)
from pydantic_core import PydanticCustomError

from tradecrew.config_sections.retired import warn_retired
from tradecrew.crewpolicy import MAX_DEPTH, refused_fields, shown_key

CREW_FILE_ENV = "TRADECREW_CREW_FILE"
# Keys an older crew file may hold that no code reads any more (``*``: any name), and why:
# the file still loads, with a warning at the key's line.
_RETIRED: dict[tuple[str, ...], str] = {
    # The risk review's verdict vetoes or shrinks whoever answers it: a veto only ever
    # removes a trade, so no flag may take that power away.
    ("agents", "*", "can_veto"): "the agent whose task answers with a RiskReview may veto or "
    "shrink",
    ("hybrid_ai", "components", "session", "min_activity"): "no decision ever read it",
}
# A crew file is a few kilobytes; anything larger (or a device, a pipe) is not one.
MAX_CREW_FILE_BYTES = 256 * 1024


class CrewFileError(ValueError):
    """crew.yaml is missing, unreadable or does not match the schema."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class LLMSpec(_Strict):
    model: str | None = None
    base_url: str | None = None
    temperature: float | None = Field(None, ge=0.0, le=2.0)


class AgentSpec(_Strict):
    role: str = Field(min_length=1)
    goal: str = Field(min_length=1)
    backstory: str = ""
    tools: list[str] = Field(default_factory=list)
    llm: LLMSpec | None = None
    max_iter: int = Field(8, ge=1, le=50)


class TaskSpec(_Strict):
    description: str = Field(min_length=1)
    expected_output: str = Field(min_length=1)
    agent: str
    context: list[str] = Field(default_factory=list)
    output: str | None = Field(None, description="name of the pydantic output model")


class HybridAI(BaseModel):
    """Desk settings kept beside the crew; validated in full by ``config.Settings``.

    No broker section: venue, keys, live trading and approval come only from the environment
    (see ``crewpolicy``); risk limits here may only tighten those of defaults + environment.
    """

    model_config = ConfigDict(extra="forbid")

    components: dict[str, Any] | None = None
    fusion: dict[str, Any] | None = None
    risk: dict[str, Any] | None = None


class CrewFile(_Strict):
    # The only format there is; a file written for another one is refused, not misread.
    version: Literal[1] = 1

    @field_validator("version", mode="before")
    @classmethod
    def _not_a_flag(cls, value: Any) -> Any:
        if isinstance(value, bool):  # YAML's `true` equals 1 to Python
            raise PydanticCustomError("literal_error", "Input should be 1")
        return value

    llm: LLMSpec = Field(default_factory=LLMSpec)
    hybrid_ai: HybridAI | None = None
    agents: dict[str, AgentSpec] = Field(default_factory=dict)
    tasks: dict[str, TaskSpec] = Field(default_factory=dict)

    @field_validator("tasks")
    @classmethod
    def _references_resolve(
        cls, tasks: dict[str, TaskSpec], info: ValidationInfo
    ) -> dict[str, TaskSpec]:
        # Names are shown only when they look like names: the file may not be a crew file.
        agents = info.data.get("agents")
        if agents is None:
            return tasks  # the agents' own error is reported
        for name, task in tasks.items():
            if task.agent not in agents:
                raise ValueError(
                    f"task {shown_key(name)} names an agent the file does not define "
                    f"({shown_key(task.agent)})"
                )
            for dep in task.context:
                if dep not in tasks:
                    raise ValueError(
                        f"task {shown_key(name)} has a context task the file does not define "
                        f"({shown_key(dep)})"
                    )
        return tasks


def default_crew_path() -> Path:
    """crew.yaml beside the package when installed, else at the repository root."""
    here = Path(__file__).resolve().parent
    for candidate in (here / "crew.yaml", here.parent / "crew.yaml"):
        if candidate.is_file():
            return candidate
    return here.parent / "crew.yaml"


def crew_origin() -> tuple[Path | None, str]:
    """The crew file in force and why: $TRADECREW_CREW_FILE, ./crew.yaml, then the packaged one."""
    explicit = os.environ.get(CREW_FILE_ENV)
    if explicit:
        return Path(explicit), f"named by ${CREW_FILE_ENV}"
    local = Path.cwd() / "crew.yaml"
    if local.is_file():
        return local, "crew.yaml in the current folder"
    default = default_crew_path()
    return (default, "packaged default") if default.is_file() else (None, "no crew file")


def crew_path() -> Path | None:
    """The crew file in force: $TRADECREW_CREW_FILE, ./crew.yaml, then the packaged one."""
    return crew_origin()[0]


def load_crew_file(path: Path | None = None) -> CrewFile:
    """Load and validate a crew file; no file at all means an empty, valid crew.

    The file may be anything ./crew.yaml links to, so an error names the file, the line and
    the kind of problem, never the file's content; anchors and aliases are refused (a few
    lines of them expand to billions of nodes, or to a mapping that contains itself)."""
    path = path or crew_path()
    if path is None:
        return CrewFile()
    text = _read_crew_text(Path(path))
    try:
        node, raw = _parse(text)
    except yaml.YAMLError as exc:
        raise CrewFileError(f"{path}: not valid YAML{_yaml_problem(exc)}") from None
    except RecursionError:
        raise CrewFileError(f"{path}: nested too deeply") from None
    if raw is None:
        return CrewFile()
    if not isinstance(raw, dict):
        raise CrewFileError(f"{path}: expected a mapping at the top level")
    try:
        refused = refused_fields(raw, lambda loc: _line_of(node, loc))
    except ValueError as exc:
        raise CrewFileError(f"{path}: {exc}") from None
    if refused:
        raise CrewFileError(f"{path}: {'; '.join(refused)}")
    _drop_retired(raw, node, Path(path))
    try:
        return CrewFile.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(_schema_problem(err, node) for err in exc.errors())
        raise CrewFileError(f"{path}: {problems}") from None


def _drop_retired(raw: dict[str, Any], node: yaml.Node | None, path: Path) -> None:
    """Remove the retired keys from the parsed file, warning at each one's line."""
    for pattern, why in _RETIRED.items():
        places: list[tuple[tuple[str, ...], Any]] = [((), raw)]
        for part in pattern[:-1]:
            places = [
                ((*loc, str(key)), value)
                for loc, parent in places
                if isinstance(parent, dict)
                for key, value in parent.items()
                if part in ("*", key)
            ]
        key = pattern[-1]
        for loc, parent in places:
            if isinstance(parent, dict) and key in parent:
                line = _line_of(node, (*loc, key)) or 0
                del parent[key]
                name = ".".join(shown_key(p) for p in (*loc, key))
                warn_retired(name, why, (str(path), line))


def _read_crew_text(path: Path) -> str:
    """The file's text, refusing what is not a small regular file before reading it (a
    device like /dev/zero never ends, a FIFO blocks until someone writes)."""
    try:
        # O_NONBLOCK: opening a FIFO returns at once, so fstat can refuse it.
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except FileNotFoundError:
        raise CrewFileError(f"{path}: file not found") from None
    except IsADirectoryError:
        raise CrewFileError(f"{path}: a folder, not a crew file") from None
    except OSError as exc:
        raise CrewFileError(f"{path}: cannot be read ({exc.strerror or 'error'})") from None
    try:
        info = os.fstat(fd)
        if stat.S_ISDIR(info.st_mode):
            raise CrewFileError(f"{path}: a folder, not a crew file")
        if not stat.S_ISREG(info.st_mode):
            raise CrewFileError(f"{path}: not a regular file")
        if info.st_size > MAX_CREW_FILE_BYTES:
            raise CrewFileError(f"{path}: larger than {MAX_CREW_FILE_BYTES // 1024} KiB")
        data = b""
        while len(data) <= MAX_CREW_FILE_BYTES:  # a short read is not the end of a file
            chunk = os.read(fd, MAX_CREW_FILE_BYTES + 1 - len(data))
            if not chunk:
                break
            data += chunk
    finally:
        os.close(fd)
    if len(data) > MAX_CREW_FILE_BYTES:
        raise CrewFileError(f"{path}: larger than {MAX_CREW_FILE_BYTES // 1024} KiB")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise CrewFileError(f"{path}: not UTF-8 text") from None


class _RefusedYAML(yaml.MarkedYAMLError):
    """An anchor, an alias or too deep a nesting: refused while composing."""


class _CrewLoader(yaml.SafeLoader):
    """PyYAML's safe loader without anchors and aliases, and with a bounded nesting."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        event = self.peek_event()
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
            raise _RefusedYAML(
                problem="anchors and aliases are not allowed in a crew file",
                problem_mark=event.start_mark,
            )
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                raise _RefusedYAML(
                    problem=f"nested deeper than {MAX_DEPTH} levels",
                    problem_mark=event.start_mark,
                )
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


def _parse(text: str) -> tuple[yaml.Node | None, Any]:
    """The document's node tree (for line numbers) and its value."""
    loader = _CrewLoader(text)
    try:
        node = loader.get_single_node()
        return node, (None if node is None else loader.construct_document(node))
    finally:
        loader.dispose()


# PyYAML quotes the offending text ('x', "!tag"); its token names ('<scalar>') are kept.
_QUOTED = re.compile(r"'<[a-z ]+>'|'[^']*'|\"[^\"]*\"")


def _yaml_problem(exc: yaml.YAMLError) -> str:
    """Where and what kind of YAML problem, without the file's text."""
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    where = "" if mark is None else f" at line {mark.line + 1}, column {mark.column + 1}"
    problem = getattr(exc, "problem", None) or ""
    kind = _QUOTED.sub(lambda m: m[0] if m[0].startswith("'<") else "'…'", str(problem))
    kind = " ".join(kind.split())[:120]
    return f"{where}: {kind}" if kind else where


def _line_of(node: yaml.Node | None, loc: tuple[Any, ...]) -> int | None:
    """The line (1-based) of the deepest node of ``loc`` the document has."""
    line = None
    for part in loc:
        if node is None:
            break
        line = node.start_mark.line + 1
        if isinstance(node, yaml.MappingNode):
            node = next(
                (v for k, v in node.value if isinstance(k, yaml.ScalarNode) and k.value == part),
                None,
            )
            if node is None:
                break
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
            node = node.value[part] if 0 <= part < len(node.value) else None
        else:
            break
    if node is not None and loc:
        line = node.start_mark.line + 1
    return line


def _schema_problem(err: Any, node: yaml.Node | None) -> str:
    """One schema error: the field path (a key that is not a name is not echoed), the line,
    and pydantic's message, which describes the problem without quoting the value."""
    loc = tuple(err["loc"])
    where = ".".join(str(p) if isinstance(p, int) else shown_key(str(p)) for p in loc)
    line = _line_of(node, loc)
    at = f"line {line}: " if line is not None else ""
    msg = str(err["msg"]).removeprefix("Value error, ")
    if err["type"] == "extra_forbidden":
        msg = "unknown field"
    return f"{at}{where or '<root>'}: {msg}"
