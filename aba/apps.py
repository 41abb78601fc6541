from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AbaConfig(AppConfig):
    name = "aba"
    verbose_name = _("Applied behaviour analysis")
