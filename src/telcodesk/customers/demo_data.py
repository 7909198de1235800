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
the baseline bench/load.py compares against.

Generated rows skip the services on purpose (no audit log, no timeline): they are
demo data, not something a person did. Everything is deterministic for a seed, a
start index and a day.
"""

from __future__ import annotations

import random
import zoneinfo
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from functools import lru_cache
from typing import Any, Literal

import phonenumbers
from django.db import connection, models, transaction
from django.utils import timezone
from stdnum.ar import cuit as ar_cuit
from stdnum.br import cnpj as br_cnpj
from stdnum.mx import curp as mx_curp
from stdnum.mx import rfc as mx_rfc

from telcodesk.accounts.models import Organization
from telcodesk.customers.addresses import AddressFields, render_one_line
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

Writer = Literal["auto", "copy", "sql", "orm"]
Row = tuple[Any, ...]

# --- what gets generated, per country ---------------------------------------------------
# fmt: off

# Faker has no es_EC locale; es_CO (Colombian names) is the closest Andean one.
FAKER_LOCALES: dict[str, tuple[str, ...]] = {
    "AR": ("es_AR",),
    "MX": ("es_MX",),
    "EC": ("es_EC", "es_CO"),
    "BO": ("es",),
    "BR": ("pt_BR",),
}
# Surnames Faker's Spanish lists lack but a Bolivian or Ecuadorian list is full of.
ANDEAN_SURNAMES: dict[str, tuple[str, ...]] = {
    "BO": (
        "Mamani", "Quispe", "Condori", "Choque", "Flores", "Vargas", "Rojas", "Gutiérrez",
        "Huanca", "Apaza", "Torrez", "Colque", "Villca", "Ticona", "Zurita", "Claros",
        "Vásquez", "Arce", "Céspedes", "Siles", "Montaño", "Terrazas", "Ayala", "Rocha",
    ),
    "EC": (
        "Quishpe", "Guamán", "Chicaiza", "Toapanta", "Zambrano", "Vera", "Cedeño", "Mendoza",
        "Andrade", "Moreira", "Loor", "Intriago", "Yánez", "Paredes", "Carrión", "Játiva",
    ),
}
TWO_SURNAMES = {"BO": 0.85, "MX": 0.9, "EC": 0.85, "AR": 0.12, "BR": 0.45}
COMPANY_WORDS: dict[str, tuple[str, ...]] = {
    "es": (
        "Comercial", "Distribuidora", "Ferretería", "Servicios", "Consultora", "Transportes",
        "Importadora", "Farmacia", "Constructora", "Librería", "Panadería", "Clínica",
        "Agropecuaria", "Inversiones", "Tecnología", "Hotel",
    ),
    "pt": (
        "Comércio", "Distribuidora", "Serviços", "Transportes", "Construtora", "Farmácia",
        "Padaria", "Papelaria", "Clínica", "Consultoria", "Tecnologia", "Hotel", "Mercado",
        "Auto Peças",
    ),
}
COMPANY_SUFFIXES: dict[str, tuple[str, ...]] = {
    "AR": ("S.A.", "S.R.L.", "S.A.S."),
    "MX": ("S.A. de C.V.", "S. de R.L. de C.V.", "S.A.P.I. de C.V."),
    "EC": ("S.A.", "Cía. Ltda."),
    "BO": ("S.R.L.", "S.A.", "LTDA."),
    "BR": ("Ltda.", "S.A.", "ME", "EIRELI"),
}
EMAIL_DOMAINS: dict[str, tuple[str, ...]] = {
    "AR": ("gmail.com", "hotmail.com", "yahoo.com.ar", "outlook.com", "fibertel.com.ar"),
    "MX": ("gmail.com", "hotmail.com", "outlook.com", "yahoo.com.mx", "prodigy.net.mx"),
    "EC": ("gmail.com", "hotmail.com", "outlook.com", "yahoo.es", "andinanet.net"),
    "BO": ("gmail.com", "hotmail.com", "outlook.com", "yahoo.com", "comteco.com.bo"),
    "BR": ("gmail.com", "hotmail.com", "outlook.com", "uol.com.br", "bol.com.br"),
}
PAYMENT_METHODS: dict[str, tuple[tuple[str, int], ...]] = {
    "AR": (("card", 30), ("direct_debit", 25), ("lottery_agent", 25), ("bank", 20)),
    "MX": (("card", 35), ("bank", 30), ("cash", 25), ("direct_debit", 10)),
    "EC": (("bank", 40), ("card", 25), ("cash", 25), ("direct_debit", 10)),
    "BO": (("cash", 40), ("bank", 35), ("card", 15), ("collection_agency", 10)),
    "BR": (("bank", 45), ("card", 30), ("direct_debit", 20), ("lottery_agent", 5)),
}
STATUS_REASONS: dict[str, dict[str, str]] = {
    "es": {
        SubscriptionStatus.PARTIALLY_BLOCKED: "Mora: corte parcial por facturas impagas",
        SubscriptionStatus.BLOCKED: "Corte por falta de pago",
        SubscriptionStatus.CANCELLED: "Baja a solicitud del cliente",
    },
    "pt": {
        SubscriptionStatus.PARTIALLY_BLOCKED: "Inadimplência: bloqueio parcial",
        SubscriptionStatus.BLOCKED: "Bloqueio por falta de pagamento",
        SubscriptionStatus.CANCELLED: "Cancelamento a pedido do cliente",
    },
}


@dataclass(frozen=True)
class City:
    name: str
    state: str
    code: str  # for OLT names; for Bolivia also the CI issuing department
    lat: float
    lon: float
    postal: tuple[int, int]  # range of postal codes (as integers, formatted per country)
    neighbourhoods: tuple[str, ...]
    streets: tuple[str, ...]
    mobile: tuple[str, ...]  # E.164 prefixes, completed with random digits to `length`
    landline: tuple[str, ...]
    weight: int = 1


@dataclass(frozen=True)
class Country:
    code: str
    phone_length: int  # total characters of an E.164 number, "+" included
    landline_length: int
    cities: tuple[City, ...]
    language: str  # "es" or "pt" (status reasons, company words)


def _range(first: int, last: int) -> tuple[str, ...]:
    return tuple(str(digit) for digit in range(first, last + 1))


def _prefixes(base: str, digits: Sequence[str]) -> tuple[str, ...]:
    return tuple(base + digit for digit in digits)


# The phone prefixes were checked with phonenumbers.is_valid_number over the whole range
# they are completed in (tests/customers/test_demo_data.py checks every generated one).
COUNTRIES: dict[str, Country] = {
    "AR": Country(
        "AR", 14, 13,
        (
            City(
                "Ciudad Autónoma de Buenos Aires", "Buenos Aires", "CABA", -34.6037, -58.3816,
                (1001, 1440),
                (
                    "Palermo", "Belgrano", "Caballito", "Flores", "Almagro", "Recoleta",
                    "Villa Urquiza", "Boedo", "Núñez", "Villa Crespo", "San Telmo", "Saavedra",
                ),
                (
                    "Av. Corrientes", "Av. Santa Fe", "Av. Rivadavia", "Av. Cabildo", "Thames",
                    "Gorriti", "Av. Córdoba", "Tucumán", "Lavalle", "Av. Scalabrini Ortiz",
                    "Billinghurst", "Av. Díaz Vélez", "Acoyte", "Av. Triunvirato", "Olazábal",
                ),
                _prefixes("+54911", _range(2, 5)),
                _prefixes("+54114", _range(0, 9)),
                6,
            ),
            City(
                "Córdoba", "Córdoba", "CBA", -31.4201, -64.1888,
                (5000, 5017),
                (
                    "Nueva Córdoba", "Alta Córdoba", "General Paz", "Cerro de las Rosas",
                    "Alberdi", "Jardín",
                ),
                (
                    "Av. Colón", "Bv. San Juan", "Obispo Trejo", "Av. Vélez Sarsfield",
                    "Av. Rafael Núñez", "Chacabuco", "Ituzaingó", "Av. Hipólito Yrigoyen",
                ),
                _prefixes("+549351", _range(2, 7)),
                _prefixes("+543514", _range(0, 9)),
                2,
            ),
            City(
                "Rosario", "Santa Fe", "ROS", -32.9442, -60.6505,
                (2000, 2013),
                ("Centro", "Fisherton", "Echesortu", "Pichincha", "Alberdi"),
                (
                    "Bv. Oroño", "Av. Pellegrini", "Córdoba", "San Martín", "Av. Francia",
                    "Mendoza", "Rioja",
                ),
                _prefixes("+549341", _range(2, 6)),
                _prefixes("+543414", _range(0, 9)),
                1,
            ),
        ),
        "es",
    ),
    "BR": Country(
        "BR", 14, 13,
        (
            City(
                "São Paulo", "SP", "SPO", -23.5505, -46.6333,
                (1000000, 5999999),
                (
                    "Pinheiros", "Moema", "Vila Mariana", "Santana", "Tatuapé", "Lapa",
                    "Mooca", "Perdizes", "Itaim Bibi", "Butantã",
                ),
                (
                    "Rua Augusta", "Avenida Paulista", "Rua da Consolação", "Rua Vergueiro",
                    "Avenida Rebouças", "Rua Teodoro Sampaio", "Rua Domingos de Morais",
                    "Avenida Ibirapuera", "Rua Tuiuti", "Rua Cardeal Arcoverde",
                ),
                ("+55119",),
                ("+55113",),
                5,
            ),
            City(
                "Rio de Janeiro", "RJ", "RIO", -22.9068, -43.1729,
                (20000000, 23799999),
                ("Copacabana", "Tijuca", "Botafogo", "Méier", "Barra da Tijuca", "Flamengo"),
                (
                    "Rua Barata Ribeiro", "Avenida Nossa Senhora de Copacabana",
                    "Rua Conde de Bonfim", "Rua Voluntários da Pátria", "Rua Dias da Cruz",
                    "Avenida das Américas",
                ),
                ("+55219",),
                ("+55213",),
                3,
            ),
            City(
                "Belo Horizonte", "MG", "BHZ", -19.9167, -43.9345,
                (30000000, 31999999),
                ("Savassi", "Pampulha", "Funcionários", "Santa Efigênia", "Buritis"),
                (
                    "Avenida Afonso Pena", "Rua da Bahia", "Avenida do Contorno",
                    "Rua Pernambuco", "Avenida Amazonas",
                ),
                ("+55319",),
                ("+55313",),
                2,
            ),
            City(
                "Curitiba", "PR", "CWB", -25.4284, -49.2733,
                (80000000, 82999999),
                ("Batel", "Água Verde", "Centro", "Portão", "Bigorrilho"),
                (
                    "Rua XV de Novembro", "Avenida Sete de Setembro", "Rua Comendador Araújo",
                    "Avenida República Argentina",
                ),
                ("+55419",),
                ("+55413",),
                1,
            ),
        ),
        "pt",
    ),
    "EC": Country(
        "EC", 13, 12,
        (
            City(
                "Quito", "Pichincha", "UIO", -0.1807, -78.4678,
                (170101, 170185),
                (
                    "La Carolina", "La Floresta", "Quitumbe", "El Batán", "Cotocollao",
                    "La Mariscal", "Conocoto", "Carcelén",
                ),
                (
                    "Av. Amazonas", "Av. 6 de Diciembre", "Av. República", "Av. de los Shyris",
                    "Juan León Mera", "Av. 10 de Agosto", "Av. Eloy Alfaro", "Reina Victoria",
                    "Av. González Suárez", "Av. Naciones Unidas",
                ),
                ("+59399", "+59398"),
                ("+59322",),
                4,
            ),
            City(
                "Guayaquil", "Guayas", "GYE", -2.1709, -79.9224,
                (90101, 90150),
                ("Urdesa", "Kennedy", "Alborada", "Sauces", "Centenario", "Los Ceibos"),
                (
                    "Av. 9 de Octubre", "Av. Francisco de Orellana", "Av. Juan Tanca Marengo",
                    "Víctor Emilio Estrada", "Av. Carlos Julio Arosemena", "Chimborazo",
                ),
                ("+59399", "+59398"),
                ("+59342",),
                3,
            ),
            City(
                "Cuenca", "Azuay", "CUE", -2.9001, -79.0059,
                (10101, 10150),
                ("El Ejido", "Totoracocha", "Yanuncay", "El Vergel"),
                ("Av. Solano", "Gran Colombia", "Av. Remigio Crespo", "Simón Bolívar"),
                ("+59399", "+59398"),
                ("+59372",),
                1,
            ),
        ),
        "es",
    ),
    "MX": Country(
        "MX", 13, 13,
        (
            City(
                "Ciudad de México", "CDMX", "CDMX", 19.4326, -99.1332,
                (1000, 16999),
                (
                    "Roma Norte", "Condesa", "Del Valle", "Narvarte", "Coyoacán", "Polanco",
                    "Santa María la Ribera", "Portales", "Lindavista",
                ),
                (
                    "Av. Insurgentes Sur", "Calle Durango", "Av. Álvaro Obregón",
                    "Eje Central Lázaro Cárdenas", "Av. Cuauhtémoc", "Calle Tehuantepec",
                    "Av. Universidad", "Calzada de Tlalpan", "Av. Coyoacán", "Calle Amores",
                ),
                ("+5255",),
                ("+5255",),
                4,
            ),
            City(
                "Guadalajara", "Jalisco", "GDL", 20.6597, -103.3496,
                (44100, 45200),
                ("Providencia", "Chapalita", "Americana", "Ladrón de Guevara", "Santa Tere"),
                (
                    "Av. Chapultepec", "Av. Vallarta", "Av. México", "Calle Morelos",
                    "Av. López Mateos",
                ),
                ("+5233",),
                ("+5233",),
                2,
            ),
            City(
                "Monterrey", "Nuevo León", "MTY", 25.6866, -100.3161,
                (64000, 64999),
                ("Centro", "Cumbres", "Mitras", "Contry", "Obispado"),
                (
                    "Av. Constitución", "Av. Madero", "Calle Padre Mier", "Av. Gonzalitos",
                    "Av. Revolución",
                ),
                ("+5281",),
                ("+5281",),
                2,
            ),
        ),
        "es",
    ),
    "BO": Country(
        "BO", 12, 12,
        (
            City(
                "Cochabamba", "Cochabamba", "CB", -17.3895, -66.1568,
                (0, 0),
                (
                    "CALA CALA", "QUERU QUERU", "SARCO", "TUPURAYA", "MUYURINA", "LAS CUADRAS",
                    "HIPODROMO", "TEMPORAL", "VILLA BUSCH", "JAIHUAYCO", "CONDEBAMBA",
                ),
                (
                    "HEROINAS", "AYACUCHO", "ESPAÑA", "AMERICA", "BLANCO GALINDO", "JORDAN",
                    "OQUENDO", "LIBERTADOR BOLIVAR", "BAPTISTA", "SALAMANCA", "SUCRE", "PANDO",
                    "MELCHOR PEREZ DE OLGUIN", "LANZA", "ANICETO ARCE", "TUMUSLA", "VILLAZON",
                    "ESTEBAN ARZE", "PETROLERA", "25 DE MAYO", "ANTEZANA", "GENERAL ACHA",
                ),
                ("+5917", "+5916"),
                ("+59144",),
                8,
            ),
            City(
                "Quillacollo", "Cochabamba", "CB", -17.3924, -66.2797,
                (0, 0),
                ("CENTRO", "EL PASO", "IRONCOLLO", "COTAPACHI"),
                (
                    "MARTIN CARDENAS", "HEROINAS", "BLANCO GALINDO", "GENERAL PANDO",
                    "SUAREZ MIRANDA",
                ),
                ("+5917", "+5916"),
                ("+59144",),
                1,
            ),
            City(
                "Sacaba", "Cochabamba", "CB", -17.4042, -66.0408,
                (0, 0),
                ("CENTRO", "EL ABRA", "HUAYLLANI", "QUINTANILLA"),
                ("VILLAZON", "PADILLA", "24 DE SEPTIEMBRE", "CHUQUISACA", "ABAROA"),
                ("+5917", "+5916"),
                ("+59144",),
                1,
            ),
        ),
        "es",
    ),
}

BO_BUILDINGS = ("ELIAS", "LOS TIEMPOS", "TORRES SOFER", "AMERICA", "MIRADOR", "CRISTAL", "ALAMOS")
BO_RURAL_DIRECTIONS = (
    "AV. VILLAZON KM {km} A 300 M DE LA PLAZA, CASA DE DOS PISOS COLOR AMARILLO",
    "CARRETERA A QUILLACOLLO KM {km}, FRENTE A LA ESCUELA, PORTON VERDE",
    "CAMINO A TIQUIPAYA KM {km}, DETRAS DE LA CANCHA, CASA DE ADOBE",
)
BO_RURAL_ZONES = ("PUCARA", "TIQUIPAYA", "ARBIETO", "CHIÑATA", "PIRUANI")

EQUIPMENT_MODELS: dict[str, tuple[tuple[str, str, str], ...]] = {
    # kind -> (model, serial prefix, serial alphabet)
    "ont": (
        ("Huawei EchoLife HG8145V5", "HWTC", "0123456789ABCDEF"),
        ("ZTE ZXHN F670L", "ZTEG", "0123456789ABCDEF"),
        ("Nokia G-140W-C", "ALCL", "0123456789ABCDEF"),
        ("FiberHome AN5506-04-F", "FHTT", "0123456789ABCDEF"),
    ),
    "modem": (
        ("TP-Link TD-W8961N", "TPL", "0123456789"),
        ("ZTE ZXHN H108N", "ZTE", "0123456789"),
        ("Huawei HG532e", "HWE", "0123456789"),
    ),
    "decoder": (
        ("Kaon KSTB2021", "KAO", "0123456789"),
        ("Humax HGB-100", "HUM", "0123456789"),
        ("Arris DCX3200", "ARR", "0123456789"),
    ),
    "sim": (("USIM 128K", "89", "0123456789"),),
    "antenna": (
        ("Ubiquiti LiteBeam 5AC Gen2", "UBNT", "0123456789ABCDEF"),
        ("MikroTik SXTsq 5 ac", "MKT", "0123456789ABCDEF"),
        ("Cambium ePMP Force 300", "CMB", "0123456789ABCDEF"),
    ),
    "router": (
        ("TP-Link Archer C6", "TPA", "0123456789"),
        ("MikroTik hAP ac2", "MKR", "0123456789ABCDEF"),
    ),
}
EQUIPMENT_BY_SERVICE: dict[str, tuple[str, ...]] = {
    ServiceType.FIBER_FTTH: ("ont",),
    ServiceType.ADSL: ("modem",),
    ServiceType.VDSL: ("modem",),
    ServiceType.HFC_TV: ("decoder",),
    ServiceType.DTH_TV: ("decoder",),
    ServiceType.FIXED_LINE: (),
    ServiceType.MOBILE_POSTPAID: ("sim",),
    ServiceType.MOBILE_PREPAID: ("sim",),
    ServiceType.HSPA_WIRELESS: ("modem",),
    ServiceType.FIXED_WIRELESS: ("antenna", "router"),
    ServiceType.BUNDLE: ("ont", "decoder"),
}
WITH_ADDRESS = frozenset(
    {
        ServiceType.FIBER_FTTH,
        ServiceType.ADSL,
        ServiceType.VDSL,
        ServiceType.HFC_TV,
        ServiceType.DTH_TV,
        ServiceType.FIXED_LINE,
        ServiceType.FIXED_WIRELESS,
        ServiceType.BUNDLE,
        ServiceType.HSPA_WIRELESS,
    }
)

# fmt: on
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


# --- phones, e-mails --------------------------------------------------------------------


def _months_before(day: date, months: int) -> date:
    total = day.year * 12 + day.month - 1 - months
    return date(total // 12, total % 12 + 1, 1)


def _phone(rng: random.Random, prefixes: Sequence[str], length: int) -> str:
    prefix = rng.choice(prefixes)
    digits = length - len(prefix)
    return f"{prefix}{rng.randrange(10**digits):0{digits}d}"


# --- the generator ---------------------------------------------------------------------


@dataclass
class _PlanChoice:
    plan_id: int
    name: str
    service_type: str
    technology: str
    speed: Decimal | None
    price: Decimal
    currency: str


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


NUMBER_PLACEHOLDER = "\x00"
ADDRESS_TEMPLATES = 600  # per city
POINTS = 2048  # coordinates per city


class _FastRandom(random.Random):
    """random.Random with cheaper randrange/choice (same quality for demo data)."""

    def randrange(self, start: int, stop: int | None = None, step: int = 1) -> int:  # type: ignore[override]
        if stop is None:
            start, stop = 0, start
        return start + int(self.random() * (stop - start))

    def choice(self, seq: Sequence[Any]) -> Any:  # type: ignore[override]
        return seq[int(self.random() * len(seq))]


class CustomerFactory:
    """Builds the rows of one customer at a time for one organization."""

    def __init__(
        self,
        *,
        organization: Organization,
        plans: Sequence[Plan],
        seed: int,
        today: date,
        ids: dict[type[models.Model], IdPool],
        existing_numbers: set[tuple[str, str]],
    ) -> None:
        self.org = organization
        self.org_id = organization.pk
        self.country = COUNTRIES[organization.country]
        self.code = organization.country
        self.rng = _FastRandom(f"{seed}:{organization.country}")
        self.seed = seed
        self.today = today
        self.tz = zoneinfo.ZoneInfo(organization.time_zone)
        self.now = timezone.now()
        self.ids = ids
        self.pools = name_pools(self.code, seed)
        self.language = organization.default_language or "es"
        self.reasons = STATUS_REASONS["pt" if self.country.language == "pt" else "es"]
        self.company_words = COMPANY_WORDS[self.country.language]
        self.used_numbers = existing_numbers
        self.cities = self.country.cities
        self.address_templates: dict[str, list[tuple[AddressFields, str]]] = {}
        self.points = {
            city.name: [
                (
                    Decimal(f"{city.lat + self.rng.uniform(-0.06, 0.06):.6f}"),
                    Decimal(f"{city.lon + self.rng.uniform(-0.06, 0.06):.6f}"),
                )
                for _ in range(POINTS)
            ]
            for city in self.cities
        }
        self.city_weights = [city.weight for city in self.cities]
        methods = PAYMENT_METHODS[self.code]
        self.methods = [method for method, _weight in methods]
        self.method_weights = [weight for _method, weight in methods]
        self.plans = [
            _PlanChoice(
                plan.pk,
                plan.name,
                plan.service_type,
                plan.technology or "",
                plan.download_mbps,
                plan.monthly_price,
                plan.currency or organization.currency,
            )
            for plan in plans
        ]
        if not self.plans:
            raise ValueError(f"{organization.slug} has no active plans: load its pack first")
        # COMTECO-like fixed-line operators have a large fixed-line-only base.
        self.plan_weights = [
            5
            if plan.service_type == ServiceType.FIXED_LINE and self.code == "BO"
            else 2
            if plan.service_type != ServiceType.MOBILE_PREPAID
            else 1
            for plan in self.plans
        ]
        # months_back[k]: the first day of the month k months before today's.
        self.months_back = [_months_before(self.today, k) for k in range(8)]
        self.calling_code = str(phonenumbers.country_code_for_region(self.code))

    # -- the customer ----------------------------------------------------------------------

    def add(self, index: int, batch: Batch, *, name_keys: bool) -> None:
        rng = self.rng
        rows = batch.rows
        now = self.now
        org_id = self.org_id
        pools = self.pools
        customer_id = self.ids[Customer].take()
        is_company = rng.random() < 0.08
        first = last = company = ""
        birth: date | None = None
        female = rng.random() < 0.5
        if is_company:
            company = self._company_name()
            segment = rng.choices(("small_business", "corporate", "government"), (70, 25, 5))[0]
        else:
            names = pools.female if female else pools.male
            first = rng.choice(names)
            if rng.random() < 0.3:
                second = rng.choice(names)
                if second != first:
                    first = f"{first} {second}"
            last = rng.choice(pools.surnames)
            if rng.random() < TWO_SURNAMES[self.code]:
                last = f"{last} {rng.choice(pools.surnames)}"
            birth = self.today - timedelta(days=rng.randrange(18 * 365, 85 * 365))
            segment = "small_business" if rng.random() < 0.05 else "residential"
        search_name = " ".join(
            part for part in (_normalized(first), _normalized(last), _normalized(company)) if part
        )
        has_email = rng.random() < 0.8
        whatsapp = rng.random() < 0.7
        sms = rng.random() < 0.5
        email_ok = has_email and rng.random() < 0.6
        calls = rng.random() < 0.92
        since = self.today - timedelta(days=rng.randrange(60, 12 * 365))
        consent_at = (
            datetime.combine(since, time(10, rng.randrange(60)), tzinfo=self.tz)
            if whatsapp or sms or email_ok or calls
            else None
        )
        channel = rng.choices(("whatsapp", "call", "sms", "email", ""), (45, 25, 10, 10, 10))[0]
        rows[Customer].append(
            (
                customer_id,
                org_id,
                now,
                now,
                "company" if is_company else "person",
                first,
                last,
                company,
                birth,
                segment,
                self.language,
                channel,
                whatsapp,
                sms,
                email_ok,
                calls,
                consent_at,
                f"{self.code}{self.seed:02d}{index:09d}",
                "",
                search_name,
            )
        )
        if name_keys:
            key_rows = rows[CustomerNameKey]
            for key, length in _name_keys(search_name):
                key_rows.append((customer_id, org_id, key, length))
        city = rng.choices(self.cities, self.city_weights)[0]
        self._document(index, customer_id, rows, first, last, company, birth, female, city)
        self._contacts(customer_id, rows, city, first, last, company, has_email)
        address_id = self._address(customer_id, rows, city)
        self._subscriptions(index, customer_id, rows, city, address_id, since)

    def _company_name(self) -> str:
        rng = self.rng
        word = rng.choice(self.company_words)
        owner = rng.choice(self.pools.surnames)
        if rng.random() < 0.4:
            joiner = "e" if self.country.language == "pt" else "y"
            owner = f"{owner} {joiner} {rng.choice(self.pools.surnames)}"
        name = f"{word} {owner} {rng.choice(COMPANY_SUFFIXES[self.code])}"
        return name.upper() if self.code == "BO" else name

    def _document(
        self,
        index: int,
        customer_id: int,
        rows: dict[type[models.Model], list[Row]],
        first: str,
        last: str,
        company: str,
        birth: date | None,
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
            kind, number = self._mexican_document(first, last, company, birth, female, city)
        else:  # BO
            if company:
                kind, number = "bo_nit", str(_permute(index, 899_999_999) + 100_000_000)
            else:
                kind = "bo_ci"
                number = str(_permute(index, 8_999_999) + 1_000_000)
                issued_in = city.code if self.rng.random() < 0.9 else "LP"
                if self.rng.random() < 0.01:
                    complement = f"{self.rng.randrange(1, 10)}{self.rng.choice('ABCDEFGH')}"
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
                founded = self.today - timedelta(days=365 + self.rng.randrange(9000))
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
        rng = self.rng
        now = self.now
        contacts = rows[ContactPoint]
        country = self.country
        mobile = _phone(rng, city.mobile, country.phone_length)
        verified = (
            self.today - timedelta(days=rng.randrange(1, 700)) if rng.random() < 0.4 else None
        )
        contacts.append(
            (
                self.org_id,
                now,
                now,
                customer_id,
                "phone",
                mobile,
                "mobile",
                rng.random() < 0.85,
                True,
                verified,
                None,
            )
        )
        if rng.random() < 0.35:
            if rng.random() < 0.6:
                other = _phone(rng, city.landline, country.landline_length)
                label = "work" if company else "home"
            else:
                other = _phone(rng, city.mobile, country.phone_length)
                label = "reference"
            if other != mobile:
                contacts.append(
                    (
                        self.org_id,
                        now,
                        now,
                        customer_id,
                        "phone",
                        other,
                        label,
                        False,
                        False,
                        None,
                        None,
                    )
                )
        if has_email:
            if company:
                local = rng.choice(("contacto", "administracion", "ventas", "info"))
                domain = _ascii_slug(company.split(" ")[1] if " " in company else company)
                email = f"{local}@{domain[:20]}.com"
            else:
                given = _ascii_slug(first.split(" ")[0])
                surname = _ascii_slug(last.split(" ")[0])
                style = rng.randrange(3)
                if style == 0:
                    local = f"{given}.{surname}"
                elif style == 1:
                    local = f"{given[:1]}{surname}{rng.randrange(1, 99)}"
                else:
                    local = f"{given}{surname}{rng.randrange(1960, 2006)}"
                email = f"{local}@{rng.choice(EMAIL_DOMAINS[self.code])}"
            contacts.append(
                (
                    self.org_id,
                    now,
                    now,
                    customer_id,
                    "email",
                    email,
                    "work" if company else "home",
                    False,
                    True,
                    None,
                    None,
                )
            )

    def _address(
        self, customer_id: int, rows: dict[type[models.Model], list[Row]], city: City
    ) -> int:
        """An installation address: a street-level template of the city plus a house number.

        Templates (street, cross streets, building, zone, postal code) are drawn once
        and rendered once with a placeholder for the number, which is then filled in
        per customer: render_one_line per row would cost more than the rest of the row.
        """
        rng = self.rng
        templates = self.address_templates.setdefault(city.name, [])
        slot = int(rng.random() * ADDRESS_TEMPLATES)
        while len(templates) <= slot:
            templates.append(self._address_template(city))
        fields_, line = templates[slot]
        if self.code == "BO":
            number = f"{rng.randrange(1, 3000):04d}"
        elif self.code == "EC":
            side = rng.choice("NSEO") if city.name == "Quito" else ""
            number = f"{side}{rng.randrange(1, 80)}-{rng.randrange(10, 999)}"
        else:
            number = str(rng.randrange(1, 4000 if self.code != "BR" else 2500))
        one_line = line.replace(NUMBER_PLACEHOLDER, number)
        points = self.points[city.name]
        point = points[int(rng.random() * len(points))]
        address_id = self.ids[Address].take()
        f = fields_
        rows[Address].append(
            (
                address_id, self.org_id, self.now, self.now, customer_id, "installation",
                self.code, f.street, number, f.between_street_a, f.between_street_b,
                f.corner_street, f.building_type, f.building_name, f.block, f.floor,
                f.apartment, f.zone, f.neighbourhood, f.city, f.state, f.postal_code,
                f.reference, f.is_rural, point[0], point[1], one_line,
            )
        )  # fmt: skip
        return address_id

    def _address_template(self, city: City) -> tuple[AddressFields, str]:
        rng = self.rng
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
            self._bolivian_address(fields_, city, apartment)
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
        return fields_, render_one_line(fields_, country=code)

    def _bolivian_address(self, f: AddressFields, city: City, apartment: bool) -> None:
        """The Anexo-1 protocol: capitals, 4-digit number, ENTRE/ESQUINA, zone."""
        rng = self.rng
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
        since: date,
    ) -> None:
        rng = self.rng
        now = self.now
        org_id = self.org_id
        count = 2 if rng.random() < 0.3 and len(self.plans) > 1 else 1
        chosen = rng.choices(self.plans, self.plan_weights, k=count)
        if count == 2 and chosen[0] is chosen[1]:
            chosen = chosen[:1]
        # Debt drives the status: most pay, some owe and get (partially) blocked.
        profile = rng.random()
        debtor = profile < 0.14
        billed = Decimal("0")
        primary_id = 0
        cancelled_all = True
        cancelled_on: date | None = None
        for position, plan in enumerate(chosen):
            subscription_id = self.ids[Subscription].take()
            if position == 0:
                primary_id = subscription_id
            started = since if position == 0 else since + timedelta(days=rng.randrange(0, 700))
            started = min(started, self.today - timedelta(days=35))
            status = SubscriptionStatus.ACTIVE
            changed_at: datetime | None = None
            roll = rng.random()
            if debtor and roll < 0.55:
                status = (
                    SubscriptionStatus.BLOCKED
                    if roll < 0.25
                    else SubscriptionStatus.PARTIALLY_BLOCKED
                )
            elif not debtor and roll < 0.04:
                status = SubscriptionStatus.CANCELLED
            if status != SubscriptionStatus.ACTIVE:
                changed_on = self.today - timedelta(days=rng.randrange(1, 50))
                changed_at = datetime.combine(
                    changed_on, time(9, rng.randrange(60)), tzinfo=self.tz
                )
                rows[SubscriptionStatusChange].append(
                    (subscription_id, "active", status, self.reasons[status], None, changed_at)
                )
                if status == SubscriptionStatus.CANCELLED:
                    cancelled_on = changed_on
            if status != SubscriptionStatus.CANCELLED:
                cancelled_all = False
                billed += plan.price
            fiber = plan.technology == "fiber" or plan.service_type == ServiceType.FIBER_FTTH
            sequence = index * 2 + position
            olt = pon = ""
            onu: int | None = None
            ip: str | None = None
            if fiber:
                olt = f"OLT-{city.code}-{sequence % 23 + 1:02d}"
                pon = f"0/{sequence % 16 + 1}/{sequence // 16 % 16}"
                onu = sequence // 256 % 128 + 1
            if fiber or plan.service_type == ServiceType.FIXED_WIRELESS:
                ip = f"10.{sequence >> 16 & 255}.{sequence >> 8 & 255}.{sequence & 255}"
            permanence = started + timedelta(days=365) if rng.random() < 0.5 else None
            rows[Subscription].append(
                (
                    subscription_id,
                    org_id,
                    now,
                    now,
                    customer_id,
                    f"CT-{self.code}-{sequence + 1:09d}",
                    f"S{sequence + 1_000_001}",
                    plan.service_type,
                    plan.technology,
                    plan.plan_id,
                    plan.name,
                    plan.speed,
                    plan.price,
                    plan.currency,
                    status,
                    changed_at,
                    started,
                    permanence,
                    address_id if plan.service_type in WITH_ADDRESS else None,
                    ip,
                    olt,
                    pon,
                    onu,
                )
            )
            for kind in EQUIPMENT_BY_SERVICE.get(plan.service_type, ()):
                model, prefix, alphabet = rng.choice(EQUIPMENT_MODELS[kind])
                if kind == "sim":
                    # ICCID: 89, the country calling code, then the card number.
                    serial = f"89{self.calling_code}{sequence:0{17 - len(self.calling_code)}d}"
                else:
                    width = 16 - len(prefix)
                    random_part = rng.getrandbits(4 * width) if alphabet[-1] == "F" else None
                    serial = (
                        f"{prefix}{random_part:0{width}X}"
                        if random_part is not None
                        else f"{prefix}{rng.randrange(10**width):0{width}d}"
                    )
                mac = "" if kind == "sim" else rng.getrandbits(48).to_bytes(6).hex(":").upper()
                rows[Equipment].append(
                    (org_id, now, now, subscription_id, kind, model, serial, mac, started, True)
                )
        self._invoices(
            index, customer_id, rows, primary_id, billed, since, debtor, cancelled_all, cancelled_on
        )

    def _invoices(
        self,
        index: int,
        customer_id: int,
        rows: dict[type[models.Model], list[Row]],
        subscription_id: int,
        amount: Decimal,
        since: date,
        debtor: bool,
        cancelled_all: bool,
        cancelled_on: date | None,
    ) -> None:
        """One invoice a month for the last 3-6 months; debtors leave the latest unpaid."""
        rng = self.rng
        now = self.now
        org_id = self.org_id
        if amount <= 0 and not cancelled_all:
            return  # prepaid only: nothing is invoiced
        if cancelled_all:
            amount = sum((plan.price for plan in self.plans[:1]), Decimal("0"))
        months = rng.randrange(3, 7)
        unpaid = rng.randrange(1, 4) if debtor else 0
        partial = not debtor and rng.random() < 0.03
        late_payer = rng.random() < 0.2
        currency = self.plans[0].currency
        for back in range(months, 0, -1):
            period_start = self.months_back[back]
            if period_start < since:
                continue
            if cancelled_on is not None and cancelled_all and period_start > cancelled_on:
                continue
            period_end = self.months_back[back - 1] - timedelta(days=1)
            issued = period_end + timedelta(days=1)
            if issued > self.today:
                continue
            due = issued + timedelta(days=15)
            invoice_id = self.ids[Invoice].take()
            paid_amount = amount
            if back <= unpaid:
                paid_amount = Decimal("0")
            elif partial and back == 1:
                paid_amount = (amount / 2).quantize(Decimal("0.01"))
            if paid_amount and issued + timedelta(days=10) > self.today:
                paid_amount = Decimal("0")  # not yet paid: still open
            rows[Invoice].append(
                (
                    invoice_id,
                    org_id,
                    now,
                    now,
                    customer_id,
                    subscription_id,
                    f"F{period_start:%Y%m}-{index + 1:08d}",
                    period_start,
                    period_end,
                    amount,
                    currency,
                    issued,
                    due,
                    paid_amount,
                    False,
                )
            )
            if paid_amount > 0:
                delay = rng.randrange(10, 40) if late_payer else rng.randrange(0, 14)
                paid_on = min(issued + timedelta(days=delay), self.today)
                method = rng.choices(self.methods, self.method_weights)[0]
                rows[Payment].append(
                    (
                        org_id,
                        now,
                        now,
                        customer_id,
                        invoice_id,
                        method,
                        paid_on,
                        paid_amount,
                        currency,
                        f"{method[:3].upper()}-{rng.randrange(10**9):09d}",
                    )
                )


# --- writers ---------------------------------------------------------------------------------


def _columns(model: type[models.Model]) -> list[str]:
    fields_ = [model._meta.get_field(name) for name in FIELDS[model]]
    return [field_.column for field_ in fields_ if isinstance(field_, models.Field)]


def _copy_write(batch: Batch) -> None:
    """COPY every table of the batch through psycopg 3."""
    with connection.cursor() as cursor:
        raw = cursor.cursor  # the psycopg cursor under Django's wrapper
        for model in WRITE_ORDER:
            rows = batch.rows[model]
            if not rows:
                continue
            columns = ", ".join(f'"{column}"' for column in _columns(model))
            with raw.copy(f'COPY "{model._meta.db_table}" ({columns}) FROM STDIN') as copy:
                write_row = copy.write_row
                for row in rows:
                    write_row(row)


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


# --- public API ------------------------------------------------------------------------------


@dataclass
class LoadStats:
    customers: int = 0
    rows: dict[str, int] = field(default_factory=dict)

    def add(self, batch: Batch) -> None:
        for name, count in batch.count().items():
            self.rows[name] = self.rows.get(name, 0) + count


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
) -> int:
    """Generate ``count`` customers (and their records) for an operator; returns ``count``.

    Customers are numbered from ``start_index``: document numbers, service ids,
    contract and invoice numbers derive from that number, so a later call with
    ``start_index`` past the earlier ones adds customers without clashing. The same
    seed, start index and ``today`` give the same data. Each batch of ``batch_size``
    customers is one transaction; ``progress`` gets the number written so far.

    ``writer``: "copy" (PostgreSQL COPY), "sql" (executemany), "orm" (bulk_create,
    the slow baseline) or "auto" (copy on PostgreSQL, sql elsewhere). ``stats``, if
    given, receives the row counts per model.
    """
    if organization.country not in COUNTRIES:
        raise ValueError(f"no demo data for country {organization.country}")
    vendor = connection.vendor
    if writer == "auto":
        writer = "copy" if vendor == "postgresql" else "sql"
    write = {"copy": _copy_write, "sql": _sql_write, "orm": _orm_write}[writer]
    name_keys = vendor != "postgresql"
    if today is None:
        today = timezone.localtime(timezone.now(), zoneinfo.ZoneInfo(organization.time_zone)).date()
    plans = list(Plan.objects.filter(organization=organization, is_active=True).order_by("code"))
    sqlite_ids = _SQLiteReservations()
    reserve = _reserve_postgresql if vendor == "postgresql" else sqlite_ids
    ids: dict[type[models.Model], IdPool] = {model: IdPool(model, reserve) for model in WITH_IDS}
    existing: set[tuple[str, str]] = set()
    if organization.country == "MX" and start_index:
        existing = set(
            IdentityDocument.objects.filter(
                organization=organization, kind__in=("mx_curp", "mx_rfc")
            ).values_list("kind", "number")
        )
    factory = CustomerFactory(
        organization=organization,
        plans=plans,
        seed=seed,
        today=today,
        ids=ids,
        existing_numbers=existing,
    )
    done = 0
    for first in range(start_index, start_index + count, batch_size):
        size = min(batch_size, start_index + count - first)
        batch = Batch()
        with transaction.atomic():
            if vendor != "postgresql":
                # Reserved ids are ours only while this transaction holds the write lock.
                sqlite_ids.reset()
                for pool in ids.values():
                    pool.ids, pool.position = [], 0
            for index in range(first, first + size):
                factory.add(index, batch, name_keys=name_keys)
            write(batch)
        done += size
        if stats is not None:
            stats.customers += size
            stats.add(batch)
        if progress is not None:
            progress(done)
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
