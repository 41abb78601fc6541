import factory

from aba.models import ABABehaviourRecord, ABASession, ABASkillTarget
from appointments.tests.note_factories import ClinicalNoteFactory


class ABASessionFactory(ClinicalNoteFactory):
    class Meta:
        model = ABASession

    session_summary = "Worked on requesting and waiting"
    caregiver_training = "Mother practised first-then board"


class ABABehaviourRecordFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ABABehaviourRecord

    note = factory.SubFactory(ABASessionFactory)
    antecedent = "Toy removed"
    behaviour = "Crying"
    consequence = "Planned ignoring, then redirection"
    frequency = 3
    duration_seconds = 45
    intensity = ABABehaviourRecord.Intensity.MILD


class ABASkillTargetFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ABASkillTarget

    note = factory.SubFactory(ABASessionFactory)
    target = factory.Sequence(lambda n: f"Receptive label {n}")
    trials = 10
    correct = 7
    prompt_level = ABASkillTarget.PromptLevel.VERBAL
