"""Reads of the nps app: the organization's settings, the survey a reply belongs to,
the surveys an actor may see, and the NPS figures.

Who sees what: every role that sees tickets sees its own surveys and figures (the
surveys it sent or whose ticket it had); supervisors (``ticket.assign`` or
``playbook.supervise``) see the whole organization's.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Literal
from zoneinfo import ZoneInfo

from django.db.models import Count, Q, QuerySet
from django.db.models.functions import TruncDate, TruncWeek
from django.utils import timezone
from django.utils.translation import gettext as _

from telcodesk.accounts.models import Organization, Team, User
from telcodesk.core.errors import NotFound, ValidationFailed
from telcodesk.core.tenancy import Actor
from telcodesk.messaging.models import Conversation
from telcodesk.nps.models import (
    DETRACTOR_MAX,
    PROMOTER_MIN,
    NpsSettings,
    Survey,
    SurveyStage,
    SurveyStatus,
)
from telcodesk.tickets.models import TicketCategory

VIEW_PERMISSION = "ticket.view"
SEND_PERMISSION = "ticket.work"
# Either one makes a supervisor of the NPS figures (see accounts/roles.py).
SUPERVISE_PERMISSIONS = ("ticket.assign", "playbook.supervise")

GroupBy = Literal["day", "week", "agent", "team", "category"]
GROUPS: tuple[str, ...] = ("day", "week", "agent", "team", "category")
MAX_PERIOD_DAYS = 366


def nps_settings_of(*, organization_id: int) -> NpsSettings | None:
    """The organization's settings from its pack, or None when its pack has none."""
    return NpsSettings.objects.filter(organization_id=organization_id, is_enabled=True).first()


def nps_settings_or_default(*, organization: Organization) -> NpsSettings:
    """The settings, or the defaults (unsaved) for an organization without an nps section."""
    found = nps_settings_of(organization_id=organization.pk)
    return found if found is not None else NpsSettings(organization=organization)


def survey_open_for(
    *, conversation: Conversation, now: datetime, survey_id: int | None = None
) -> Survey | None:
    """The survey a new message of ``conversation`` answers, locked; None if there is none.

    Open means waiting for the score (sent, not expired) or, once answered, waiting for
    the comment within the organization's comment minutes. ``survey_id`` (from a tapped
    button) names one; without it the newest open one is taken.
    """
    settings = nps_settings_or_default(organization=conversation.organization)
    comment_since = now - timedelta(minutes=settings.comment_minutes)
    surveys = (
        Survey.objects.select_for_update()
        .filter(conversation=conversation, organization_id=conversation.organization_id)
        .filter(
            Q(status=SurveyStatus.SENT, expires_at__gt=now)
            | Q(
                status=SurveyStatus.ANSWERED,
                stage=SurveyStage.COMMENT,
                answered_at__gte=comment_since,
            )
        )
    )
    if survey_id is not None:
        surveys = surveys.filter(pk=survey_id)
    return surveys.order_by("-sent_at", "-id").first()


def is_supervisor(actor: Actor) -> bool:
    return any(actor.can(permission) for permission in SUPERVISE_PERMISSIONS)


def surveys_visible(*, actor: Actor) -> QuerySet[Survey]:
    """The surveys of the actor's organization it may see (its own, or all)."""
    actor.require(VIEW_PERMISSION)
    surveys = Survey.objects.filter(organization=actor.organization)
    if is_supervisor(actor):
        return surveys
    if actor.user is None:
        return surveys.none()
    return surveys.filter(Q(agent=actor.user) | Q(sent_by=actor.user))


def survey_get(*, actor: Actor, survey_id: int) -> Survey:
    survey = surveys_visible(actor=actor).filter(pk=survey_id).first()
    if survey is None:
        raise NotFound(_("No such survey. It may belong to another organization."))
    return survey


def period_check(start: datetime, end: datetime) -> None:
    """Refuse a period without time zone, backwards, or longer than a year."""
    if timezone.is_naive(start) or timezone.is_naive(end):
        message = _("Give start and end with their time zone, e.g. 2025-07-01T00:00:00-06:00.")
        raise ValidationFailed(message, details={"start": [message]})
    if end <= start:
        message = _("The end must be after the start.")
        raise ValidationFailed(message, details={"end": [message]})
    if end - start > timedelta(days=MAX_PERIOD_DAYS):
        message = _("Choose a period of at most %(days)d days.") % {"days": MAX_PERIOD_DAYS}
        raise ValidationFailed(message, details={"end": [message]})


def surveys_recent(
    *,
    actor: Actor,
    start: datetime | None = None,
    end: datetime | None = None,
    status: str = "",
    limit: int = 50,
) -> list[Survey]:
    """The newest surveys first (in [start, end) when given), with what the list shows."""
    surveys = surveys_visible(actor=actor)
    if start is not None and end is not None:
        period_check(start, end)
        surveys = surveys.filter(sent_at__gte=start, sent_at__lt=end)
    if status:
        if status not in SurveyStatus.values:
            message = _("Choose a status among: %(allowed)s.") % {
                "allowed": ", ".join(SurveyStatus.values)
            }
            raise ValidationFailed(message, details={"status": [message]})
        surveys = surveys.filter(status=status)
    return list(
        surveys.select_related(
            "ticket", "customer", "agent", "team", "conversation__channel"
        ).order_by("-sent_at", "-id")[: max(1, min(limit, 500))]
    )


# --- figures ------------------------------------------------------------------------------


def nps_value(*, promoters: int, detractors: int, responses: int) -> float | None:
    """% promoters − % detractors, rounded half up to one decimal; None without answers."""
    if responses == 0:
        return None
    value = Decimal(100 * (promoters - detractors)) / Decimal(responses)
    return float(value.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))


