"""Indexes no model describes: each database gets those it can have, and schema
comparisons (autogenerate, a host's autogenerate, the tests) leave them out."""

from __future__ import annotations

from mcbridge.models.search_index import is_search_index
from mcbridge.models.sync import CODE_POINT_ORDER_INDEX


def is_unmodelled(name: str | None, type_: str) -> bool:
    return is_search_index(name, type_) or (type_ == "index" and name == CODE_POINT_ORDER_INDEX)
