"""CSV import of an operator's customers: through the services, row by row."""

from __future__ import annotations

import io
from datetime import date
from decimal import Decimal
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from telcodesk.accounts.models import AuditLog, Organization
from telcodesk.accounts.roles import Role
from telcodesk.core.errors import PermissionDenied, ValidationFailed
from telcodesk.core.tenancy import Actor
from telcodesk.customers import services
from telcodesk.customers.imports import COLUMNS, ImportReport, RowProblem, customers_import_csv
from telcodesk.customers.management.commands.customers_import import Command
from telcodesk.customers.models import (
    Address,
    ContactPoint,
    Customer,
    IdentityDocument,
    Plan,
    Subscription,
    TimelineEvent,
)
from telcodesk.customers.phones import InvalidPhone, normalize_phone
from tests.conftest import World, make_organization, make_user

pytestmark = pytest.mark.django_db

BOLIVIAN_FILE = (
    "kind,first_name,last_name,company_name,birth_date,segment,preferred_language,"
    "preferred_channel,consent_whatsapp,consent_sms,consent_email,consent_calls,external_ref,"
    "document_kind,document_number,document_issued_in,document_complement,"
    "phone,phone_whatsapp,phone2,email,"
    "address_street,address_number,address_between_street_a,address_between_street_b,"
    "address_building_type,address_building_name,address_floor,address_apartment,"
    "address_zone,address_city,address_state,"
    "service_id,contract_number,service_type,plan_code,technology,started_on,"
    "permanence_until,status\n"
    "Person,Juana,Mamani  Quispe,,17/05/1980,residential,ES,WhatsApp,sí,no,1,0,CLI-0001,"
    "bo_ci,4.567.891,lp,1a,"
    "777-12345,+591 777 12345,4 4221234,Juana.Mamani@Example.com,"
    "la paz,2040,lanza,antezana,edificio,elias,5,b,central,La Paz,La Paz,"
    "ftth-1001,c-2024-77,fiber_ftth,fibra-100,,2024-03-01,01/03/2026,\n"
    "company,,,Ferretería El Tornillo S.R.L.,,small_business,,,si,0,0,1,CLI-0002,"
    "bo_nit,1020304050,,,"
    "70012345,,,,"
    ",,,,,,,,,,,"
    ",,,,,,,\n"
)


def _import(actor: Actor, text: str, *, dry_run: bool = False) -> ImportReport:
    return customers_import_csv(actor=actor, stream=io.StringIO(text), dry_run=dry_run)


def _argentine_operator() -> tuple[Organization, Actor]:
    organization = make_organization(
        "claro-ar-import",
        name="Claro AR Import",
        country="AR",
        currency="ARS",
        time_zone="America/Argentina/Buenos_Aires",
        default_language="en",
    )
    admin = make_user("ar-admin", organization, Role.ADMIN)
    return organization, Actor(organization=organization, role=Role.ADMIN, user=admin)


# Line 2 and 6 are good; 3 has a CUIT with a wrong check digit, 4 a phone too short,
# 5 a postal code that is no Argentine one (refused by address_add, after the customer
# row was written: the row's transaction must take it back).
ARGENTINE_FILE = (
    "first_name,last_name,document_kind,document_number,phone,address_street,"
    "address_number,address_postal_code\n"
    "Lucía,Fernández,ar_dni,20.123.456,011 15-2345-6789,Av. Corrientes,1234,C1043AAZ\n"
    "Mario,Gómez,ar_cuit,20-12345678-0,011 15-2345-6790,,,\n"
    "Rosa,Díaz,ar_dni,21.234.567,12,,,\n"
    "Pedro,Sosa,ar_dni,22.345.678,,Av. Santa Fe,900,ABC\n"
    "Carla,Ruiz,ar_cuit,20-12345678-6,,,,\n"
)


