"""Date, time and number formats per language, found through ``FORMAT_MODULE_PATH``.

Both languages read dates one way: day first (15/03/2026, 15 March 2026), the 24-hour
clock, Latin digits, and weeks starting on Sunday. Django's own Arabic formats mix a
right-to-left ``d‏/m‏/Y`` (shown as 2026/03/15) with the global month-first
``m/d/Y`` for date-times (03/15/2026), and its English ones are American; the modules
here replace both with ``day_first``.
"""
