"""Mixed staff traffic for `make loadtest` (loadtest/run.py starts the servers and reads the results).

Every simulated user signs in once through the login form, as a person would, then
works through the pages with their forms and CSRF tokens: the front desk books
children into the same few groups of today (so bookings race for the same seats),
cancels some, checks children in; finance clears bookings from the clearance queue;
clinicians open their sessions and write their children's notes; everyone reads
the lists, the day views and the week calendar. Ids come from the pages themselves,
or from the plan ``loadtest/prepare.py`` wrote (LOADTEST_PLAN): today's groups, the
demo's children and clinics.

A refusal the rules give (a full group, a child already booked, a check-in before
finance cleared) is a normal answer, not an error: the page comes back with the
reason (200) or redirects with a message (302). Anything else fails the request.
The outcomes of the writes are counted and written beside locust's CSV files.
"""

# ruff: noqa: S311 - random picks spread the load; nothing secret is drawn
import datetime
import json
import os
import random
import re
from collections import Counter
from html.parser import HTMLParser

from locust import HttpUser, between, events, task

PLAN = json.loads(open(os.environ["LOADTEST_PLAN"]).read())  # noqa: SIM115 - read once at start
TODAY = datetime.date.fromisoformat(PLAN["today"])
PASSWORD = "demo12345"  # noqa: S105 - the demo's printed password (seed_demo)
CLINICIANS = ("psychologist", "ot", "aba", "psychologist2", "ot2", "aba2")
NOTE_TEXT = "Load test: took part in the group activity, followed two-step instructions with one prompt."
OUTCOMES: Counter[str] = Counter()

SESSION_LINK = re.compile(r'href="/appointments/sessions/(\d+)/"')
NOTE_WRITE_LINK = re.compile(r'href="(/notes/participants/\d+/write/)"')
PARTICIPANT_FORM = re.compile(r'action="/appointments/participants/(\d+)/{action}/"')
CLEARANCE_ROW = re.compile(r'name="rows" value="([^"]+)"')


