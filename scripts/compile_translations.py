"""Compile every locale/<lang>/LC_MESSAGES/*.po into its .mo, in pure Python.

Django's compilemessages needs GNU gettext's msgfmt, which a fresh laptop may not
have; polib writes the same .mo. Fuzzy entries are left out, as msgfmt does.
"""

import sys
from pathlib import Path

import polib

LOCALE_DIR = Path(__file__).resolve().parent.parent / "locale"


def main() -> int:
    catalogues = sorted(LOCALE_DIR.glob("*/LC_MESSAGES/*.po"))
    if not catalogues:
        print(f"No .po catalogues under {LOCALE_DIR}", file=sys.stderr)
        return 1
    for po_path in catalogues:
        catalogue = polib.pofile(str(po_path))
        catalogue.save_as_mofile(str(po_path.with_suffix(".mo")))
        print(
            f"{po_path.relative_to(LOCALE_DIR)}: {catalogue.percent_translated()}% translated",
            file=sys.stderr,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
