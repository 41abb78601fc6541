from django.urls import path

from core import views

app_name = "core"

urlpatterns = [
    path("patients/", views.patient_search, name="patient_search"),
    path("patients/add/", views.patient_create, name="patient_create"),
    path("patients/<int:pk>/consents/add/", views.patient_add_consent, name="patient_add_consent"),
    path("patients/consents/<int:pk>/revoke/", views.consent_revoke, name="consent_revoke"),
    path("organisation/", views.tenant_pick, name="tenant_pick"),
]