class FormReader(HTMLParser):
    """The POST forms of a page as a browser would submit them: action and default fields."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[dict] = []
        self._textarea: str | None = None
        self._select: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {name: value or "" for name, value in attrs}
        if tag == "form":
            self.forms.append(
                {
                    "action": attributes.get("action", ""),
                    "method": attributes.get("method", "get"),
                    "testid": attributes.get("data-testid", ""),
                    "fields": [],
                    "textareas": set(),
                }
            )
            return
        if tag == "option" and self._select is not None:
            select = self.forms[-1]["fields"][-1]
            if select[1] is None or "selected" in attributes:
                select[1] = attributes.get("value", "")
            return
        if not self.forms or "name" not in attributes:
            return
        fields = self.forms[-1]["fields"]
        kind = attributes.get("type", "text").lower()
        if tag == "input" and kind not in {"submit", "button", "checkbox", "radio", "file"}:
            fields.append([attributes["name"], attributes.get("value", "")])
        elif tag == "input" and kind in {"checkbox", "radio"} and "checked" in attributes:
            fields.append([attributes["name"], attributes.get("value", "on")])
        elif tag == "textarea":
            self._textarea = attributes["name"]
            self.forms[-1]["textareas"].add(self._textarea)
            fields.append([self._textarea, ""])
        elif tag == "select":
            self._select = attributes["name"]
            fields.append([self._select, None])

    def handle_data(self, data: str) -> None:
        if self._textarea is not None and self.forms:
            self.forms[-1]["fields"][-1][1] += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "textarea":
            self._textarea = None
        elif tag == "select":
            self._select = None


def post_forms(html: str) -> list[dict]:
    reader = FormReader()
    reader.feed(html)
    return [form for form in reader.forms if form["method"].lower() == "post"]


class StaffUser(HttpUser):
    """Signs in once (django-axes sees one success per user, never a failure), then works."""

    abstract = True
    wait_time = between(0.3, 1.5)
    usernames: tuple[str, ...] = ()

    def on_start(self) -> None:
        self.username = random.choice(self.usernames)
        page = self.client.get("/accounts/login/", name="login page")
        token = self.csrf_of(page.text)
        with self.client.post(
            "/accounts/login/",
            {"username": self.username, "password": PASSWORD, "csrfmiddlewaretoken": token},
            allow_redirects=False,
            catch_response=True,
            name="sign in",
        ) as response:
            if response.status_code != 302:
                response.failure(f"{self.username} could not sign in: {response.status_code}")

    @staticmethod
    def csrf_of(html: str) -> str:
        match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html)
        return match.group(1) if match else ""

    def post(self, url: str, data: dict | list, name: str, outcome: str) -> None:
        """POST like the page's form; a 302 or a page with the rules' reason (200) is an answer."""
        headers = {"X-CSRFToken": self.client.cookies.get("csrftoken", ""), "Referer": self.host + url}
        with self.client.post(
            url, data, headers=headers, allow_redirects=False, catch_response=True, name=name
        ) as response:
            if response.status_code == 302:
                OUTCOMES[f"{outcome}: done"] += 1
            elif response.status_code == 200:
                OUTCOMES[f"{outcome}: refused by a rule"] += 1
            else:
                response.failure(f"{response.status_code}")

    # Reading, every role -------------------------------------------------------------------

    @task(2)
    def home(self) -> None:
        self.client.get("/", name="home")

    @task(2)
    def session_list(self) -> None:
        self.client.get("/appointments/sessions/", name="session list")

    @task(1)
    def day_view(self) -> None:
        day = TODAY + datetime.timedelta(days=random.randint(-2, 5))
        view = random.choice(("providers", "rooms"))
        self.client.get(f"/appointments/schedule/{view}/?day={day.isoformat()}", name=f"day view ({view})")

    @task(1)
    def week_view(self) -> None:
        clinic = random.choice(PLAN["clinics"])
        sunday = TODAY - datetime.timedelta(days=(TODAY.weekday() + 1) % 7)
        self.client.get(f"/appointments/calendar/?clinic={clinic}", name="week view")
        self.client.get(
            "/appointments/calendar/events/",
            params={
                "clinic": clinic,
                "start": sunday.isoformat(),
                "end": (sunday + datetime.timedelta(days=7)).isoformat(),
            },
            name="week view events",
        )


class FrontDesk(StaffUser):
    weight = 4
    usernames = ("frontdesk",)

    def group_page(self, group: int) -> str:
        return self.client.get(f"/appointments/sessions/{group}/", name="session page").text

    @task(6)
    def book_into_a_group(self) -> None:
        group = random.choice(PLAN["groups"])
        url = f"/appointments/sessions/{group}/add-patient/"
        self.client.get(url, name="add-patient page")
        self.post(url, {"patient": random.choice(PLAN["patients"])}, "book into a group", "booking")

    @task(4)
    def check_in(self) -> None:
        html = self.group_page(random.choice(PLAN["groups"]))
        participants = PARTICIPANT_FORM.pattern.format(action="check-in")
        ids = re.findall(participants, html)
        if ids:
            url = f"/appointments/participants/{random.choice(ids)}/check-in/"
            self.post(url, {}, "check in", "check-in")

    @task(2)
    def cancel_a_booking(self) -> None:
        html = self.group_page(random.choice(PLAN["groups"]))
        ids = re.findall(PARTICIPANT_FORM.pattern.format(action="cancel"), html)
        if ids:
            url = f"/appointments/participants/{random.choice(ids)}/cancel/"
            data = {"cancelled_by": "family", "category": "illness", "reason": "Load test: the family called"}
            self.post(url, data, "cancel a booking", "cancellation")

    @task(1)
    def appointment_list(self) -> None:
        self.client.get("/appointments/", name="appointment list")

    @task(1)
    def patient_search(self) -> None:
        query = random.choice(("no", "sa", "al", "AG-0"))
        self.client.get("/patients/", params={"q": query}, name="patient search")


class Finance(StaffUser):
    weight = 1
    usernames = ("finance",)

    @task(4)
    def clear_from_the_queue(self) -> None:
        url = "/appointments/clearance/"
        rows = CLEARANCE_ROW.findall(self.client.get(url, name="clearance queue").text)
        if rows:
            chosen = random.sample(rows, min(len(rows), random.randint(1, 3)))
            data = [("rows", key) for key in chosen] + [("next", url)]
            self.post("/appointments/clearance/clear/", data, "clear from the queue", "clearance")

    @task(2)
    def clear_from_a_session(self) -> None:
        group = random.choice(PLAN["groups"])
        html = self.client.get(f"/appointments/sessions/{group}/", name="session page").text
        ids = re.findall(PARTICIPANT_FORM.pattern.format(action="clear-finance"), html)
        if ids:
            url = f"/appointments/participants/{random.choice(ids)}/clear-finance/"
            self.post(url, {}, "clear one booking", "clearance")


class Clinician(StaffUser):
    weight = 2
    usernames = CLINICIANS

    @task(5)
    def write_a_note(self) -> None:
        sessions = SESSION_LINK.findall(self.client.get("/", name="home").text)
        if not sessions:
            return
        html = self.client.get(f"/appointments/sessions/{random.choice(sessions)}/", name="session page").text
        links = NOTE_WRITE_LINK.findall(html)
        if not links:
            return
        page = self.client.get(random.choice(links), name="note page")
        forms = [form for form in post_forms(page.text) if form["testid"] == "note-form"]
        if not forms:
            return  # a signed note opens read-only
        form = forms[0]
        # The note's own text fields; rows (formset fields, "prefix-N-name") stay as the page
        # gave them, since half a row is refused.
        text_fields = {name for name in form["textareas"] if "-" not in name}
        data = [
            (name, NOTE_TEXT if name in text_fields and not value.strip() else value)
            for name, value in form["fields"]
        ]
        action = form["action"] or page.url.removeprefix(self.host)
        self.post(action, data, "write a note", "note")


@events.quitting.add_listener
def write_outcomes(environment, **_kwargs) -> None:
    path = os.environ.get("LOADTEST_OUTCOMES")
    if path:
        with open(path, "w") as file:
            json.dump(dict(sorted(OUTCOMES.items())), file, indent=1)
