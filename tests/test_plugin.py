"""mcbridge mounted into a host application that already has its own Flask-Admin."""

from __future__ import annotations

from flask import Flask
from flask_admin import Admin, BaseView, expose

from mcbridge import MCBridge
from tests import factories as make
from tests.helpers import RequestPerContextClient, empty_tables, sign_in


class HostReports(BaseView):
    @expose("/")
    def index(self) -> str:
        return "host reports page"


def test_mcbridge_joins_the_hosts_admin_and_both_work(migrated_database):
    host = Flask("host_app")
    host.config.update(SECRET_KEY="host-secret", TESTING=True)
    host_admin = Admin(host, name="Host admin")
    host_admin.add_view(HostReports(name="Reports", endpoint="reports"))

    MCBridge().init_app(host, host_admin, DATABASE_URL=migrated_database)
    host.test_client_class = RequestPerContextClient
    client = host.test_client()

    with host.app_context():
        make.group("Federation")
        make.user("admin@club-mail.ch", admin=True)
        assert client.get("/admin/reports/").get_data(as_text=True) == "host reports page"
        sign_in(client, "admin@club-mail.ch", page="/admin/mcbridge/account/sign-in")
        groups = client.get("/admin/mcbridge/groups/")
        assert groups.status_code == 200
        assert "Federation" in groups.get_data(as_text=True)
        home = client.get("/admin/").get_data(as_text=True)
        assert "Host admin" in home
        assert "/admin/mcbridge/mailing-lists/" in home
        assert "/admin/reports/" in home
        empty_tables()
