"""End to end from the distributions, as README's "Add mcbridge to your Flask application"
says: the mcbridge and sandbox wheels are built, installed into a fresh virtualenv (no
checkout on its path), and the example host application mounts mcbridge on PostgreSQL. A
host user signs in through the host, links a list to the sandbox and exports it; a real RQ
worker (burst mode) sends the list's contacts to the sandbox.

Slow: 2½ to 5 minutes on 2 shared cores with pip's cache warm (quiet machine, busy one):
building the two wheels (sdist, then wheel, each in its own build environment) 35 to 100 s;
the virtualenv, its installation, the migrations and the processes' start 90 to 150 s; the
journey 25 to 40 s.

Needs a PostgreSQL server at 127.0.0.1:5432 (user postgres, no password), as .ci/run starts
it: without one the end-to-end test fails and says so; it is never skipped.
"""

from __future__ import annotations

import csv
import io
import os
import re
import shutil
import signal
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from mcbridge_sandbox import SandboxControl

from tests.helpers import TEST_REDIS_URL, root_group, wait_for
from tests.test_processes import Browser, answers, free_port

ROOT = Path(__file__).resolve().parent.parent
SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432"
SERVER_DSN = "host=127.0.0.1 port=5432 user=postgres dbname=postgres"
DATABASE = "mcbridge_wheel_e2e"
HOST_ADMIN = ("secretary@rowing-club.example", "host-Secretary-2026")
TIMEOUT = 900


def build(project: Path, outdir: Path) -> None:
    """`python -m build` as the README says: the sdist, then the wheel built from it."""
    subprocess.run(
        [sys.executable, "-m", "build", "--outdir", str(outdir), str(project)],
        check=True,
        capture_output=True,
        timeout=TIMEOUT,
    )


