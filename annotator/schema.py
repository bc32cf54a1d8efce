"""The database schema as sqlite-utils Migrations: every change is a registered function, applied once.

Table and column names are a contract: exports, checks and later issues rely on them.
Add a new ``@step()`` function at the end for every change; never edit an applied one.

sqlite-utils is imported only when steps must run (:func:`sqlite_migrations`): importing it imports pandas and
numpy when they are installed, about 1 s of CPU that every process opening an up-to-date database paid (issue 7).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sqlite_utils import Database, Migrations

SCHEMA_VERSION_SET = "nisba"
# The steps in order, each (function, transactional), as sqlite-utils' ``Migrations()`` decorator would take them
_STEPS: list[tuple[Callable[[Database], None], bool]] = []


def step(*, transactional: bool = True) -> Callable:
    """Register the function below as the next schema step, named after the function (as ``@migrations()``
    names it); ``transactional=False`` for a step that cannot run inside a transaction."""

    def register(fn: Callable[[Database], None]) -> Callable[[Database], None]:
        _STEPS.append((fn, transactional))
        return fn

    return register


def step_names() -> list[str]:
    """The names of every registered step, in order (what ``_sqlite_migrations`` holds once all have run)."""
    return [fn.__name__ for fn, _ in _STEPS]


@cache
def sqlite_migrations() -> Migrations:
    """The steps as one sqlite-utils ``Migrations`` set (built, and sqlite-utils imported, on first use)."""
    from sqlite_utils import Migrations

    migrations = Migrations(SCHEMA_VERSION_SET)
    for fn, transactional in _STEPS:
        migrations(transactional=transactional)(fn)
    return migrations


@step()
def m001_core(db: Database) -> None:
    """Projects, users, documents, labels, spans, links, per-user document status and the audit log."""
    db.execute(
        """
        CREATE TABLE projects (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL UNIQUE,
            description TEXT NOT NULL DEFAULT '',
            settings TEXT NOT NULL DEFAULT '{}',
            created_at TEXT NOT NULL
        )"""
    )
    db.execute(
        """
        CREATE TABLE users (
            id INTEGER PRIMARY KEY,
            username TEXT NOT NULL UNIQUE,
            display_name TEXT NOT NULL DEFAULT '',
            role TEXT NOT NULL DEFAULT 'annotator'
                CHECK (role IN ('annotator', 'reviewer', 'admin')),
            password_hash TEXT,
            active INTEGER NOT NULL DEFAULT 1,
            created_at TEXT NOT NULL
        )"""
    )
    db.execute(
        """
        CREATE TABLE project_members (
            project_id INTEGER NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
            user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
            PRIMARY KEY (project_id, user_id)
        )"""
    )
    db.execute(
        """
        CREATE TABLE documents (
            id INTEGER PRIMARY KEY,
            project_id INTEGER NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
            title TEXT NOT NULL,
            text TEXT NOT NULL,
            raw_text TEXT NOT NULL,
            text_sha256 TEXT NOT NULL,
            source TEXT NOT NULL DEFAULT '',
            metadata TEXT NOT NULL DEFAULT '{}',
            position INTEGER NOT NULL DEFAULT 0,
            created_at TEXT NOT NULL
        )"""
    )
    db.execute("CREATE INDEX idx_documents_project ON documents(project_id, position, id)")
    db.execute("CREATE INDEX idx_documents_sha ON documents(project_id, text_sha256)")
    db.execute(
        """
        CREATE TABLE labels (
            id INTEGER PRIMARY KEY,
            project_id INTEGER NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
            name TEXT NOT NULL,
            kind TEXT NOT NULL DEFAULT 'span',
            colour TEXT NOT NULL DEFAULT '#cccccc',
            hotkey TEXT NOT NULL DEFAULT '',
            description TEXT NOT NULL DEFAULT '',
            attributes TEXT NOT NULL DEFAULT '{}',
            position INTEGER NOT NULL DEFAULT 0,
            UNIQUE (project_id, name)
        )"""
    )
    db.execute(
        """
        CREATE TABLE spans (
            id INTEGER PRIMARY KEY,
            document_id INTEGER NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
            label_id INTEGER NOT NULL REFERENCES labels(id),
            annotator_id INTEGER NOT NULL REFERENCES users(id),
            layer TEXT NOT NULL DEFAULT 'annotator' CHECK (layer IN ('annotator', 'gold')),
            start_offset INTEGER NOT NULL CHECK (start_offset >= 0),
            end_offset INTEGER NOT NULL,
            text TEXT NOT NULL,
            attributes TEXT NOT NULL DEFAULT '{}',
            origin TEXT NOT NULL DEFAULT '{}',
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            version INTEGER NOT NULL DEFAULT 1,
            CHECK (end_offset > start_offset)
        )"""
    )
    db.execute("CREATE INDEX idx_spans_document ON spans(document_id, annotator_id, start_offset)")
    db.execute("CREATE INDEX idx_spans_label ON spans(label_id)")
    db.execute(
        """
        CREATE TABLE links (
            id INTEGER PRIMARY KEY,
            from_span_id INTEGER NOT NULL REFERENCES spans(id) ON DELETE CASCADE,
            to_span_id INTEGER NOT NULL REFERENCES spans(id) ON DELETE CASCADE,
            type TEXT NOT NULL,
            annotator_id INTEGER NOT NULL REFERENCES users(id),
            created_at TEXT NOT NULL,
            version INTEGER NOT NULL DEFAULT 1,
            UNIQUE (from_span_id, to_span_id, type)
        )"""
    )
    db.execute("CREATE INDEX idx_links_to ON links(to_span_id)")
    db.execute(
        """
        CREATE TABLE document_status (
            document_id INTEGER NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
            user_id INTEGER NOT NULL REFERENCES users(id),
            status TEXT NOT NULL CHECK (status IN ('in_progress', 'submitted', 'reviewed')),
            updated_at TEXT NOT NULL,
            PRIMARY KEY (document_id, user_id)
        )"""
    )
    # Append-only: each event carries the hash of the one before it (see annotator/audit.py).
    db.execute(
        """
        CREATE TABLE audit_events (
            id INTEGER PRIMARY KEY,
            at TEXT NOT NULL,
            user_id INTEGER,
            action TEXT NOT NULL,
            entity TEXT NOT NULL,
            entity_id INTEGER,
            document_id INTEGER,
            before TEXT,
            after TEXT,
            prev_hash TEXT NOT NULL,
            hash TEXT NOT NULL
        )"""
    )
    db.execute("CREATE INDEX idx_audit_user_doc ON audit_events(user_id, document_id, id)")


def migrate(db: Database) -> None:
    """Apply every pending migration (idempotent)."""
    sqlite_migrations().apply(db)


@step()
def m_review_decisions_and_comments(db: Database) -> None:
    """Review decisions (one current decision per span or link, versioned) and comment threads (issue 3).

    ``entity`` + ``entity_id`` point at a span or a link; there is no foreign key because the target table
    depends on ``entity``. A decision outlives the deletion of its span on purpose: undo restores the span
    with the same id, and the decision comes back with it.
    """
    db.execute(
        """
        CREATE TABLE reviews (
            id INTEGER PRIMARY KEY,
            entity TEXT NOT NULL CHECK (entity IN ('span', 'link')),
            entity_id INTEGER NOT NULL,
            document_id INTEGER NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
            reviewer_id INTEGER NOT NULL REFERENCES users(id),
            decision TEXT NOT NULL CHECK (decision IN ('accepted', 'rejected')),
            entity_version INTEGER NOT NULL DEFAULT 1,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            version INTEGER NOT NULL DEFAULT 1,
            UNIQUE (entity, entity_id)
        )"""
    )
    db.execute("CREATE INDEX idx_reviews_document ON reviews(document_id)")
    db.execute(
        """
        CREATE TABLE comments (
            id INTEGER PRIMARY KEY,
            entity TEXT NOT NULL CHECK (entity IN ('span', 'link')),
            entity_id INTEGER NOT NULL,
            document_id INTEGER NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
            author_id INTEGER NOT NULL REFERENCES users(id),
            body TEXT NOT NULL CHECK (length(body) > 0),
            created_at TEXT NOT NULL
        )"""
    )
    db.execute("CREATE INDEX idx_comments_entity ON comments(entity, entity_id, id)")
    db.execute("CREATE INDEX idx_comments_document ON comments(document_id, id)")


@step()
def m_accounts_sessions_and_login_attempts(db: Database) -> None:
    """Accounts (issue 3): a per-user session generation and the failed-login bookkeeping.

    Bumping ``users.session_generation`` (logout, password reset, deactivation) invalidates every session
    token signed with the old value. ``login_attempts`` counts recent failures per key ("user:NAME" or
    "client:ADDRESS") so repeated failures are slowed down; it is throttling state, not audited data
    (the audit log records each ``failed_login`` and ``login``).
    """
    db.execute("ALTER TABLE users ADD COLUMN session_generation INTEGER NOT NULL DEFAULT 0")
    db.execute(
        """
        CREATE TABLE login_attempts (
            key TEXT PRIMARY KEY,
            failures INTEGER NOT NULL DEFAULT 0,
            last_failure_at REAL NOT NULL DEFAULT 0,
            blocked_until REAL NOT NULL DEFAULT 0
        )"""
    )


@step()
def m_search_index(db: Database) -> None:
    """Full-text search over the folded text of documents and spans (issue 12).

    ``search_folded`` holds one row per document (``kind`` 'doc') and per span ('span') with its text folded by
    :func:`annotator.text.fold`; two FTS5 tables index it as external content: ``search_words`` (unicode61,
    whole words and phrases) and ``search_trigram`` (trigram, part of a word: «الوزارة» inside «بالوزارة»).
    Folding is Python, so triggers on ``documents`` and ``spans`` (plain SQL, firing for every writer, cascades
    and undo included) only queue the row in ``search_pending``, or drop its folded row; the store folds the
    queue before each write transaction commits (:meth:`annotator.store.Store.flush_search_index`). Existing
    rows are queued here and folded when the store opens the file.
    """
    db.execute(
        """
        CREATE TABLE search_folded (
            id INTEGER PRIMARY KEY,
            kind TEXT NOT NULL CHECK (kind IN ('doc', 'span')),
            ref_id INTEGER NOT NULL,
            document_id INTEGER NOT NULL,
            folded TEXT NOT NULL,
            UNIQUE (kind, ref_id)
        )"""
    )
    db.execute("CREATE INDEX idx_search_folded_document ON search_folded(document_id)")
    db.execute("CREATE TABLE search_pending (kind TEXT NOT NULL, ref_id INTEGER NOT NULL, PRIMARY KEY (kind, ref_id))")
    for name, tokenize in (("search_words", "unicode61 remove_diacritics 0"), ("search_trigram", "trigram")):
        db.execute(
            f"CREATE VIRTUAL TABLE {name} USING fts5(folded, content='search_folded', content_rowid='id', tokenize='{tokenize}')"
        )
        db.execute(
            f"CREATE TRIGGER {name}_ai AFTER INSERT ON search_folded BEGIN"
            f" INSERT INTO {name}(rowid, folded) VALUES (new.id, new.folded); END"
        )
        db.execute(
            f"CREATE TRIGGER {name}_ad AFTER DELETE ON search_folded BEGIN"
            f" INSERT INTO {name}({name}, rowid, folded) VALUES ('delete', old.id, old.folded); END"
        )
    for table, kind in (("documents", "doc"), ("spans", "span")):
        queue = f"INSERT OR IGNORE INTO search_pending (kind, ref_id) VALUES ('{kind}', new.id);"
        drop = f"DELETE FROM search_folded WHERE kind = '{kind}' AND ref_id = old.id;"
        db.execute(f"CREATE TRIGGER search_{table}_ai AFTER INSERT ON {table} BEGIN {queue} END")
        db.execute(f"CREATE TRIGGER search_{table}_au AFTER UPDATE OF text ON {table} BEGIN {drop} {queue} END")
        db.execute(
            f"CREATE TRIGGER search_{table}_ad AFTER DELETE ON {table} BEGIN {drop}"
            f" DELETE FROM search_pending WHERE kind = '{kind}' AND ref_id = old.id; END"
        )
        db.execute(f"INSERT INTO search_pending (kind, ref_id) SELECT '{kind}', id FROM {table}")


@step()
def m_suggestion_cues_and_dismissals(db: Database) -> None:
    """Suggestions (issue 8): a project's own cue forms added to the shipped lexicon, and the suggestions each
    user dismissed on a document and layer (by suggestion key "LABEL:start:end", so a dismissal outlives a new
    lexicon version that still suggests the same span)."""
    db.execute(
        """
        CREATE TABLE suggestion_cues (
            id INTEGER PRIMARY KEY,
            project_id INTEGER NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
            form TEXT NOT NULL,
            lemma TEXT NOT NULL,
            kind TEXT NOT NULL,
            created_by INTEGER REFERENCES users(id),
            created_at TEXT NOT NULL,
            UNIQUE (project_id, form, kind)
        )"""
    )
    db.execute(
        """
        CREATE TABLE suggestion_dismissals (
            document_id INTEGER NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
            user_id INTEGER NOT NULL REFERENCES users(id),
            layer TEXT NOT NULL DEFAULT 'annotator' CHECK (layer IN ('annotator', 'gold')),
            key TEXT NOT NULL,
            engine TEXT NOT NULL,
            engine_version TEXT NOT NULL,
            created_at TEXT NOT NULL,
            PRIMARY KEY (document_id, user_id, layer, key)
        )"""
    )


@step()
def m_users_origin(db: Database) -> None:
    """Where an account came from (issue 9): '' for accounts an admin or the console made, ``import:<tool>``
    (``import:doccano``, ``import:labelstudio`` …) for accounts an import created. An imported annotator name
    reuses an account only when it came from the same tool; otherwise it gets a prefixed account of its own."""
    db.execute("ALTER TABLE users ADD COLUMN origin TEXT NOT NULL DEFAULT ''")


@step()
def m_suggestion_models(db: Database) -> None:
    """Learned suggestion engines (issue 8): each training of a project's model, kept with its version, the label
    names it was trained on (a model is not used once the scheme no longer has them), the training size and time,
    and its own cross-validated figures. ``model`` is JSON (base64 CRF files), never pickled code."""
    db.execute(
        """
        CREATE TABLE suggestion_models (
            id INTEGER PRIMARY KEY,
            project_id INTEGER NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
            engine TEXT NOT NULL,
            version TEXT NOT NULL,
            labels TEXT NOT NULL,
            trained_at TEXT NOT NULL,
            training_documents INTEGER NOT NULL,
            training_spans INTEGER NOT NULL,
            seconds REAL NOT NULL,
            cross_validation TEXT NOT NULL DEFAULT '[]',
            model TEXT NOT NULL,
            created_by INTEGER REFERENCES users(id)
        )"""
    )
    db.execute("CREATE INDEX idx_suggestion_models_project ON suggestion_models(project_id, id)")


@step()
def m_search_word_positions(db: Database) -> None:
    """The word index's positions as a table (fts5vocab 'instance': term, doc, col, offset), so the Search page
    counts and pages a frequent word's hits without reading the texts that hold them (issue 12)."""
    db.execute("CREATE VIRTUAL TABLE search_words_instance USING fts5vocab(search_words, instance)")


