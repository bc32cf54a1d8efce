"""The storage layer: the only place with SQL (issue 13 split it by concern and added PostgreSQL).

:class:`Store` is one object assembled from the parts below, each holding the queries of one concern; they run SQL
only through :class:`~annotator.store.base.StoreBase` (``_x``, ``_insert``, ``_many``, ``_stream``, ``query``), which
hands it to the backend (:mod:`annotator.store.backends`: a SQLite file or a PostgreSQL server). What differs
between the two engines' SQL is in :mod:`annotator.store.dialect`. ``Store("data/nisba.db")`` opens a file;
``Store("postgresql://user@host/db")`` a server.
"""

from __future__ import annotations

from annotator.store.accounts import Accounts
from annotator.store.audit_log import AuditLog
from annotator.store.backends import BUSY_TIMEOUT_MS, is_postgres_url
from annotator.store.base import DEFAULT_DB, default_db_path, now
from annotator.store.copying import Copying
from annotator.store.documents import Documents
from annotator.store.projects import Projects
from annotator.store.review import Reviews
from annotator.store.search_index import SearchIndex
from annotator.store.sources import Sources
from annotator.store.spans import Spans
from annotator.store.suggestions import Suggestions
from annotator.store.transfer import Transfer

__all__ = ["BUSY_TIMEOUT_MS", "DEFAULT_DB", "Store", "default_db_path", "is_postgres_url", "now"]


class Store(AuditLog, Projects, Accounts, Documents, Spans, Reviews, Transfer, SearchIndex, Suggestions, Sources, Copying):
    """A Nisba database. Cheap to create; connections are opened lazily (per thread on SQLite, pooled on
    PostgreSQL)."""
