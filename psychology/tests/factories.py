import factory

from appointments.tests.note_factories import ClinicalNoteFactory
from psychology.models import PsychologySession


class PsychologySessionFactory(ClinicalNoteFactory):
    class Meta:
        model = PsychologySession

    presenting_issues = "Anxiety symptoms"
    interventions_used = "CBT techniques"
    client_response = "Engaged, practised breathing"
    progress = factory.Sequence(lambda n: f"Progress entry {n}")
    homework = "Daily feelings diary"
    risk_assessment = PsychologySession.RiskLevel.NONE
    plan_next_session = "Review the diary"
