from django.urls import path

from core import views
from core.access_logging import logs_access, patient_of, url_patient
from core.break_glass_views import patient_break_glass
from core.guardian_views import guardian_add, guardian_edit, guardian_history_page
from core.models import Consent, Guardian
from core.patient_lookup_views import patient_lookup

app_name = "core"

urlpatterns = [
    path("patients/", logs_access("patient_list", listing=True)(views.patient_search), name="patient_search"),
    path("patients/add/", views.patient_create, name="patient_create"),
    path(
        "patients/lookup/",
        logs_access("patient_lookup", listing=True)(patient_lookup),
        name="patient_lookup",
    ),
    path(
        "patients/<int:pk>/consents/add/",
        logs_access("patient", patient=url_patient)(views.patient_add_consent),
        name="patient_add_consent",
    ),
    path(
        "patients/consents/<int:pk>/revoke/",
        logs_access("consent", patient=patient_of(Consent))(views.consent_revoke),
        name="consent_revoke",
    ),
    path(
        "patients/<int:pk>/break-glass/",
        logs_access("patient", patient=url_patient)(patient_break_glass),
        name="patient_break_glass",
    ),
    path(
        "patients/<int:pk>/guardians/add/",
        logs_access("patient", patient=url_patient)(guardian_add),
        name="guardian_add",
    ),
    path(
        "guardians/<int:pk>/edit/",
        logs_access("guardian", patient=patient_of(Guardian))(guardian_edit),
        name="guardian_edit",
    ),
    path(
        "guardians/<int:pk>/history/",
        logs_access("guardian", patient=patient_of(Guardian))(guardian_history_page),
        name="guardian_history",
    ),
    path("organisation/", views.tenant_pick, name="tenant_pick"),
    path("session/", views.session_status, name="session_status"),
]
