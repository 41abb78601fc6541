"""The Arabic catalogue: complete, placeholder-safe, and used by pages and service errors.

The catalogue is read with a small parser of our own (no gettext tools, no polib), and
the pages are rendered with a catalogue compiled from the committed ``.po`` into a
temporary folder, so these tests check the file in the repository whether or not
``make messages`` has been run.
"""

import array
import dataclasses
import re
import struct
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.urls import reverse
from django.utils import translation

from appointments.exceptions import CapacityError
from appointments.session_service import SessionService
from core.models import User
from core.tests.view_helpers import booked, consented_patient, group_session, staff_member

pytestmark = pytest.mark.django_db

ARABIC_PO = Path(django_settings.BASE_DIR) / "locale" / "ar" / "LC_MESSAGES" / "django.po"
ARABIC_PLURAL_FORMS = (
    "nplurals=6; plural=n==0 ? 0 : n==1 ? 1 : n==2 ? 2 : n%100>=3 && n%100<=10 ? 3 : "
    "n%100>=11 && n%100<=99 ? 4 : 5;"
)
# A printf-style conversion as Python's % operator reads it: %s, %d, %(name)s, %(seconds).1f, %%.
PLACEHOLDER = re.compile(r"%(?:\([^)]*\))?[-#0 +]*(?:\d+|\*)?(?:\.\d+)?[diouxXeEfFgGcrsa%]")
ESCAPES = {"n": "\n", "t": "\t", '"': '"', "\\": "\\"}


@dataclasses.dataclass
class Entry:
    msgid: str = ""
    msgid_plural: str = ""
    msgctxt: str | None = None
    msgstr: dict[int, str] = dataclasses.field(default_factory=dict)
    flags: set[str] = dataclasses.field(default_factory=set)
    obsolete: bool = False

    @property
    def key(self) -> str:
        """The key gettext looks the message up by in a compiled catalogue."""
        return self.msgid if self.msgctxt is None else f"{self.msgctxt}\x04{self.msgid}"


def unquote(text: str) -> str:
    quoted = re.fullmatch(r'"(.*)"', text)
    if quoted is None:
        raise ValueError(f"not a quoted PO string: {text}")
    return re.sub(r"\\(.)", lambda match: ESCAPES[match.group(1)], quoted.group(1))


def read_catalogue(path: Path) -> list[Entry]:
    """Every entry of a .po file, the header (msgid "") first; obsolete (#~) entries included."""
    entries: list[Entry] = []
    flags: set[str] = set()  # the "#," flags read since the last entry began
    field: tuple[str, int] = ("msgstr", 0)  # what a following quoted line continues
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        obsolete = line.startswith("#~")
        if obsolete:
            line = line[2:].strip()
        if line.startswith("#,"):
            flags.update(flag.strip() for flag in line[2:].split(","))
            continue
        if not line or line.startswith("#"):
            continue
        if line.startswith('"'):
            text = unquote(line)
        else:
            keyword, _, rest = line.partition(" ")
            plural_index = re.fullmatch(r"msgstr\[(\d+)\]", keyword)
            starts_entry = keyword in ("msgctxt", "msgid") and field[0] == "msgstr"
            field = ("msgstr", int(plural_index.group(1))) if plural_index else (keyword, 0)
            text = unquote(rest)
            if starts_entry:
                entries.append(Entry(flags=flags, obsolete=obsolete))
                flags = set()
        entry = entries[-1]
        name, index = field
        if name == "msgstr":
            entry.msgstr[index] = entry.msgstr.get(index, "") + text
        elif name == "msgctxt":
            entry.msgctxt = (entry.msgctxt or "") + text
        else:
            setattr(entry, name, getattr(entry, name) + text)
    return entries


def header_fields(entries: list[Entry]) -> dict[str, str]:
    header = entries[0]
    assert header.msgid == ""
    return dict(line.split(": ", 1) for line in header.msgstr[0].splitlines() if line)


def placeholders(text: str) -> set[str]:
    return set(PLACEHOLDER.findall(text))


