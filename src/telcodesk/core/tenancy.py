"""Who is acting, for which organization, with which role.

Every service and selector takes an ``Actor``; scoping by organization happens there,
never only in a view. An Actor is built from a logged-in user's membership (UI) or
from an API key (API).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.utils.translation import gettext as _

from telcodesk.accounts.roles import role_allows
from telcodesk.core.errors import PermissionDenied

if TYPE_CHECKING:
    from telcodesk.accounts.models import Organization, User


@dataclass(frozen=True)
class Actor:
    organization: Organization
    role: str
    user: User | None = None
    label: str = ""

    @property
    def is_reseller(self) -> bool:
        return self.organization.is_reseller

    def can(self, permission: str) -> bool:
        return role_allows(self.role, permission)

    def require(self, permission: str) -> None:
        if not self.can(permission):
            raise PermissionDenied(
                _("Your role does not allow this action. Ask a supervisor or an administrator.")
            )

    @property
    def display(self) -> str:
        if self.user is not None:
            return self.user.get_full_name() or self.user.get_username()
        return self.label
