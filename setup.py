"""The build step pyproject.toml cannot declare: compiled translation catalogs in the wheel.

The .mo files are build products (git ignores them; `make translations` makes them for a
checkout), so a wheel built from a clean checkout or from the sdist compiles its own from
the .po catalogs, and an installed mcbridge speaks French and German without a Makefile.
"""

from __future__ import annotations

from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from setuptools import setup
from setuptools.command.build_py import build_py

CATALOGS = "mcbridge/translations/*/LC_MESSAGES/*.po"


def compile_catalog(po_path: Path) -> Path:
    """Write the .mo beside its .po; fuzzy entries stay out, as with `pybabel compile`."""
    mo_path = po_path.with_suffix(".mo")
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


setup(cmdclass={"build_py": BuildWithCatalogs})
