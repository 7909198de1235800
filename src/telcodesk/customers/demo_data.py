"""Realistic demo customers, generated fast enough to load a million of them.

``generate_customers`` writes, for one operator organization, customers with a valid
identity document of the country, phones in E.164, an e-mail for most, an
installation address in the country's form, one or two subscriptions to the
organization's plans (with equipment, network ids for fiber, a status history when
not active), monthly invoices (some unpaid and overdue) and their payments.

Speed comes from doing the per-row work once: names, streets and companies come from
pools drawn from Faker once per locale, normalized names are cached per token, ids are
pre-allocated (PostgreSQL sequence ranges, or the table's max id under SQLite's write
lock), and every table of a batch is written at once: ``COPY`` through psycopg 3 on
PostgreSQL, ``executemany`` on SQLite (plus the CustomerNameKey rows SQLite's name
search needs). ``writer="orm"`` writes the same rows with Django's ``bulk_create``:
the baseline bench/load.py compares against. Large PostgreSQL loads drop the secondary
indexes and foreign keys of the tables they fill and rebuild them at the end (also on
failure), and run in two processes (see generate_customers, docs/benchmarks.md).
The per-country tables are in customers.demo_tables.

Generated rows skip the services on purpose (no audit log, no timeline): they are
demo data, not something a person did. Everything is deterministic for a seed, a
start index and a day.
"""

from __future__ import annotations

import importlib
import itertools
import logging
import multiprocessing
import queue as queue_module
import random
import traceback
import zoneinfo
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from functools import lru_cache
from time import perf_counter
from typing import Any, Literal

import phonenumbers
from django.db import DEFAULT_DB_ALIAS, connection, connections, models, transaction
from django.utils import timezone
from stdnum.ar import cuit as ar_cuit
from stdnum.br import cnpj as br_cnpj
from stdnum.mx import curp as mx_curp
from stdnum.mx import rfc as mx_rfc

from telcodesk.accounts.models import Organization
from telcodesk.customers.addresses import AddressFields, render_one_line
from telcodesk.customers.demo_tables import (
    ANDEAN_SURNAMES,
    BO_BUILDINGS,
    BO_RURAL_DIRECTIONS,
    BO_RURAL_ZONES,
    COMPANY_SUFFIXES,
    COMPANY_WORDS,
    COUNTRIES,
    EMAIL_DOMAINS,
    EQUIPMENT_BY_SERVICE,
    EQUIPMENT_MODELS,
    FAKER_LOCALES,
    PAYMENT_METHODS,
    STATUS_REASONS,
    TWO_SURNAMES,
    WITH_ADDRESS,
    City,
)
from telcodesk.customers.models import (
    Address,
    ContactPoint,
    Customer,
    CustomerAssignment,
    CustomerNameKey,
    Equipment,
    IdentityDocument,
    Invoice,
    Payment,
    Plan,
    ServiceType,
    Subscription,
    SubscriptionStatus,
    SubscriptionStatusChange,
)
from telcodesk.customers.names import deletion_keys, normalize_name

logger = logging.getLogger(__name__)

Writer = Literal["auto", "copy", "sql", "orm"]
Row = tuple[Any, ...]

# fmt: off
# --- the rows: field names in the order every generator builds its tuples ---------------

FIELDS: dict[type[models.Model], tuple[str, ...]] = {
    Customer: (
        "id", "organization_id", "created_at", "updated_at", "kind", "first_name", "last_name",
        "company_name", "birth_date", "segment", "preferred_language", "preferred_channel",
        "consent_whatsapp", "consent_sms", "consent_email", "consent_calls",
        "consent_updated_at", "external_ref", "notes", "search_name",
    ),
    IdentityDocument: (
        "organization_id", "created_at", "updated_at", "customer_id", "kind", "number",
        "issued_in", "complement", "is_primary",
    ),
    ContactPoint: (
        "organization_id", "created_at", "updated_at", "customer_id", "kind", "value", "label",
        "is_whatsapp", "is_primary", "verified_on", "verified_by_id",
    ),
    Address: (
        "id", "organization_id", "created_at", "updated_at", "customer_id", "purpose",
        "country", "street", "number", "between_street_a", "between_street_b", "corner_street",
        "building_type", "building_name", "block", "floor", "apartment", "zone",
        "neighbourhood", "city", "state", "postal_code", "reference", "is_rural", "latitude",
        "longitude", "one_line",
    ),
    Subscription: (
        "id", "organization_id", "created_at", "updated_at", "customer_id", "contract_number",
        "service_id", "service_type", "technology", "plan_id", "plan_name", "speed_mbps",
        "monthly_price", "currency", "status", "status_changed_at", "started_on",
        "permanence_until", "installation_address_id", "cpe_ip", "olt_name", "pon_port",
        "onu_index",
    ),
    SubscriptionStatusChange: (
        "subscription_id", "from_status", "to_status", "reason", "changed_by_id", "at",
    ),
    Equipment: (
        "organization_id", "created_at", "updated_at", "subscription_id", "kind", "model",
        "serial", "mac_address", "installed_on", "on_loan",
    ),
    Invoice: (
        "id", "organization_id", "created_at", "updated_at", "customer_id", "subscription_id",
        "number", "period_start", "period_end", "amount", "currency", "issued_on", "due_on",
        "paid_amount", "is_void",
    ),
    Payment: (
        "organization_id", "created_at", "updated_at", "customer_id", "invoice_id", "method",
        "paid_on", "amount", "currency", "reference",
    ),
    CustomerNameKey: ("customer_id", "organization_id", "key", "token_len"),
}
# fmt: on
# Parents first: the order rows are written in.
WRITE_ORDER: tuple[type[models.Model], ...] = tuple(FIELDS)
WITH_IDS = (Customer, Address, Subscription, Invoice)


# --- pools ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class NamePools:
    male: tuple[str, ...]
    female: tuple[str, ...]
    surnames: tuple[str, ...]


def _faker_for(country: str, seed: int) -> Any:
    from faker import Faker

    for locale in FAKER_LOCALES[country]:
        try:
            faker = Faker(locale)
        except AttributeError:  # this Faker does not ship the locale
            continue
        faker.seed_instance(seed)
        return faker
    raise LookupError(f"no Faker locale for {country}")


def _draw_unique(draw: Callable[[], str], count: int) -> tuple[str, ...]:
    seen: dict[str, None] = {}
    for _attempt in range(count * 4):
        seen.setdefault(draw(), None)
        if len(seen) >= count:
            break
    return tuple(seen)


