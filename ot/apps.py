from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OtConfig(AppConfig):
    name = "ot"
    verbose_name = _("Occupational therapy")