def compile_catalogue(entries: list[Entry]) -> bytes:
    """The GNU .mo bytes of the live entries, laid out as Python's Tools/i18n/msgfmt.py does."""
    messages: dict[bytes, bytes] = {}
    for entry in entries:
        if entry.obsolete or ("fuzzy" in entry.flags and entry.msgid):
            continue
        key = entry.key if not entry.msgid_plural else f"{entry.key}\0{entry.msgid_plural}"
        value = "\0".join(entry.msgstr[index] for index in sorted(entry.msgstr))
        messages[key.encode()] = value.encode()
    keys = sorted(messages)
    ids = strs = b""
    offsets = []
    for key in keys:
        offsets.append((len(ids), len(key), len(strs), len(messages[key])))
        ids += key + b"\0"
        strs += messages[key] + b"\0"
    key_start = 7 * 4 + 16 * len(keys)
    value_start = key_start + len(ids)
    key_offsets: list[int] = []
    value_offsets: list[int] = []
    for id_offset, id_length, str_offset, str_length in offsets:
        key_offsets += [id_length, id_offset + key_start]
        value_offsets += [str_length, str_offset + value_start]
    header = struct.pack("Iiiiiii", 0x950412DE, 0, len(keys), 7 * 4, 7 * 4 + len(keys) * 8, 0, 0)
    return header + array.array("i", key_offsets + value_offsets).tobytes() + ids + strs


@pytest.fixture(scope="module")
def catalogue() -> list[Entry]:
    return read_catalogue(ARABIC_PO)


@pytest.fixture(scope="module")
def compiled_locale(tmp_path_factory, catalogue) -> Path:
    locale = tmp_path_factory.mktemp("locale")
    folder = locale / "ar" / "LC_MESSAGES"
    folder.mkdir(parents=True)
    (folder / "django.mo").write_bytes(compile_catalogue(catalogue))
    return locale


@pytest.fixture
def arabic_catalogue(settings, compiled_locale):
    """Django reads the committed Arabic catalogue (changing LOCALE_PATHS clears its caches)."""
    settings.LOCALE_PATHS = [compiled_locale]


def live(entries: list[Entry]) -> list[Entry]:
    return [entry for entry in entries[1:] if not entry.obsolete]


# The catalogue file


def test_read_catalogue_parses_plurals_flags_and_obsolete_entries(tmp_path):
    po = tmp_path / "django.po"
    po.write_text(
        'msgid ""\nmsgstr ""\n"Language: ar\\n"\n\n'
        '#: a.py:1\n#, python-format\nmsgid "%(count)d seat"\nmsgid_plural "%(count)d seats"\n'
        'msgstr[0] "a"\nmsgstr[1] "b \\"q\\""\n\n'
        '#, fuzzy\nmsgctxt "button"\nmsgid ""\n"Long "\n"text"\nmsgstr "x"\n\n'
        '#~ msgid "Gone"\n#~ msgstr "ذهب"\n',
        encoding="utf-8",
    )

    header, plural, fuzzy, gone = read_catalogue(po)

    assert header_fields([header]) == {"Language": "ar"}
    assert (plural.msgid, plural.msgid_plural, plural.msgstr) == (
        "%(count)d seat",
        "%(count)d seats",
        {0: "a", 1: 'b "q"'},
    )
    assert plural.flags == {"python-format"}
    assert (fuzzy.msgctxt, fuzzy.msgid, fuzzy.msgstr, fuzzy.flags) == (
        "button",
        "Long text",
        {0: "x"},
        {"fuzzy"},
    )
    assert (gone.msgid, gone.msgstr, gone.obsolete) == ("Gone", {0: "ذهب"}, True)


def test_arabic_catalogue_header_names_arabic_and_its_six_plural_forms(catalogue):
    fields = header_fields(catalogue)

    assert fields["Language"] == "ar"
    assert fields["Content-Type"] == "text/plain; charset=UTF-8"
    assert fields["Plural-Forms"] == ARABIC_PLURAL_FORMS


def test_arabic_catalogue_has_no_untranslated_entries(catalogue):
    untranslated = [
        entry.msgid
        for entry in live(catalogue)
        if not entry.msgstr or any(not text.strip() for text in entry.msgstr.values())
    ]

    assert untranslated == []
    assert len(live(catalogue)) > 500


def test_arabic_catalogue_has_no_fuzzy_or_obsolete_entries(catalogue):
    assert [entry.msgid for entry in catalogue if "fuzzy" in entry.flags] == []
    assert [entry.msgid for entry in catalogue if entry.obsolete] == []


def test_arabic_catalogue_fills_all_six_plural_forms(catalogue):
    plurals = [entry for entry in live(catalogue) if entry.msgid_plural]

    assert plurals
    assert {entry.msgid: sorted(entry.msgstr) for entry in plurals} == {
        entry.msgid: [0, 1, 2, 3, 4, 5] for entry in plurals
    }


def test_arabic_catalogue_keeps_every_placeholder(catalogue):
    broken = []
    for entry in live(catalogue):
        if "python-format" not in entry.flags:
            continue
        wanted = placeholders(entry.msgid) | placeholders(entry.msgid_plural)
        broken += [(entry.msgid, text) for text in entry.msgstr.values() if placeholders(text) != wanted]

    assert broken == []


