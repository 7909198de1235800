"""The ``nps`` section of an organization in an operator pack.

An organization with this section sends its NPS survey (0–10, "how likely are you to
recommend us") to the customer on WhatsApp or SMS when a ticket is resolved, and its
playbooks may send it with the ``send_nps`` action::

    nps:
      send_on_resolved: true        # the survey goes when a ticket is resolved
      good_threshold: 50            # the dashboard's "good service" line (NPS above it)
      template: encuesta_nps        # approved utility template used outside the 24 h window
      question: >-
        Antes de despedirnos, ¿qué tan probable es que nos recomiende? Responda del 0 al 10.
      expires_after_hours: 72       # a survey not answered by then stays unanswered
      comment_minutes: 30           # the text after the score within this time is the comment
      reasks: 2                     # a reply that is not a score is asked again at most this often

The template (declared in the pack's ``messages.templates``) must have the three
quick-reply buttons "0–6", "7–8" and "9–10": a tap on one of them is the first step of
the survey like the session message's reply buttons (see docs/nps.md).
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, StringConstraints

from telcodesk.packs.spec_base import PackModel, Text

TemplateName = Annotated[
    str, StringConstraints(strip_whitespace=True, pattern=r"^[a-z0-9_]*$", max_length=512)
]


class NpsSpec(PackModel):
    send_on_resolved: bool = True
    good_threshold: Annotated[int, Field(ge=-100, le=100)] = 50
    template: TemplateName = ""
    # The question in the pack's language; empty: the product's translated default.
    question: Annotated[Text, Field(max_length=900)] = ""
    expires_after_hours: Annotated[int, Field(ge=1, le=24 * 14)] = 72
    comment_minutes: Annotated[int, Field(ge=0, le=24 * 60)] = 30
    reasks: Annotated[int, Field(ge=0, le=5)] = 2
