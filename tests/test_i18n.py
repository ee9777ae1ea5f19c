"""Pages speak the user's language: French, German or English."""

from __future__ import annotations

import pytest

from mcbridge.extensions import db
from mcbridge.models import User
from tests import factories as make
from tests.helpers import post_form, sign_in


@pytest.fixture
def admin(app):
    return make.user("admin@club-mail.ch", admin=True)


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("fr-CH,fr;q=0.9", "Listes de diffusion"),
        ("de-CH", "Mailinglisten"),
        ("it", "Mailing lists"),
    ],
)
def test_the_browser_language_is_used(client, admin, header, expected):
    sign_in(client, admin.email)
    page = client.get("/admin/", headers={"Accept-Language": header}).get_data(as_text=True)
    assert expected in page


def test_chosen_language_sticks_to_the_account(client, admin):
    sign_in(client, admin.email)
    response = post_form(
        client, "/admin/account/language/de", {"next": "/admin/groups/"}, page="/admin/"
    )
    assert response.headers["Location"] == "/admin/groups/"
    page = client.get("/admin/groups/", headers={"Accept-Language": "fr"}).get_data(as_text=True)
    assert "Gruppen" in page
    assert "Liste" in page  # Flask-Admin's own labels follow too
    db.session.expire_all()
    assert db.session.get(User, admin.id).locale == "de"


def test_the_sign_in_page_and_errors_are_translated(client, admin):
    french = {"Accept-Language": "fr"}
    assert "Se connecter à mcbridge" in client.get(
        "/admin/account/sign-in", headers=french
    ).get_data(as_text=True)
    missing = client.get("/nowhere", headers=french)
    assert missing.status_code == 404
    assert "Cette page n’existe pas" in missing.get_data(as_text=True)


def test_every_catalog_translates_every_message():
    from babel.messages.pofile import read_po

    from mcbridge.i18n import TRANSLATIONS

    for language in ("fr", "de"):
        with open(TRANSLATIONS / language / "LC_MESSAGES" / "messages.po", "rb") as po:
            catalog = read_po(po)
        untranslated = [m.id for m in catalog if m.id and (not m.string or m.fuzzy)]
        assert untranslated == [], language
