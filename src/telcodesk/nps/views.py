"""The NPS dashboard (``/nps/``): the period's NPS, its trend against the pack's "good
service" line, the figures per agent, team and category, and the recent surveys.

Views only turn the query string into selector calls; agents see their own figures and
supervisors the organization's (``nps.selectors.surveys_visible``).
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from telcodesk.core.errors import ValidationFailed
from telcodesk.core.tenancy import Actor
from telcodesk.customers.views import console_view
from telcodesk.nps import selectors
from telcodesk.nps.chart import trend_chart
from telcodesk.nps.models import SurveyStatus

DEFAULT_DAYS = 30
# Longer periods are drawn per week unless the agent asks for days.
DAILY_UP_TO_DAYS = 62
RECENT_SURVEYS = 50


def _day(raw: str | None, default: date) -> date:
    try:
        return date.fromisoformat(raw) if raw else default
    except ValueError:
        raise ValidationFailed(_("Write the dates as YYYY-MM-DD, e.g. 2025-07-01.")) from None


def _period(request: HttpRequest, zone: ZoneInfo) -> tuple[date, date, str]:
    today = timezone.now().astimezone(zone).date()
    first = _day(request.GET.get("start"), today - timedelta(days=DEFAULT_DAYS - 1))
    last = _day(request.GET.get("end"), today)
    if last < first:
        raise ValidationFailed(_("The end date must not be before the start date."))
    if (last - first).days >= selectors.MAX_PERIOD_DAYS:
        raise ValidationFailed(
            _("Choose a period of at most %(days)d days.") % {"days": selectors.MAX_PERIOD_DAYS}
        )
    return first, last, ""


@require_GET
@console_view
def dashboard_view(request: HttpRequest, actor: Actor) -> HttpResponse:
    actor.require(selectors.VIEW_PERMISSION)
    zone = ZoneInfo(actor.organization.time_zone or "UTC")
    today = timezone.now().astimezone(zone).date()
    error = ""
    try:
        first, last, _unused = _period(request, zone)
    except ValidationFailed as exc:
        error = exc.message
        first, last = today - timedelta(days=DEFAULT_DAYS - 1), today
    start = datetime.combine(first, time.min, tzinfo=zone)
    end = datetime.combine(last + timedelta(days=1), time.min, tzinfo=zone)
    grain = request.GET.get("grain", "")
    if grain not in ("day", "week"):
        grain = "day" if (last - first).days < DAILY_UP_TO_DAYS else "week"
    settings = selectors.nps_settings_or_default(organization=actor.organization)
    trend = selectors.nps_figures(actor=actor, start=start, end=end, group_by=grain)
    periods = selectors.trend_periods(start=start, end=end, group_by=grain, zone=zone)
    chart = trend_chart(
        periods=periods,
        figures=trend,
        labels={figure.key: figure.label for figure in trend},
        threshold=settings.good_threshold,
    )
    summary = selectors.nps_summary(actor=actor, start=start, end=end)
    return render(
        request,
        "nps/dashboard.html",
        {
            "nav_active": "nps",
            "start": first,
            "end": last,
            "grain": grain,
            "error": error,
            "supervisor": selectors.is_supervisor(actor),
            "threshold": settings.good_threshold,
            "summary": summary,
            "is_good": summary.nps is not None and summary.nps > settings.good_threshold,
            "chart": chart,
            "trend": trend,
            "agents": selectors.nps_figures(actor=actor, start=start, end=end, group_by="agent"),
            "teams": selectors.nps_figures(actor=actor, start=start, end=end, group_by="team"),
            "categories": selectors.nps_figures(
                actor=actor, start=start, end=end, group_by="category"
            ),
            "surveys": [
                {"survey": survey, "status": status, "status_label": SurveyStatus(status).label}
                for survey in selectors.surveys_recent(
                    actor=actor, start=start, end=end, limit=RECENT_SURVEYS
                )
                for status in [survey.status_at(timezone.now())]
            ],
        },
        status=422 if error else 200,
    )
