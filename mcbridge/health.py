"""`GET /health`, for load balancers and monitors: does this process reach its database and
its Redis? One word each, "ok" or "failing", and 503 unless both are ok. Nothing else: no
version, host or setting is anyone's business outside."""

from __future__ import annotations

from flask import Blueprint, jsonify
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.wrappers import Response

from mcbridge.extensions import db
from mcbridge.jobs import queue_reachable

OK, FAILING = "ok", "failing"

blueprint = Blueprint("mcbridge_health", __name__)


def database_reachable() -> bool:
    try:
        with db.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except SQLAlchemyError:
        return False
    return True


def health_states() -> dict[str, str]:
    """Each service's state, as /health answers and the Operations page shows it."""
    checks = {"database": database_reachable, "redis": queue_reachable}
    return {name: OK if reachable() else FAILING for name, reachable in checks.items()}


@blueprint.route("/health")
def health() -> Response:
    states = health_states()
    response = jsonify(states)
    response.status_code = 200 if set(states.values()) == {OK} else 503
    response.headers["Cache-Control"] = "no-store"
    return response
