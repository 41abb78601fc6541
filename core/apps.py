from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "core"
    verbose_name = _("Clinic core")

    def ready(self) -> None:
        from core.db_roles import grant_after_migrate
        from core.row_hashes import install_row_hashes

        # Once per migrate (sender: this app), after every table exists: the audit tables' hash
        # columns and triggers (core.row_hashes), then the app role's grants.
        post_migrate.connect(install_row_hashes, sender=self, dispatch_uid="core.row_hashes.install")
        post_migrate.connect(grant_after_migrate, sender=self, dispatch_uid="core.db_roles.grant")
        self.connect_login_signals()

    def connect_login_signals(self) -> None:
        """Privilege history and session ends (core.privileges), session stamps (core.session_timeout)."""
        from django.contrib.auth.signals import user_logged_in, user_logged_out
        from django.db.models.signals import post_save, pre_save

        from core import privileges, session_timeout
        from core.models import User

        pre_save.connect(privileges.remember_privileges, sender=User, dispatch_uid="core.privileges.before")
        post_save.connect(
            privileges.record_privilege_changes, sender=User, dispatch_uid="core.privileges.after"
        )
        user_logged_out.connect(privileges.end_other_sessions, dispatch_uid="core.privileges.end_sessions")
        user_logged_in.connect(session_timeout.stamp_sign_in, dispatch_uid="core.session_timeout.stamp")
