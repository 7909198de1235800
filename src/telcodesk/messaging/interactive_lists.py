"""WhatsApp interactive list messages: the shape, Meta's limits, and the Graph API body.

A list is a message body with a button that opens a menu of up to 10 rows, grouped in
up to 10 sections. The customer taps one row; its id comes back in the webhook
(``list_reply``). The checks here are Meta's documented limits, so a list the agent
builds is refused here, with what to fix, rather than by the Graph API later.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext as _

from telcodesk.core.errors import ValidationFailed

MAX_BODY = 1024
MAX_BUTTON = 20
MAX_HEADER = 60
MAX_FOOTER = 60
MAX_SECTIONS = 10
MAX_SECTION_TITLE = 24
MAX_ROWS = 10  # in total, across every section
MAX_ROW_ID = 200
MAX_ROW_TITLE = 24
MAX_ROW_DESCRIPTION = 72


@dataclass(frozen=True)
class ListRow:
    id: str
    title: str
    description: str = ""


@dataclass(frozen=True)
class ListSection:
    title: str
    rows: tuple[ListRow, ...]


@dataclass(frozen=True)
class InteractiveList:
    body: str
    button: str
    sections: tuple[ListSection, ...]
    header: str = ""
    footer: str = ""

    @property
    def rows(self) -> list[ListRow]:
        return [row for section in self.sections for row in section.rows]


@dataclass
class _Problems:
    found: list[tuple[str, str]] = field(default_factory=list)

    def add(self, path: str, message: str) -> None:
        self.found.append((path, message))


def interactive_list_check(spec: InteractiveList) -> None:
    """Refuse a list WhatsApp would not take, naming every problem and how to fix it.

    Rows are numbered from 1 across all sections, as the composer shows them. Raises
    ValidationFailed whose message lists the problems and whose ``details`` map each
    field path ("sections.1.rows.0.title") to its message.
    """
    problems = _Problems()
    body, button = spec.body.strip(), spec.button.strip()
    header, footer = spec.header.strip(), spec.footer.strip()
    if not body or len(body) > MAX_BODY:
        problems.add(
            "body",
            _("Write the list's message, 1 to %(max)d characters (it has %(length)d).")
            % {"max": MAX_BODY, "length": len(body)},
        )
    if not button or len(button) > MAX_BUTTON:
        problems.add(
            "button",
            _(
                "Write the text of the button that opens the list, 1 to %(max)d characters "
                "(it has %(length)d)."
            )
            % {"max": MAX_BUTTON, "length": len(button)},
        )
    if len(header) > MAX_HEADER:
        problems.add(
            "header",
            _("Shorten the header to %(max)d characters (it has %(length)d), or leave it empty.")
            % {"max": MAX_HEADER, "length": len(header)},
        )
    if len(footer) > MAX_FOOTER:
        problems.add(
            "footer",
            _("Shorten the footer to %(max)d characters (it has %(length)d), or leave it empty.")
            % {"max": MAX_FOOTER, "length": len(footer)},
        )
    _check_sections(spec, problems)
    if problems.found:
        details: dict[str, list[str]] = {}
        for path, message in problems.found:
            details.setdefault(path, []).append(message)
        raise ValidationFailed(" ".join(m for _p, m in problems.found), details=details)


def _check_sections(spec: InteractiveList, problems: _Problems) -> None:
    rows = spec.rows
    if not rows:
        problems.add("sections", _("Add at least one row to the list."))
    if len(rows) > MAX_ROWS:
        problems.add(
            "sections",
            _("A list has at most %(max)d rows in all; it has %(count)d: remove %(extra)d.")
            % {"max": MAX_ROWS, "count": len(rows), "extra": len(rows) - MAX_ROWS},
        )
    if len(spec.sections) > MAX_SECTIONS:
        problems.add(
            "sections",
            _("A list has at most %(max)d sections; it has %(count)d.")
            % {"max": MAX_SECTIONS, "count": len(spec.sections)},
        )
    several = len(spec.sections) > 1
    number = 0
    seen_ids: set[str] = set()
    seen_titles: set[str] = set()
    for s_index, section in enumerate(spec.sections):
        path = f"sections.{s_index}"
        section_title = section.title.strip()
        if several and not section_title:
            problems.add(
                f"{path}.title",
                _(
                    "Give section %(n)d a title of 1 to %(max)d characters: a list with "
                    "several sections shows their titles."
                )
                % {"n": s_index + 1, "max": MAX_SECTION_TITLE},
            )
        elif len(section_title) > MAX_SECTION_TITLE:
            problems.add(
                f"{path}.title",
                _("Shorten the title of section %(n)d to %(max)d characters (it has %(length)d).")
                % {"n": s_index + 1, "max": MAX_SECTION_TITLE, "length": len(section_title)},
            )
        if not section.rows:
            problems.add(
                f"{path}.rows",
                _("Section %(n)d has no rows: add a row or remove the section.")
                % {"n": s_index + 1},
            )
        for r_index, row in enumerate(section.rows):
            number += 1
            row_path = f"{path}.rows.{r_index}"
            _check_row(row, number, row_path, problems, seen_ids, seen_titles)


def _check_row(
    row: ListRow,
    number: int,
    path: str,
    problems: _Problems,
    seen_ids: set[str],
    seen_titles: set[str],
) -> None:
    title = row.title.strip()
    if not title:
        problems.add(
            f"{path}.title",
            _("Give row %(n)d a title of 1 to %(max)d characters.")
            % {"n": number, "max": MAX_ROW_TITLE},
        )
    elif len(title) > MAX_ROW_TITLE:
        problems.add(
            f"{path}.title",
            _(
                "Shorten the title of row %(n)d (“%(title)s”) to %(max)d characters "
                "(it has %(length)d); put the rest in its description."
            )
            % {"n": number, "title": title, "max": MAX_ROW_TITLE, "length": len(title)},
        )
    elif title.casefold() in seen_titles:
        problems.add(
            f"{path}.title",
            _("Two rows are called “%(title)s”: give each row its own title.") % {"title": title},
        )
    seen_titles.add(title.casefold())
    description = row.description.strip()
    if len(description) > MAX_ROW_DESCRIPTION:
        problems.add(
            f"{path}.description",
            _("Shorten the description of row %(n)d to %(max)d characters (it has %(length)d).")
            % {"n": number, "max": MAX_ROW_DESCRIPTION, "length": len(description)},
        )
    if not row.id or len(row.id) > MAX_ROW_ID:
        problems.add(
            f"{path}.id",
            _("Give row %(n)d an id of 1 to %(max)d characters.")
            % {"n": number, "max": MAX_ROW_ID},
        )
    elif row.id in seen_ids:
        problems.add(
            f"{path}.id",
            _("Row %(n)d repeats the id “%(id)s”: every row needs its own id.")
            % {"n": number, "id": row.id},
        )
    seen_ids.add(row.id)


def interactive_list_payload(to: str, spec: InteractiveList) -> dict[str, Any]:
    """The Graph API body of ``spec`` (``POST /{version}/{phone-number-id}/messages``).

    Empty header, footer, section titles (allowed with one section) and descriptions
    are left out, as the API expects.
    """
    sections = []
    for section in spec.sections:
        rows = []
        for row in section.rows:
            item = {"id": row.id, "title": row.title.strip()}
            if row.description.strip():
                item["description"] = row.description.strip()
            rows.append(item)
        entry: dict[str, Any] = {"rows": rows}
        if section.title.strip():
            entry = {"title": section.title.strip(), **entry}
        sections.append(entry)
    interactive: dict[str, Any] = {"type": "list"}
    if spec.header.strip():
        interactive["header"] = {"type": "text", "text": spec.header.strip()}
    interactive["body"] = {"text": spec.body.strip()}
    if spec.footer.strip():
        interactive["footer"] = {"text": spec.footer.strip()}
    interactive["action"] = {"button": spec.button.strip(), "sections": sections}
    return {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": to,
        "type": "interactive",
        "interactive": interactive,
    }
