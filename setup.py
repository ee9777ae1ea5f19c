"""The build steps pyproject.toml cannot declare: the package list, and compiled translation
catalogs in the wheel.

Packages: every package under mcbridge/ (found, with or without an __init__.py, so a new one
travels without editing a list), plus the repository's top-level folders that
pyproject.toml's package-dir maps into the package.

The .mo files are build products (git ignores them; `make translations` makes them for a
checkout), so a wheel built from a clean checkout or from the sdist compiles its own from
the .po catalogs, and an installed mcbridge speaks French and German without a Makefile.
Flask-Admin's own catalogs are compiled too, from the .po files its package ships (the .mo
files in its wheel are older and lack some of its messages; the Makefile does the same).
"""

from __future__ import annotations

from pathlib import Path

import flask_admin
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from setuptools import find_namespace_packages, setup
from setuptools.command.build_py import build_py

CATALOGS = "mcbridge/translations/*/LC_MESSAGES/messages.po"


FLASK_ADMIN_CATALOGS = Path(flask_admin.__file__).parent / "translations"

MAPPED_FOLDERS = ["mcbridge.templates", "mcbridge.static", "mcbridge.migrations"]
PACKAGES = [
    *find_namespace_packages(
        include=["mcbridge", "mcbridge.*"],
        exclude=["*.__pycache__", "mcbridge.translations", "mcbridge.translations.*"],
    ),
    *MAPPED_FOLDERS,
]


def compile_catalog(po_path: Path, mo_path: Path | None = None) -> Path:
    """Write the .mo (beside its .po unless told); fuzzy entries stay out, as with
    `pybabel compile`."""
    mo_path = mo_path or po_path.with_suffix(".mo")
    with po_path.open("rb") as po_file:
        catalog = read_po(po_file)
    with mo_path.open("wb") as mo_file:
        write_mo(mo_file, catalog)
    return mo_path


class BuildWithCatalogs(build_py):
    """build_py, then each copied .po catalog compiled next to it in the build folder."""

    def run(self) -> None:
        super().run()
        for po_path in sorted(Path(self.build_lib).glob(CATALOGS)):
            self.announce(f"compiling {po_path}", level=2)
            compile_catalog(po_path)
            language = po_path.parent.parent.name
            admin_po = FLASK_ADMIN_CATALOGS / language / "LC_MESSAGES" / "admin.po"
            compile_catalog(admin_po, po_path.with_name("admin.mo"))


setup(packages=PACKAGES, cmdclass={"build_py": BuildWithCatalogs})
