"""SNMP credentials of an OLT: what a usable set looks like.

Pure checks shared by the admin form (``Olt.clean``) and the SNMP client, so a bad set
is refused with a message that says what to fill in before any request is sent.
"""

from __future__ import annotations

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

# RFC 3414: keys shorter than 8 characters are refused by agents (and by pysnmp).
MIN_V3_KEY_LENGTH = 8


def snmp_credential_problems(
    *,
    version: str,
    community: str,
    user: str,
    auth_protocol: str,
    auth_key: str,
    priv_protocol: str,
    priv_key: str,
) -> dict[str, Promise]:
    """Field name -> what is wrong with it; empty when the credentials are usable."""
    problems: dict[str, Promise] = {}
    if version == "2c":
        if not community:
            problems["snmp_community"] = _("SNMP v2c needs the read community of the OLT.")
        return problems
    if version != "3":
        problems["snmp_version"] = _("Choose SNMP v2c or v3.")
        return problems
    if not user:
        problems["snmp_v3_user"] = _("SNMP v3 needs the user name configured on the OLT.")
    if auth_protocol != "none" and len(auth_key) < MIN_V3_KEY_LENGTH:
        problems["snmp_v3_auth_key"] = _("The authentication key must have at least 8 characters.")
    if priv_protocol != "none":
        if auth_protocol == "none":
            problems["snmp_v3_priv_protocol"] = _(
                "Encryption needs authentication too: choose an authentication protocol."
            )
        if len(priv_key) < MIN_V3_KEY_LENGTH:
            problems["snmp_v3_priv_key"] = _("The privacy key must have at least 8 characters.")
    return problems
