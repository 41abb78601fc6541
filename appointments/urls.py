from django.urls import path

from appointments import views

app_name = "appointments"

urlpatterns = [
    path("", views.appointment_list, name="appointment_list"),
    path("book/", views.appointment_book, name="appointment_book"),
    path("<int:pk>/", views.appointment_detail, name="appointment_detail"),
    path("<int:pk>/reschedule/", views.appointment_reschedule, name="appointment_reschedule"),
    path("<int:pk>/confirm/", views.appointment_confirm, name="appointment_confirm"),
    path("<int:pk>/clear-finance/", views.appointment_clear_finance, name="appointment_clear_finance"),
    path("<int:pk>/check-in/", views.appointment_check_in, name="appointment_check_in"),
    path("<int:pk>/start/", views.appointment_start, name="appointment_start"),
    path("<int:pk>/complete/", views.appointment_complete, name="appointment_complete"),
    path("<int:pk>/no-show/", views.appointment_no_show, name="appointment_no_show"),
    path("<int:pk>/cancel/", views.appointment_cancel, name="appointment_cancel"),
    path("sessions/", views.session_list, name="session_list"),
    path("sessions/create/", views.session_create, name="session_create"),
    path("sessions/book/", views.session_book_individual, name="session_book_individual"),
    path("sessions/available/", views.session_available, name="session_available"),
    path("sessions/<int:pk>/", views.session_detail, name="session_detail"),
    path("sessions/<int:pk>/add-patient/", views.session_add_patient, name="session_add_patient"),
    path("sessions/<int:pk>/start/", views.session_start, name="session_start"),
    path("sessions/<int:pk>/complete/", views.session_complete, name="session_complete"),
    path("sessions/<int:pk>/cancel/", views.session_cancel, name="session_cancel"),
    path("sessions/<int:pk>/capacity/", views.session_capacity, name="session_capacity"),
    path("sessions/<int:pk>/group-notes/", views.session_group_notes, name="session_group_notes"),
    path("participants/<int:pk>/confirm/", views.participant_confirm, name="participant_confirm"),
    path(
        "participants/<int:pk>/clear-finance/",
        views.participant_clear_finance,
        name="participant_clear_finance",
    ),
    path("participants/<int:pk>/check-in/", views.participant_check_in, name="participant_check_in"),
    path("participants/<int:pk>/attended/", views.participant_attended, name="participant_attended"),
    path("participants/<int:pk>/no-show/", views.participant_no_show, name="participant_no_show"),
    path("participants/<int:pk>/cancel/", views.participant_cancel, name="participant_cancel"),
    path("schedule/providers/", views.schedule_by_provider, name="schedule_by_provider"),
    path("schedule/rooms/", views.schedule_by_room, name="schedule_by_room"),
]
