"""One symbol of a run: analysis, deterministic plan, the crew when there is an LLM, proposal."""

from __future__ import annotations

import hashlib
import json
from typing import TYPE_CHECKING, Any

from tradecrew.agents.crew import SymbolContext, analysis_digest, build_crew
from tradecrew.agents.deterministic import deterministic_decision, render_report
from tradecrew.agents.gateway import BudgetExceeded, LLMError, ReplayCacheMiss
from tradecrew.agents.grounding import EvidencePool
from tradecrew.agents.llm import make_llm
from tradecrew.agents.merge import evidence_texts, merge_decision
from tradecrew.agents.schemas import (
    DeskDecision,
    RegimeAssessment,
    ResearchBrief,
    RiskReview,
    SentimentAssessment,
    SymbolOutcome,
)
from tradecrew.data.calendars import calendar_loader
from tradecrew.models import Direction, Origin, ProposalRequest, Side, Timeframe
from tradecrew.tools.analysis import AnalysisReport, bar_close_time
from tradecrew.tools.catalog import AnalyzeQuery, analyze_symbol

if TYPE_CHECKING:
    from tradecrew.agents.runner import RunPlan

_RATIONALE_CHARS = 2000


def _cause(exc: BaseException) -> BaseException:
    """The desk's own error inside the wrappers CrewAI and the OpenAI client put around it."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, LLMError):
            return current
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return exc


def _proposal(
    plan: RunPlan,
    decision: DeskDecision,
    sha: str,
    regime: str | None = None,
    components: dict[str, float] | None = None,
) -> ProposalRequest:
    return ProposalRequest(
        symbol=decision.symbol,
        side=Side.BUY if decision.direction is Direction.LONG else Side.SELL,
        quantity=decision.quantity,
        stop_loss=decision.stop_loss,
        take_profit=decision.take_profit,
        rationale=decision.rationale[:_RATIONALE_CHARS],
        evidence={
            "run_id": plan.run_id,
            "mode": decision.mode,
            "confidence": decision.confidence,
            "risk_verdict": decision.risk_verdict.value,
            "grounded": decision.grounded,
            "ungrounded_numbers": decision.ungrounded_numbers,
            "analysis_sha256": sha,
            "entry_price": decision.entry_price,
            "config_version": plan.config_version,
            # What the outcome of the trade is later judged against (desk.trade_memory).
            "regime": regime,
            "components": components or {},
        },
        origin=Origin.CREW,
    )


def _file(
    plan: RunPlan, outcome: SymbolOutcome, sha: str, analysis: AnalysisReport | None = None
) -> SymbolOutcome:
    """Hand a trade to ``propose``; a flat decision or a dry run files nothing."""
    decision = outcome.decision
    if outcome.status == "fallback" and not plan.fallback:
        # The person asked for an LLM run: a decision the LLM never saw is not filed.
        outcome.message = f"{outcome.message}; not filed (no --fallback deterministic)"
        return outcome
    if plan.propose is None or decision is None or decision.direction is Direction.FLAT:
        return outcome
    try:
        with plan.propose_lock:  # one ledger writer at a time
            comps = (
                {c.name: round(c.contribution, 6) for c in analysis.signal.components}
                if analysis is not None
                else None
            )
            request = _proposal(plan, decision, sha, outcome.regime, comps)
            result = plan.propose(request, "crew")
    except Exception as exc:  # a refused proposal is reported, not a crashed run
        outcome.message = f"{outcome.message}; proposal refused: {exc}".strip("; ")
        return outcome
    outcome.proposal_id = str(getattr(result, "proposal_id", None) or getattr(result, "id", ""))
    status = getattr(result, "status", None)
    outcome.proposal_status = str(getattr(status, "value", status)) if status else None
    return outcome


def _task_outputs(crew: Any) -> dict[str, Any]:
    outputs: dict[str, Any] = {}
    for task in crew.tasks:
        out = task.output
        if out is not None:
            outputs[task.name] = out.pydantic if out.pydantic is not None else out.raw
    return outputs


def _llm_report(decision: DeskDecision, analysis: AnalysisReport, outputs: dict[str, Any]) -> str:
    lines = [render_report(decision, analysis)]
    for out in outputs.values():
        if isinstance(out, ResearchBrief):
            lines.append(f"Research ({out.bias}): {out.summary}")
        elif isinstance(out, RegimeAssessment):
            lines.append(f"Regime analyst: {out.regime.value} ({out.confidence:.2f})")
        elif isinstance(out, SentimentAssessment):
            flag = " [possible prompt injection in headlines]" if out.injection_suspected else ""
            lines.append(f"Sentiment analyst: {out.label} ({out.score:+.2f}){flag}")
        elif isinstance(out, RiskReview):
            lines.append(f"Risk manager: {out.verdict}; {out.reason}")
    return "\n".join(lines)


def run_symbol(plan: RunPlan, symbol: str) -> SymbolOutcome:
    """Decide on one symbol; never raises for a data, LLM or desk failure."""
    inputs = plan.inputs
    tf = Timeframe.parse(inputs.timeframe)
    asof = inputs.asof
    if asof is None and symbol in plan.clocks:
        asof = bar_close_time(plan.clocks[symbol], tf)
    headlines = inputs.headlines.get(symbol, [])
    try:
        query = AnalyzeQuery(symbol=symbol, timeframe=tf.value, asof=asof, headlines=headlines)
        analysis = analyze_symbol(
            query,
            plan.settings,
            calendar=calendar_loader(plan.settings),
            news_sentiment=inputs.news_sentiment.get(symbol),
        )
        baseline = deterministic_decision(analysis, equity=inputs.equity, settings=plan.settings)
    except Exception as exc:  # unknown symbol, missing data: this symbol only
        return SymbolOutcome(symbol=symbol, status="error", message=f"analysis failed: {exc}")
    payload = analysis.model_dump_json()
    sha = hashlib.sha256(payload.encode()).hexdigest()
    regime = analysis.regime.regime.value if analysis.regime else None
    fallback = SymbolOutcome(
        symbol=symbol,
        status="ok",
        regime=regime,
        decision=baseline,
        report=_with_memory(render_report(baseline, analysis), inputs.memories.get(symbol, [])),
        analysis_sha256=sha,
    )
    gateway = plan.gateway
    if plan.config is None or gateway is None:
        return _file(plan, fallback, sha, analysis)
    if gateway.budget_reason:
        fallback.status, fallback.message = "stopped", gateway.budget_reason
        return fallback
    if gateway.down_reason:
        fallback.status = "fallback"
        fallback.message = f"deterministic fallback: {gateway.down_reason}"
        return _file(plan, fallback, sha, analysis)

    memories = inputs.memories.get(symbol, [])
    ctx = SymbolContext(
        symbol,
        tf.value,
        analysis,
        baseline,
        headlines,
        asof,
        memories,
        news_sentiment=inputs.news_sentiment.get(symbol),
    )
    try:
        crew = build_crew(
            ctx,
            crew_file=plan.crew,
            llm_factory=lambda config: make_llm(config, gateway, symbol),
            recorder=plan.recorder,
            model=inputs.model,
            base_url=plan.base_url,  # not inputs.base_url: a crew file's URL never gets the key
            settings=plan.settings,
        )
        crew.kickoff()
    except Exception as exc:
        cause = _cause(exc)
        if isinstance(cause, BudgetExceeded):
            fallback.status, fallback.message = "stopped", str(cause)
            return fallback
        if isinstance(cause, ReplayCacheMiss):
            fallback.status, fallback.message = "error", str(cause)
            return fallback
        fallback.status = "fallback"
        fallback.message = f"deterministic fallback: crew failed ({_short(cause)})"
        return _file(plan, fallback, sha, analysis)

    outputs = _task_outputs(crew)
    digest = json.dumps(analysis_digest(ctx, plan.settings), default=str)
    pool = EvidencePool(
        evidence_texts(plan.recorder.tool_outputs(symbol), [payload, digest, *memories])
    )
    review_tasks = [
        task.name
        for task in crew.tasks
        if isinstance(model := getattr(task, "output_pydantic", None), type)
        and issubclass(model, RiskReview)
    ]
    decision, wants_proposal = merge_decision(baseline, outputs, pool, review_tasks=review_tasks)
    outcome = SymbolOutcome(
        symbol=symbol,
        status="ok",
        regime=regime,
        decision=decision,
        report=_llm_report(decision, analysis, outputs),
        task_outputs={
            k: v.model_dump(mode="json") if hasattr(v, "model_dump") else v
            for k, v in outputs.items()
        },
        analysis_sha256=sha,
    )
    return _file(plan, outcome, sha, analysis) if wants_proposal else outcome


def _short(exc: BaseException) -> str:
    text = f"{type(exc).__name__}: {exc}"
    return text if len(text) <= 300 else text[:297] + "..."


def _with_memory(report: str, memories: list[str]) -> str:
    """The report with one line per past closed trade recalled (context, not a reason)."""
    lines = [m.splitlines()[0][:200] for m in memories if m.startswith(("[outcome", "[refl"))]
    return "\n".join([report, *(f"Memory: {line}" for line in lines)])
