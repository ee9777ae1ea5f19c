"""The standalone application (what `wsgi.py` serves)."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from flask import Flask, redirect, render_template, url_for
from flask_babel import gettext
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException
from werkzeug.routing import IntegerConverter, Map
from werkzeug.wrappers import Response

from mcbridge.admin.base import LARGEST_ID
from mcbridge.plugin import MCBridge


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build mcbridge on its own: settings from the environment, `config` on top."""
    app = Flask("mcbridge", instance_relative_config=True)
    app.url_map.converters["int"] = IdConverter
    MCBridge().init_app(app, **dict(config or {}))
    quiet_client_logging()
    app.add_url_rule("/", "home", lambda: redirect(url_for("admin.index")))
    register_error_pages(app)
    return app


class IdConverter(IntegerConverter):
    """`<int:…>` (the webhook's list id) up to the largest id: a larger number matches no
    route, a 404, where the database would refuse it with an error."""

    def __init__(self, map: Map, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max", LARGEST_ID)
        super().__init__(map, *args, **kwargs)


def quiet_client_logging() -> None:
    """mailchimp3 logs every request payload at INFO: names and addresses must not leak."""
    logging.getLogger("mailchimp3.client").setLevel(logging.WARNING)


def register_error_pages(app: Flask) -> None:
    """Plain-language pages for every error; never a traceback or a bare server page."""

    @app.errorhandler(CSRFError)
    def csrf_error(_error: CSRFError) -> tuple[str, int]:
        message = gettext(
            "The form had expired or came from elsewhere. Nothing was changed; "
            "please go back, reload the page and try again."
        )
        return render_template("mcbridge/error.html", code=400, message=message), 400

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> Response | tuple[str, int]:
        if error.code is None or error.code < 400:
            return error.get_response()
        return render_template("mcbridge/error.html", code=error.code, message=None), error.code

    @app.errorhandler(Exception)
    def unexpected_error(error: Exception) -> tuple[str, int]:
        app.logger.exception("Unexpected error", exc_info=error)
        return render_template("mcbridge/error.html", code=500, message=None), 500
