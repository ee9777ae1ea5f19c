"""Inside a host application that picks regional locales itself (fr_CH), mcbridge writes
dates and splits spreadsheets as that language does."""

from __future__ import annotations

from flask import Flask
from flask_admin import Admin
from flask_babel import Babel

from mcbridge import MCBridge
from tests import factories as make
from tests.helpers import RequestPerContextClient, empty_tables, sign_in


def test_a_hosts_regional_locale_counts_as_its_language(migrated_database):
    host = Flask("host_app")
    host.config.update(SECRET_KEY="host-secret", TESTING=True)
    Babel(host, locale_selector=lambda: "fr_CH")
    host_admin = Admin(host, name="Host admin")
    MCBridge().init_app(host, host_admin, DATABASE_URL=migrated_database)
    host.test_client_class = RequestPerContextClient
    client = host.test_client()

    with host.app_context():
        club = make.group("Club")
        member = make.role_type("Member")
        anna = make.person("Anna", "Meier", email="anna.meier@club-mail.ch")
        make.role(anna, club, member)
        news = make.mailing_list(club, "News")
        make.role_rule(news, club, member)
        make.user("admin@club-mail.ch", admin=True)
        sign_in(client, "admin@club-mail.ch", page="/admin/mcbridge/account/sign-in")

        download = client.get(f"/admin/mcbridge/subscribers/{news.id}/subscribers.csv")
        form = client.get(f"/admin/mcbridge/people/edit/?id={anna.id}")

        assert '"anna.meier@club-mail.ch";"Anna"' in download.get_data(as_text=True)
        assert 'data-date-format="DD.MM.YYYY"' in form.get_data(as_text=True)
        empty_tables()