def percent(part: int, whole: int) -> float | None:
    if whole == 0:
        return None
    value = Decimal(100 * part) / Decimal(whole)
    return float(value.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))


@dataclass(frozen=True)
class NpsFigure:
    """One group's figures: ``key`` is a date (day, week's Monday), an id, or a category."""

    key: Any
    label: str
    sent: int
    responses: int
    promoters: int
    passives: int
    detractors: int

    @property
    def nps(self) -> float | None:
        return nps_value(
            promoters=self.promoters, detractors=self.detractors, responses=self.responses
        )

    @property
    def response_rate(self) -> float | None:
        return percent(self.responses, self.sent)


_COUNTS: dict[str, Count] = {
    "sent": Count("id"),
    "responses": Count("id", filter=Q(status=SurveyStatus.ANSWERED)),
    "promoters": Count("id", filter=Q(status=SurveyStatus.ANSWERED, score__gte=PROMOTER_MIN)),
    "detractors": Count("id", filter=Q(status=SurveyStatus.ANSWERED, score__lte=DETRACTOR_MAX)),
}


def _figures_base(*, actor: Actor, start: datetime, end: datetime) -> QuerySet[Survey]:
    """The surveys sent in [start, end) that count: every one that went out (a survey
    that could not be sent is neither sent nor unanswered)."""
    surveys = surveys_visible(actor=actor)
    period_check(start, end)
    return surveys.filter(sent_at__gte=start, sent_at__lt=end).exclude(status=SurveyStatus.REFUSED)


def _figure(key: Any, label: str, row: dict[str, Any]) -> NpsFigure:
    return NpsFigure(
        key=key,
        label=label,
        sent=row["sent"],
        responses=row["responses"],
        promoters=row["promoters"],
        passives=row["responses"] - row["promoters"] - row["detractors"],
        detractors=row["detractors"],
    )


def nps_summary(*, actor: Actor, start: datetime, end: datetime) -> NpsFigure:
    """The whole period's figures (the dashboard's headline)."""
    row = _figures_base(actor=actor, start=start, end=end).aggregate(**_COUNTS)
    return _figure("total", _("All"), row)


def _zone(actor: Actor) -> ZoneInfo:
    return ZoneInfo(actor.organization.time_zone or "UTC")


def nps_figures(*, actor: Actor, start: datetime, end: datetime, group_by: str) -> list[NpsFigure]:
    """The figures of the surveys sent in [start, end), per group.

    ``day`` and ``week`` (weeks start on Monday) are in the organization's time zone, in
    date order, every period with a survey; ``agent``, ``team`` and ``category`` are the
    attribution copied when the survey was sent, most answers first.
    """
    if group_by not in GROUPS:
        message = _("Group by one of: %(allowed)s.") % {"allowed": ", ".join(GROUPS)}
        raise ValidationFailed(message, details={"group_by": [message]})
    surveys = _figures_base(actor=actor, start=start, end=end)
    zone = _zone(actor)
    if group_by == "day":
        rows = surveys.annotate(group=TruncDate("sent_at", tzinfo=zone))
    elif group_by == "week":
        rows = surveys.annotate(group=TruncWeek("sent_at", tzinfo=zone))
    else:
        rows = surveys.annotate(group=_group_field(group_by))
    found = list(rows.values("group").annotate(**_COUNTS).order_by())
    figures = [_figure(_key(group_by, row["group"], zone), "", row) for row in found]
    labels = _labels(group_by, [figure.key for figure in figures])
    figures = [
        NpsFigure(**{**vars(figure), "label": labels.get(figure.key, "")}) for figure in figures
    ]
    if group_by in ("day", "week"):
        return sorted(figures, key=lambda f: f.key)
    return sorted(figures, key=lambda f: (-f.responses, -f.sent, f.label))


def _group_field(group_by: str) -> Any:
    from django.db.models import F

    return F({"agent": "agent_id", "team": "team_id", "category": "category"}[group_by])


def _key(group_by: str, value: Any, zone: ZoneInfo) -> Any:
    if group_by == "week" and isinstance(value, datetime):
        return value.astimezone(zone).date() if timezone.is_aware(value) else value.date()
    return value


def _labels(group_by: str, keys: list[Any]) -> dict[Any, str]:
    if group_by == "day":
        return {key: key.isoformat() for key in keys if isinstance(key, date)}
    if group_by == "week":
        return {
            key: _("Week of %(date)s") % {"date": key.isoformat()}
            for key in keys
            if isinstance(key, date)
        }
    if group_by == "agent":
        users = User.objects.in_bulk([key for key in keys if key is not None])
        labels = {key: (user.get_full_name() or user.get_username()) for key, user in users.items()}
        return {**labels, None: _("No agent")}
    if group_by == "team":
        teams = Team.objects.in_bulk([key for key in keys if key is not None])
        return {**{key: team.name for key, team in teams.items()}, None: _("No team")}
    labels = {key: str(label) for key, label in TicketCategory.choices}
    return {**labels, "": _("No category")}


def trend_periods(*, start: datetime, end: datetime, group_by: str, zone: ZoneInfo) -> list[date]:
    """Every day (or Monday) of the period, for a chart with gaps where no survey went."""
    first = start.astimezone(zone).date()
    last = (end - timedelta(microseconds=1)).astimezone(zone).date()
    if group_by == "week":
        first -= timedelta(days=first.weekday())
        step = timedelta(days=7)
    else:
        step = timedelta(days=1)
    days: list[date] = []
    current = first
    while current <= last:
        days.append(current)
        current += step
    return days
