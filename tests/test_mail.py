"""MAIL_URL as an administrator writes it: the server, TLS, and a password kept out of sight."""

from __future__ import annotations

import pytest

from mcbridge import create_app
from mcbridge.mail import parse_mail_url


def test_a_mail_url_names_the_server_and_its_tls():
    plain = parse_mail_url("smtp://mail.club-mail.ch")
    assert (plain.host, plain.port, plain.implicit_tls, plain.starttls) == (
        "mail.club-mail.ch",
        25,
        False,
        False,
    )
    upgraded = parse_mail_url(
        "smtp://robot%40club-mail.ch:p%40ss@mail.club-mail.ch:587?starttls=true"
    )
    assert (upgraded.port, upgraded.starttls) == (587, True)
    assert (upgraded.username, upgraded.password) == ("robot@club-mail.ch", "p@ss")
    secure = parse_mail_url("smtps://robot:secret@mail.club-mail.ch")
    assert (secure.port, secure.implicit_tls) == (465, True)


def test_the_password_is_never_in_what_names_the_server():
    server = parse_mail_url("smtps://robot:hunter2@mail.club-mail.ch:465")
    assert "hunter2" not in str(server)
    assert "hunter2" not in repr(server)


@pytest.mark.parametrize(
    "url", ["http://robot:hunter2@mail.club-mail.ch", "smtp://robot:hunter2@mail.club-mail.ch:x"]
)
def test_an_unusable_mail_url_stops_the_start_and_says_why(url):
    with pytest.raises(ValueError, match="MAIL_URL") as refused:
        create_app({"MAIL_URL": url, "SECRET_KEY": "x", "DATABASE_URL": "sqlite://"})
    assert "hunter2" not in str(refused.value)
