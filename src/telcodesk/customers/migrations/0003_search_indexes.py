"""Indexes for customer search (customers.search).

PostgreSQL:

* ``customer_search_name_prefix``: a B-tree with varchar_pattern_ops on search_name,
  so the prefix search of very short queries (``search_name LIKE 'jo%'``) uses an
  index whatever the database collation.
* ``customers_search_word_key``: the distinct words of all customer names with their
  one-deletion keys (symmetric deletion, as CustomerNameKey does per customer on
  SQLite), kept by statement-level triggers on customers_customer (bulk COPY
  included). The typo stage of name search looks a mistyped word up here (a few
  B-tree probes, whatever the number of customers) and then searches the names for
  the real words it found, through the trigram index. Words are never removed: a
  word nobody has any more only costs a probe that finds nothing. The constants
  below follow customers.names (MIN_TYPO_TOKEN = 4, MAX_KEY_LEN = 40).

SQLite: a covering index for the name keys, so a key lookup returns the customer id
without reading the table rows.
"""

from django.db import migrations

PG_FORWARDS = [
    "CREATE INDEX IF NOT EXISTS customer_search_name_prefix "
    "ON customers_customer (search_name varchar_pattern_ops)",
    "CREATE TABLE IF NOT EXISTS customers_search_word_key ("
    " key varchar(40) NOT NULL, word varchar(40) NOT NULL, PRIMARY KEY (key, word))",
    """
    CREATE OR REPLACE FUNCTION customers_search_words_add() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
        INSERT INTO customers_search_word_key (key, word)
        SELECT DISTINCT k.key, w.word
        FROM (
            SELECT DISTINCT left(t.word, 40) AS word
            FROM new_rows r, unnest(string_to_array(r.search_name, ' ')) AS t(word)
            WHERE t.word <> ''
        ) w
        CROSS JOIN LATERAL (
            SELECT w.word AS key
            UNION ALL
            SELECT substr(w.word, 1, i - 1) || substr(w.word, i + 1)
            FROM generate_series(1, length(w.word)) AS i
            WHERE length(w.word) >= 4
        ) k
        ON CONFLICT DO NOTHING;
        RETURN NULL;
    END
    $$
    """,
    "DROP TRIGGER IF EXISTS customers_search_words_insert ON customers_customer",
    "CREATE TRIGGER customers_search_words_insert AFTER INSERT ON customers_customer "
    "REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT "
    "EXECUTE FUNCTION customers_search_words_add()",
    "DROP TRIGGER IF EXISTS customers_search_words_update ON customers_customer",
    "CREATE TRIGGER customers_search_words_update AFTER UPDATE ON customers_customer "
    "REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT "
    "EXECUTE FUNCTION customers_search_words_add()",
    # Backfill from the names already there.
    """
    INSERT INTO customers_search_word_key (key, word)
    SELECT DISTINCT k.key, w.word
    FROM (
        SELECT DISTINCT left(t.word, 40) AS word
        FROM customers_customer r, unnest(string_to_array(r.search_name, ' ')) AS t(word)
        WHERE t.word <> ''
    ) w
    CROSS JOIN LATERAL (
        SELECT w.word AS key
        UNION ALL
        SELECT substr(w.word, 1, i - 1) || substr(w.word, i + 1)
        FROM generate_series(1, length(w.word)) AS i
        WHERE length(w.word) >= 4
    ) k
    ON CONFLICT DO NOTHING
    """,
]

PG_BACKWARDS = [
    "DROP TRIGGER IF EXISTS customers_search_words_update ON customers_customer",
    "DROP TRIGGER IF EXISTS customers_search_words_insert ON customers_customer",
    "DROP FUNCTION IF EXISTS customers_search_words_add()",
    "DROP TABLE IF EXISTS customers_search_word_key",
    "DROP INDEX IF EXISTS customer_search_name_prefix",
]


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for statement in PG_FORWARDS:
            schema_editor.execute(statement)
    else:
        schema_editor.execute(
            "CREATE INDEX IF NOT EXISTS namekey_org_key_customer ON "
            "customers_customernamekey (organization_id, key, token_len, customer_id)"
        )


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for statement in PG_BACKWARDS:
            schema_editor.execute(statement)
    else:
        schema_editor.execute("DROP INDEX IF EXISTS namekey_org_key_customer")


class Migration(migrations.Migration):
    dependencies = [("customers", "0002_postgres_trigram")]
    operations = [migrations.RunPython(forwards, backwards)]
