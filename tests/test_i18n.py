"""Pages speak the user's language: French, German or English."""

from __future__ import annotations

from pathlib import Path

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po
from mcbridge_sandbox.web import TRANSLATIONS as SANDBOX_TRANSLATIONS

from mcbridge.extensions import db
from mcbridge.models import User
from tests import factories as make
from tests.helpers import post_form, sign_in

ROOT = Path(__file__).resolve().parent.parent


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


CATALOGS = {
    # package root, its babel.cfg (relative to the root), its catalogs folder
    "mcbridge": (ROOT, "babel.cfg", ROOT / "mcbridge" / "translations"),
    "mcbridge_sandbox": (ROOT / "sandbox", "babel.cfg", SANDBOX_TRANSLATIONS),
}


def marked_messages(root: Path, config: str) -> set[str]:
    """Every message the code and templates mark for translation, as `pybabel extract` finds
    them with the same configuration (so a string missing from a catalog cannot hide)."""
    with (root / config).open() as mapping:
        method_map, options_map = parse_mapping_cfg(mapping)
    keywords = {**DEFAULT_KEYWORDS, "lazy_gettext": None}
    return {
        message[2] if isinstance(message[2], str) else message[2][0]
        for message in extract_from_dir(str(root), method_map, options_map, keywords=keywords)
    }


@pytest.mark.parametrize("package", sorted(CATALOGS))
@pytest.mark.parametrize("language", ["fr", "de"])
def test_every_marked_message_is_translated(package, language):
    root, config, translations = CATALOGS[package]
    with (translations / language / "LC_MESSAGES" / "messages.po").open("rb") as po:
        catalog = read_po(po)
    translated = {
        m.id if isinstance(m.id, str) else m.id[0]
        for m in catalog
        if m.id and m.string and not m.fuzzy
    }
    missing = sorted(marked_messages(root, config) - translated)
    assert missing == [], f"{len(missing)} messages without a {language} translation"