def test_arabic_catalogue_keeps_html_tags_and_brace_fields(catalogue):
    markup = re.compile(r"<[^>]*>|\{[^}]*\}")
    broken = [
        (entry.msgid, text)
        for entry in live(catalogue)
        for text in entry.msgstr.values()
        if set(markup.findall(entry.msgid + entry.msgid_plural)) != set(markup.findall(text))
    ]

    assert broken == []


def test_arabic_catalogue_is_arabic_text(catalogue):
    # Only codes and placeholders may stay in Latin letters; every entry with words has Arabic.
    arabic = re.compile(r"[\u0600-\u06ff]")
    words = re.compile(r"[A-Za-z]{3,}")
    latin_only = [
        entry.msgid
        for entry in live(catalogue)
        for text in entry.msgstr.values()
        if not arabic.search(text) and words.search(PLACEHOLDER.sub("", entry.msgid))
    ]

    assert latin_only == []


# Translations in use


def test_arabic_plural_forms_follow_the_count(arabic_catalogue):
    with translation.override("ar"):
        rendered = {
            count: translation.ngettext("%(count)d session started.", "%(count)d sessions started.", count)
            % {"count": count}
            for count in (0, 1, 2, 3, 11, 100)
        }

    assert rendered == {
        0: "بدأت 0 جلسات.",
        1: "بدأت 1 جلسة.",
        2: "بدأت 2 جلستان.",
        3: "بدأت 3 جلسات.",
        11: "بدأت 11 جلسة.",
        100: "بدأت 100 جلسة.",
    }


def test_session_service_capacity_error_is_arabic_when_arabic_is_active(arabic_catalogue, provider, clinic):
    session = group_session(provider, clinic, capacity=8)
    for _seat in range(8):
        booked(session)
    latecomer = consented_patient(clinic.tenant)

    with translation.override("ar"), pytest.raises(CapacityError) as refused:
        SessionService.add_patient_to_session(session, latecomer)

    assert refused.value.messages == ["الجلسة ممتلئة (8 من 8)."]


def test_session_service_capacity_error_stays_english_by_default(arabic_catalogue, provider, clinic):
    session = group_session(provider, clinic, capacity=2)
    booked(session)
    booked(session)

    with pytest.raises(CapacityError, match=r"^\['Session is full \(2 of 2\)\.'\]$"):
        SessionService.add_patient_to_session(session, consented_patient(clinic.tenant))


def test_login_page_is_arabic_for_an_arabic_browser(arabic_catalogue, client):
    html = client.get(reverse("login"), HTTP_ACCEPT_LANGUAGE="ar").content.decode()

    assert '<html lang="ar" dir="rtl">' in html
    assert "تسجيل الدخول" in html
    assert "Log in" not in html


def test_login_page_is_arabic_with_the_language_cookie(arabic_catalogue, client):
    client.cookies[django_settings.LANGUAGE_COOKIE_NAME] = "ar"

    html = client.get(reverse("login")).content.decode()

    assert '<html lang="ar" dir="rtl">' in html
    assert "تسجيل الدخول" in html


def test_session_list_is_arabic_after_choosing_arabic(arabic_catalogue, client, tenant, clinic, provider):
    client.force_login(staff_member(tenant, User.Role.FRONT_DESK))
    group_session(provider, clinic, capacity=8)

    switched = client.post(
        reverse("set_language"), {"language": "ar", "next": reverse("appointments:session_list")}
    )
    html = client.get(reverse("appointments:session_list")).content.decode()

    assert switched.status_code == 302
    assert '<html lang="ar" dir="rtl">' in html
    assert '<h1 class="h3 mb-0">الجلسات</h1>' in html
    assert "جلسة جماعية جديدة" in html
    assert "1 جلسة" in html
    assert "مجدول" in html
    assert "New group session" not in html


def test_full_session_refusal_is_shown_in_arabic_on_the_add_patient_page(
    arabic_catalogue, client, tenant, clinic, provider
):
    client.force_login(staff_member(tenant, User.Role.FRONT_DESK))
    session = group_session(provider, clinic, capacity=2)
    booked(session)
    booked(session)
    latecomer = consented_patient(tenant)

    response = client.post(
        reverse("appointments:session_add_patient", args=[session.pk]),
        {"patient": latecomer.pk},
        HTTP_ACCEPT_LANGUAGE="ar",
    )

    assert response.status_code == 200
    assert "الجلسة ممتلئة (2 من 2)." in response.content.decode()
    assert "Session is full" not in response.content.decode()
