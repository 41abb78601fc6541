"""The families' public addresses, under /family/: the confirm-or-cancel link and the gateway's replies."""

from django.urls import path

from appointments.reminders import inbound_views, link_views

app_name = "family"

urlpatterns = [
    path("sms/inbound/", inbound_views.sms_inbound, name="sms_inbound"),
    path("<str:token>/", link_views.family_link, name="link"),
]
