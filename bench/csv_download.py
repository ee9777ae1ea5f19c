"""The CSV download of the big list, as a signed-in administrator asks for it: time to the
last byte, chunks, and the peak memory of the process serving it.

    .venv/bin/python -m bench.csv_download --people 1000000 [--database postgresql]
                                           [--kind csv|xlsx] [--repeat 3] [--url URL]

The organisation is built once per size and database (SQLite under /tmp/csv/, PostgreSQL in
its own database `mcbridge_csv`) and reused. Each repetition runs in a fresh process (the
Flask test client, streaming as gunicorn would), so its peak RSS is the download's own.
Named csv_download, not csv: a `csv.py` next to a script run as a file would hide the
standard library's module. Never run by CI.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

from sqlalchemy import inspect, select, text

from bench.organisation import build
from bench.processes import measured
from mcbridge import create_app
from mcbridge.accounts import save_user
from mcbridge.extensions import db
from mcbridge.models import MailingList

WORKDIR = Path("/tmp/csv")
POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/mcbridge_csv"
REDIS = "redis://127.0.0.1:6379/13"
ADMIN = "bench-admin@club-mail.ch"
PASSWORD = "bench-password-123"


def database_url(people: int, database: str) -> str:
    if database == "postgresql":
        return POSTGRES
    return f"sqlite:///{WORKDIR / f'csv-{people}.sqlite3'}"


def config(url: str) -> dict[str, object]:
    return {"DATABASE_URL": url, "REDIS_URL": REDIS, "SECRET_KEY": "bench"}


def prepare(people: int, url: str) -> int:
    """The organisation's big list, built on first use (PostgreSQL: the database must exist
    and be empty, or hold this organisation), with an administrator to download it."""
    WORKDIR.mkdir(exist_ok=True)
    app = create_app(config(url))
    with app.app_context():
        if not inspect(db.engine).has_table(MailingList.__tablename__):
            built = build(people)
            print(f"built {people} people in {built.seconds:.0f} s", flush=True)
        save_user(ADMIN, PASSWORD, admin=True)
        db.session.commit()
        list_id = db.session.scalar(select(MailingList.id).order_by(MailingList.id))
        assert list_id is not None
        return list_id


def download(url: str, list_id: int, kind: str) -> None:
    """One download through the test client, read chunk by chunk as a browser would; prints
    its figures as JSON (the parent process adds the peak RSS)."""
    app = create_app(config(url))
    with app.app_context():
        app.extensions["mcbridge"].redis.flushdb()
    client = app.test_client()
    page = "/admin/account/sign-in"
    client.get(page)
    token = client.get(page).get_data(as_text=True).split('name="csrf_token"')[1]
    token = token.split('value="')[1].split('"')[0]
    client.post(page, data={"email": ADMIN, "password": PASSWORD, "csrf_token": token})
    started = time.perf_counter()
    response = client.get(f"/admin/subscribers/{list_id}/subscribers.{kind}", buffered=False)
    first_byte = None
    chunks = size = lines = 0
    for chunk in response.response:
        if first_byte is None:
            first_byte = time.perf_counter() - started
        chunks, size, lines = chunks + 1, size + len(chunk), lines + chunk.count(b"\n")
    response.close()
    seconds = time.perf_counter() - started
    figures = {"status": response.status_code, "seconds": seconds, "first_byte": first_byte}
    print(json.dumps({**figures, "chunks": chunks, "bytes": size, "lines": lines}))


def measure(url: str, list_id: int, kind: str, repeat: int) -> None:
    """`repeat` downloads, each in its own process; every one printed, then the median."""
    command = [sys.executable, "-m", "bench.csv_download", "--download", str(list_id)]
    command += ["--url", url, "--kind", kind]
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)}
    seconds, rss = [], []
    for _ in range(repeat):
        usage = measured([command], env)
        figures = json.loads(usage.output.strip().splitlines()[-1])
        seconds.append(figures["seconds"])
        rss.append(usage.rss_mb)
        print(f"{figures} CPU {usage.cpu:.1f} s, peak RSS {usage.rss_mb:.0f} MB", flush=True)
    print(
        f"p50 {statistics.median(seconds):.2f} s, peak RSS p50 {statistics.median(rss):.0f} MB "
        f"(max {max(rss):.0f} MB)"
    )


def analyse(url: str) -> None:
    """Fresh statistics (PostgreSQL forgets none, but a restored dump would)."""
    app = create_app(config(url))
    with app.app_context():
        db.session.execute(text("ANALYZE"))
        db.session.commit()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--people", type=int, default=1_000_000)
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--kind", choices=("csv", "xlsx"), default="csv")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--download", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--url", help="another organisation's database (bench.run's, say)")
    args = parser.parse_args()
    if args.download:
        download(args.url, args.download, args.kind)
        return
    url = args.url or database_url(args.people, args.database)
    list_id = prepare(args.people, url)
    analyse(url)
    measure(url, list_id, args.kind, args.repeat)


if __name__ == "__main__":
    main()
