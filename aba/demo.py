"""The demo's ABA notes: the same two targets each session, answered a little better each time."""

from typing import Any

TRIALS = 10
# Correct answers out of TRIALS in the child's first session, and the gain per session after it.
TARGETS = (("Imitation of actions", 4, 2), ("Requesting with a word", 3, 1))


def demo_note_content(sequence: int) -> dict[str, Any]:
    """The content of the child's ``sequence``-th demo note (0 for the first)."""
    return {
        "session_summary": "Discrete trial teaching at the table, then play-based practice.",
        "skill_targets": [
            {
                "target": target,
                "trials": TRIALS,
                "correct": min(TRIALS, first + gain * sequence),
                "prompt_level": "verbal" if sequence < 2 else "independent",
            }
            for target, first, gain in TARGETS
        ],
        "behaviour_records": [
            {
                "antecedent": "Demand placed",
                "behaviour": "Leaving the table",
                "consequence": "Redirected",
                "frequency": max(0, 4 - sequence),
                "intensity": "mild",
            }
        ],
    }