@pytest.fixture(scope="module")
def wheels(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The two distributions, built from this checkout into a folder of their own."""
    outdir = tmp_path_factory.mktemp("dist")
    build(ROOT, outdir)
    build(ROOT / "sandbox", outdir)
    return outdir


def wheel_of(wheels: Path, name: str) -> Path:
    return next(wheels.glob(f"{name}-*.whl"))


def postgresql_server() -> psycopg.Connection:
    """The server's maintenance database; a server that is down fails the test with what to
    start, rather than a connection traceback (or a skip nobody reads)."""
    try:
        return psycopg.connect(SERVER_DSN, autocommit=True, connect_timeout=10)
    except psycopg.OperationalError as error:
        pytest.fail(
            "The wheel's end-to-end test needs PostgreSQL at 127.0.0.1:5432 (user postgres, "
            f"no password; .ci/run starts one): {error}",
            pytrace=False,
        )


@pytest.fixture
def database() -> Iterator[str]:
    """A database of this test's own in the PostgreSQL server, made empty and dropped after."""
    with postgresql_server() as pg:
        pg.execute(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)")
        pg.execute(f"CREATE DATABASE {DATABASE}")
    yield f"{SERVER}/{DATABASE}"
    with postgresql_server() as pg:
        pg.execute(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)")


class Deployment:
    """A fresh virtualenv with the wheels installed and the example host copied next to it."""

    def __init__(self, folder: Path, database_url: str) -> None:
        self.folder = folder
        self.venv = folder / "venv"
        self.host_port, self.sandbox_port = free_port(), free_port()
        self.url = f"http://127.0.0.1:{self.host_port}"
        self.sandbox = SandboxControl(f"http://127.0.0.1:{self.sandbox_port}")
        environment = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
        self.env = {
            **environment,
            "PATH": f"{self.venv / 'bin'}:{os.environ['PATH']}",
            "VIRTUAL_ENV": str(self.venv),
            "FLASK_APP": "host_app",
            "DATABASE_URL": database_url,
            "SECRET_KEY": "wheel-end-to-end",
            "REDIS_URL": TEST_REDIS_URL,
            "MCBRIDGE_ENCRYPTION_KEYS": "x6QiRNfW0d3xzVfUlYLIhJtK2Xmc0BhHmPIbZ6D3wBU=",
            "MAILCHIMP_API_BASE_URL": f"http://127.0.0.1:{self.sandbox_port}/{{dc}}/3.0/",
            "MCBRIDGE_PUBLIC_URL": self.url,
            "HOST_USER_PASSWORD": HOST_ADMIN[1],
        }
        self.sandbox_data = str(folder / "sandbox.sqlite3")
        self.processes: list[subprocess.Popen[bytes]] = []

    def install(self, wheels: Path) -> None:
        """mcbridge's wheel with its sandbox and demo extras, the sandbox from the built wheel
        (never a namesake on the registry), the rest from the registry; then the host."""
        subprocess.run([sys.executable, "-m", "venv", str(self.venv)], check=True, timeout=120)
        mcbridge = wheel_of(wheels, "mcbridge")
        self.run(
            "pip", "install", "--quiet", "--find-links", str(wheels), f"{mcbridge}[sandbox,demo]"
        )
        shutil.copytree(ROOT / "examples" / "host_app", self.folder / "host_app")

    def sandbox_command(self, *args: str) -> str:
        """`python -m mcbridge_sandbox` on this deployment's sandbox data file."""
        return self.run("python", "-m", "mcbridge_sandbox", "--data", self.sandbox_data, *args)

    def run(self, program: str, *args: str) -> str:
        done = subprocess.run(
            [str(self.venv / "bin" / program), *args],
            cwd=self.folder,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=TIMEOUT,
        )
        assert done.returncode == 0, f"{program} {' '.join(args)}:\n{done.stdout}\n{done.stderr}"
        return done.stdout

    def start(self, program: str, *args: str) -> None:
        self.processes.append(
            subprocess.Popen(
                [str(self.venv / "bin" / program), *args],
                cwd=self.folder,
                env=self.env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                start_new_session=True,
            )
        )

    def stop(self) -> None:
        for process in self.processes:
            os.killpg(process.pid, signal.SIGTERM)
        for process in self.processes:
            process.wait(timeout=30)


@pytest.fixture
def deployment(tmp_path: Path, wheels: Path, database: str) -> Iterator[Deployment]:
    """Installed, migrated, seeded and running: what README's section has a host do."""
    deployed = Deployment(tmp_path, database)
    deployed.install(wheels)
    deployed.run("flask", "db", "upgrade", "heads")
    deployed.run("flask", "create-user", HOST_ADMIN[0], "--admin")
    deployed.run("flask", "mcbridge", "seed-demo")
    port = str(deployed.sandbox_port)
    deployed.start(
        "python", "-m", "mcbridge_sandbox", "--data", deployed.sandbox_data, "--port", port
    )
    deployed.start("gunicorn", "--bind", f"127.0.0.1:{deployed.host_port}", "host_app:create_app()")
    try:
        assert wait_for(lambda: answers(f"{deployed.url}/sign-in"), timeout=60)
        assert wait_for(lambda: answers(f"{deployed.sandbox.url}/"), timeout=60)
        yield deployed
    finally:
        deployed.stop()


def recipient_addresses(deployment: Deployment, list_id: str) -> list[str]:
    """The list's addresses, from the CSV of `flask mcbridge recipients` (after its BOM)."""
    listing = deployment.run("flask", "mcbridge", "recipients", list_id).lstrip("\ufeff")
    return [row["Email"] for row in csv.DictReader(io.StringIO(listing))]


def files_under(folder: Path) -> set[str]:
    """Every file of a repository folder as the wheel names it (a mapped folder lands inside
    the package), whatever its suffix: a mail template is a .txt, not only an .html."""
    return {
        path.relative_to(ROOT).as_posix()
        for path in folder.rglob("*")
        if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc"
    }


def test_the_installed_wheel_carries_code_templates_static_files_catalogs_and_migrations(wheels):
    names = set(zipfile.ZipFile(wheel_of(wheels, "mcbridge")).namelist())
    modules = {name for name in files_under(ROOT / "mcbridge") if name.endswith(".py")}
    mapped = {
        f"mcbridge/{name}"
        for folder in ("templates", "static", "migrations")
        for name in files_under(ROOT / folder)
    }
    catalogs = {
        path.relative_to(ROOT).with_name(name).as_posix()
        for path in (ROOT / "mcbridge" / "translations").rglob("messages.po")
        for name in ("messages.mo", "admin.mo")
    }
    assert sorted(modules - names) == []
    assert sorted(mapped - names) == []
    assert sorted(catalogs - names) == []
    assert any(name.endswith("/mail/password_link.txt") for name in mapped)
    assert not any(name.startswith(("mcbridge/sandbox/", "mcbridge_sandbox/")) for name in names)


def submit(user: Browser, page: str, fields: dict[str, str]) -> str:
    """Fill in the form of `page` and send it, as the page itself would."""
    return user.post(page, fields, page).text


def test_a_host_user_exports_a_list_to_the_sandbox_from_the_installed_wheels(deployment):
    package = deployment.run("python", "-c", "import mcbridge; print(mcbridge.__file__)")
    assert package.startswith(str(deployment.venv))

    user = Browser(deployment.url)
    signed_in = submit(user, "/sign-in", {"email": HOST_ADMIN[0], "password": HOST_ADMIN[1]})
    assert "Welcome, you are signed in." in signed_in
    in_french = user.http.get(
        f"{deployment.url}/admin/mcbridge/mailing-lists/",
        headers={"Accept-Language": "fr"},
        timeout=30,
    )
    assert "Listes de diffusion" in in_french.text
    stylesheet = user.http.get(f"{deployment.url}/mcbridge-static/mcbridge.css", timeout=30)
    assert stylesheet.ok
    assert stylesheet.text == (ROOT / "static" / "mcbridge.css").read_text()

    key = deployment.sandbox_command("add-account").strip()
    audience = deployment.sandbox_command("add-audience", "--key", key, "--name", "Club news")
    new_connection = "/admin/mcbridge/connections/new/"
    groups = user.get("/admin/mcbridge/connections/ajax/lookup/?name=groups&query=")
    root = root_group(groups)
    submit(user, new_connection, {"name": "Club", "new_key": key, "groups": root})
    audiences = user.get("/admin/mcbridge/audiences/")
    audience_edit = re.search(r"/admin/mcbridge/audiences/edit/\?id=\d+", audiences).group(0)
    submit(user, audience_edit, {"groups": root})

    lists = user.get("/admin/mcbridge/mailing-lists/")
    list_id = re.search(r"/admin/mcbridge/subscribers/(\d+)/", lists).group(1)
    link = f"/admin/mcbridge/mailchimp/{list_id}/"
    option = re.search(r'<option value="(\d+)">[^<]*Club news', user.get(link)).group(1)
    linked = submit(user, link, {"audience": option, "consent": "y", "save": "1"})
    assert "Linked to the Mailchimp audience “Club news”" in linked

    subscribers = f"/admin/mcbridge/subscribers/{list_id}/"
    started = user.post(f"/admin/mcbridge/exports/{list_id}/start", {}, subscribers)
    assert "Export to Mailchimp started." in started.text
    deployment.run("flask", "mcbridge", "worker", "--burst")

    expected = {address.lower() for address in recipient_addresses(deployment, list_id)}
    arrived = {member["email_address"] for member in deployment.sandbox.members(audience.strip())}
    assert expected
    assert arrived == expected
