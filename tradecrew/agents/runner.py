"""Running the desk over a watchlist: analysis, the crew (or not), decisions, proposals, record.

Symbols run in parallel (bounded). Each first gets the deterministic analysis and plan; with
an LLM the crew then reasons over them, and its answer is merged under the plan's limits. An
LLM outage falls back to the deterministic decision; a spent budget stops the crew. The run is
written to ``<home>/runs/<run_id>.json`` and ``replay(run_id)`` re-runs it from the cache.
"""

from __future__ import annotations

import asyncio
import threading
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from tradecrew.agents import symbol_run
from tradecrew.agents.archive import record_in_ledger
from tradecrew.agents.archive import remember as archive_memory
from tradecrew.agents.crew import validate_crew
from tradecrew.agents.gateway import LLMGateway, LLMUnavailable
from tradecrew.agents.llm import LLMConfig, missing_key_reason, resolve_llm
from tradecrew.agents.recall import news_sentiment, recall_memories
from tradecrew.agents.recorder import RunRecorder
from tradecrew.agents.schemas import CrewRunResult, RunInputs, SymbolOutcome
from tradecrew.config import Settings, get_settings
from tradecrew.crewfile import CrewFile, load_crew_file
from tradecrew.homedir import private_file
from tradecrew.models import utcnow

Proposer = Callable[..., Any]


class ReplayError(LookupError):
    """The run to replay is not recorded under this home."""


@dataclass
class RunPlan:
    """Everything a run needs, resolved once."""

    run_id: str
    settings: Settings
    inputs: RunInputs
    crew: CrewFile
    config: LLMConfig | None
    message: str
    recorder: RunRecorder = field(default_factory=RunRecorder)
    gateway: LLMGateway | None = None
    propose: Proposer | None = None
    clocks: dict[str, datetime] = field(default_factory=dict)
    propose_lock: threading.Lock = field(default_factory=threading.Lock)
    base_url: str | None = None  # the caller's (CLI), trusted with the key like the env's
    fallback: bool = True  # an LLM outage may fall back to (and file) deterministic decisions
    config_version: int = 0  # the ledger's configuration version the analysis runs with


def new_run_id() -> str:
    return f"run_{utcnow():%Y%m%dT%H%M%S}_{uuid.uuid4().hex[:8]}"


def _headlines(
    given: Mapping[str, Sequence[str]] | None,
    symbols: Sequence[str],
    asof: datetime | None,
    settings: Settings,
    offline: bool,
) -> dict[str, list[str]]:
    """The headlines a run reads: those given, else (a new run) the stored news published
    before ``asof``. They are recorded with the run's inputs, so a replay reads the same."""
    if given is not None or offline:
        return {k.upper(): list(v) for k, v in (given or {}).items()}
    from tradecrew.news import stored_headlines

    found = {s.strip().upper(): stored_headlines(s, asof, settings) for s in symbols}
    return {s: texts for s, texts in found.items() if texts}


def _plan(
    symbols: Sequence[str],
    *,
    asof: datetime | None,
    llm: str | None,
    base_url: str | None,
    timeframe: str | None,
    headlines: Mapping[str, Sequence[str]] | None,
    equity: float | None,
    crew: CrewFile | None,
    settings: Settings,
    offline: bool,
    use_cache: bool,
    memories: Mapping[str, list[str]] | None = None,
) -> RunPlan:
    if not symbols:
        raise ValueError("run_crew needs at least one symbol")
    crew = crew or load_crew_file(settings.crew_file)
    config = resolve_llm(model=llm, base_url=base_url, crew=crew, settings=settings)
    message = "deterministic mode (no LLM configured)"
    if config is not None and (reason := missing_key_reason(config)):
        message, config = f"deterministic mode ({reason})", None
    elif config is not None:
        message = f"LLM mode ({config.model} at {config.base_url or 'the OpenAI API'})"
        if config.key_withheld:
            message += (
                "; that base URL comes from the crew file, so the API key is not sent there "
                "(set TRADECREW_LLM__BASE_URL to use the key with it)"
            )
    if config is not None and crew.tasks:
        validate_crew(crew, settings)
    elif config is not None:
        message, config = "deterministic mode (crew.yaml defines no tasks)", None
    inputs = RunInputs(
        symbols=[s.strip().upper() for s in symbols],
        timeframe=timeframe or settings.timeframe,
        asof=asof,
        model=config.model if config else None,
        base_url=config.base_url if config else None,
        headlines=_headlines(headlines, symbols, asof, settings, offline),
        equity=equity if equity is not None else settings.broker.starting_cash,
        crew=crew.model_dump(mode="json"),
    )
    if headlines is None and not offline:
        inputs.news_sentiment = news_sentiment(inputs.symbols, asof, settings)
    # Both modes recall: the crew reads the memories, deterministic reports name past trades.
    inputs.memories = (
        dict(memories) if memories is not None else recall_memories(inputs.symbols, settings)
    )
    # The analysis runs with the ledger's active configuration version over the settings.
    settings, version = _configured(settings)
    plan = RunPlan(new_run_id(), settings, inputs, crew, config, message, base_url=base_url)
    plan.config_version = version
    if config is not None:
        llm_settings = settings.llm
        plan.gateway = LLMGateway(
            cache_dir=settings.home / "llm_cache",
            base_url=config.base_url,
            recorder=plan.recorder,
            max_tokens=llm_settings.max_tokens_per_run,
            max_cost=llm_settings.max_cost_per_run,
            max_concurrency=llm_settings.max_concurrency,
            max_retries=llm_settings.max_retries,
            use_cache=use_cache,
            offline=offline,
        )
    return plan


