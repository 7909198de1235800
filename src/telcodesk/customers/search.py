"""Customer search: one box that finds a customer by name or by any identifier.

How a query is answered, in a small fixed number of queries:

1. Identifiers (one UNION query over the indexed columns, scoped to what the actor
   sees): phones (``phone_query_forms``: E.164 candidates of whatever was typed),
   document numbers (``document_query_forms``: compact forms, with or without dots and
   dashes), service IDs and contract numbers (upper-case, as stored), e-mails
   (lower-case). These are exact matches and rank first, with score ``IDENTIFIER_SCORE``.
2. Names, normalized with ``names.normalize_name`` (lower-case, accent-free), with AND
   semantics: every query token must match a token of the name.

   * Precise stage: every token as a whole word, the last one as a word prefix
     ("Quis" finds "Quispe"). PostgreSQL: word-boundary regular expressions, those of
     the two longest words served by the GIN trigram index ``customer_search_name_trgm``
     (pg_trgm), the others checked on the rows found; SQLite: ``CustomerNameKey``
     rows: the longest token drives through the covering index
     ``namekey_org_key_customer`` (migration 0003), the others are probes on the
     candidate's own keys.
   * Typo stage, only when the precise stage found nobody, for words of 4 characters
     or more: within one insertion, deletion, substitution or swap of adjacent
     characters (symmetric deletion: two words are that close only if they share a
     one-deletion key). A word that some name has is taken as typed right, the
     others are expanded (all of them if every word exists). SQLite: the keys of each
     token looked up in ``CustomerNameKey``. PostgreSQL: the keys looked up in the
     word dictionary
     ``customers_search_word_key`` (migration 0003: one row per distinct word and
     key, so its cost does not grow with the customers), then the names searched for
     the real words found, as in the precise stage. Trigram similarity alone was
     measured too slow at a million names and misses swapped letters ("Qiuspe").
   * One- and two-letter words ("S.A.", "y") are checked in Python only, unless the
     query has nothing longer: then it is a prefix search (PostgreSQL: of the whole
     name, B-tree ``customer_search_name_prefix``; SQLite: of any word).

   The database returns at most ``NAME_CANDIDATES`` candidates; they are verified and
   scored here in Python, the same way on both databases, with a real edit distance.
3. The customers of the best hits are fetched in one query (with their organization).

Scores: identifiers ``IDENTIFIER_SCORE`` (2.0); names in (0, 1]: per query token 1.0
for the same word, 0.9 for a prefix of a word (0.8 if it is not the last token), 0.7
for a word one edit away; the mean over the query tokens, slightly lowered for names
with many more words than the query. Ties: the lower customer id first.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import connection

from telcodesk.accounts.models import Organization
from telcodesk.core.tenancy import Actor
from telcodesk.customers.documents import document_query_forms
from telcodesk.customers.models import (
    ContactPoint,
    Customer,
    CustomerAssignment,
    CustomerNameKey,
    IdentityDocument,
    Subscription,
)
from telcodesk.customers.names import MAX_KEY_LEN, MIN_TYPO_TOKEN, deletion_keys, normalize_name
from telcodesk.customers.phones import phone_query_forms
from telcodesk.customers.selectors import customers_visible

IDENTIFIER_SCORE = 2.0
NAME_CANDIDATES = 200  # rows a name stage may hand to Python for scoring
MAX_QUERY_LENGTH = 200
MAX_NAME_TOKENS = 6
MIN_TRIGRAM_TOKEN = 3  # pg_trgm cannot narrow a search with shorter words
PG_INDEXED_TOKENS = 2  # words of a name query given to the trigram index, the longest
IDENTIFIER_KINDS = ("service_id", "contract", "document", "phone", "email")
_KIND_ORDER = {kind: index for index, kind in enumerate(IDENTIFIER_KINDS)}
_CONTACT_KINDS = {ContactPoint.Kind.PHONE: "phone", ContactPoint.Kind.EMAIL: "email"}


@dataclass(frozen=True)
class SearchHit:
    customer: Customer
    matched_on: str  # "phone" | "document" | "service_id" | "contract" | "email" | "name"
    score: float


@dataclass(frozen=True)
class SearchPlan:
    """What a query can be: computed once, used by the search and by search_explain."""

    text: str
    phone_forms: list[str] = field(default_factory=list)
    document_forms: list[str] = field(default_factory=list)
    subscription_forms: list[str] = field(default_factory=list)
    email: str = ""
    name_tokens: list[str] = field(default_factory=list)

    @property
    def contact_values(self) -> list[str]:
        return [*self.phone_forms, *([self.email] if self.email else [])]

    @property
    def kinds(self) -> list[str]:
        tried = []
        if self.subscription_forms:
            tried += ["service_id", "contract"]
        if self.document_forms:
            tried.append("document")
        if self.phone_forms:
            tried.append("phone")
        if self.email:
            tried.append("email")
        if self.name_tokens:
            tried.append("name")
        return tried


def search_plan(*, actor: Actor, query: str) -> SearchPlan:
    text = " ".join((query or "").split())[:MAX_QUERY_LENGTH]
    if not text:
        return SearchPlan(text="")
    compact = text.replace(" ", "").upper()
    subscription_forms: list[str] = []
    # Service IDs and contract numbers have no spaces, or digits ("FTTH 000123").
    may_be_code = " " not in text or any(char.isdigit() for char in text)
    if 0 < len(compact) <= 40 and "@" not in compact and may_be_code:
        subscription_forms = list(dict.fromkeys([text.upper(), compact]))
    email = text.lower() if "@" in text and " " not in text else ""
    tokens = normalize_name(text).split()
    # A name has at least one letter: "70712345" or "12.345.678" are not names.
    if not any(char.isalpha() for char in "".join(tokens)) or email:
        tokens = []
    return SearchPlan(
        text=text,
        phone_forms=phone_query_forms(text, region=actor.organization.country),
        document_forms=document_query_forms(text),
        subscription_forms=subscription_forms,
        email=email,
        name_tokens=[token[:MAX_KEY_LEN] for token in tokens[:MAX_NAME_TOKENS]],
    )


def customer_search(*, actor: Actor, query: str, limit: int = 20) -> list[SearchHit]:
    """The customers the actor may see that match ``query``, best first.

    Exact identifier matches (phone, document, service ID, contract, e-mail) come
    first with score ``IDENTIFIER_SCORE``, then name matches scored in (0, 1].
    At most five queries: identifiers, words as typed, typo stage (two: which words
    exist, then the names), customers.
    """
    visible = customers_visible(actor=actor)  # checks customer.view
    plan = search_plan(actor=actor, query=query)
    limit = max(1, min(limit, 100))
    ranked: dict[int, tuple[str, float]] = {}
    for customer_id, kind in _identifier_matches(actor=actor, plan=plan):
        if len(ranked) >= limit:
            break
        ranked.setdefault(customer_id, (kind, IDENTIFIER_SCORE))
    # A code that matched ("FTTH-000123", "70712345") is not also looked up as a name.
    code_matched = bool(ranked) and any(char.isdigit() for char in plan.text)
    if plan.name_tokens and len(ranked) < limit and not code_matched:
        for customer_id, score in _name_matches(
            actor=actor, tokens=plan.name_tokens, limit=limit, exclude=set(ranked)
        ):
            if len(ranked) >= limit:
                break
            ranked.setdefault(customer_id, ("name", score))
    if not ranked:
        return []
    customers = visible.select_related("organization").in_bulk(list(ranked))
    return [
        SearchHit(customer=customers[customer_id], matched_on=kind, score=score)
        for customer_id, (kind, score) in ranked.items()
        if customer_id in customers
    ]


def search_explain(*, actor: Actor, query: str) -> dict[str, Any]:
    """Which kinds of match a query is tried as, and with which forms (no database)."""
    actor.require("customer.view")
    plan = search_plan(actor=actor, query=query)
    sql_tokens, stages = name_stages(plan.name_tokens) if plan.name_tokens else ([], [])
    return {
        "query": plan.text,
        "kinds": plan.kinds,
        "phone_forms": plan.phone_forms,
        "document_forms": plan.document_forms,
        "subscription_forms": plan.subscription_forms,
        "email": plan.email,
        "name_tokens": plan.name_tokens,
        "name_sql_tokens": sql_tokens,
        # "typo" runs only when "precise" finds nobody.
        "name_stages": stages,
        "name_method": ("pg_trgm" if connection.vendor == "postgresql" else "name_keys")
        if stages
        else "",
        "reseller_scope": actor.is_reseller,
    }


# --- identifiers ------------------------------------------------------------------


def _row_scope_sql(actor: Actor, alias: str) -> tuple[str, list[Any]]:
    """Rows (contacts, documents, services) of customers the actor sees.

    The rows carry their customer's organization, so an operator needs no join.
    """
    if actor.is_reseller:
        table = CustomerAssignment._meta.db_table
        return (
            f"EXISTS (SELECT 1 FROM {table} a WHERE a.customer_id = {alias}.customer_id "
            "AND a.reseller_id = %s)",
            [actor.organization.pk],
        )
    return f"{alias}.organization_id = %s", [actor.organization.pk]


def _identifier_matches(*, actor: Actor, plan: SearchPlan) -> list[tuple[int, str]]:
    """(customer id, kind) of exact identifier matches, in one query, best kind first.

    Raw SQL on purpose: the ORM took longer to compile this UNION than the database
    to answer it (each part is one probe of a B-tree on the identifier column).
    """
    lookups: list[tuple[str, str, str, list[str]]] = []  # table, column, kind, values
    if plan.contact_values:
        lookups.append((ContactPoint._meta.db_table, "value", "", plan.contact_values))
    if plan.document_forms:
        lookups.append((IdentityDocument._meta.db_table, "number", "document", plan.document_forms))
    if plan.subscription_forms:
        table = Subscription._meta.db_table
        lookups.append((table, "service_id", "service_id", plan.subscription_forms))
        lookups.append((table, "contract_number", "contract", plan.subscription_forms))
    if not lookups:
        return []
    parts: list[str] = []
    params: list[Any] = []
    for table, column, kind, values in lookups:
        scope, scope_params = _row_scope_sql(actor, "t")
        kind_sql = "t.kind" if not kind else "%s"
        parts.append(
            f"SELECT t.customer_id, {kind_sql} FROM {table} t "
            f"WHERE t.{column} IN ({', '.join(['%s'] * len(values))}) AND {scope}"
        )
        params += [*([kind] if kind else []), *values, *scope_params]
    with connection.cursor() as cursor:
        cursor.execute(" UNION ALL ".join(parts), params)
        rows = [(row[0], _CONTACT_KINDS.get(row[1], row[1])) for row in cursor.fetchall()]
    rows.sort(key=lambda row: (_KIND_ORDER[row[1]], row[0]))
    return rows


# --- names ------------------------------------------------------------------------


def _name_matches(
    *, actor: Actor, tokens: list[str], limit: int, exclude: set[int]
) -> list[tuple[int, float]]:
    """(customer id, score) of name matches, best first; at most two queries."""
    postgres = connection.vendor == "postgresql"
    sql_tokens, stages = name_stages(tokens)
    fetch = _pg_candidates if postgres else _sqlite_candidates
    scored: dict[int, float] = {}
    for stage in stages:
        for customer_id, search_name in fetch(actor=actor, tokens=sql_tokens, stage=stage):
            if customer_id in exclude or customer_id in scored:
                continue
            score = name_score(tokens, search_name)
            if score > 0:
                scored[customer_id] = score
        if scored:
            break  # the typo stage only runs when the words as typed found nobody
    ranked = sorted(scored.items(), key=lambda item: (-item[1], item[0]))
    return ranked[:limit]


def name_stages(tokens: list[str]) -> tuple[list[str], list[str]]:
    """The tokens searched in SQL and the stages to try, in order.

    One- and two-letter words ("S.A.", "y", "de") are checked in Python on what the
    longer words found: in SQL they would match a large part of all names.
    """
    long_tokens = [token for token in tokens if len(token) >= MIN_TRIGRAM_TOKEN]
    if not long_tokens:
        return tokens, ["prefix"]
    if any(len(token) >= MIN_TYPO_TOKEN for token in long_tokens):
        return long_tokens, ["precise", "typo"]
    return long_tokens, ["precise"]


def _scope_sql(actor: Actor, alias: str = "c") -> tuple[str, list[Any]]:
    if actor.is_reseller:
        table = CustomerAssignment._meta.db_table
        return (
            f"EXISTS (SELECT 1 FROM {table} a WHERE a.customer_id = {alias}.id "
            "AND a.reseller_id = %s)",
            [actor.organization.pk],
        )
    return f"{alias}.organization_id = %s", [actor.organization.pk]


def _fetch(sql: str, params: Sequence[Any]) -> list[tuple[int, str]]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [(row[0], row[1]) for row in cursor.fetchall()]


def _word_regex(token: str, *, prefix: bool) -> str:
    # Tokens are normalized to [a-z0-9]: nothing to escape.
    return f"(^| ){token}" if prefix else f"(^| ){token}( |$)"


WORD_KEY_TABLE = "customers_search_word_key"  # PostgreSQL only, see migration 0003


def _pg_candidates(*, actor: Actor, tokens: list[str], stage: str) -> list[tuple[int, str]]:
    customer = Customer._meta.db_table
    scope, params = _scope_sql(actor)
    where = [scope]
    last = len(tokens) - 1
    if stage == "prefix":
        # Served by customer_search_name_prefix (varchar_pattern_ops).
        where.append("c.search_name LIKE %s")
        params.append(tokens[0] + "%")
        for token in tokens[1:]:
            where.append("(c.search_name || '') ~ %s")  # a filter, not an index condition
            params.append(_word_regex(token, prefix=True))
        sql = f"SELECT c.id, c.search_name FROM {customer} c WHERE {' AND '.join(where)} LIMIT %s"
        return _fetch(sql, [*params, NAME_CANDIDATES])
    similar = _pg_similar_words(tokens) if stage == "typo" else {}
    if stage == "typo" and not any(similar.values()):
        return []  # no word of any name is one edit away: the precise stage said it all
    # The trigram index serves the longest words; more words would add the posting
    # lists of their (common) trigrams to read, for little narrowing: the others are
    # checked on the rows those found.
    by_length = sorted(range(len(tokens)), key=lambda index: (len(tokens[index]), index))
    indexed = set(by_length[-PG_INDEXED_TOKENS:])
    for index, token in enumerate(tokens):
        column = "c.search_name" if index in indexed else "(c.search_name || '')"
        words = similar.get(token, [])
        if words:
            head = f"{token}[a-z0-9]*" if index == last else token
            pattern = f"(^| )({'|'.join([head, *words])})( |$)"
        else:
            pattern = _word_regex(token, prefix=index == last)
        where.append(f"{column} ~ %s")
        params.append(pattern)
    # MATERIALIZED: the planner plans the search without the LIMIT, so it does not
    # bet on a sequential scan finding 200 rows early (it misjudges how many names a
    # regular expression matches: 165 ms instead of 4 ms for "vega" at 1M customers);
    # the CTE is still read lazily, so the LIMIT stops the heap scan.
    sql = (
        f"WITH m AS MATERIALIZED (SELECT c.id, c.search_name FROM {customer} c "
        f"WHERE {' AND '.join(where)}) SELECT id, search_name FROM m LIMIT %s"
    )
    return _fetch(sql, [*params, NAME_CANDIDATES])


def _pg_similar_words(tokens: list[str]) -> dict[str, list[str]]:
    """Words of the customers' names one edit away from each token (symmetric deletion).

    The dictionary is shared by all organizations; it only shapes the query, whose
    results are scoped as always.
    """
    typo_tokens = [token for token in tokens if len(token) >= MIN_TYPO_TOKEN]
    keys = sorted({key for token in typo_tokens for key in deletion_keys(token)})
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT DISTINCT word FROM {WORD_KEY_TABLE} WHERE key = ANY(%s)",
            [keys],
        )
        found = {row[0] for row in cursor.fetchall()}
    # A word some name has is most likely typed right: look for the mistake in the
    # others (unless every word exists, and only their combination found nobody).
    unknown = [token for token in typo_tokens if token not in found] or typo_tokens
    return {
        token: sorted(w for w in found if w != token and within_one_edit(token, w))
        for token in unknown
    }


def _sqlite_key_match(
    alias: str, token: str, *, stage: str, is_last: bool, typo: bool
) -> tuple[str, list[Any]]:
    """Condition on a CustomerNameKey row for one query token."""
    alternatives: list[str] = []
    params: list[Any] = []
    if typo:
        keys = sorted(deletion_keys(token))
        alternatives.append(f"{alias}.key IN ({', '.join(['%s'] * len(keys))})")
        params += keys
    elif not is_last and stage != "prefix":
        alternatives.append(f"({alias}.key = %s AND {alias}.token_len = %s)")
        params += [token, len(token)]
    if is_last or stage == "prefix":
        # A word that starts with the token (the key of a whole word, not a deletion).
        alternatives.append(
            f"({alias}.key >= %s AND {alias}.key < %s AND length({alias}.key) = {alias}.token_len)"
        )
        params += [token, token + "\uffff"]
    return f"({' OR '.join(alternatives)})", params


def _sqlite_candidates(*, actor: Actor, tokens: list[str], stage: str) -> list[tuple[int, str]]:
    """Candidates from CustomerNameKey.

    The longest token (the later one on a tie: surnames come last) drives, through
    namekey_org_key_customer, and the scan stops at the limit; every other token is
    an EXISTS probe on the candidate's own keys (a few dozen rows, customer_id index).
    """
    customer = Customer._meta.db_table
    keys_table = CustomerNameKey._meta.db_table
    if actor.is_reseller:
        operators = Organization.operators.through._meta.db_table
        orgs_sql = f"(SELECT to_organization_id FROM {operators} WHERE from_organization_id = %s)"
    else:
        orgs_sql = "(%s)"
    last = len(tokens) - 1
    typo: set[str] = set()
    if stage == "typo":
        typo = {token for token in tokens if len(token) >= MIN_TYPO_TOKEN}
        # A word some name has is most likely typed right: look for the mistake in the
        # others (unless every word exists, and only their combination found nobody).
        known = _sqlite_known_words(actor=actor, tokens=sorted(typo), orgs_sql=orgs_sql)
        typo = (typo - known) or typo
    # The mistyped word drives the typo stage: its few neighbours are rarer than the
    # words typed right.
    drivers = [index for index, token in enumerate(tokens) if token in typo] or range(len(tokens))
    driver = max(drivers, key=lambda index: (len(tokens[index]), index))
    match, params = _sqlite_key_match(
        "k", tokens[driver], stage=stage, is_last=driver == last, typo=tokens[driver] in typo
    )
    where = [f"k.organization_id IN {orgs_sql}", match]
    params = [actor.organization.pk, *params]
    scope, scope_params = _scope_sql(actor)
    where.append(scope)
    params += scope_params
    for index, token in enumerate(tokens):
        if index == driver:
            continue
        match, match_params = _sqlite_key_match(
            "o", token, stage=stage, is_last=index == last, typo=token in typo
        )
        where.append(
            f"EXISTS (SELECT 1 FROM {keys_table} o WHERE o.customer_id = c.id AND {match})"
        )
        params += match_params
    sql = (
        f"SELECT DISTINCT c.id, c.search_name FROM {keys_table} k "
        f"JOIN {customer} c ON c.id = k.customer_id WHERE {' AND '.join(where)} LIMIT %s"
    )
    return _fetch(sql, [*params, NAME_CANDIDATES])


def _sqlite_known_words(*, actor: Actor, tokens: list[str], orgs_sql: str) -> set[str]:
    """The tokens that are a whole word of some visible organization's customer names."""
    keys_table = CustomerNameKey._meta.db_table
    sql = (
        f"SELECT DISTINCT k.key FROM {keys_table} k WHERE k.organization_id IN {orgs_sql} "
        f"AND k.key IN ({', '.join(['%s'] * len(tokens))}) AND k.token_len = length(k.key)"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [actor.organization.pk, *tokens])
        return {row[0] for row in cursor.fetchall()}


