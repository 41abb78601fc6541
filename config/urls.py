from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.urls import include, path
from django.views.i18n import set_language

from core import views as core_views

urlpatterns = [
    path("", core_views.home, name="home"),
    path("appointments/", include("appointments.urls")),
    path("patients/", include("core.urls")),
    path("notes/", include("core.note_urls")),
    # No self-service password reset: clinics have no outgoing mail configured, and
    # an administrator resets a forgotten password in the admin.
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/password_change/", auth_views.PasswordChangeView.as_view(), name="password_change"),
    path(
        "accounts/password_change/done/",
        auth_views.PasswordChangeDoneView.as_view(),
        name="password_change_done",
    ),
    # The language switcher must work on the login page too, before anyone signs in.
    path("i18n/setlang/", login_not_required(set_language), name="set_language"),
    path("admin/", admin.site.urls),
]
