from django.urls import path

from core import views

app_name = "core"

urlpatterns = [
    path("", views.patient_search, name="patient_search"),
    path("add/", views.patient_create, name="patient_create"),
    path("<int:pk>/consents/add/", views.patient_add_consent, name="patient_add_consent"),
    path("consents/<int:pk>/revoke/", views.consent_revoke, name="consent_revoke"),
]
