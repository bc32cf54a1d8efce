"""Projects, their guidelines, members and label schemes."""

from __future__ import annotations

from annotator.errors import NotFound
from annotator.models import Label, Project, User
from annotator.store.base import StoreBase, dumps, loads, now
from annotator.store.rows import label_from_row, user_from_row


class Projects(StoreBase):
    def insert_project(self, name: str, description: str = "", settings: dict | None = None) -> int:
        return self._insert(
            "INSERT INTO projects (name, description, settings, created_at) VALUES (?, ?, ?, ?)",
            (name, description, dumps(settings), now()),
        )

    def get_project(self, project_id: int) -> Project:
        rows = self.query("SELECT * FROM projects WHERE id = ?", [project_id])
        if not rows:
            raise NotFound(f"There is no project {project_id}.")
        r = rows[0]
        return Project(id=r["id"], name=r["name"], description=r["description"], settings=loads(r["settings"]))

    def project_by_name(self, name: str) -> Project | None:
        rows = self.query("SELECT id FROM projects WHERE name = ?", [name])
        return self.get_project(rows[0]["id"]) if rows else None

    def list_projects(self, user_id: int | None = None) -> list[Project]:
        """All projects, or only those ``user_id`` is a member of."""
        if user_id is None:
            rows = self.query("SELECT id FROM projects ORDER BY id")
        else:
            rows = self.query(
                "SELECT p.id FROM projects p JOIN project_members m ON m.project_id = p.id WHERE m.user_id = ? ORDER BY p.id",
                [user_id],
            )
        return [self.get_project(r["id"]) for r in rows]

    def update_project_settings(self, project_id: int, settings: dict) -> None:
        self._x("UPDATE projects SET settings = ? WHERE id = ?", (dumps(settings), project_id))

    def get_guidelines(self, project_id: int) -> tuple[str, int]:
        """The project's annotation guidelines and their version (``("", 0)`` before the first edit)."""
        rows = self.query("SELECT body, version FROM project_guidelines WHERE project_id = ?", [project_id])
        return (rows[0]["body"], rows[0]["version"]) if rows else ("", 0)

    def set_guidelines(self, project_id: int, body: str, user_id: int | None) -> int:
        """Replace the project's guidelines; returns the new version. Call inside :meth:`write`."""
        self._x(
            "INSERT INTO project_guidelines (project_id, body, updated_by, updated_at) VALUES (?, ?, ?, ?)"
            " ON CONFLICT (project_id) DO UPDATE SET body = excluded.body, updated_by = excluded.updated_by,"
            " updated_at = excluded.updated_at, version = project_guidelines.version + 1",
            (project_id, body, user_id, now()),
        )
        return self.get_guidelines(project_id)[1]

    def add_member(self, project_id: int, user_id: int) -> None:
        self._x("INSERT INTO project_members (project_id, user_id) VALUES (?, ?) ON CONFLICT DO NOTHING", (project_id, user_id))

    def is_member(self, project_id: int, user_id: int) -> bool:
        return bool(self.query("SELECT 1 FROM project_members WHERE project_id = ? AND user_id = ?", [project_id, user_id]))

    def list_members(self, project_id: int) -> list[User]:
        rows = self.query(
            "SELECT u.* FROM users u JOIN project_members m ON m.user_id = u.id WHERE m.project_id = ? ORDER BY u.id",
            [project_id],
        )
        return [user_from_row(r) for r in rows]

    def insert_label(self, project_id: int, label: dict) -> int:
        return self._insert(
            "INSERT INTO labels (project_id, name, kind, colour, hotkey, description, attributes, position)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                project_id, label["name"], label.get("kind", "span"), label.get("colour", "#cccccc"),
                label.get("hotkey", ""), label.get("description", ""), dumps(label.get("attributes")),
                label.get("position", 0),
            ),
        )  # fmt: skip

    def list_labels(self, project_id: int) -> list[Label]:
        return [
            label_from_row(r) for r in self.query("SELECT * FROM labels WHERE project_id = ? ORDER BY position, id", [project_id])
        ]

    def get_label(self, label_id: int) -> Label:
        rows = self.query("SELECT * FROM labels WHERE id = ?", [label_id])
        if not rows:
            raise NotFound(f"There is no label {label_id}.")
        return label_from_row(rows[0])

    def update_label(self, label_id: int, **fields) -> None:
        """Set any of ``name``, ``kind``, ``colour``, ``hotkey``, ``description``, ``attributes``, ``position``."""
        allowed = {"name", "kind", "colour", "hotkey", "description", "attributes", "position"}
        bad = set(fields) - allowed
        if bad:
            raise ValueError(f"cannot update label fields {sorted(bad)}")
        if "attributes" in fields:
            fields["attributes"] = dumps(fields["attributes"])
        if fields:
            cols = ", ".join(f"{k} = ?" for k in fields)
            self._x(f"UPDATE labels SET {cols} WHERE id = ?", [*fields.values(), label_id])

    def delete_label(self, label_id: int) -> None:
        self._x("DELETE FROM labels WHERE id = ?", (label_id,))

    def count_label_spans(self, label_id: int) -> int:
        return self._x("SELECT count(*) FROM spans WHERE label_id = ?", (label_id,)).fetchone()[0]

    def remove_member(self, project_id: int, user_id: int) -> bool:
        cur = self._x("DELETE FROM project_members WHERE project_id = ? AND user_id = ?", (project_id, user_id))
        return cur.rowcount == 1

    def member_project_ids(self, user_id: int) -> list[int]:
        rows = self.query("SELECT project_id FROM project_members WHERE user_id = ? ORDER BY project_id", [user_id])
        return [r["project_id"] for r in rows]