@step()
def m_source_groups(db: Database) -> None:
    """Merged source variants of the attribution index (issue 12): a SOURCE span's folded text (``variant``)
    belongs to the group named ``group_name`` (another variant's folded text). Keyed by text, not by span, so a
    span tagged later with the same text joins its group. A variant without a row is a group of its own."""
    db.execute(
        """
        CREATE TABLE source_groups (
            project_id INTEGER NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
            variant TEXT NOT NULL,
            group_name TEXT NOT NULL,
            updated_by INTEGER REFERENCES users(id),
            updated_at TEXT NOT NULL,
            PRIMARY KEY (project_id, variant)
        )"""
    )


@step()
def m_search_no_trigram(db: Database) -> None:
    """Parts of words are found by instr() over the folded text instead of a trigram index (issue 12): the
    trigram index cost three times the word index to build (6.3 s of CPU against 1.7 s for 5,000 documents of
    2,000 characters), and scanning the folded text answers in tens of milliseconds at that size."""
    db.execute("DROP TRIGGER IF EXISTS search_trigram_ai")
    db.execute("DROP TRIGGER IF EXISTS search_trigram_ad")
    db.execute("DROP TABLE IF EXISTS search_trigram")


@step()
def m_project_guidelines(db: Database) -> None:
    """Annotation guidelines per project (issue 10): plain text that admins write on the settings page and
    everyone on the project reads on the annotation and review pages. One row per project that has any;
    ``version`` counts the edits (the audit log holds each text before and after)."""
    db.execute(
        """
        CREATE TABLE project_guidelines (
            project_id INTEGER PRIMARY KEY REFERENCES projects(id) ON DELETE CASCADE,
            body TEXT NOT NULL,
            updated_by INTEGER REFERENCES users(id),
            updated_at TEXT NOT NULL,
            version INTEGER NOT NULL DEFAULT 1
        )"""
    )


