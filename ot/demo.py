"""The demo's OT notes: three skills, each rated a little higher each session."""

from typing import Any

from ot.models import RATING_MAX

# Rating in the child's first session, and the gain per session after it.
SKILLS = (("Pencil grasp", 3, 2), ("Buttoning", 2, 1), ("Balance on one foot", 5, 1))


def demo_note_content(sequence: int) -> dict[str, Any]:
    """The content of the child's ``sequence``-th demo note (0 for the first)."""
    return {
        "activities": "Fine-motor table work, then an obstacle course.",
        "attention_level": "good",
        "cooperation_level": "good",
        "target_skills": [
            {"skill": skill, "rating": min(RATING_MAX, first + gain * sequence)}
            for skill, first, gain in SKILLS
        ],
    }
