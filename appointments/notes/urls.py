from django.urls import path

from appointments.notes import views as note_views

app_name = "notes"

urlpatterns = [
    path("participants/<int:pk>/write/", note_views.participant_note_write, name="participant_note_write"),
    path("<slug:specialty>/<int:pk>/", note_views.note_detail, name="note_detail"),
    path("<slug:specialty>/<int:pk>/edit/", note_views.note_edit, name="note_edit"),
    path("<slug:specialty>/<int:pk>/sign/", note_views.note_sign, name="note_sign"),
    path("<slug:specialty>/<int:pk>/addenda/", note_views.note_add_addendum, name="note_add_addendum"),
]
