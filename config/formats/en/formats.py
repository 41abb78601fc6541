"""Day-first dates, the 24-hour clock and Latin digits: the formats both languages share."""

from config.formats.day_first import *  # noqa: F403  (Django reads a format module's names)
