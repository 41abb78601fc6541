from functools import partial

from django.urls import path

from appointments import calendar_views, clearance_views, leave_views, series_views, views, waitlist_views
from appointments.models import Appointment, SessionParticipant, SessionSeries, WaitlistEntry
from appointments.reminders import desk_views as reminder_desk_views
from core.access_logging import logs_access, patient_of

app_name = "appointments"

# Every page naming a booking or a child logs its reads (core.access_logging); the one-click
# actions too, so a refused one is logged (a done one redirects and logs nothing). The blank
# booking forms show no one and log nothing.
appointment = logs_access("appointment", patient=patient_of(Appointment))
session = logs_access("session")  # a session's page names many children: no one patient
participant = logs_access("participant", patient=patient_of(SessionParticipant))
listing = partial(logs_access, listing=True)  # a list or search: its query is logged, no patient
# A series names its child when it is one child's (a group's names many: no one patient).
series = logs_access("series", patient=patient_of(SessionSeries))
waitlist = logs_access("waitlist", patient=patient_of(WaitlistEntry))

urlpatterns = [
    path("", listing("appointment_list")(views.appointment_list), name="appointment_list"),
    path("book/", views.appointment_book, name="appointment_book"),
    path("<int:pk>/", appointment(views.appointment_detail), name="appointment_detail"),
    path("<int:pk>/reschedule/", appointment(views.appointment_reschedule), name="appointment_reschedule"),
    path("<int:pk>/confirm/", appointment(views.appointment_confirm), name="appointment_confirm"),
    path(
        "<int:pk>/clear-finance/",
        appointment(views.appointment_clear_finance),
        name="appointment_clear_finance",
    ),
    path("<int:pk>/check-in/", appointment(views.appointment_check_in), name="appointment_check_in"),
    path("<int:pk>/start/", appointment(views.appointment_start), name="appointment_start"),
    path("<int:pk>/complete/", appointment(views.appointment_complete), name="appointment_complete"),
    path("<int:pk>/no-show/", appointment(views.appointment_no_show), name="appointment_no_show"),
    path("<int:pk>/cancel/", appointment(views.appointment_cancel), name="appointment_cancel"),
    path("sessions/", listing("session_list")(views.session_list), name="session_list"),
    path("sessions/create/", views.session_create, name="session_create"),
    path("sessions/book/", views.session_book_individual, name="session_book_individual"),
    path(
        "sessions/available/", listing("session_available")(views.session_available), name="session_available"
    ),
    path("sessions/<int:pk>/", session(views.session_detail), name="session_detail"),
    path(
        "sessions/<int:pk>/add-patient/",
        listing("session_add_patient")(views.session_add_patient),
        name="session_add_patient",
    ),
    path(
        "sessions/<int:pk>/waitlist/",
        listing("session_waitlist_add")(waitlist_views.session_waitlist_add),
        name="session_waitlist_add",
    ),
    path("waitlist/<int:pk>/accept/", waitlist(waitlist_views.waitlist_accept), name="waitlist_accept"),
    path("waitlist/<int:pk>/withdraw/", waitlist(waitlist_views.waitlist_withdraw), name="waitlist_withdraw"),
    path(
        "waitlist/<int:pk>/family-told/",
        waitlist(waitlist_views.waitlist_family_told),
        name="waitlist_family_told",
    ),
    path("sessions/<int:pk>/start/", session(views.session_start), name="session_start"),
    path("sessions/<int:pk>/complete/", session(views.session_complete), name="session_complete"),
    path("sessions/<int:pk>/cancel/", session(views.session_cancel), name="session_cancel"),
    path("sessions/<int:pk>/capacity/", session(views.session_capacity), name="session_capacity"),
    path("sessions/<int:pk>/group-notes/", session(views.session_group_notes), name="session_group_notes"),
    path("sessions/<int:pk>/reschedule/", session(views.session_reschedule), name="session_reschedule"),
    path(
        "sessions/<int:pk>/families-told/",
        session(views.session_families_told),
        name="session_families_told",
    ),
    path(
        "participants/<int:pk>/confirm/", participant(views.participant_confirm), name="participant_confirm"
    ),
    path(
        "participants/<int:pk>/clear-finance/",
        participant(views.participant_clear_finance),
        name="participant_clear_finance",
    ),
    path(
        "participants/<int:pk>/check-in/",
        participant(views.participant_check_in),
        name="participant_check_in",
    ),
    path(
        "participants/<int:pk>/attended/",
        participant(views.participant_attended),
        name="participant_attended",
    ),
    path(
        "participants/<int:pk>/no-show/", participant(views.participant_no_show), name="participant_no_show"
    ),
    path("participants/<int:pk>/cancel/", participant(views.participant_cancel), name="participant_cancel"),
    path(
        "participants/<int:pk>/turned-away/",
        participant(views.participant_turned_away),
        name="participant_turned_away",
    ),
    path(
        "participants/<int:pk>/waive-billing/",
        participant(views.participant_waive_billing),
        name="participant_waive_billing",
    ),
    path(
        "participants/<int:pk>/confirm-billing/",
        participant(views.participant_confirm_billing),
        name="participant_confirm_billing",
    ),
    path("series/", listing("series_list")(series_views.series_list), name="series_list"),
    # Its plan lists the dates the child typed in (an individual series) can't have.
    path(
        "series/create/",
        logs_access("series_create", patient=series_views.posted_patient)(series_views.series_create),
        name="series_create",
    ),
    path("series/<int:pk>/", series(series_views.series_detail), name="series_detail"),
    path("series/<int:pk>/enrol/", listing("series_enrol")(series_views.series_enrol), name="series_enrol"),
    path("series/<int:pk>/withdraw/", series(series_views.series_withdraw), name="series_withdraw"),
    path(
        "series/<int:pk>/waitlist/",
        series(waitlist_views.series_waitlist_add),
        name="series_waitlist_add",
    ),
    path(
        "series/<int:pk>/cancel/",
        series(series_views.series_occurrence_cancel),
        name="series_occurrence_cancel",
    ),
    path("series/<int:pk>/move/", series(series_views.series_occurrence_move), name="series_occurrence_move"),
    path(
        "schedule/providers/",
        listing("schedule_by_provider")(views.schedule_by_provider),
        name="schedule_by_provider",
    ),
    path("schedule/rooms/", listing("schedule_by_room")(views.schedule_by_room), name="schedule_by_room"),
    path("leave/", listing("leave_list")(leave_views.leave_list), name="leave_list"),
    path("leave/new/", leave_views.leave_create, name="leave_create"),
    # The bookings under a leave name their children: about many children, it names none.
    path("leave/<int:pk>/", logs_access("leave")(leave_views.leave_detail), name="leave_detail"),
    path("free-slots/", listing("free_slots")(leave_views.free_slots), name="free_slots"),
    path("calendar/", listing("calendar_week")(calendar_views.calendar_week), name="calendar_week"),
    path(
        "calendar/events/", listing("calendar_events")(calendar_views.calendar_events), name="calendar_events"
    ),
    path("calendar/sessions/<int:pk>/move/", session(calendar_views.calendar_move), name="calendar_move"),
    path(
        "clearance/",
        listing("clearance_queue")(clearance_views.clearance_queue),
        name="clearance_queue",
    ),
    # Clearing many rows names many children: a refused attempt is logged, a done one redirects.
    path(
        "clearance/clear/",
        logs_access("clearance_clear")(clearance_views.clearance_clear),
        name="clearance_clear",
    ),
    path("reminders/", listing("reminders")(reminder_desk_views.reminder_list), name="reminders"),
    # "Try again" redirects to the list, which logs its read; a refused attempt is logged here.
    path(
        "reminders/<int:pk>/retry/",
        logs_access("reminder")(reminder_desk_views.reminder_retry),
        name="reminder_retry",
    ),
]
