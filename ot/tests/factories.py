import factory

from appointments.tests.note_factories import ClinicalNoteFactory
from ot.models import OTSession, OTTargetSkill


class OTSessionFactory(ClinicalNoteFactory):
    class Meta:
        model = OTSession

    activities = "Bead threading, obstacle course"
    attention_level = OTSession.Level.GOOD
    cooperation_level = OTSession.Level.FAIR
    sensory_observations = "Seeks deep pressure"
    recommendations = "Weighted lap pad in class"
    home_programme = "Playdough 10 minutes a day"


class OTTargetSkillFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = OTTargetSkill

    note = factory.SubFactory(OTSessionFactory)
    skill = factory.Sequence(lambda n: f"Fine motor skill {n}")
    rating = 6
