"""The risk manager's answer is the desk's AgentVerdict, read from what the LLM may write."""

from __future__ import annotations

from crewai.utilities.pydantic_schema_utils import generate_model_description

from tradecrew.agents.schemas import RiskReview
from tradecrew.ledger import AgentVerdictRecord
from tradecrew.models import AgentVerdict, Verdict


def test_risk_review_is_an_agent_verdict_whose_reason_joins_its_reasons() -> None:
    review = RiskReview.model_validate({"verdict": "shrink", "quantity": 2, "reasons": ["a", "b"]})
    assert isinstance(review, AgentVerdict)
    assert (review.verdict, review.quantity, review.reason) == (Verdict.SHRINK, 2.0, "a; b")
    assert review.agent == "risk_agent"


def test_the_model_can_name_neither_the_agent_nor_the_reason() -> None:
    answer = {"verdict": "veto", "reasons": ["thin book"], "agent": "human", "reason": "x"}
    review = RiskReview.model_validate(answer)
    assert (review.agent, review.reason) == ("risk_agent", "thin book")
    # What the run keeps as the LLM's output is what the LLM was asked for.
    assert review.model_dump(mode="json") == {
        "verdict": "veto",
        "quantity": None,
        "reasons": ["thin book"],
    }


def test_the_ledger_record_of_a_review_keeps_its_reason_and_agent() -> None:
    review = RiskReview(verdict=Verdict.VETO, reasons=["news", "size"])
    record = AgentVerdictRecord.of("prp_1", review)
    assert (record.verdict, record.reason, record.agent) == (
        Verdict.VETO,
        "news; size",
        "risk_agent",
    )
    assert record.proposal_id == "prp_1" and record.id.startswith("vrd_")


def test_the_strict_schema_sent_to_the_llm_is_unchanged() -> None:
    # Pinned: the request body (and so every cached answer's key) contains this schema.
    schema = generate_model_description(RiskReview)["json_schema"]["schema"]
    assert schema == {
        "additionalProperties": False,
        "properties": {
            "verdict": {
                "enum": ["approve", "shrink", "veto"],
                "title": "Verdict",
                "type": "string",
            },
            "quantity": {
                "default": None,
                "description": "for shrink: the most allowed",
                "minimum": 0.0,
                "title": "Quantity",
                "type": "number",
            },
            "reasons": {"items": {"type": "string"}, "title": "Reasons", "type": "array"},
        },
        "required": ["verdict", "quantity", "reasons"],
        "title": "RiskReview",
        "type": "object",
    }