def _expected_argentine_problems() -> list[RowProblem]:
    with pytest.raises(InvalidPhone) as too_short:
        normalize_phone("12", region="AR")
    return [
        RowProblem(
            3,
            "document_number",
            [
                "The CUIT has a wrong check digit. Check the number on the document and "
                "type it again."
            ],
        ),
        RowProblem(4, "phone", [too_short.value.message]),
        RowProblem(
            5,
            "address",
            ["The postal code has 4 digits (1425) or is a CPA like C1425ABC; you typed 'ABC'."],
        ),
    ]


def _footprint() -> tuple[int, ...]:
    return (
        Customer.objects.count(),
        IdentityDocument.objects.count(),
        ContactPoint.objects.count(),
        Address.objects.count(),
        Subscription.objects.count(),
        TimelineEvent.objects.count(),
        AuditLog.objects.count(),
    )


def test_good_rows_are_created_with_normalized_values(world: World) -> None:
    plan = Plan.objects.create(
        organization=world.operator,
        code="fibra-100",
        name="Fibra 100",
        service_type="fiber_ftth",
        technology="fiber",
        download_mbps=Decimal("100"),
        monthly_price=Decimal("199.00"),
        currency="BOB",
    )

    report = _import(world.actor(world.admin), BOLIVIAN_FILE)

    assert (report.created, report.skipped, report.failed, report.problems) == (2, 0, 0, [])
    juana = Customer.objects.get(external_ref="CLI-0001")
    assert juana.organization == world.operator
    assert (
        juana.kind,
        juana.first_name,
        juana.last_name,
        juana.birth_date,
        juana.segment,
        juana.preferred_language,
        juana.preferred_channel,
        juana.consent_whatsapp,
        juana.consent_sms,
        juana.consent_email,
        juana.consent_calls,
    ) == (
        "person",
        "Juana",
        "Mamani Quispe",
        date(1980, 5, 17),
        "residential",
        "es",
        "whatsapp",
        True,
        False,
        True,
        False,
    )
    assert list(juana.documents.values_list("kind", "number", "issued_in", "complement")) == [
        ("bo_ci", "4567891", "LP", "1A")
    ]
    assert list(
        juana.contacts.order_by("id").values_list(
            "kind", "value", "label", "is_whatsapp", "is_primary"
        )
    ) == [
        ("phone", "+59177712345", "mobile", True, True),
        ("phone", "+59144221234", "home", False, False),
        ("email", "juana.mamani@example.com", "home", False, True),
    ]
    address = juana.addresses.get()
    assert (address.purpose, address.country, address.building_type, address.city) == (
        "installation",
        "BO",
        "building",
        "LA PAZ",
    )
    assert address.one_line == (
        "LA PAZ - 2040 ENTRE LANZA Y ANTEZANA EDIFICIO ELIAS PISO 5 DEPTO B ZONA CENTRAL"
    )
    service = juana.subscriptions.get()
    assert (
        service.service_id,
        service.contract_number,
        service.service_type,
        service.technology,
        service.plan,
        service.monthly_price,
        service.currency,
        service.status,
        service.started_on,
        service.permanence_until,
        service.installation_address,
    ) == (
        "FTTH-1001",
        "C-2024-77",
        "fiber_ftth",
        "fiber",
        plan,
        Decimal("199.00"),
        "BOB",
        "active",
        date(2024, 3, 1),
        date(2026, 3, 1),
        address,
    )
    company = Customer.objects.get(external_ref="CLI-0002")
    assert (company.kind, company.display_name, company.segment, company.consent_calls) == (
        "company",
        "Ferretería El Tornillo S.R.L.",
        "small_business",
        True,
    )
    assert list(company.documents.values_list("kind", "number")) == [("bo_nit", "1020304050")]
    assert list(company.contacts.values_list("value", "is_whatsapp", "is_primary")) == [
        ("+59170012345", False, True)
    ]
    assert not company.addresses.exists()
    assert not company.subscriptions.exists()
    assert AuditLog.objects.filter(object_type="customer", action="create").count() == 2