# --- scoring ----------------------------------------------------------------------

_SPACE = re.compile(" +")


def within_one_edit(a: str, b: str) -> bool:
    """Whether ``a`` becomes ``b`` by at most one insertion, deletion, substitution or
    swap of two adjacent characters (optimal string alignment distance <= 1)."""
    if a == b:
        return True
    la, lb = len(a), len(b)
    if abs(la - lb) > 1:
        return False
    start = 0
    while start < min(la, lb) and a[start] == b[start]:
        start += 1
    if la == lb:
        if a[start + 1 :] == b[start + 1 :]:
            return True  # substitution
        return (
            start + 1 < la
            and a[start] == b[start + 1]
            and a[start + 1] == b[start]
            and a[start + 2 :] == b[start + 2 :]
        )
    if la > lb:
        return a[start + 1 :] == b[start:]
    return a[start:] == b[start + 1 :]


def _token_score(query_token: str, words: list[str], *, is_last: bool) -> float:
    best = 0.0
    typo_ok = len(query_token) >= MIN_TYPO_TOKEN
    for word in words:
        if word == query_token:
            return 1.0
        if word.startswith(query_token):
            best = max(best, 0.9 if is_last else 0.8)
        elif typo_ok and within_one_edit(query_token, word):
            best = max(best, 0.7)
    return best


def name_score(tokens: list[str], search_name: str) -> float:
    """How well the normalized query tokens match a normalized name: 0 (no) to 1."""
    words = [word for word in _SPACE.split(search_name) if word]
    if not words or not tokens:
        return 0.0
    total = 0.0
    last = len(tokens) - 1
    for index, token in enumerate(tokens):
        score = _token_score(token, words, is_last=index == last)
        if score == 0:
            return 0.0
        total += score
    coverage = min(1.0, len(tokens) / len(words))
    return round(total / len(tokens) * (0.9 + 0.1 * coverage), 4)
