"""The per-country tables demo customers are drawn from (customers.demo_data).

Names come from Faker once per locale (demo_data.name_pools); everything else a
generated customer is made of is here: cities with their postal codes, streets,
neighbourhoods and phone prefixes, company words, e-mail domains, payment methods,
status reasons and equipment models.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from telcodesk.customers.models import ServiceType, SubscriptionStatus

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