def test_a_bad_row_is_reported_with_its_line_and_column_and_creates_nothing(
    world: World,
) -> None:
    organization, actor = _argentine_operator()

    report = _import(actor, ARGENTINE_FILE)

    assert (report.created, report.skipped, report.failed) == (2, 0, 3)
    assert report.problems == _expected_argentine_problems()
    assert set(Customer.objects.values_list("organization__slug", "last_name")) == {
        (organization.slug, "Fernández"),
        (organization.slug, "Ruiz"),
    }
    assert set(IdentityDocument.objects.values_list("number", flat=True)) == {
        "20123456",
        "20123456786",
    }
    assert list(ContactPoint.objects.values_list("value", flat=True)) == ["+5491123456789"]
    assert list(Address.objects.values_list("one_line", flat=True)) == [
        "Av. Corrientes 1234, C1043AAZ"
    ]
    assert set(TimelineEvent.objects.values_list("customer__last_name", flat=True)) == {
        "Fernández",
        "Ruiz",
    }


def test_a_refused_service_takes_its_customer_back(world: World) -> None:
    text = (
        "first_name,last_name,phone,service_id,contract_number,service_type,started_on\n"
        "Juana,Mamani,77712345,S-1,C-1,satellite_tv,2024-01-10\n"
        "Pedro,Choque,77712346,S-2,C-2,dth_tv,2024-01-10\n"
    )
    report = _import(world.actor(world.admin), text)

    assert (report.created, report.failed) == (1, 1)
    assert report.problems == [
        RowProblem(2, "service_type", ["Choose one of the listed service types."])
    ]
    assert list(Customer.objects.values_list("first_name", flat=True)) == ["Pedro"]
    assert list(ContactPoint.objects.values_list("value", flat=True)) == ["+59177712346"]


def test_every_bad_cell_of_a_row_is_reported_at_once(world: World) -> None:
    text = (
        "first_name,birth_date,consent_sms,phone_whatsapp,phone2,document_number,"
        "service_id,permanence_until\n"
        "Juana,31/02/1980,maybe,123,77712345,4567891,S-1,2026-13-01\n"
    )
    report = _import(world.actor(world.admin), text)

    assert (report.created, report.failed) == (0, 1)
    with pytest.raises(InvalidPhone) as bad_phone:
        normalize_phone("123", region="BO")
    assert {problem.field: problem.messages for problem in report.problems} == {
        "birth_date": [
            "Write the date as YYYY-MM-DD (2024-03-31) or DD/MM/YYYY (31/03/2024); "
            "'31/02/1980' is neither, or is not a real date."
        ],
        "consent_sms": [
            "Write 1 or 0 (or yes/no, si/no, sim/não, true/false); 'maybe' is none of them."
        ],
        "document_kind": ["Give the document type of the number, one of: bo_ci, bo_nit, passport."],
        "phone_whatsapp": [bad_phone.value.message],
        "started_on": ["Write the date the service started, like 2024-03-31."],
        "permanence_until": [
            "Write the date as YYYY-MM-DD (2024-03-31) or DD/MM/YYYY (31/03/2024); "
            "'2026-13-01' is neither, or is not a real date."
        ],
    }
    assert {problem.line for problem in report.problems} == {2}
    assert Customer.objects.count() == 0


def test_a_semicolon_file_with_a_byte_order_mark_is_read(world: World) -> None:
    # Excel's "CSV UTF-8" in Spanish: BOM, semicolons, a quoted cell over two lines.
    text = (
        "\ufefffirst_name;last_name;phone;address_street;address_number;"
        "address_corner_street;address_reference\n"
        'María José;Cañoto Peñaranda;777 12345;25 de mayo;73;sucre;"portón verde;\n'
        'al lado de la farmacia"\n'
        "Pedro;Choque;12;;;;\n"
    )
    report = _import(world.actor(world.admin), text)

    assert (report.created, report.failed) == (1, 1)
    assert [(problem.line, problem.field) for problem in report.problems] == [(4, "phone")]
    customer = Customer.objects.get()
    assert (customer.first_name, customer.last_name) == ("María José", "Cañoto Peñaranda")
    assert customer.contacts.get().value == "+59177712345"
    assert customer.addresses.get().one_line == (
        "25 DE MAYO - 0073 ESQUINA SUCRE. OBSERVACIONES: PORTÓN VERDE; AL LADO DE LA FARMACIA"
    )


