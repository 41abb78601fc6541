from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.urls import include, path
from django.views.i18n import set_language

from appointments import overview_views, progress_views
from config.health import healthz
from core import two_factor_views
from core import urls as core_urls
from core.access_logging import logs_access, url_patient
from core.models import AccessLog

# The `core` namespace joins the directory's pages (patients, the superuser's organisation
# picker) with the patient chart, which shows bookings and notes and so lives above core,
# in appointments.
core_pages = [
    *core_urls.urlpatterns,
    path(
        "patients/<int:pk>/",
        logs_access("patient", patient=url_patient)(overview_views.patient_chart),
        name="patient_chart",
    ),
    # The progress report's form names the child only: a view. The report is a print, logged
    # only once rendered (without a complete choice it redirects to the form, which logs nothing).
    path(
        "patients/<int:pk>/progress/print/options/",
        logs_access("patient_progress", patient=url_patient)(progress_views.patient_progress_print_options),
        name="patient_progress_print_options",
    ),
    path(
        "patients/<int:pk>/progress/print/",
        logs_access("patient_progress", patient=url_patient, action=AccessLog.Action.PRINT)(
            progress_views.patient_progress_print
        ),
        name="patient_progress_print",
    ),
]

urlpatterns = [
    # Today's sessions, appointments and clearance queue name the children: a list.
    path("", logs_access("home", listing=True)(overview_views.home), name="home"),
    path("appointments/", include("appointments.urls")),
    path("", include((core_pages, core_urls.app_name))),
    path("notes/", include("appointments.notes.urls")),
    path("reports/", include("appointments.reports.urls")),
    # Public: a family's confirm-or-cancel link (the token is the key) and the SMS gateway's replies.
    path("family/", include("appointments.reminders.urls")),
    # No self-service password reset: clinics have no outgoing mail configured, and
    # an administrator resets a forgotten password in the admin.
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    # The staff pages' look, not Django admin's (whose page links to an admin some roles can't use).
    path(
        "accounts/password_change/",
        auth_views.PasswordChangeView.as_view(template_name="core/password_change_form.html"),
        name="password_change",
    ),
    path("accounts/two-factor/", two_factor_views.two_factor, name="two_factor"),
    path("accounts/two-factor/verify/", two_factor_views.two_factor_verify, name="two_factor_verify"),
    path(
        "accounts/password_change/done/",
        auth_views.PasswordChangeDoneView.as_view(template_name="core/password_change_done.html"),
        name="password_change_done",
    ),
    # The language switcher must work on the login page too, before anyone signs in.
    path("i18n/setlang/", login_not_required(set_language), name="set_language"),
    path("admin/", admin.site.urls),
    # The load balancer's check, public on purpose and showing nothing (config/health.py, which
    # answers it before the session); named here so it is walked with every other URL.
    path("healthz", healthz, name="healthz"),
]
