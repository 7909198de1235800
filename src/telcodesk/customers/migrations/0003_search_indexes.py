"""Indexes for customer search (customers.search).

PostgreSQL: a B-tree with varchar_pattern_ops on search_name, so that the prefix
search of very short queries (``search_name LIKE 'jo%'``) uses an index whatever the
database collation (the default B-tree serves LIKE only under the C collation).

SQLite: a covering index for the name keys, so that a key lookup returns the
customer id without reading the table rows.
"""

from django.db import migrations


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            "CREATE INDEX IF NOT EXISTS customer_search_name_prefix "
            "ON customers_customer (search_name varchar_pattern_ops)"
        )
    else:
        schema_editor.execute(
            "CREATE INDEX IF NOT EXISTS namekey_org_key_customer ON "
            "customers_customernamekey (organization_id, key, token_len, customer_id)"
        )


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP INDEX IF EXISTS customer_search_name_prefix")
    else:
        schema_editor.execute("DROP INDEX IF EXISTS namekey_org_key_customer")


class Migration(migrations.Migration):
    dependencies = [("customers", "0002_postgres_trigram")]
    operations = [migrations.RunPython(forwards, backwards)]
