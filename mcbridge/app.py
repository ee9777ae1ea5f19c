"""The standalone application (what `wsgi.py` serves)."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from flask import Flask, redirect, render_template, request, url_for
from flask_babel import force_locale, gettext
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from werkzeug.exceptions import HTTPException
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.wrappers import Response

from mcbridge.config import LANGUAGES
from mcbridge.extensions import db
from mcbridge.health import blueprint as health
from mcbridge.jobs import QUEUE_UNREACHABLE
from mcbridge.plugin import MCBridge

# The database refused the connection (down, unreachable, its file unopenable) or every
# pooled connection stayed busy: a moment's unavailability, not a bug.
DATABASE_UNREACHABLE = (OperationalError, PoolTimeoutError)


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build mcbridge on its own: settings from the environment, `config` on top."""
    app = Flask("mcbridge", instance_relative_config=True)
    MCBridge().init_app(app, **dict(config or {}))
    trust_proxies(app)
    quiet_client_logging()
    app.add_url_rule("/", "home", lambda: redirect(url_for("admin.index")))
    app.register_blueprint(health)
    register_error_pages(app)
    return app


def trust_proxies(app: Flask) -> None:
    """Behind MCBRIDGE_PROXY_HOPS proxies, the client's address and scheme come from their
    X-Forwarded-* headers: sign-in throttling counts per client, not per proxy (one
    attacker would otherwise lock everyone out). Without proxies the headers are ignored,
    since anyone can send them."""
    hops = int(app.config["MCBRIDGE_PROXY_HOPS"])
    if hops:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)  # type: ignore[method-assign]


def quiet_client_logging() -> None:
    """mailchimp3 logs every request payload at INFO: names and addresses must not leak."""
    logging.getLogger("mailchimp3.client").setLevel(logging.WARNING)


def short_description(error: Exception) -> str:
    """The error's class and the first line of the driver's message: SQLAlchemy's own text
    adds the statement and its parameters, which hold names and addresses."""
    original = getattr(error, "orig", None) or error
    first_line = (str(original).splitlines() or [""])[0][:200]
    return f"{type(error).__name__} ({type(original).__name__}: {first_line})"


def register_error_pages(app: Flask) -> None:
    """Plain-language pages for every error; never a traceback or a bare server page."""

    def database_unreachable(error: Exception) -> tuple[str, int]:
        """A page that needs no database: in the browser's language (the account's choice is
        stored there), without the app's template context, where Flask-Login asks the
        database who is signed in."""
        app.logger.error("The database cannot be reached: %s", short_description(error))
        language = request.accept_languages.best_match(LANGUAGES) or "en"
        with force_locale(language):
            page = app.jinja_env.get_template("mcbridge/error.html").render(
                code=503,
                message=gettext("The database cannot be reached."),
                current_language=language,
            )
        return page, 503

    def error_page(code: int, message: str | None = None) -> tuple[str, int]:
        """The error page in the app's layout; if drawing it needs the database and the
        database is away (who is signed in?), the page that needs none."""
        try:
            return render_template("mcbridge/error.html", code=code, message=message), code
        except DATABASE_UNREACHABLE as error:
            return database_unreachable(error)

    @app.errorhandler(CSRFError)
    def csrf_error(_error: CSRFError) -> tuple[str, int]:
        message = gettext(
            "The form had expired or came from elsewhere. Nothing was changed; "
            "please go back, reload the page and try again."
        )
        return error_page(400, message)

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> Response | tuple[str, int]:
        if error.code is None or error.code < 400:
            return error.get_response()
        return error_page(error.code)

    def queue_unreachable(error: Exception) -> tuple[str, int]:
        """What needs Redis (an export, a preview, a retry) waits for it; pages that only
        show something say so themselves and answer."""
        app.logger.error("Redis cannot be reached: %s", error)
        db.session.rollback()
        return error_page(503, gettext("Exports are paused: the queue is unreachable."))

    for error_class in QUEUE_UNREACHABLE:
        app.register_error_handler(error_class, queue_unreachable)
    for error_class in DATABASE_UNREACHABLE:
        app.register_error_handler(error_class, database_unreachable)

    @app.errorhandler(Exception)
    def unexpected_error(error: Exception) -> tuple[str, int]:
        app.logger.exception("Unexpected error", exc_info=error)
        db.session.rollback()  # PostgreSQL refuses every query after a failed one
        return error_page(500)
