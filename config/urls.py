from django.contrib import admin
from django.contrib.auth.decorators import login_not_required
from django.urls import include, path
from django.views.i18n import set_language

from core import views as core_views

urlpatterns = [
    path("", core_views.home, name="home"),
    path("appointments/", include("appointments.urls")),
    path("patients/", include("core.urls")),
    path("notes/", include("core.note_urls")),
    path("accounts/", include("django.contrib.auth.urls")),
    # The language switcher must work on the login page too, before anyone signs in.
    path("i18n/setlang/", login_not_required(set_language), name="set_language"),
    path("admin/", admin.site.urls),
]