def test_an_unknown_column_refuses_the_file_before_any_row(world: World) -> None:
    text = "first_name,apellido,phone,nombre\nJuana,Mamani,77712345,x\n"
    before = _footprint()

    with pytest.raises(ValidationFailed) as refused:
        _import(world.actor(world.admin), text)

    assert refused.value.message == (
        "Unknown columns: apellido, nombre. Nothing was imported. Rename or remove them; "
        "the known columns are: " + ", ".join(COLUMNS) + "."
    )
    assert refused.value.details == {"header": ["apellido", "nombre"]}
    assert _footprint() == before


def test_a_file_that_is_not_utf8_is_refused(world: World, tmp_path: Path) -> None:
    path = tmp_path / "latin1.csv"
    path.write_bytes("first_name;last_name\nMaría;Cañoto\n".encode("latin-1"))

    with open(path, encoding="utf-8", newline="") as stream, pytest.raises(ValidationFailed):
        customers_import_csv(actor=world.actor(world.admin), stream=stream)

    assert Customer.objects.count() == 0


def test_rows_already_registered_are_skipped_as_duplicates(world: World) -> None:
    services.customer_create(
        actor=world.actor(world.agent),
        first_name="Juana",
        last_name="Mamani",
        documents=[{"kind": "bo_ci", "number": "4567891 LP"}],
    )
    services.customer_create(
        actor=world.actor(world.agent), company_name="Tienda", kind="company", external_ref="B-9"
    )
    # The same document in another organization is no duplicate.
    outsider = world.actor(world.outsider)
    services.customer_create(
        actor=outsider, first_name="Ana", documents=[{"kind": "passport", "number": "P1234567"}]
    )
    text = (
        "first_name,last_name,document_kind,document_number,external_ref\n"
        "Juana,Mamani Q.,bo_ci,4.567.891,\n"
        "Otra,Tienda,,,B-9\n"
        "Ana,Vargas,passport,p1234567,\n"
        "Ana,Vargas,passport,P 1234567,\n"
    )
    report = _import(world.actor(world.admin), text)

    assert (report.created, report.skipped, report.failed) == (1, 3, 0)
    assert report.problems == [
        RowProblem(
            2,
            "document_number",
            ["A customer with CI 4567891 already exists: the row was skipped."],
            skipped=True,
        ),
        RowProblem(
            3,
            "external_ref",
            ["A customer with billing system id B-9 already exists: the row was skipped."],
            skipped=True,
        ),
        RowProblem(
            5,
            "document_number",
            ["A customer with Passport P1234567 already exists: the row was skipped."],
            skipped=True,
        ),
    ]
    assert Customer.objects.filter(organization=world.operator).count() == 3
    assert Customer.objects.filter(organization=world.other_operator).count() == 1


def test_a_dry_run_reports_the_same_and_creates_nothing(world: World) -> None:
    _organization, actor = _argentine_operator()
    before = _footprint()

    report = _import(actor, ARGENTINE_FILE, dry_run=True)

    assert (report.created, report.skipped, report.failed, report.dry_run) == (2, 0, 3, True)
    assert report.problems == _expected_argentine_problems()
    assert _footprint() == before


def test_a_dry_run_sees_duplicates_inside_the_file(world: World) -> None:
    text = "first_name,document_kind,document_number\nJuana,bo_ci,4567891\nJuana,bo_ci,4567891\n"
    report = _import(world.actor(world.admin), text, dry_run=True)

    assert (report.created, report.skipped, report.failed) == (1, 1, 0)
    assert Customer.objects.count() == 0


