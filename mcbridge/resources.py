"""Where mcbridge's files that are not Python live: templates, static files, migrations and
translation catalogs.

In the repository they sit at the top level (`templates/`, `static/`, `migrations/`) next to
the `mcbridge` package; the build maps them into the package (`mcbridge/templates`, …), so an
installed wheel has no top level to look in. Each path is the packaged folder when it exists,
the repository's otherwise (a checkout, or an editable install).
"""

from __future__ import annotations

from pathlib import Path

PACKAGE = Path(__file__).resolve().parent
REPOSITORY = PACKAGE.parent


def located(name: str) -> Path:
    """The folder `name` inside the installed package, or at the repository's top level."""
    packaged = PACKAGE / name
    return packaged if packaged.is_dir() else REPOSITORY / name


TEMPLATES = located("templates")
STATIC = located("static")
MIGRATIONS = located("migrations")
TRANSLATIONS = PACKAGE / "translations"