def _configured(settings: Settings) -> tuple[Settings, int]:
    """``settings`` with the ledger's active configuration version (fusion weights,
    components) applied, and that version's number (0: the settings alone)."""
    from tradecrew.ledger import Ledger
    from tradecrew.research.configs import active_settings

    settings.ensure_home()
    with Ledger.from_settings(settings) as ledger:
        return active_settings(settings, ledger)


def _default_proposer(plan: RunPlan) -> tuple[Proposer | None, Callable[[], None]]:
    """The desk's ``propose`` (imported only when needed) and how to close the desk."""
    try:
        from tradecrew.desk import Desk

        desk = Desk.from_settings(plan.settings)
    except Exception as exc:  # the run still decides; it only cannot file proposals
        plan.message += f"; proposals not filed: desk unavailable ({exc})"
        return None, lambda: None
    return desk.propose, desk.close


async def _run_all(plan: RunPlan, progress: bool) -> list[SymbolOutcome]:
    limit = asyncio.Semaphore(plan.settings.llm.max_concurrency)
    bar = _progress(progress, len(plan.inputs.symbols))

    async def one(symbol: str) -> SymbolOutcome:
        async with limit:
            outcome = await asyncio.to_thread(symbol_run.run_symbol, plan, symbol)
        if bar is not None:
            bar[0].advance(bar[1])
        return outcome

    if bar is not None:
        bar[0].start()
    try:
        return list(await asyncio.gather(*(one(s) for s in plan.inputs.symbols)))
    finally:
        if bar is not None:
            bar[0].stop()


def _progress(enabled: bool, total: int) -> tuple[Any, Any] | None:
    if not enabled:
        return None
    from rich.console import Console
    from rich.progress import Progress

    console = Console(stderr=True)
    if not console.is_terminal:
        return None  # a bar nobody watches would leave a blank line in a captured stderr
    progress = Progress(console=console, transient=True)
    return progress, progress.add_task("crew", total=total)


