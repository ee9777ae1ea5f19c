"""The sandbox's Flask application: the API under /3.0/ and /<dc>/3.0/, the control
endpoints under /_sandbox/ and the read-only page at /.
"""

from __future__ import annotations

from flask import Flask, Response

from mcbridge_sandbox.control_api import control_blueprint
from mcbridge_sandbox.gateway import handle_api_request
from mcbridge_sandbox.runtime import SandboxRuntime
from mcbridge_sandbox.web import init_babel, web_blueprint

API_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"]


def create_app(runtime: SandboxRuntime) -> Flask:
    app = Flask(__name__)
    init_babel(app)

    def api(rest: str = "", dc: str | None = None) -> Response:
        return handle_api_request(runtime, dc, rest)

    for rule in ("/3.0/", "/3.0/<path:rest>", "/<dc>/3.0/", "/<dc>/3.0/<path:rest>"):
        app.add_url_rule(rule, view_func=api, endpoint=f"api:{rule}", methods=API_METHODS)
    app.register_blueprint(control_blueprint(runtime))
    app.register_blueprint(web_blueprint(runtime))
    return app
