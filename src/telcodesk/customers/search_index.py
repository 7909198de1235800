"""Maintenance of the name search index.

PostgreSQL: nothing to do, the GIN trigram index on Customer.search_name follows the
column. SQLite: CustomerNameKey rows (token + one-deletion keys) are rewritten for the
given customers. Call inside the transaction that changed the names.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import connection

from telcodesk.customers.models import Customer, CustomerNameKey
from telcodesk.customers.names import name_keys, normalize_name


def uses_name_keys() -> bool:
    return connection.vendor != "postgresql"


def search_name_for(customer: Customer) -> str:
    return normalize_name(f"{customer.first_name} {customer.last_name} {customer.company_name}")


def name_key_rows(customer: Customer) -> list[CustomerNameKey]:
    return [
        CustomerNameKey(
            customer_id=customer.pk,
            organization_id=customer.organization_id,
            key=key,
            token_len=length,
        )
        for key, length in sorted(name_keys(customer.search_name))
    ]


def index_customer_names(customers: Iterable[Customer], *, replace: bool = True) -> int:
    """(Re)build the name keys of ``customers``; returns the number of keys written."""
    if not uses_name_keys():
        return 0
    customers = list(customers)
    if replace:
        CustomerNameKey.objects.filter(customer_id__in=[c.pk for c in customers]).delete()
    rows = [row for customer in customers for row in name_key_rows(customer)]
    CustomerNameKey.objects.bulk_create(rows, batch_size=2000)
    return len(rows)
