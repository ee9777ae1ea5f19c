"""The `flask mcbridge …` commands."""

from __future__ import annotations

import json
import secrets
import sys
from contextlib import suppress
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup
from flask_babel import gettext, ngettext
from rq import Worker
from rq.exceptions import StopRequested
from sqlalchemy import select, update

from mcbridge.accounts import save_user
from mcbridge.csv_export import COMMAS, csv_chunks, recipient_rows
from mcbridge.demo import SandboxUnavailableError, link_to_sandbox, sandbox_root, seed_demo
from mcbridge.emails import email_problem, normalize_email
from mcbridge.encryption import add_instance_key
from mcbridge.extensions import db
from mcbridge.importer import ImportRejectedError, import_people
from mcbridge.jobs.export import execute
from mcbridge.jobs.labels import phase_labels
from mcbridge.jobs.queue import state as jobs_state
from mcbridge.jobs.reservations import AlreadyRunningError, reserve
from mcbridge.jobs.runs import ignore_progress
from mcbridge.messages import render
from mcbridge.models import COUNTERS, MailchimpConnection, MailingList, SyncRun, User
from mcbridge.resolution import stored_resolution
from mcbridge.rules import describe_rule
from mcbridge.schedule import create_scheduler

DEMO_SEED = 2026

mcbridge_cli = AppGroup("mcbridge", help="Manage mcbridge: accounts, demo data, imports.")


def add_sandbox_commands(group: AppGroup) -> None:
    """`flask mcbridge sandbox` when the Mailchimp sandbox (the optional mcbridge[sandbox])
    is installed; mcbridge itself runs without it."""
    try:
        from mcbridge_sandbox.cli import sandbox
    except ModuleNotFoundError:
        return
    group.add_command(sandbox)


add_sandbox_commands(mcbridge_cli)


@mcbridge_cli.command("create-admin")
@click.argument("email")
@click.option(
    "--password",
    envvar="MCBRIDGE_ADMIN_PASSWORD",
    prompt=True,
    hide_input=True,
    confirmation_prompt=True,
    help="Read from MCBRIDGE_ADMIN_PASSWORD, or asked for when absent.",
)
def create_admin(email: str, password: str) -> None:
    """Create an administrator (or make an existing account one, with a new password)."""
    problem = email_problem(normalize_email(email) or "")
    if problem:
        raise click.BadParameter(problem, param_hint="EMAIL")
    if len(password) < 10:
        raise click.BadParameter(gettext("use at least 10 characters"), param_hint="--password")
    created = save_user(email, password, admin=True)
    db.session.commit()
    message = (
        gettext("Created administrator %(email)s.")
        if created
        else gettext("Updated administrator %(email)s.")
    )
    click.echo(message % {"email": normalize_email(email)})


@mcbridge_cli.command("seed-demo")
@click.option("--seed", default=DEMO_SEED, show_default=True, help="Random seed of the demo data.")
def seed_demo_command(seed: int) -> None:
    """Fill an empty database with a demo federation; a non-empty one is left alone."""
    seed_and_report(seed)


def seed_and_report(seed: int) -> None:
    """Seed the demo and its club leader's account, and say so (or that nothing was
    seeded); what `seed-demo` does, and `bootstrap` first."""
    summary = seed_demo(db.session, seed)
    if summary is None:
        click.echo(gettext("The database already holds an organisation: nothing was seeded."))
        return
    leader = summary.club_leader
    password = secrets.token_urlsafe(12)
    save_user(leader.email, password, admin=False, person_id=leader.id)
    db.session.commit()
    click.echo(
        gettext(
            "Seeded %(groups)d groups, %(people)d people, %(roles)d roles and %(lists)d mailing "
            "lists.",
            groups=summary.groups,
            people=summary.people,
            roles=summary.roles,
            lists=summary.mailing_lists,
        )
    )
    click.echo(
        gettext(
            "Club leader sign-in: %(email)s / %(password)s", email=leader.email, password=password
        )
    )


