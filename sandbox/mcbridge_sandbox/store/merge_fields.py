"""Merge-field definitions; member values live in each member's JSON and follow renames."""

from __future__ import annotations

import json
import sqlite3

from mcbridge_sandbox.models import MergeField
from mcbridge_sandbox.store.database import Database, record

COLUMNS = (
    "audience",
    "merge_id",
    "tag",
    "name",
    "type",
    "required",
    "default_value",
    "public",
    "display_order",
    "options",
    "help_text",
)


class MergeFields:
    def __init__(self, db: Database) -> None:
        self.db = db

    def of_audience(self, audience_pk: int) -> list[MergeField]:
        rows = self.db.rows(
            "SELECT * FROM merge_fields WHERE audience = ? ORDER BY display_order, merge_id",
            (audience_pk,),
        )
        return [_merge_field(r) for r in rows]

    def get(self, audience_pk: int, merge_id: int) -> MergeField | None:
        found = self.db.row(
            "SELECT * FROM merge_fields WHERE audience = ? AND merge_id = ?",
            (audience_pk, merge_id),
        )
        return None if found is None else _merge_field(found)

    def tag_taken(self, audience_pk: int, tag: str) -> bool:
        return (
            self.db.row(
                "SELECT 1 FROM merge_fields WHERE audience = ? AND tag = ?", (audience_pk, tag)
            )
            is not None
        )

    def insert(self, field: MergeField) -> None:
        marks = ", ".join("?" * len(COLUMNS))
        self.db.run(
            f"INSERT INTO merge_fields ({', '.join(COLUMNS)}) VALUES ({marks})", _values(field)
        )

    def save(self, field: MergeField, previous_tag: str) -> None:
        """Renaming a tag moves every member's value to the new key."""
        with self.db.transaction():
            assignments = ", ".join(f"{c} = ?" for c in COLUMNS)
            self.db.run(
                f"UPDATE merge_fields SET {assignments} WHERE audience = ? AND merge_id = ?",
                (*_values(field), field.audience_pk, field.merge_id),
            )
            if previous_tag != field.tag:
                self.db.run(
                    "UPDATE members SET merge_fields = json_remove(json_set(merge_fields,"
                    " '$.' || ?, json_extract(merge_fields, '$.' || ?)), '$.' || ?)"
                    " WHERE audience = ? AND json_type(merge_fields, '$.' || ?) IS NOT NULL",
                    (field.tag, previous_tag, previous_tag, field.audience_pk, previous_tag),
                )

    def delete(self, field: MergeField) -> None:
        """Values go with the field, so a later field with the same tag starts empty."""
        with self.db.transaction():
            self.db.run(
                "DELETE FROM merge_fields WHERE audience = ? AND merge_id = ?",
                (field.audience_pk, field.merge_id),
            )
            self.db.run(
                "UPDATE members SET merge_fields = json_remove(merge_fields, '$.' || ?)"
                " WHERE audience = ? AND json_type(merge_fields, '$.' || ?) IS NOT NULL",
                (field.tag, field.audience_pk, field.tag),
            )


def _values(field: MergeField) -> tuple[object, ...]:
    return (
        field.audience_pk,
        field.merge_id,
        field.tag,
        field.name,
        field.type,
        int(field.required),
        field.default_value,
        int(field.public),
        field.display_order,
        json.dumps(field.options),
        field.help_text,
    )


def _merge_field(row: sqlite3.Row) -> MergeField:
    return record(
        MergeField,
        row,
        audience_pk=row["audience"],
        required=bool(row["required"]),
        public=bool(row["public"]),
        options=json.loads(row["options"]),
    )
