"""The demo's psychology notes: a low risk at first, none once the child has settled."""

from typing import Any

from psychology.models import PsychologySession


def demo_note_content(sequence: int) -> dict[str, Any]:
    """The content of the child's ``sequence``-th demo note (0 for the first)."""
    risk = PsychologySession.RiskLevel.LOW if sequence == 0 else PsychologySession.RiskLevel.NONE
    return {
        "presenting_issues": "Worries before school; sleeps late.",
        "interventions_used": "Psychoeducation on worry; a calm-breathing routine.",
        "client_response": "Engaged and practised the routine.",
        "risk_assessment": risk,
        "plan_next_session": "Review the breathing diary.",
    }