@lru_cache(maxsize=16)
def name_pools(country: str, seed: int = 0, size: int = 5000) -> NamePools:
    """Up to ``size`` distinct first names (each sex) and surnames of the country."""
    faker = _faker_for(country, seed)
    male = _draw_unique(faker.first_name_male, size)
    female = _draw_unique(faker.first_name_female, size)
    surnames = _draw_unique(faker.last_name, size)
    andean = ANDEAN_SURNAMES.get(country, ())
    # Weight the local surnames like the Faker ones are weighted together: about a third.
    surnames = surnames + andean * max(1, len(surnames) // (2 * max(len(andean), 1)))
    return NamePools(male, female, surnames)


@lru_cache(maxsize=65536)
def _normalized(text: str) -> str:
    return normalize_name(text)


@lru_cache(maxsize=65536)
def _token_keys(token: str) -> tuple[tuple[str, int], ...]:
    return tuple((key, len(token)) for key in deletion_keys(token))


def _name_keys(search_name: str) -> set[tuple[str, int]]:
    """names.name_keys, with the per-token work cached."""
    keys: set[tuple[str, int]] = set()
    for token in search_name.split(" "):
        if token:
            keys.update(_token_keys(token))
    return keys


@lru_cache(maxsize=65536)
def _ascii_slug(text: str) -> str:
    return normalize_name(text).replace(" ", "")


# --- documents -----------------------------------------------------------------------------


def _permute(index: int, modulus: int, multiplier: int = 2_654_435_761) -> int:
    """A bijection of [0, modulus): unique numbers that do not look sequential."""
    return (index * multiplier + 97_531) % modulus


def _cpf(index: int) -> str:
    base = f"{_permute(index, 899_999_999) + 100_000_000:09d}"
    digits = [int(char) for char in base]
    d1 = (11 - sum((10 - i) * digit for i, digit in enumerate(digits))) % 11 % 10
    d2 = (11 - (sum((11 - i) * digit for i, digit in enumerate(digits)) + 2 * d1)) % 11 % 10
    return f"{base}{d1}{d2}"


def _cnpj(index: int) -> str:
    base = f"{_permute(index, 89_999_999) + 10_000_000:08d}0001"
    return base + br_cnpj.calc_check_digits(base)


def _ar_dni(index: int) -> str:
    return str(_permute(index, 35_000_000) + 10_000_000)


def _ar_cuit(index: int) -> str:
    base = ("30", "33")[index % 2] + f"{_permute(index, 89_999_999) + 10_000_000:08d}"
    return base + ar_cuit.calc_check_digit(base)


def _ec_ci(index: int, province: int) -> str:
    body = f"{province:02d}{_permute(index, 6_000_000):07d}"  # third digit 0-5
    total = 0
    for i, char in enumerate(body):
        product = int(char) * (2 if i % 2 == 0 else 1)
        total += product - 9 if product > 9 else product
    return f"{body}{(10 - total % 10) % 10}"


def _ec_ruc_company(index: int, province: int) -> str:
    weights = (4, 3, 2, 7, 6, 5, 4, 3, 2)
    stem = f"{province:02d}9{_permute(index, 100_000):05d}"
    for last in range(10):
        body = f"{stem}{last}"
        check = -sum(w * int(c) for w, c in zip(weights, body, strict=True)) % 11
        if check < 10:
            return f"{body}{check}001"
    raise AssertionError("unreachable: two consecutive digits give different checks")


_CURP_STATES = {"CDMX": "DF", "Jalisco": "JC", "Nuevo León": "NL"}
_CURP_BLOCKED: frozenset[str] = frozenset(getattr(mx_curp, "_name_blacklist", ()))
_HOMOCLAVE = "0123456789ABCDEFGHIJKLMNPQRSTUVWXYZ"


def _letters(text: str) -> str:
    return "".join(char for char in _ascii_slug(text).upper() if char.isalpha()) or "X"


def _first_inner(text: str, vowels: bool) -> str:
    for char in text[1:]:
        if (char in "AEIOU") == vowels:
            return char
    return "X"


def _curp(first: str, surnames: str, birth: date, sex: str, state: str, serial: int) -> str:
    parts = surnames.split(" ")
    paternal = _letters(parts[0])
    maternal = _letters(parts[1]) if len(parts) > 1 else "X"
    given = _letters(first.split(" ")[0])
    head = paternal[0] + _first_inner(paternal, True) + maternal[0] + given[0]
    if head in _CURP_BLOCKED:
        head = head[0] + "X" + head[2:]
    consonants = (
        _first_inner(paternal, False) + _first_inner(maternal, False) + _first_inner(given, False)
    )
    # The homoclave is a digit for people born before 2000 and a letter after;
    # ``serial`` picks it (and the state, past 10 or 25) so numbers stay unique.
    alphabet = "0123456789" if birth.year < 2000 else "ABCDEFGHIJKLMNPQRSTUVWXYZ"
    homoclave = alphabet[serial % len(alphabet)]
    if serial >= len(alphabet):
        states = [*sorted(_CURP_STATES.values()), "MC", "PL", "GT", "VZ", "OC", "CH", "BC"]
        state = states[(serial // len(alphabet)) % len(states)]
    body = f"{head}{birth:%y%m%d}{sex}{state}{consonants}{homoclave}"
    return body + mx_curp.calc_check_digit(body)


def _rfc_company(name: str, founded: date, serial: int) -> str:
    words = [word for word in _letters_words(name) if word not in _RFC_SKIP]
    letters = "".join(word[0] for word in words[:3])
    if len(words) < 3 and words:
        letters = words[0][:3] if len(words) == 1 else words[0][:2] + words[1][0]
    letters = (letters + "XXX")[:3]
    first = _HOMOCLAVE[1 + serial % 31]  # [1-9A-V]
    second = _HOMOCLAVE[1 + (serial // 31) % 34]  # [1-9A-Z]
    body = f"{letters}{founded:%y%m%d}{first}{second}"
    return body + mx_rfc.calc_check_digit(body)


_RFC_SKIP = frozenset({"DE", "LA", "Y", "S", "A", "C", "V", "R", "L", "SA", "CV", "DEL", "LOS"})


def _letters_words(text: str) -> list[str]:
    return [word.upper() for word in _normalized(text).split(" ") if word.isalpha()]


# --- phones, e-mails, days --------------------------------------------------------------


def _months_before(day: date, months: int) -> date:
    total = day.year * 12 + day.month - 1 - months
    return date(total // 12, total % 12 + 1, 1)


def _weighted(options: Sequence[tuple[Any, int]]) -> tuple[Any, ...]:
    """Each option repeated by its weight: a uniform pick from it is a weighted pick."""
    return tuple(value for value, weight in options for _ in range(weight))


def _copy_safe(values: Iterable[str]) -> None:
    """Text written as is into COPY's text format: no separators, escapes or NULL marker."""
    for value in values:
        if value == COPY_NULL or any(char in value for char in "\t\n\r\\"):
            raise ValueError(f"demo data text cannot go into COPY as is: {value!r}")


# --- the generator ---------------------------------------------------------------------

# Customers per random stream. The stream is seeded again at every multiple of
# RNG_CHUNK (and wherever a run starts), so a customer's data depend on the seed, its
# index and the start index only: not on batch sizes, nor on how many processes load.
RNG_CHUNK = 1000
DAYS_AHEAD = 400  # the day table reaches this far after today (end of permanence)
DAYS_BACK = 86 * 365  # ...and this far back (birth dates)
INVOICE_MONTHS = (3, 4)  # months invoiced per customer, at most
NUMBER_PLACEHOLDER = "\x00"
ADDRESS_TEMPLATES = 600  # per city
POINTS = 2048  # coordinates per city
COPY_NULL = "None"  # str(None): how the COPY writer marks NULL (see _copy_write)
ZERO = Decimal("0")


@dataclass
class _PlanChoice:
    plan_id: int
    name: str
    service_type: str
    technology: str
    speed: Decimal | None
    price: Decimal
    currency: str
    fiber: bool
    equipment: tuple[str, ...]
    with_address: bool


@dataclass
class _Month:
    """One invoiced month, ``back`` months before the current one, with its days."""

    start_back: int  # days between period_start and today
    issued_back: int  # days between issued_on (the 1st of the next month) and today
    period_start: Any
    period_end: Any
    issued: Any
    due: Any
    number_prefix: str


@dataclass
class Batch:
    rows: dict[type[models.Model], list[Row]] = field(
        default_factory=lambda: {model: [] for model in WRITE_ORDER}
    )

    def count(self) -> dict[str, int]:
        return {model.__name__: len(rows) for model, rows in self.rows.items()}


class IdPool:
    """Ids handed out in order from ranges reserved in the database."""

    def __init__(self, model: type[models.Model], reserve: Callable[[str, int], list[int]]):
        self.table = model._meta.db_table
        self.reserve = reserve
        self.ids: list[int] = []
        self.position = 0
        self.chunk = 1000

    def take(self) -> int:
        if self.position >= len(self.ids):
            self.ids = self.reserve(self.table, self.chunk)
            self.position = 0
            self.chunk = min(self.chunk * 4, 50_000)
        value = self.ids[self.position]
        self.position += 1
        return value


def _reserve_postgresql(table: str, count: int) -> list[int]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
            [table, count],
        )
        return [row[0] for row in cursor.fetchall()]


class _SQLiteReservations:
    """Ids after the table's current maximum; valid while this connection holds the write
    lock, so callers reset them at the start of each batch transaction."""

    def __init__(self) -> None:
        self.next: dict[str, int] = {}

    def reset(self) -> None:
        self.next.clear()

    def __call__(self, table: str, count: int) -> list[int]:
        if table not in self.next:
            with connection.cursor() as cursor:
                cursor.execute(f'SELECT COALESCE(MAX(id), 0) FROM "{table}"')
                self.next[table] = int(cursor.fetchone()[0]) + 1
        first = self.next[table]
        self.next[table] = first + count
        return list(range(first, first + count))


class CustomerFactory:
    """Builds the rows of one customer at a time for one organization.

    Everything that does not depend on the customer is computed once here: the days
    (as ``date`` objects, or as the ISO text COPY wants when ``text``), weighted choices
    as flat tables, the invoiced months, coordinates, address templates. The per-row
    work is then table look-ups, ``random()`` and tuple building.
    """

    def __init__(
        self,
        *,
        organization: Organization,
        plans: Sequence[Plan],
        seed: int,
        today: date,
        ids: dict[type[models.Model], IdPool],
        existing_numbers: set[tuple[str, str]],
        text: bool = False,
    ) -> None:
        self.org = organization
        self.org_id = organization.pk
        self.country = COUNTRIES[organization.country]
        self.code = organization.country
        self.stream = f"{seed}:{organization.country}"
        self.rng = random.Random(self.stream)
        self.next_index: int | None = None
        self.seed = seed
        self.today = today
        self.text = text
        self.tz = zoneinfo.ZoneInfo(organization.time_zone)
        now = timezone.now()
        self.now: Any = str(now) if text else now
        # day_objects[DAYS_AHEAD + k]: the day k days before today; days: the same as
        # the values written (text for COPY).
        top = today + timedelta(days=DAYS_AHEAD)
        self.day_objects = [top - timedelta(days=i) for i in range(DAYS_AHEAD + DAYS_BACK + 1)]
        self.days: list[Any] = (
            [day.isoformat() for day in self.day_objects] if text else self.day_objects
        )
        self.ids = ids
        self.pools = name_pools(self.code, seed)
        self.language = organization.default_language or "es"
        self.reasons = STATUS_REASONS["pt" if self.country.language == "pt" else "es"]
        self.company_words = COMPANY_WORDS[self.country.language]
        self.used_numbers = existing_numbers
        self.cities = self.country.cities
        self.city_table = _weighted([(city, city.weight) for city in self.cities])
        self.address_templates: dict[str, list[tuple[AddressFields, str] | None]] = {
            city.name: [None] * ADDRESS_TEMPLATES for city in self.cities
        }
        setup = random.Random(f"{self.stream}:setup")
        self.points = {
            city.name: [
                self._coordinates(
                    city.lat + setup.uniform(-0.06, 0.06), city.lon + setup.uniform(-0.06, 0.06)
                )
                for _ in range(POINTS)
            ]
            for city in self.cities
        }
        self.methods = _weighted(
            [
                ((method, method[:3].upper() + "-"), weight)
                for method, weight in PAYMENT_METHODS[self.code]
            ]
        )
        self.segments = _weighted((("small_business", 70), ("corporate", 25), ("government", 5)))
        self.channels = _weighted(
            (("whatsapp", 45), ("call", 25), ("sms", 10), ("email", 10), ("", 10))
        )
        self.plans = [
            _PlanChoice(
                plan.pk,
                plan.name,
                plan.service_type,
                plan.technology or "",
                plan.download_mbps,
                plan.monthly_price,
                plan.currency or organization.currency,
                plan.technology == "fiber" or plan.service_type == ServiceType.FIBER_FTTH,
                EQUIPMENT_BY_SERVICE.get(plan.service_type, ()),
                plan.service_type in WITH_ADDRESS,
            )
            for plan in plans
        ]
        if not self.plans:
            raise ValueError(f"{organization.slug} has no active plans: load its pack first")
        # COMTECO-like fixed-line operators have a large fixed-line-only base.
        self.plan_table = _weighted(
            [
                (
                    plan,
                    5
                    if plan.service_type == ServiceType.FIXED_LINE and self.code == "BO"
                    else 2
                    if plan.service_type != ServiceType.MOBILE_PREPAID
                    else 1,
                )
                for plan in self.plans
            ]
        )
        # months[back]: the month ``back`` months before today's (1 and more are invoiced).
        self.months = [self._month(back) for back in range(max(INVOICE_MONTHS) + 1)]
        self.calling_code = str(phonenumbers.country_code_for_region(self.code))
        if text:
            _copy_safe(
                [*self.pools.male, *self.pools.female, *self.pools.surnames]
                + [plan.name for plan in self.plans]
                + [*self.company_words, *COMPANY_SUFFIXES[self.code], *EMAIL_DOMAINS[self.code]]
            )

    def _day(self, day: date) -> Any:
        return self.days[DAYS_AHEAD + (self.today - day).days]

    def _month(self, back: int) -> _Month:
        start = _months_before(self.today, back)
        issued = _months_before(self.today, back - 1)
        return _Month(
            start_back=(self.today - start).days,
            issued_back=(self.today - issued).days,
            period_start=self._day(start),
            period_end=self._day(issued - timedelta(days=1)),
            issued=self._day(issued),
            due=self._day(issued + timedelta(days=15)),
            number_prefix=f"F{start:%Y%m}-",
        )

    def _coordinates(self, lat: float, lon: float) -> tuple[Any, Any]:
        lat_text, lon_text = f"{lat:.6f}", f"{lon:.6f}"
        return (lat_text, lon_text) if self.text else (Decimal(lat_text), Decimal(lon_text))

    # -- the customer ----------------------------------------------------------------------

    def add(self, index: int, batch: Batch, *, name_keys: bool) -> None:
        rng = self.rng
        if index != self.next_index or index % RNG_CHUNK == 0:
            rng.seed(f"{self.stream}:{index // RNG_CHUNK}:{index % RNG_CHUNK}")
        self.next_index = index + 1
        rand = rng.random
        rows = batch.rows
        now = self.now
        org_id = self.org_id
        pools = self.pools
        customer_id = self.ids[Customer].take()
        is_company = rand() < 0.08
        first = last = company = ""
        birth_back = 0
        female = rand() < 0.5
        if is_company:
            company = self._company_name()
            segment = self.segments[int(rand() * 100)]
        else:
            names = pools.female if female else pools.male
            first = names[int(rand() * len(names))]
            if rand() < 0.3:
                second = names[int(rand() * len(names))]
                if second != first:
                    first = f"{first} {second}"
            surnames = pools.surnames
            last = surnames[int(rand() * len(surnames))]
            if rand() < TWO_SURNAMES[self.code]:
                last = f"{last} {surnames[int(rand() * len(surnames))]}"
            birth_back = 18 * 365 + int(rand() * (67 * 365))
            segment = "small_business" if rand() < 0.05 else "residential"
        search_name = " ".join(
            part for part in (_normalized(first), _normalized(last), _normalized(company)) if part
        )
        has_email = rand() < 0.8
        whatsapp = rand() < 0.7
        sms = rand() < 0.5
        email_ok = has_email and rand() < 0.6
        calls = rand() < 0.92
        since_back = 60 + int(rand() * (12 * 365 - 60))
        # A customer since their first service: the console shows "customer since".
        since_at = datetime.combine(
            self.day_objects[DAYS_AHEAD + since_back], time(10, int(rand() * 60)), self.tz
        )
        consent_at = since_at if whatsapp or sms or email_ok or calls else None
        channel = self.channels[int(rand() * 100)]
        rows[Customer].append(
            (
                customer_id, org_id, since_at, now, "company" if is_company else "person", first,
                last, company, self.days[DAYS_AHEAD + birth_back] if birth_back else None,
                segment, self.language, channel, whatsapp, sms, email_ok, calls, consent_at,
                f"{self.code}{self.seed:02d}{index:09d}", "", search_name,
            )
        )  # fmt: skip
        if name_keys:
            key_rows = rows[CustomerNameKey]
            for key, length in _name_keys(search_name):
                key_rows.append((customer_id, org_id, key, length))
        city = self.city_table[int(rand() * len(self.city_table))]
        self._document(index, customer_id, rows, first, last, company, birth_back, female, city)
        self._contacts(customer_id, rows, city, first, last, company, has_email)
        address_id = self._address(customer_id, rows, city)
        self._subscriptions(index, customer_id, rows, city, address_id, since_back)

    def _company_name(self) -> str:
        rand = self.rng.random
        words, surnames = self.company_words, self.pools.surnames
        word = words[int(rand() * len(words))]
        owner = surnames[int(rand() * len(surnames))]
        if rand() < 0.4:
            joiner = "e" if self.country.language == "pt" else "y"
            owner = f"{owner} {joiner} {surnames[int(rand() * len(surnames))]}"
        suffixes = COMPANY_SUFFIXES[self.code]
        name = f"{word} {owner} {suffixes[int(rand() * len(suffixes))]}"
        return name.upper() if self.code == "BO" else name

    def _document(
        self,
        index: int,
        customer_id: int,
        rows: dict[type[models.Model], list[Row]],
        first: str,
        last: str,
        company: str,
        birth_back: int,
        female: bool,
        city: City,
    ) -> None:
        issued_in = complement = ""
        code = self.code
        if code == "AR":
            kind, number = ("ar_cuit", _ar_cuit(index)) if company else ("ar_dni", _ar_dni(index))
        elif code == "BR":
            kind, number = ("br_cnpj", _cnpj(index)) if company else ("br_cpf", _cpf(index))
        elif code == "EC":
            province = {"Pichincha": 17, "Guayas": 9, "Azuay": 1}[city.state]
            if company:
                kind, number = "ec_ruc", _ec_ruc_company(index, province)
            else:
                kind, number = "ec_ci", _ec_ci(index, province)
        elif code == "MX":
            birth = self.day_objects[DAYS_AHEAD + birth_back] if birth_back else None
            kind, number = self._mexican_document(first, last, company, birth, female, city)
        else:  # BO
            if company:
                kind, number = "bo_nit", str(_permute(index, 899_999_999) + 100_000_000)
            else:
                rand = self.rng.random
                kind = "bo_ci"
                number = str(_permute(index, 8_999_999) + 1_000_000)
                issued_in = city.code if rand() < 0.9 else "LP"
                if rand() < 0.01:
                    complement = f"{1 + int(rand() * 9)}{'ABCDEFGH'[int(rand() * 8)]}"
        rows[IdentityDocument].append(
            (
                self.org_id,
                self.now,
                self.now,
                customer_id,
                kind,
                number,
                issued_in,
                complement,
                True,
            )
        )

    def _mexican_document(
        self,
        first: str,
        last: str,
        company: str,
        birth: date | None,
        female: bool,
        city: City,
    ) -> tuple[str, str]:
        used = self.used_numbers
        for serial in range(10_000):
            if company:
                founded = self.today - timedelta(days=365 + int(self.rng.random() * 9000))
                kind, number = "mx_rfc", _rfc_company(company, founded, serial)
            else:
                assert birth is not None
                state = _CURP_STATES.get(city.state, "DF")
                kind = "mx_curp"
                number = _curp(first, last, birth, "M" if female else "H", state, serial)
            if (kind, number) not in used:
                used.add((kind, number))
                return kind, number
        raise RuntimeError("could not find a free CURP/RFC")

    def _contacts(
        self,
        customer_id: int,
        rows: dict[type[models.Model], list[Row]],
        city: City,
        first: str,
        last: str,
        company: str,
        has_email: bool,
    ) -> None:
        rand = self.rng.random
        now = self.now
        org_id = self.org_id
        contacts = rows[ContactPoint]
        country = self.country
        mobile = _phone(rand, city.mobile, country.phone_length)
        verified = self.days[DAYS_AHEAD + 1 + int(rand() * 699)] if rand() < 0.4 else None
        contacts.append(
            (org_id, now, now, customer_id, "phone", mobile, "mobile", rand() < 0.85, True,
             verified, None)
        )  # fmt: skip
        if rand() < 0.35:
            if rand() < 0.6:
                other = _phone(rand, city.landline, country.landline_length)
                label = "work" if company else "home"
            else:
                other = _phone(rand, city.mobile, country.phone_length)
                label = "reference"
            if other != mobile:
                contacts.append(
                    (org_id, now, now, customer_id, "phone", other, label, False, False, None,
                     None)
                )  # fmt: skip
        if has_email:
            if company:
                local = ("contacto", "administracion", "ventas", "info")[int(rand() * 4)]
                domain = _ascii_slug(company.split(" ")[1] if " " in company else company)
                email = f"{local}@{domain[:20]}.com"
            else:
                given = _ascii_slug(first.split(" ")[0])
                surname = _ascii_slug(last.split(" ")[0])
                style = int(rand() * 3)
                if style == 0:
                    local = f"{given}.{surname}"
                elif style == 1:
                    local = f"{given[:1]}{surname}{1 + int(rand() * 98)}"
                else:
                    local = f"{given}{surname}{1960 + int(rand() * 46)}"
                domains = EMAIL_DOMAINS[self.code]
                email = f"{local}@{domains[int(rand() * len(domains))]}"
            contacts.append(
                (org_id, now, now, customer_id, "email", email, "work" if company else "home",
                 False, True, None, None)
            )  # fmt: skip

    def _address(
        self, customer_id: int, rows: dict[type[models.Model], list[Row]], city: City
    ) -> int:
        """An installation address: a street-level template of the city plus a house number.

        Templates (street, cross streets, building, zone, postal code) are drawn once
        (each from its own seed, so the order they are needed in does not matter) and
        rendered once with a placeholder for the number, which is then filled in per
        customer: render_one_line per row would cost more than the rest of the row.
        """
        rand = self.rng.random
        templates = self.address_templates[city.name]
        slot = int(rand() * ADDRESS_TEMPLATES)
        template = templates[slot]
        if template is None:
            template = templates[slot] = self._address_template(city, slot)
        f, line = template
        if self.code == "BO":
            number = f"{1 + int(rand() * 2999):04d}"
        elif self.code == "EC":
            side = "NSEO"[int(rand() * 4)] if city.name == "Quito" else ""
            number = f"{side}{1 + int(rand() * 79)}-{10 + int(rand() * 989)}"
        else:
            number = str(1 + int(rand() * (3999 if self.code != "BR" else 2499)))
        one_line = line.replace(NUMBER_PLACEHOLDER, number)
        points = self.points[city.name]
        latitude, longitude = points[int(rand() * POINTS)]
        address_id = self.ids[Address].take()
        rows[Address].append(
            (
                address_id, self.org_id, self.now, self.now, customer_id, "installation",
                self.code, f.street, number, f.between_street_a, f.between_street_b,
                f.corner_street, f.building_type, f.building_name, f.block, f.floor,
                f.apartment, f.zone, f.neighbourhood, f.city, f.state, f.postal_code,
                f.reference, f.is_rural, latitude, longitude, one_line,
            )
        )  # fmt: skip
        return address_id

    def _address_template(self, city: City, slot: int) -> tuple[AddressFields, str]:
        rng = random.Random(f"{self.stream}:{city.name}:{slot}")
        fields_ = AddressFields(
            street=rng.choice(city.streets),
            number=NUMBER_PLACEHOLDER,
            neighbourhood=rng.choice(city.neighbourhoods),
            city=city.name,
            state=city.state,
        )
        code = self.code
        apartment = rng.random() < 0.25
        if code == "BO":
            # Stored the way address_check leaves a Bolivian address: in capitals.
            fields_.city, fields_.state = city.name.upper(), city.state.upper()
            self._bolivian_address(rng, fields_, city, apartment)
        elif code == "BR":
            cep = f"{rng.randrange(*city.postal):08d}"
            fields_.postal_code = f"{cep[:5]}-{cep[5:]}"
            if apartment:
                fields_.apartment = str(rng.randrange(1, 25) * 100 + rng.randrange(1, 9))
                if rng.random() < 0.3:
                    fields_.block = rng.choice("ABCD")
        elif code == "AR":
            fields_.postal_code = str(rng.randrange(city.postal[0], city.postal[1] + 1))
            if apartment:
                fields_.floor = str(rng.randrange(1, 16))
                fields_.apartment = rng.choice("ABCDEF")
        elif code == "MX":
            fields_.postal_code = f"{rng.randrange(city.postal[0], city.postal[1] + 1):05d}"
            if apartment:
                fields_.apartment = f"{rng.randrange(1, 9)}{rng.choice('ABCD')}"
        else:  # EC: "Av. Amazonas N34-451 y Atahualpa"
            fields_.postal_code = f"{rng.randrange(city.postal[0], city.postal[1] + 1):06d}"
            fields_.corner_street = rng.choice(
                [street for street in city.streets if street != fields_.street]
            )
            if apartment:
                fields_.floor = str(rng.randrange(1, 12))
                fields_.apartment = str(rng.randrange(1, 12))
        line = render_one_line(fields_, country=code)
        if self.text:
            _copy_safe([line, *(v for v in vars(fields_).values() if isinstance(v, str))])
        return fields_, line

    def _bolivian_address(
        self, rng: random.Random, f: AddressFields, city: City, apartment: bool
    ) -> None:
        """The Anexo-1 protocol: capitals, 4-digit number, ENTRE/ESQUINA, zone."""
        f.zone, f.neighbourhood = f.neighbourhood, ""
        if rng.random() < 0.04:
            f.is_rural = True
            f.street = "INNOMINADA"
            f.zone = rng.choice(BO_RURAL_ZONES)
            f.neighbourhood = rng.choice(("EL PORVENIR", "SAN ISIDRO", "LA FLORIDA"))
            f.reference = rng.choice(BO_RURAL_DIRECTIONS).format(km=rng.randrange(3, 15))
            return
        others = [street for street in city.streets if street != f.street]
        if rng.random() < 0.7:
            f.between_street_a, f.between_street_b = rng.sample(others, 2)
        else:
            f.corner_street = rng.choice(others)
        if apartment:
            if rng.random() < 0.7:
                f.building_type = "building"
                f.building_name = rng.choice(BO_BUILDINGS)
                f.floor = str(rng.randrange(1, 15))
                f.apartment = rng.choice("ABCD")
            else:
                f.building_type = "condominium"
                f.building_name = rng.choice(("LOS PINOS", "SAN MIGUEL", "EL BOSQUE"))
                f.block = rng.choice("ABC")
        if rng.random() < 0.1:
            f.reference = rng.choice(
                ("PORTON NEGRO", "AL LADO DE LA FARMACIA", "DENTRO DEL PASAJE SIN NOMBRE")
            )

    # -- services and ledger -----------------------------------------------------------------

    def _subscriptions(
        self,
        index: int,
        customer_id: int,
        rows: dict[type[models.Model], list[Row]],
        city: City,
        address_id: int,
        since_back: int,
    ) -> None:
        rng = self.rng
        rand = rng.random
        now = self.now
        org_id = self.org_id
        days = self.days
        plan_table = self.plan_table
        chosen = [plan_table[int(rand() * len(plan_table))]]
        if rand() < 0.3 and len(self.plans) > 1:
            second = plan_table[int(rand() * len(plan_table))]
            if second is not chosen[0]:
                chosen.append(second)
        # Debt drives the status: most pay, some owe and get (partially) blocked.
        debtor = rand() < 0.14
        billed = ZERO
        primary_id = 0
        cancelled_all = True
        cancelled_back = 0
        for position, plan in enumerate(chosen):
            subscription_id = self.ids[Subscription].take()
            if position == 0:
                primary_id = subscription_id
                started_back = since_back
            else:
                started_back = since_back - int(rand() * 700)
            started_back = max(started_back, 35)
            started = days[DAYS_AHEAD + started_back]
            status = SubscriptionStatus.ACTIVE
            changed_at: datetime | None = None
            roll = rand()
            if debtor and roll < 0.55:
                status = (
                    SubscriptionStatus.BLOCKED
                    if roll < 0.25
                    else SubscriptionStatus.PARTIALLY_BLOCKED
                )
            elif not debtor and roll < 0.04:
                status = SubscriptionStatus.CANCELLED
            if status != SubscriptionStatus.ACTIVE:
                changed_back = 1 + int(rand() * 49)
                changed_at = datetime.combine(
                    self.day_objects[DAYS_AHEAD + changed_back], time(9, int(rand() * 60)), self.tz
                )
                rows[SubscriptionStatusChange].append(
                    (subscription_id, "active", status, self.reasons[status], None, changed_at)
                )
                if status == SubscriptionStatus.CANCELLED:
                    cancelled_back = changed_back
            if status != SubscriptionStatus.CANCELLED:
                cancelled_all = False
                billed += plan.price
            sequence = index * 2 + position
            olt = pon = ""
            onu: int | None = None
            ip: str | None = None
            if plan.fiber:
                olt = f"OLT-{city.code}-{sequence % 23 + 1:02d}"
                pon = f"0/{sequence % 16 + 1}/{sequence // 16 % 16}"
                onu = sequence // 256 % 128 + 1
            if plan.fiber or plan.service_type == ServiceType.FIXED_WIRELESS:
                ip = f"10.{sequence >> 16 & 255}.{sequence >> 8 & 255}.{sequence & 255}"
            permanence = days[DAYS_AHEAD + started_back - 365] if rand() < 0.5 else None
            rows[Subscription].append(
                (
                    subscription_id, org_id, now, now, customer_id,
                    f"CT-{self.code}-{sequence + 1:09d}", f"S{sequence + 1_000_001}",
                    plan.service_type, plan.technology, plan.plan_id, plan.name, plan.speed,
                    plan.price, plan.currency, status, changed_at, started, permanence,
                    address_id if plan.with_address else None, ip, olt, pon, onu,
                )
            )  # fmt: skip
            for kind in plan.equipment:
                models_ = EQUIPMENT_MODELS[kind]
                model, prefix, alphabet = models_[int(rand() * len(models_))]
                if kind == "sim":
                    # ICCID: 89, the country calling code, then the card number.
                    serial = f"89{self.calling_code}{sequence:0{17 - len(self.calling_code)}d}"
                    mac = ""
                else:
                    width = 16 - len(prefix)
                    serial = (
                        f"{prefix}{rng.getrandbits(4 * width):0{width}X}"
                        if alphabet[-1] == "F"
                        else f"{prefix}{int(rand() * 10**width):0{width}d}"
                    )
                    mac = rng.getrandbits(48).to_bytes(6).hex(":").upper()
                rows[Equipment].append(
                    (org_id, now, now, subscription_id, kind, model, serial, mac, started, True)
                )
        self._invoices(
            index, customer_id, rows, primary_id, billed, since_back, debtor, cancelled_all,
            cancelled_back,
        )  # fmt: skip

    def _invoices(
        self,
        index: int,
        customer_id: int,
        rows: dict[type[models.Model], list[Row]],
        subscription_id: int,
        amount: Decimal,
        since_back: int,
        debtor: bool,
        cancelled_all: bool,
        cancelled_back: int,
    ) -> None:
        """One invoice a month for the last 3-4 months; debtors leave the latest unpaid."""
        rand = self.rng.random
        now = self.now
        org_id = self.org_id
        days = self.days
        if amount <= 0 and not cancelled_all:
            return  # prepaid only: nothing is invoiced
        if cancelled_all:
            amount = self.plans[0].price
        low, high = INVOICE_MONTHS
        months = low + int(rand() * (high - low + 1))
        unpaid = 1 + int(rand() * 3) if debtor else 0
        partial = not debtor and rand() < 0.03
        late_payer = rand() < 0.2
        currency = self.plans[0].currency
        number = f"{index + 1:08d}"
        invoices, payments = rows[Invoice], rows[Payment]
        methods = self.methods
        for back in range(months, 0, -1):
            month = self.months[back]
            if month.start_back > since_back:
                continue  # before the customer's first service
            if cancelled_all and cancelled_back and month.start_back < cancelled_back:
                continue  # after the cancellation
            issued_back = month.issued_back
            if issued_back < 0:
                continue
            invoice_id = self.ids[Invoice].take()
            paid_amount = amount
            if back <= unpaid:
                paid_amount = ZERO
            elif partial and back == 1:
                paid_amount = (amount / 2).quantize(Decimal("0.01"))
            if paid_amount and issued_back < 10:
                paid_amount = ZERO  # not yet paid: still open
            invoices.append(
                (
                    invoice_id, org_id, now, now, customer_id, subscription_id,
                    month.number_prefix + number, month.period_start, month.period_end, amount,
                    currency, month.issued, month.due, paid_amount, False,
                )
            )  # fmt: skip
            if paid_amount > 0:
                delay = 10 + int(rand() * 30) if late_payer else int(rand() * 14)
                method, reference = methods[int(rand() * len(methods))]
                payments.append(
                    (
                        org_id, now, now, customer_id, invoice_id, method,
                        days[DAYS_AHEAD + max(issued_back - delay, 0)], paid_amount, currency,
                        f"{reference}{int(rand() * 1_000_000_000):09d}",
                    )
                )  # fmt: skip


def _phone(rand: Callable[[], float], prefixes: Sequence[str], length: int) -> str:
    prefix = prefixes[int(rand() * len(prefixes))]
    digits = length - len(prefix)
    return f"{prefix}{int(rand() * 10**digits):0{digits}d}"


# --- writers ---------------------------------------------------------------------------------


def _columns(model: type[models.Model]) -> list[str]:
    fields_ = [model._meta.get_field(name) for name in FIELDS[model]]
    return [field_.column for field_ in fields_ if isinstance(field_, models.Field)]


COPY_CHUNK = 20_000  # rows per write() of pre-joined text


def _copy_write(batch: Batch) -> None:
    """COPY every table of the batch through psycopg 3, as text joined in Python.

    The rows come from a ``text=True`` factory: days and timestamps already text, every
    string checked by _copy_safe (no tab, newline or backslash, never "None"), so
    ``str()`` of each value is its COPY text form; None becomes "None", the NULL marker
    the COPY statement declares, and True/False are valid boolean input.
    """
    with connection.cursor() as cursor:
        raw = cursor.cursor  # the psycopg cursor under Django's wrapper
        for model in WRITE_ORDER:
            rows = batch.rows[model]
            if not rows:
                continue
            columns = ", ".join(f'"{column}"' for column in _columns(model))
            statement = (
                f'COPY "{model._meta.db_table}" ({columns}) FROM STDIN '
                f"(FORMAT text, NULL '{COPY_NULL}')"
            )
            with raw.copy(statement) as copy:
                for start in range(0, len(rows), COPY_CHUNK):
                    lines = ["\t".join(map(str, row)) for row in rows[start : start + COPY_CHUNK]]
                    lines.append("")
                    copy.write("\n".join(lines))


def _sql_write(batch: Batch) -> None:
    """executemany of plain INSERTs (SQLite, or any backend without COPY)."""
    ops = connection.ops
    with connection.cursor() as cursor:
        for model in WRITE_ORDER:
            rows = batch.rows[model]
            if not rows:
                continue
            fields_ = [model._meta.get_field(name) for name in FIELDS[model]]
            columns = ", ".join(ops.quote_name(column) for column in _columns(model))
            marks = ", ".join(["%s"] * len(fields_))
            datetimes = [i for i, f in enumerate(fields_) if isinstance(f, models.DateTimeField)]
            decimals = [i for i, f in enumerate(fields_) if isinstance(f, models.DecimalField)]
            if datetimes or decimals:
                adapted = []
                for row in rows:
                    values = list(row)
                    for i in datetimes:
                        if values[i] is not None:
                            values[i] = ops.adapt_datetimefield_value(values[i])
                    for i in decimals:
                        if values[i] is not None:
                            values[i] = str(values[i])
                    adapted.append(values)
                params: Sequence[Sequence[Any]] = adapted
            else:
                params = rows
            cursor.executemany(
                f"INSERT INTO {ops.quote_name(model._meta.db_table)} ({columns}) VALUES ({marks})",
                params,
            )


def _orm_write(batch: Batch) -> None:
    """The baseline: model instances and Django's bulk_create."""
    for model in WRITE_ORDER:
        rows = batch.rows[model]
        if not rows:
            continue
        names = FIELDS[model]
        model._default_manager.bulk_create(
            [model(**dict(zip(names, row, strict=True))) for row in rows], batch_size=2000
        )


# --- large loads on PostgreSQL: indexes and foreign keys off, then rebuilt ------------------

BULK_THRESHOLD = 50_000  # customers from which a PostgreSQL COPY load goes through _bulk_load
BULK_MAINTENANCE_WORK_MEM = "512MB"
# The tables COPY fills (CustomerNameKey is SQLite's).
BULK_TABLES = tuple(model for model in WRITE_ORDER if model is not CustomerNameKey)


@dataclass
class _Deferred:
    """What _bulk_load dropped, as the catalog defined it, to create again exactly."""

    indexes: list[tuple[str, str, str]]  # (table, index, pg_get_indexdef)
    foreign_keys: list[tuple[str, str, str]]  # (table, constraint, pg_get_constraintdef)
    word_trigger: bool = False  # customers_search_words_insert was enabled

    def restore_sql(self) -> list[str]:
        quote = connection.ops.quote_name
        statements = [f"{definition};" for _table, _name, definition in self.indexes] + [
            f"ALTER TABLE {quote(table)} ADD CONSTRAINT {quote(name)} {definition};"
            for table, name, definition in self.foreign_keys
        ]
        if self.word_trigger:
            statements += [f"{WORD_TRIGGER_ON};", f"{_word_backfill()};"]
        return statements


# The statement-level trigger that keeps customers_search_word_key (migration 0003)
# runs once per COPY; a bulk load turns it off and fills the word table once at the end.
WORD_TRIGGER = "customers_search_words_insert"
WORD_TRIGGER_ON = f"ALTER TABLE customers_customer ENABLE TRIGGER {WORD_TRIGGER}"
WORD_TRIGGER_OFF = f"ALTER TABLE customers_customer DISABLE TRIGGER {WORD_TRIGGER}"


@lru_cache(maxsize=1)
def _word_backfill() -> str:
    """The migration's own backfill of the word table from every customer name."""
    migration = importlib.import_module("telcodesk.customers.migrations.0003_search_indexes")
    (statement,) = [
        sql
        for sql in migration.PG_FORWARDS
        if sql.strip().startswith("INSERT INTO customers_search_word_key")
    ]
    return str(statement).strip()


def _deferrable_objects(cursor: Any, tables: Sequence[str]) -> _Deferred:
    """The secondary indexes and foreign keys of ``tables``.

    Secondary: neither primary key nor unique (those back the unique constraints the
    load relies on, and stay) nor exclusion.
    """
    cursor.execute(
        "SELECT t.relname, i.relname, pg_get_indexdef(i.oid) FROM pg_index x "
        "JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid "
        "WHERE x.indrelid = ANY(SELECT to_regclass(name) FROM unnest(%s::text[]) name) "
        "AND NOT x.indisprimary AND NOT x.indisunique AND NOT x.indisexclusion "
        "ORDER BY t.relname, i.relname",
        [list(tables)],
    )
    indexes = [(table, name, definition) for table, name, definition in cursor.fetchall()]
    cursor.execute(
        "SELECT t.relname, c.conname, pg_get_constraintdef(c.oid) FROM pg_constraint c "
        "JOIN pg_class t ON t.oid = c.conrelid "
        "WHERE c.contype = 'f' AND c.convalidated "
        "AND c.conrelid = ANY(SELECT to_regclass(name) FROM unnest(%s::text[]) name) "
        "ORDER BY t.relname, c.conname",
        [list(tables)],
    )
    foreign_keys = [(table, name, definition) for table, name, definition in cursor.fetchall()]
    cursor.execute(
        "SELECT 1 FROM pg_trigger WHERE tgname = %s AND tgenabled <> 'D' "
        "AND tgrelid = to_regclass('customers_customer')",
        [WORD_TRIGGER],
    )
    return _Deferred(indexes, foreign_keys, cursor.fetchone() is not None)


def _run_lanes(lanes: Sequence[Sequence[str]], *, parallel: bool) -> None:
    """Run each lane's statements in order; lanes side by side on their own connections
    when ``parallel`` (two cores: a GIN build beside the B-tree ones), else one after
    the other on Django's connection (inside the caller's transaction)."""
    setting = f"SET maintenance_work_mem = '{BULK_MAINTENANCE_WORK_MEM}'"
    if not parallel:
        with connection.cursor() as cursor:
            cursor.execute("SHOW maintenance_work_mem")
            previous = cursor.fetchone()[0]
            cursor.execute(setting)
            try:
                for lane in lanes:
                    for statement in lane:
                        cursor.execute(statement)
            finally:
                cursor.execute("SELECT set_config('maintenance_work_mem', %s, false)", [previous])
        return

    def run(lane: Sequence[str]) -> None:
        own = connections.create_connection(DEFAULT_DB_ALIAS)
        try:
            with own.cursor() as cursor:
                cursor.execute(setting)
                for statement in lane:
                    cursor.execute(statement)
        finally:
            own.close()

    with ThreadPoolExecutor(max_workers=len(lanes)) as pool:
        for future in [pool.submit(run, lane) for lane in lanes if lane]:
            future.result()


def _balanced(statements: Sequence[tuple[str, int]], lanes: int = 2) -> list[list[str]]:
    """Statements spread over ``lanes`` by estimated cost, largest first."""
    result: list[list[str]] = [[] for _ in range(lanes)]
    load = [0] * lanes
    for statement, cost in sorted(statements, key=lambda item: -item[1]):
        lane = load.index(min(load))
        result[lane].append(statement)
        load[lane] += cost
    return result


def _restore(deferred: _Deferred, *, parallel: bool) -> None:
    """Create the dropped indexes again, then the foreign keys (NOT VALID, then VALIDATE:
    one scan each, side by side, instead of a check per row)."""
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT relname, relpages FROM pg_class "
            "WHERE oid = ANY(SELECT to_regclass(name) FROM unnest(%s::text[]) name)",
            [
                sorted(
                    {table for table, _name, _definition in deferred.indexes}
                    | {"customers_customer"}
                )
            ],
        )
        pages = dict(cursor.fetchall())
    existing = _existing_indexes()
    work = []
    for table, name, definition in deferred.indexes:
        if name in existing:
            continue
        # A trigram GIN build costs several B-tree builds of the same table.
        cost = pages.get(table, 1) * (8 if " USING gin " in definition else 1)
        work.append((definition, cost))
    if deferred.word_trigger:
        with connection.cursor() as cursor:
            cursor.execute(WORD_TRIGGER_ON)
        work.append((_word_backfill(), pages.get(Customer._meta.db_table, 1) * 2))
    _run_lanes(_balanced(work), parallel=parallel)
    present = _existing_foreign_keys()
    missing = [fk for fk in deferred.foreign_keys if (fk[0], fk[1]) not in present]
    with connection.cursor() as cursor:
        for table, name, definition in missing:
            cursor.execute(
                f"ALTER TABLE {quote(table)} ADD CONSTRAINT {quote(name)} {definition} NOT VALID"
            )
    validate = [
        (f"ALTER TABLE {quote(table)} VALIDATE CONSTRAINT {quote(name)}", 1)
        for table, name, _definition in missing
    ]
    _run_lanes(_balanced(validate), parallel=parallel)


def _existing_indexes() -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexname FROM pg_indexes WHERE schemaname = current_schema()")
        return {name for (name,) in cursor.fetchall()}


def _existing_foreign_keys() -> set[tuple[str, str]]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT t.relname, c.conname FROM pg_constraint c JOIN pg_class t "
            "ON t.oid = c.conrelid WHERE c.contype = 'f'"
        )
        return {(table, name) for table, name in cursor.fetchall()}


@contextmanager
def _bulk_load(*, parallel: bool, stats: LoadStats | None = None) -> Iterator[None]:
    """Drop the secondary indexes and foreign keys of the tables COPY fills; whatever
    happens in the block, create them again from the definitions read before dropping.

    A bulk load then writes heap rows only: no B-tree or GIN insertion per row and no
    deferred foreign-key check per row at each commit. Building an index afterwards
    (a sort, ``maintenance_work_mem`` raised) and validating a foreign key (one join)
    costs far less. Primary keys and unique constraints stay. The definitions are
    logged before anything is dropped: only if the process dies without running its
    ``finally`` (SIGKILL, power loss) do they have to be run by hand.
    """
    inside = connection.in_atomic_block
    with connection.cursor() as cursor:
        if inside:
            # ALTER TABLE refuses tables with deferred checks still pending: run them now.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")
        deferred = _deferrable_objects(cursor, [model._meta.db_table for model in BULK_TABLES])
        logger.info(
            "demo data bulk load: dropping %d indexes and %d foreign keys; to restore by hand:\n%s",
            len(deferred.indexes),
            len(deferred.foreign_keys),
            "\n".join(deferred.restore_sql()),
        )
        quote = connection.ops.quote_name
        with transaction.atomic():
            for table, name, _definition in deferred.foreign_keys:
                cursor.execute(f"ALTER TABLE {quote(table)} DROP CONSTRAINT {quote(name)}")
            for _table, name, _definition in deferred.indexes:
                cursor.execute(f"DROP INDEX {quote(name)}")
            if deferred.word_trigger:
                cursor.execute(WORD_TRIGGER_OFF)
    try:
        yield
    finally:
        started = perf_counter()
        _restore(deferred, parallel=parallel and not inside)
        seconds = perf_counter() - started
        if stats is not None:
            stats.seconds_rebuilding = seconds
        logger.info("demo data bulk load: indexes and foreign keys rebuilt in %.1f s", seconds)


# --- public API ------------------------------------------------------------------------------


@dataclass
class LoadStats:
    customers: int = 0
    rows: dict[str, int] = field(default_factory=dict)
    seconds_rebuilding: float = 0.0

    def add(self, batch: Batch) -> None:
        self.add_counts(batch.count())

    def add_counts(self, counts: dict[str, int]) -> None:
        for name, count in counts.items():
            self.rows[name] = self.rows.get(name, 0) + count


@dataclass
class _Load:
    """What one loading process needs (inherited by fork, never pickled)."""

    organization: Organization
    plans: list[Plan]
    seed: int
    today: date
    batch_size: int
    writer: Writer
    existing_numbers: set[tuple[str, str]]


def _load_range(
    load: _Load, first: int, stop: int, report: Callable[[int, dict[str, int]], None]
) -> None:
    """Generate and write customers ``first``..``stop - 1``, one transaction per batch."""
    vendor = connection.vendor
    writer = load.writer
    write = {"copy": _copy_write, "sql": _sql_write, "orm": _orm_write}[writer]
    sqlite_ids = _SQLiteReservations()
    reserve = _reserve_postgresql if vendor == "postgresql" else sqlite_ids
    ids: dict[type[models.Model], IdPool] = {model: IdPool(model, reserve) for model in WITH_IDS}
    factory = CustomerFactory(
        organization=load.organization,
        plans=load.plans,
        seed=load.seed,
        today=load.today,
        ids=ids,
        existing_numbers=load.existing_numbers,
        text=writer == "copy",
    )
    name_keys = vendor != "postgresql"
    for start in range(first, stop, load.batch_size):
        size = min(load.batch_size, stop - start)
        batch = Batch()
        with transaction.atomic():
            if vendor != "postgresql":
                # Reserved ids are ours only while this transaction holds the write lock.
                sqlite_ids.reset()
                for pool in ids.values():
                    pool.ids, pool.position = [], 0
            for index in range(start, start + size):
                factory.add(index, batch, name_keys=name_keys)
            write(batch)
        report(size, batch.count())


def _worker(load: _Load, first: int, stop: int, queue: Any) -> None:
    """A forked loading process: reports ("batch", size, counts), then ("done",) or
    ("error", traceback)."""
    try:
        _load_range(load, first, stop, lambda size, counts: queue.put(("batch", size, counts)))
        queue.put(("done",))
    except BaseException:
        queue.put(("error", traceback.format_exc()))
    finally:
        connection.close()


def _load_in_processes(
    load: _Load, ranges: Sequence[tuple[int, int]], report: Callable[[int, dict[str, int]], None]
) -> None:
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    connections.close_all()  # each child opens its own connection
    processes = [
        context.Process(target=_worker, args=(load, first, stop, queue), daemon=True)
        for first, stop in ranges
    ]
    for process in processes:
        process.start()
    running = len(processes)
    try:
        while running:
            try:
                message = queue.get(timeout=5)
            except queue_module.Empty:
                dead = [p for p in processes if p.exitcode not in (None, 0)]
                if dead:
                    raise RuntimeError(
                        f"demo data worker died: exit code {dead[0].exitcode}"
                    ) from None
                continue
            if message[0] == "batch":
                report(message[1], message[2])
            elif message[0] == "done":
                running -= 1
            else:
                raise RuntimeError(f"demo data worker failed:\n{message[1]}")
    finally:
        for process in processes:
            if process.is_alive() and running:
                process.terminate()
            process.join()


def generate_customers(
    *,
    organization: Organization,
    count: int,
    seed: int = 0,
    batch_size: int = 5000,
    start_index: int = 0,
    progress: Callable[[int], None] | None = None,
    today: date | None = None,
    writer: Writer = "auto",
    stats: LoadStats | None = None,
    bulk_threshold: int = BULK_THRESHOLD,
    workers: int | None = None,
) -> int:
    """Generate ``count`` customers (and their records) for an operator; returns ``count``.

    Customers are numbered from ``start_index``: document numbers, service ids,
    contract and invoice numbers derive from that number, so a later call with
    ``start_index`` past the earlier ones adds customers without clashing. The same
    seed, start index and ``today`` give the same data (whatever the batch size and
    number of workers). Each batch of ``batch_size`` customers is one transaction;
    ``progress`` gets the number written so far.

    ``writer``: "copy" (PostgreSQL COPY), "sql" (executemany), "orm" (bulk_create,
    the slow baseline) or "auto" (copy on PostgreSQL, sql elsewhere). ``stats``, if
    given, receives the row counts per model.

    A COPY load of ``bulk_threshold`` customers or more drops the secondary indexes and
    the foreign keys of the tables it fills and creates them again at the end, also
    when the load fails (see _bulk_load). Outside a transaction it runs in ``workers``
    processes (default: 2 for such loads, except for Mexico, whose CURP deduplication
    needs one process), each writing its own range of customers, so one generates rows
    while the other's COPY runs in the server.
    """
    if organization.country not in COUNTRIES:
        raise ValueError(f"no demo data for country {organization.country}")
    vendor = connection.vendor
    if writer == "auto":
        writer = "copy" if vendor == "postgresql" else "sql"
    if today is None:
        today = timezone.localtime(timezone.now(), zoneinfo.ZoneInfo(organization.time_zone)).date()
    plans = list(Plan.objects.filter(organization=organization, is_active=True).order_by("code"))
    existing: set[tuple[str, str]] = set()
    if organization.country == "MX" and start_index:
        existing = set(
            IdentityDocument.objects.filter(
                organization=organization, kind__in=("mx_curp", "mx_rfc")
            ).values_list("kind", "number")
        )
    bulk = vendor == "postgresql" and writer == "copy" and count >= bulk_threshold
    if workers is None:
        workers = 2 if bulk and organization.country != "MX" and count >= 4 * RNG_CHUNK else 1
    if connection.in_atomic_block or vendor != "postgresql":
        workers = 1
    name_pools(organization.country, seed)  # drawn once, before any fork
    load = _Load(organization, plans, seed, today, batch_size, writer, existing)
    done = 0

    def report(size: int, counts: dict[str, int]) -> None:
        nonlocal done
        done += size
        if stats is not None:
            stats.customers += size
            stats.add_counts(counts)
        if progress is not None:
            progress(done)

    stop = start_index + count
    with _bulk_load(parallel=True, stats=stats) if bulk else nullcontext():
        if workers <= 1:
            _load_range(load, start_index, stop, report)
        else:
            # Split at multiples of RNG_CHUNK: the data are those of a one-process load.
            share = -(-count // workers)
            bounds = [start_index, stop]
            for k in range(1, workers):
                bound = -(-(start_index + share * k) // RNG_CHUNK) * RNG_CHUNK
                bounds.insert(-1, min(bound, stop))
            ranges = [(a, b) for a, b in itertools.pairwise(bounds) if a < b]
            _load_in_processes(load, ranges, report)
    return done


def _chunks(values: Sequence[int], size: int) -> Iterator[Sequence[int]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def assign_to_reseller(
    *,
    operator: Organization,
    reseller: Organization,
    fraction: float,
    seed: int,
    only_service_type: str | None = None,
) -> int:
    """Hand about ``fraction`` of the operator's customers to a reseller; returns how many
    new assignments were made.

    ``only_service_type`` limits the choice to customers whose every subscription is of
    that type (Bluecom works COMTECO's fixed-line-only portfolio). Customers already
    assigned to the reseller are skipped, so running it again adds nothing new for the
    same seed.
    """
    if not 0 <= fraction <= 1:
        raise ValueError("fraction must be between 0 and 1")
    customers = Customer.objects.filter(organization=operator)
    if only_service_type is not None:
        customers = customers.filter(subscriptions__service_type=only_service_type).exclude(
            subscriptions__service_type__in=[
                value for value in ServiceType.values if value != only_service_type
            ]
        )
    candidate_ids = sorted(set(customers.values_list("pk", flat=True)))
    rng = random.Random(f"{seed}:{operator.slug}:{reseller.slug}")
    chosen = [pk for pk in candidate_ids if rng.random() < fraction]
    already = set(
        CustomerAssignment.objects.filter(reseller=reseller).values_list("customer_id", flat=True)
    )
    now = timezone.now()
    created = 0
    for chunk in _chunks([pk for pk in chosen if pk not in already], 5000):
        CustomerAssignment.objects.bulk_create(
            [
                CustomerAssignment(
                    customer_id=pk, reseller=reseller, created_at=now, updated_at=now
                )
                for pk in chunk
            ],
            ignore_conflicts=True,
        )
        created += len(chunk)
    return created
