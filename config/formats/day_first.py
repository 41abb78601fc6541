"""The one set of formats every language uses (see ``config/formats/__init__.py``).

A short date is digits and slashes only, with no direction marks: in a right-to-left
sentence the slashes sit between numbers, so the Unicode bidi algorithm keeps
"15/03/2026" one left-to-right run and it reads the same as on an English page.
"""

DATE_FORMAT = "j F Y"
TIME_FORMAT = "H:i"
DATETIME_FORMAT = "j F Y H:i"
YEAR_MONTH_FORMAT = "F Y"
MONTH_DAY_FORMAT = "j F"
SHORT_DATE_FORMAT = "d/m/Y"
SHORT_DATETIME_FORMAT = "d/m/Y H:i"
FIRST_DAY_OF_WEEK = 0  # Sunday

# The first is how Django's own date boxes (the admin's) show a date; a typed date is
# read day first, and the ISO form is what an <input type="date"> sends. Never month first.
DATE_INPUT_FORMATS = ["%d/%m/%Y", "%Y-%m-%d"]
DATETIME_INPUT_FORMATS = [
    "%d/%m/%Y %H:%M:%S",
    "%d/%m/%Y %H:%M",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M",
]

DECIMAL_SEPARATOR = "."
THOUSAND_SEPARATOR = ","
NUMBER_GROUPING = 3