@mcbridge_cli.command("recipients")
@click.argument("list_id", type=int)
@click.option("--count", is_flag=True, help="Only print how many people and addresses.")
def recipients_command(list_id: int, count: bool) -> None:
    """Print a mailing list's recipients as CSV, for scripts: UTF-8 with a byte-order mark,
    commas between cells, every cell quoted, a heading line in the installation's language
    (BABEL_DEFAULT_LOCALE), whatever the language of the web pages. Cells starting like a
    spreadsheet formula get a leading single quote."""
    mailing_list = db.session.get(MailingList, list_id)
    if mailing_list is None:
        click.echo(gettext("No mailing list %(id)d.", id=list_id), err=True)
        sys.exit(2)
    stored = stored_resolution(mailing_list, patient=True).stored
    if count:
        click.echo(gettext("%(count)d addresses", count=stored.addresses))
        return
    rules = {rule.id: describe_rule(rule) for rule in mailing_list.subscriptions}
    for chunk in csv_chunks(recipient_rows(mailing_list.id, rules, db.session), COMMAS):
        click.echo(chunk, nl=False)


EXIT_CODES = {"unchanged": 0, "success": 0, "partial": 1, "failed": 2}


@mcbridge_cli.command("sync")
@click.argument("list_id", type=int)
@click.option("--dry-run", is_flag=True, help="Compute and show the changes; write nothing.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
def sync_command(list_id: int, dry_run: bool, as_json: bool) -> None:
    """Export a mailing list to its Mailchimp audience now, in the foreground.

    Exits 0 when unchanged or exported, 1 when partly exported, 2 when it failed.
    """
    mailing_list = db.session.get(MailingList, list_id)
    if mailing_list is None or not mailing_list.is_linked:
        click.echo(gettext("No mailing list %(id)d linked to Mailchimp.", id=list_id), err=True)
        sys.exit(2)
    try:
        run = reserve(mailing_list, "cli", None, dry_run)
    except AlreadyRunningError:
        click.echo(gettext("An export of this list is already running."), err=True)
        sys.exit(2)
    execute(run, ignore_progress if as_json else print_progress)
    click.echo(json.dumps(run_summary(run), indent=2) if as_json else describe_run(run))
    sys.exit(EXIT_CODES[run.state])


def print_progress(phase: str, done: int, total: int) -> None:
    if phase in ("writing", "reading") and total and done < total:
        return
    label = phase_labels().get(phase, phase)
    click.echo(f"… {label} {done}/{total}" if total else f"… {label}", err=True)


def run_summary(run: SyncRun) -> dict[str, object]:
    return {
        "run": run.id,
        "mailing_list": run.mailing_list_id,
        "state": run.state,
        "dry_run": run.dry_run,
        "message": render(run.message) or None,
        "counts": {name: getattr(run, name) for name in COUNTERS},
        "calls": {"read": run.read_calls, "write": run.write_calls},
        "issues": [
            {"email": i.email, "kind": i.kind, "message": render(i.message)} for i in run.issues
        ],
        "preview": run.preview,
    }


def describe_run(run: SyncRun) -> str:
    counts = ", ".join(f"{name}={getattr(run, name)}" for name in COUNTERS if getattr(run, name))
    lines = [f"{run.mailing_list.name}: {run.state}" + (f" ({counts})" if counts else "")]
    if run.message:
        lines.append(render(run.message))
    lines.extend(f"  {issue.email}: {render(issue.message)}" for issue in run.issues)
    return "\n".join(lines)


@mcbridge_cli.command("rotate-encryption-key")
@click.option(
    "--new-key",
    is_flag=True,
    help="Add a new newest key to the instance file first (when MCBRIDGE_ENCRYPTION_KEYS "
    "is not set).",
)
def rotate_encryption_key(new_key: bool) -> None:
    """Re-encrypt every stored API key with the newest encryption key.

    With MCBRIDGE_ENCRYPTION_KEYS: put the new key first, keep the old ones after it, run
    this, then remove the old keys. Without it: use --new-key.
    """
    if new_key:
        if current_app.config.get("MCBRIDGE_ENCRYPTION_KEYS"):
            raise click.UsageError(
                gettext("Keys come from MCBRIDGE_ENCRYPTION_KEYS: put the new key first there.")
            )
        add_instance_key()
    count = reencrypt_all()
    click.echo(gettext("%(count)d secret(s) re-encrypted with the newest key.", count=count))


def reencrypt_all() -> int:
    """Read every stored key (decrypted with whichever configured key fits) and write it
    back, which encrypts it with the newest key."""
    table = MailchimpConnection.__table__
    rows = db.session.execute(select(table.c.id, table.c.api_key)).all()
    for connection_id, key in rows:
        db.session.execute(update(table).where(table.c.id == connection_id).values(api_key=key))
    db.session.commit()
    return len(rows)


@mcbridge_cli.command("worker")
@click.option("--burst", is_flag=True, help="Stop when the queue is empty.")
def worker_command(burst: bool) -> None:
    """Run an RQ worker for mcbridge's queue, inside the application's context."""
    worker = Worker([jobs_state().queue], connection=jobs_state().redis)
    worker.work(burst=burst, logging_level="INFO")


@mcbridge_cli.command("scheduler")
def scheduler_command() -> None:
    """Run the scheduler (RQ's cron) that queues the daily exports; stop it with Ctrl-C."""
    with suppress(StopRequested):  # stopped while starting: nothing else to say
        create_scheduler().start()


@mcbridge_cli.command("bootstrap")
@click.option("--admin-email", default="admin@demo.mcbridge.org", show_default=True)
def bootstrap(admin_email: str) -> None:
    """First start of a demo: the demo organisation, an administrator, and a list linked to
    an audience of the local Mailchimp sandbox, each only when missing.

    The administrator's password is random and printed once; it is stored only as a hash,
    so `create-admin` is the way to set a new one.
    """
    seed_and_report(DEMO_SEED)
    admin = db.session.scalar(select(User).where(User.is_admin.is_(True)).limit(1))
    if admin is None:
        password = secrets.token_urlsafe(12)
        save_user(admin_email, password, admin=True)
        db.session.commit()
        admin = db.session.scalar(select(User).where(User.email == normalize_email(admin_email)))
        banner = gettext(
            "Administrator sign-in (shown once): %(email)s / %(password)s",
            email=admin_email,
            password=password,
        )
        click.echo(f"\n{'=' * len(banner)}\n{banner}\n{'=' * len(banner)}\n")
    link_demo_list(admin)


def link_demo_list(admin: User) -> None:
    """With the sandbox configured and no list linked yet, link the demo's first list; a
    sandbox not running is said, and the rest of the bootstrap stands."""
    if not current_app.config["MAILCHIMP_API_BASE_URL"]:
        return
    if db.session.scalar(
        select(MailingList.id).where(MailingList.mailchimp_list_id.is_not(None)).limit(1)
    ):
        return
    demo_list = db.session.scalar(select(MailingList).order_by(MailingList.id).limit(1))
    if demo_list is None:
        return
    api_base_url = current_app.config["MAILCHIMP_API_BASE_URL"]
    try:
        audience = link_to_sandbox(demo_list, api_base_url, admin)
    except SandboxUnavailableError:
        click.echo(
            gettext(
                "No Mailchimp sandbox answers at %(url)s: start it (python -m mcbridge_sandbox), "
                "then run bootstrap again to link “%(name)s”.",
                url=sandbox_root(api_base_url),
                name=demo_list.name,
            ),
            err=True,
        )
        return
    db.session.commit()
    click.echo(
        gettext(
            "“%(name)s” is linked to the sandbox audience %(audience)s: export it from its "
            "subscriber view.",
            name=demo_list.name,
            audience=audience,
        )
    )


@mcbridge_cli.command("import-people")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--create-groups", is_flag=True, help="Create groups named in the file but missing.")
def import_people_command(file: Path, create_groups: bool) -> None:
    """Import people and roles from a CSV file: all rows, or none when any row is wrong.

    Columns: first_name, last_name, email, additional_emails, group (a path such as
    "Federation/North/Club A") and role_type.
    """
    try:
        with file.open("rb") as source:
            report = import_people(db.session, source, create_groups=create_groups)
    except ImportRejectedError as rejected:
        click.echo(
            ngettext(
                "%(file)s: nothing was imported, %(num)d problem:",
                "%(file)s: nothing was imported, %(num)d problems:",
                rejected.total,
                file=file.name,
            ),
            err=True,
        )
        for problem in rejected.problems:
            click.echo(f"  {problem}", err=True)
        unlisted = rejected.total - len(rejected.problems)
        if unlisted:
            click.echo(
                "  " + ngettext("… and %(num)d more.", "… and %(num)d more.", unlisted), err=True
            )
        sys.exit(1)
    click.echo(
        gettext(
            "Imported %(file)s: %(created)d new people, %(matched)d already known (matched by "
            "email), %(roles)d roles, %(emails)d additional addresses, %(groups)d new groups.",
            file=file.name,
            created=report.people_created,
            matched=report.people_matched,
            roles=report.roles_created,
            emails=report.emails_added,
            groups=report.groups_created,
        )
    )
