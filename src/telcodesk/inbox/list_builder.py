"""The composer's list builder: its form fields to an InteractiveList and back.

Fields: ``list-body``, ``list-button``, ``list-header``, ``list-footer``,
``section-<s>-title`` and ``section-<s>-row-<r>-title`` / ``-description``; inbox.js
adds sections and rows by copying blank ones (``__S__``, ``__R__``, ``__N__``).
"""

from __future__ import annotations

import dataclasses
import re
from typing import Any

from django.http import QueryDict

from telcodesk.messaging.interactive_lists import MAX_ROWS, InteractiveList, ListRow, ListSection

LIST_FIELD = re.compile(r"^section-(\d{1,2})-(?:title|row-(\d{1,2})-(title|description))$")
DEFAULT_ROWS = 3
FIELD_MAX = 500  # far above Meta's limits: the checks name the field that is too long


def list_builder_fields(spec: InteractiveList | None = None) -> dict[str, Any]:
    """The list builder's fields: the agent's list after a refusal, else one empty section."""
    empty_section = ListSection(title="", rows=(ListRow(id="", title=""),) * DEFAULT_ROWS)
    if spec is None:
        spec = InteractiveList(body="", button="", sections=(empty_section,))
    elif not spec.sections:
        spec = dataclasses.replace(spec, sections=(empty_section,))
    blank = {"index": "__R__", "number": "__N__", "title": "", "description": ""}
    number = 0
    sections = []
    for s_index, section in enumerate(spec.sections):
        rows = []
        for r_index, row in enumerate(section.rows or (ListRow(id="", title=""),)):
            number += 1
            rows.append(
                {
                    "index": r_index,
                    "number": number,
                    "title": row.title,
                    "description": row.description,
                }
            )
        sections.append(
            {"index": s_index, "number": s_index + 1, "title": section.title, "rows": rows}
        )
    return {
        "body": spec.body,
        "button": spec.button,
        "header": spec.header,
        "footer": spec.footer,
        "sections": sections,
        "row_count": sum(1 for s in spec.sections for r in s.rows if r.title.strip()),
        "max_rows": MAX_ROWS,
        # The copies "Add a section" / "Add a row" start from; inbox.js numbers them.
        "blank_section": {"index": "__S__", "number": "__SN__", "title": "", "rows": [blank]},
        "blank_row": blank,
    }


def list_from_form(post: QueryDict) -> InteractiveList:
    """The list builder's form as a list; rows with neither title nor description and
    sections with no title and no rows are the builder's unused slots, left out.

    Rows get the ids "agent:list:<n>" (n from 1 across sections), which come back in
    the customer's reply.
    """
    found: dict[int, dict[str, Any]] = {}
    for key in post:
        match = LIST_FIELD.match(key)
        if match is None:
            continue
        section = found.setdefault(int(match.group(1)), {"title": "", "rows": {}})
        value = post.get(key, "")[:FIELD_MAX]
        if match.group(2) is None:
            section["title"] = value.strip()
        else:
            row = section["rows"].setdefault(int(match.group(2)), {})
            row[match.group(3)] = value.strip()
    sections = []
    number = 0
    for s_index in sorted(found):
        rows = []
        for r_index in sorted(found[s_index]["rows"]):
            row = found[s_index]["rows"][r_index]
            title, description = row.get("title", ""), row.get("description", "")
            if not (title or description):
                continue
            number += 1
            rows.append(ListRow(id=f"agent:list:{number}", title=title, description=description))
        if rows or found[s_index]["title"]:
            sections.append(ListSection(title=found[s_index]["title"], rows=tuple(rows)))
    return InteractiveList(
        body=post.get("list-body", "")[:5000].strip(),
        button=post.get("list-button", "")[:FIELD_MAX].strip(),
        header=post.get("list-header", "")[:FIELD_MAX].strip(),
        footer=post.get("list-footer", "")[:FIELD_MAX].strip(),
        sections=tuple(sections),
    )