def _in_new_loop(coro_factory: Callable[[], Any]) -> Any:
    """Run a coroutine whether or not this thread already has an event loop (MCP servers do)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro_factory())
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(lambda: asyncio.run(coro_factory())).result()


def _execute(
    plan: RunPlan,
    *,
    progress: bool,
    write: bool,
    replay_of: str | None = None,
    remember: bool = True,
) -> CrewRunResult:
    started = utcnow()
    t0 = time.perf_counter()
    gateway = plan.gateway
    try:
        outcomes = _in_new_loop(lambda: _run_all(plan, progress))
    finally:
        if gateway is not None:
            gateway.close()
    if gateway is not None and gateway.budget_reason:
        plan.message += f"; stopped: {gateway.budget_reason}"
    elif gateway is not None and gateway.down_reason:
        fallen = sum(1 for o in outcomes if o.status == "fallback")
        plan.message += (
            f"; LLM unavailable ({gateway.down_reason}): deterministic fallback for "
            f"{fallen} symbol(s)"
        )
    result = CrewRunResult(
        run_id=plan.run_id,
        mode="llm" if plan.config is not None else "deterministic",
        message=plan.message,
        replay_of=replay_of,
        started_at=started,
        finished_at=utcnow(),
        inputs=plan.inputs,
        outcomes=outcomes,
        tool_calls=list(plan.recorder.tool_calls),
        llm_calls=list(plan.recorder.llm_calls),
        summary=plan.recorder.summary(
            time.perf_counter() - t0, gateway.unpriced if gateway else ()
        ),
    )
    if write:
        path = plan.settings.home / "runs" / f"{plan.run_id}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        result.record_path = str(path)
        private_file(path)  # created 0600; writing keeps the mode
        path.write_text(result.model_dump_json(indent=2), encoding="utf-8")
        record_in_ledger(result, plan.settings)
        if remember:
            archive_memory(result, plan.settings)
    return result


def run_crew(
    symbols: Sequence[str],
    *,
    asof: datetime | None = None,
    llm: str | None = None,
    base_url: str | None = None,
    propose: Proposer | None = None,
    timeframe: str | None = None,
    headlines: Mapping[str, Sequence[str]] | None = None,
    equity: float | None = None,
    crew: CrewFile | None = None,
    dry_run: bool = False,
    use_cache: bool = True,
    progress: bool = False,
    settings: Settings | None = None,
    remember: bool = True,
    fallback: bool = True,
) -> CrewRunResult:
    """Decide on every symbol (crew with an LLM, tools alone without) and file proposals.

    ``propose(request, actor)`` receives each trade as a ``ProposalRequest``; by default the
    configured desk's. ``dry_run`` decides without proposing. Nothing here submits orders.
    Without ``fallback`` an LLM server that cannot be reached raises ``LLMUnavailable``
    before anything runs, and one lost during the run files no deterministic proposals.
    """
    settings = settings or get_settings()
    plan = _plan(
        symbols,
        asof=asof,
        llm=llm,
        base_url=base_url,
        timeframe=timeframe,
        headlines=headlines,
        equity=equity,
        crew=crew,
        settings=settings,
        offline=False,
        use_cache=use_cache,
    )
    plan.fallback = fallback
    # One connection attempt before CrewAI loads: a dead server costs seconds, not a crew.
    if plan.gateway is not None and (down := plan.gateway.preflight()) and not fallback:
        raise LLMUnavailable(down)
    close: Callable[[], None] = lambda: None  # noqa: E731
    if not dry_run:
        plan.propose, close = (propose, close) if propose else _default_proposer(plan)
    try:
        return _execute(plan, progress=progress, write=True, remember=remember)
    finally:
        close()


def load_run(run_id: str, *, settings: Settings | None = None) -> CrewRunResult:
    """A recorded run from ``<home>/runs``."""
    settings = settings or get_settings()
    if not run_id or any(c in run_id for c in "/\\") or run_id.startswith("."):
        raise ReplayError(f"not a run id: {run_id!r}")
    path = settings.home / "runs" / f"{run_id}.json"
    if not path.is_file():
        raise ReplayError(f"no recorded run {run_id!r} under {path.parent}")
    return CrewRunResult.model_validate_json(path.read_text(encoding="utf-8"))


def replay(
    run_id: str, *, settings: Settings | None = None, progress: bool = False
) -> CrewRunResult:
    """Re-run a recorded run from the LLM cache alone: no server, no proposals, no record.

    Raises ``ReplayCacheMiss`` (inside the outcomes' messages) when the crew, settings or data
    changed so that a request was never answered before.
    """
    settings = settings or get_settings()
    original = load_run(run_id, settings=settings)
    inputs = original.inputs
    plan = _plan(
        inputs.symbols,
        asof=inputs.asof,
        llm=inputs.model,
        base_url=inputs.base_url,
        timeframe=inputs.timeframe,
        headlines=inputs.headlines,
        equity=inputs.equity,
        crew=CrewFile.model_validate(inputs.crew),
        settings=settings,
        offline=True,
        use_cache=True,
        memories=inputs.memories,
    )
    plan.inputs.news_sentiment = dict(inputs.news_sentiment)  # what the run voted with
    if inputs.model is not None and plan.config is None:
        raise ReplayError(f"cannot replay {run_id}: {plan.message}")
    for outcome in original.outcomes:
        if outcome.decision is not None and outcome.decision.timestamp is not None:
            plan.clocks[outcome.symbol] = outcome.decision.timestamp
    return _execute(plan, progress=progress, write=False, replay_of=run_id)
