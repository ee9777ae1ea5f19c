"""Every build compiles the sandbox's catalogs: the .mo files Flask-Babel reads are not
kept in git (only the .po are), so a wheel or an editable install would otherwise serve
the page in English only.
"""

from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from setuptools import setup
from setuptools.command.build_py import build_py

CATALOGS = "mcbridge_sandbox/translations/*/LC_MESSAGES/messages.po"


class BuildWithCatalogs(build_py):
    """build_py, then each .po compiled next to its copy (in the source for -e installs)."""

    def run(self) -> None:
        super().run()
        target = Path(".") if self.editable_mode else Path(self.build_lib)
        for source in Path(".").glob(CATALOGS):
            compile_catalog(source, target / source.with_suffix(".mo"))


def compile_catalog(source: Path, target: Path) -> None:
    with source.open("rb") as po:
        catalog = read_po(po)
    target.parent.mkdir(parents=True, exist_ok=True)
    with target.open("wb") as mo:
        write_mo(mo, catalog)


setup(cmdclass={"build_py": BuildWithCatalogs})