@step()
def m_search_documents_only(db: Database) -> None:
    """The search index holds documents only (issue 12): a span's text is a slice of its document's, so a search
    restricted to spans finds the hits in the document and keeps those inside the spans. Folding and indexing
    every span tripled the CPU time of importing 5,000 documents with 100,000 spans (2.96 s to 11.7 s)."""
    for when in ("ai", "au", "ad"):
        db.execute(f"DROP TRIGGER IF EXISTS search_spans_{when}")
    db.execute("DELETE FROM search_folded WHERE kind = 'span'")
    db.execute("DELETE FROM search_pending WHERE kind = 'span'")


@step()
def m_search_words_filled_by_the_store(db: Database) -> None:
    """The FTS5 word index is filled by the store, one statement per commit, instead of a trigger per folded row
    (issue 12). FTS5 writes its pending terms to disk at every statement savepoint, and each row inserted under a
    trigger opens one: 5,000 folded documents became 5,000 tiny segments merged again and again (1.5 s of CPU,
    against 0.65 s for one ``INSERT … SELECT``). Deleting a folded row still deletes its terms by trigger."""
    db.execute("DROP TRIGGER IF EXISTS search_words_ai")


@step()
def m_search_words_terms(db: Database) -> None:
    """The word index's distinct terms as a table (fts5vocab 'row': term, doc, cnt), so a search for part of a
    word finds the words that contain it and reads only the documents holding them (issue 12). Reading the terms
    walks the whole index (60 ms for 5,000 documents), so the store keeps them in memory until
    ``search_words_version``, which it raises whenever it adds to the index, changes."""
    db.execute("CREATE VIRTUAL TABLE search_words_row USING fts5vocab(search_words, row)")
    db.execute("CREATE TABLE search_words_version (id INTEGER PRIMARY KEY CHECK (id = 1), n INTEGER NOT NULL)")
    db.execute("INSERT INTO search_words_version (id, n) VALUES (1, 0)")
