"""What differs between SQLite and PostgreSQL SQL, in one place (issue 13).

The store writes its SQL once, with ``?`` placeholders and the syntax both engines share (``ON CONFLICT``,
``RETURNING``, ``TRUE``/``FALSE``, ``CASE``). The few constructs that differ come from the dialect object the store
holds: lists passed as one parameter, JSON field extraction, string aggregation, substring position, and the
catalogue queries. Connections, transactions and bulk loading are in :mod:`annotator.store.backends`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable


class SQLite:
    """SQLite 3.35+ (``RETURNING``), JSON1 built in."""

    name = "sqlite"
    unit_separator = "char(31)"

    @staticmethod
    def translate(sql: str) -> str:
        return sql

    @staticmethod
    def in_list(column: str) -> str:
        """``column`` is one of the values passed as one parameter (see :meth:`list_param`)."""
        return f"{column} IN (SELECT value FROM json_each(?))"

    @staticmethod
    def list_param(values: Iterable) -> str:
        return json.dumps(list(values), ensure_ascii=False)

    @staticmethod
    def json_text(column: str, *path: str) -> str:
        """The JSON text in ``column`` at ``path`` (keys), as text or NULL."""
        return f"json_extract({column}, '$.{'.'.join(path)}')"

    @staticmethod
    def json_int(column: str, *path: str) -> str:
        return f"json_extract({column}, '$.{'.'.join(path)}')"

    @staticmethod
    def json_keys(column: str, alias: str) -> str:
        """A FROM item listing the keys of the JSON object in ``column`` as ``alias.key``."""
        return f"json_each({column}) {alias}"

    @staticmethod
    def group_concat(expr: str, separator: str | None = None, *, distinct: bool = False) -> str:
        """The values of ``expr`` joined by ``separator`` (an SQL expression; ``','`` when None)."""
        inner = f"DISTINCT {expr}" if distinct else expr
        return f"group_concat({inner}, {separator})" if separator and not distinct else f"group_concat({inner})"

    @staticmethod
    def position(needle: str, haystack: str) -> str:
        """1-based position of ``needle`` in ``haystack``, 0 when absent."""
        return f"instr({haystack}, {needle})"

    # FTS5 over the folded text (schema.m_search_index), with positions (search_words_instance)
    has_word_index = True

    @staticmethod
    def word_search(words: list[tuple[str, ...]]) -> tuple[str, str, list]:
        """(from, where, params) selecting ``search_folded f`` rows holding every term of ``words`` (each a tuple of
        folded words: a phrase when several). Every term is quoted, so ``AND``, ``*``, ``:``, ``(`` or ``"`` typed
        by the user are text, never FTS5 syntax."""
        if not words:
            return "search_folded f", "TRUE", []
        match = " AND ".join('"' + " ".join(term).replace('"', '""') + '"' for term in words)
        # CROSS JOIN keeps the FTS5 table as the outer loop: otherwise the planner may walk search_folded and ask
        # the FTS table about each row (0.7 s for a word that is nowhere, against 1 ms)
        return "search_words CROSS JOIN search_folded f ON search_words.rowid = f.id", "search_words MATCH ?", [match]

    # The store adds folded rows to the word index itself, in one statement per commit: those with an id above the
    # parameter (new rows of search_folded always are; see schema.m_search_words_filled_by_the_store)
    index_new_folded = "INSERT INTO search_words (rowid, folded) SELECT id, folded FROM search_folded WHERE id > ?"
    # the whole word index again from search_folded (after its rows were folded again in place)
    rebuild_word_index = "INSERT INTO search_words (search_words) VALUES ('rebuild')"

    # the word index's distinct terms, and the number the store raises whenever it adds terms (after which the
    # terms it keeps in memory are read again; see schema.m_search_words_terms)
    word_index_terms = "SELECT term, doc FROM search_words_row"
    word_index_version = "SELECT n FROM search_words_version"
    word_index_added = "UPDATE search_words_version SET n = n + 1"

    @staticmethod
    def any_word_search(terms: list[str]) -> tuple[str, str, list]:
        """(from, where, params) selecting ``search_folded f`` rows holding one of ``terms`` (index terms, quoted)."""
        match = " OR ".join('"' + term.replace('"', '""') + '"' for term in terms)
        return "search_words CROSS JOIN search_folded f ON search_words.rowid = f.id", "search_words MATCH ?", [match]

    table_exists = "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?"
    list_tables = "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite^_%' ESCAPE '^'"

    @staticmethod
    def columns_sql(table: str) -> tuple[str, list]:
        return "SELECT name FROM pragma_table_info(?)", [table]


COMMA = "','"


class PostgreSQL:
    """PostgreSQL 13+ through psycopg 3: ``%s`` placeholders, arrays for lists, jsonb operators over TEXT columns."""

    name = "postgresql"
    unit_separator = "chr(31)"
    _translated: dict[str, str] = {}

    @classmethod
    def translate(cls, sql: str) -> str:
        """``?`` placeholders become ``%s`` (a literal ``%`` doubles), cached: the store's statements are a fixed set."""
        out = cls._translated.get(sql)
        if out is None:
            out = sql.replace("%", "%%").replace("?", "%s")
            if len(cls._translated) < 4096:
                cls._translated[sql] = out
        return out

    @staticmethod
    def in_list(column: str) -> str:
        return f"{column} = ANY(?)"

    @staticmethod
    def list_param(values: Iterable) -> list:
        return list(values)

    @staticmethod
    def json_text(column: str, *path: str) -> str:
        return f"({column}::jsonb #>> '{{{','.join(path)}}}')"

    @staticmethod
    def json_int(column: str, *path: str) -> str:
        return f"({column}::jsonb #>> '{{{','.join(path)}}}')::bigint"

    @staticmethod
    def json_keys(column: str, alias: str) -> str:
        return f"jsonb_object_keys({column}::jsonb) AS {alias}(key)"

    @staticmethod
    def group_concat(expr: str, separator: str | None = None, *, distinct: bool = False) -> str:
        inner = f"DISTINCT ({expr})::text" if distinct else f"({expr})::text"
        return f"string_agg({inner}, {separator or COMMA})"

    @staticmethod
    def position(needle: str, haystack: str) -> str:
        return f"strpos({haystack}, {needle})"

    # no word index: the folded texts holding each word are candidates, and the caller finds the hits in them
    has_word_index = False

    @staticmethod
    def word_search(words: list[tuple[str, ...]]) -> tuple[str, str, list]:
        tokens = [w for term in words for w in term]
        if not tokens:
            return "search_folded f", "TRUE", []
        return "search_folded f", " AND ".join(["strpos(f.folded, ?) > 0"] * len(tokens)), tokens

    index_new_folded = None
    rebuild_word_index = None
    word_index_terms = None  # no word index, no terms: a search for part of a word reads every text
    word_index_version = None
    word_index_added = None

    table_exists = "SELECT 1 FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = ?"
    list_tables = (
        "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'"
    )

    @staticmethod
    def columns_sql(table: str) -> tuple[str, list]:
        return (
            "SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = ?",
            [table],
        )