def test_it_refuses_a_role_that_may_not_create_services_before_any_row(world: World) -> None:
    text = "first_name,phone,service_id\nJuana,77712345,S-1\n"
    with pytest.raises(PermissionDenied):
        _import(world.actor(world.agent), text)
    assert Customer.objects.count() == 0


def test_a_reseller_cannot_import(world: World) -> None:
    with pytest.raises(ValidationFailed):
        _import(world.actor(world.reseller_agent), "first_name\nJuana\n")
    assert Customer.objects.count() == 0


# --- the command ------------------------------------------------------------------


def _write(tmp_path: Path, text: str, *, encoding: str = "utf-8") -> str:
    path = tmp_path / "customers.csv"
    path.write_text(text, encoding=encoding, newline="")
    return str(path)


def test_the_command_prints_each_problem_and_exits_with_1(
    world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    organization, _actor = _argentine_operator()
    path = _write(tmp_path, ARGENTINE_FILE, encoding="utf-8-sig")
    out, err = StringIO(), StringIO()
    # run_from_argv closes the connections when done, which would end the test's
    # transaction; the exit code is what is tested here.
    from django.db import connections

    monkeypatch.setattr(connections, "close_all", lambda: None)

    with pytest.raises(SystemExit) as exit_:
        Command(stdout=out, stderr=err).run_from_argv(
            ["telcodesk", "customers_import", path, "--org", organization.slug]
        )

    assert exit_.value.code == 1
    problems = _expected_argentine_problems()
    assert out.getvalue().splitlines() == [
        *(f"Line {p.line}, {p.field}: {p.messages[0]}" for p in problems),
        "Created: 2. Skipped: 0. Refused: 3.",
    ]
    assert err.getvalue().startswith("CommandError: Rows refused: 3.")
    assert set(AuditLog.objects.values_list("actor_label", flat=True)) == {"import"}


def test_the_command_acts_as_the_named_member(world: World, tmp_path: Path) -> None:
    world.operator.default_language = "en"
    world.operator.save(update_fields=["default_language"])
    path = _write(
        tmp_path,
        "first_name,document_kind,document_number\nJuana,bo_ci,4567891\nAna,bo_ci,4567891\n",
    )
    out = StringIO()

    call_command(
        "customers_import", path, "--org", world.operator.slug, "--as", "backoffice", stdout=out
    )

    assert out.getvalue().splitlines() == [
        "Line 3, document_number (skipped): A customer with CI 4567891 already exists: the "
        "row was skipped.",
        "Created: 1. Skipped: 1. Refused: 0.",
    ]
    assert Customer.objects.get().timeline.get().actor == world.back_office


def test_the_command_dry_run_saves_nothing(world: World, tmp_path: Path) -> None:
    world.operator.default_language = "en"
    world.operator.save(update_fields=["default_language"])
    path = _write(tmp_path, "first_name;phone\nJuana;77712345\n")
    out = StringIO()

    call_command("customers_import", path, "--org", world.operator.slug, "--dry-run", stdout=out)

    assert out.getvalue().splitlines() == [
        "Dry run, nothing was saved. Would be created: 1. Skipped: 0. Refused: 0."
    ]
    assert Customer.objects.count() == 0


def test_the_command_refuses_a_user_of_another_organization(world: World, tmp_path: Path) -> None:
    path = _write(tmp_path, "first_name\nJuana\n")
    with pytest.raises(CommandError) as refused:
        call_command("customers_import", path, "--org", world.operator.slug, "--as", "outsider")
    assert "outsider" in str(refused.value)
    assert Customer.objects.count() == 0


def test_the_command_reports_an_unknown_column_as_an_error(world: World, tmp_path: Path) -> None:
    path = _write(tmp_path, "nombre\nJuana\n")
    with pytest.raises(CommandError) as refused:
        call_command("customers_import", path, "--org", world.operator.slug)
    assert refused.value.returncode == 1
    assert "nombre" in str(refused.value)
    assert Customer.objects.count() == 0
