"""`fields` and `exclude_fields`: comma-separated dot paths that trim a response, applied
to every element when a path goes through a list (`members.email_address`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

Tree = dict[str, "Tree"]


def project(body: dict[str, Any], query: Mapping[str, str]) -> dict[str, Any]:
    fields = query.get("fields")
    excluded = query.get("exclude_fields")
    if fields:
        body = _keep(body, _tree(fields))
    if excluded:
        body = _drop(body, _tree(excluded))
    return body


def wanted(query: Mapping[str, str], key: str) -> bool:
    """Whether a top-level key survives the projection: lets handlers skip building
    large parts (batch subscribe's member lists) that the client asked to leave out."""
    fields = _tree(query.get("fields") or "")
    excluded = _tree(query.get("exclude_fields") or "")
    if fields and key not in fields:
        return False
    return not (key in excluded and not excluded[key])


def simple_fields(query: Mapping[str, str], key: str) -> tuple[str, ...]:
    """The plain member attributes `fields` asks for under `key`, when it asks only for
    such (`new_members.email_address,new_members.status`): the handler can then skip
    building whole member documents. Empty when anything else is wanted."""
    subtree = _tree(query.get("fields") or "").get(key)
    if not subtree or query.get("exclude_fields"):
        return ()
    names = tuple(subtree)
    if any(subtree[name] or name not in SIMPLE_MEMBER_FIELDS for name in names):
        return ()
    return names


SIMPLE_MEMBER_FIELDS = {
    "id": "hash",
    "email_address": "email",
    "status": "status",
    "last_changed": "last_changed",
    "unique_email_id": "unique_email_id",
}


def _tree(spec: str) -> Tree:
    root: Tree = {}
    for path in filter(None, (p.strip() for p in spec.split(","))):
        node = root
        for part in path.split("."):
            node = node.setdefault(part, {})
    return root


def _keep(value: Any, tree: Tree) -> Any:
    if not tree:
        return value
    if isinstance(value, list):
        return [_keep(item, tree) for item in value]
    if isinstance(value, dict):
        return {k: _keep(v, tree[k]) for k, v in value.items() if k in tree}
    return value


def _drop(value: Any, tree: Tree) -> Any:
    if isinstance(value, list):
        return [_drop(item, tree) for item in value]
    if isinstance(value, dict):
        return {
            k: (_drop(v, tree[k]) if tree.get(k) else v)
            for k, v in value.items()
            if k not in tree or tree[k]
        }
    return value
