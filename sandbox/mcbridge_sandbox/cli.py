"""`python -m mcbridge_sandbox` (or `mcbridge-sandbox`): serve the sandbox, or manage its
data file directly.

The group is plain click, so a Flask application may also mount it among its own commands
(mcbridge does, as `flask mcbridge sandbox`) and click's CliRunner can run it; under
`flask`, the data file defaults to the app's instance folder.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

import click
from flask import current_app, has_app_context
from flask.cli import ScriptInfo

from mcbridge_sandbox import problems
from mcbridge_sandbox.data import SandboxData
from mcbridge_sandbox.keys import mask_key
from mcbridge_sandbox.server import SandboxServer
from mcbridge_sandbox.store import Store

DATA_FILE = "mailchimp-sandbox.sqlite3"


@click.group("sandbox", invoke_without_command=True)
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on.")
@click.option("--port", default=8025, show_default=True, type=int, help="Port to listen on.")
@click.option(
    "--data",
    type=click.Path(dir_okay=False),
    default=None,
    help="SQLite file holding the sandbox state (default: the instance folder).",
)
@click.pass_context
def sandbox(ctx: click.Context, host: str, port: int, data: str | None) -> None:
    """Run a local Mailchimp Marketing API stand-in, or manage its data."""
    ctx.meta["mcbridge_sandbox.data"] = data or default_data_path()
    if ctx.invoked_subcommand is not None:
        return
    server = SandboxServer(host, port, _data_file(ctx), quiet=False)
    click.echo(f"Mailchimp sandbox on {server.url}/ (API base {server.api_base_url})")
    click.echo(f"Data: {ctx.meta['mcbridge_sandbox.data']}")
    server.serve_forever()


@sandbox.command("add-account")
@click.option("--dc", default="us1", show_default=True, help="Data centre suffix of the key.")
@click.pass_context
def add_account(ctx: click.Context, dc: str) -> None:
    """Create an account and print its API key."""
    with SandboxData(_data_file(ctx)) as data, _refusal_names("--dc"):
        click.echo(data.add_account(dc))


@sandbox.command("add-audience")
@click.option("--key", "api_key", required=True, help="API key of the account.")
@click.option("--name", required=True, help="Name of the audience.")
@click.pass_context
def add_audience(ctx: click.Context, api_key: str, name: str) -> None:
    """Create an audience (and the account, for a new key) and print its id."""
    with SandboxData(_data_file(ctx)) as data, _refusal_names("--key"):
        click.echo(data.add_audience(api_key, name))


@sandbox.command("list")
@click.pass_context
def list_accounts(ctx: click.Context) -> None:
    """Show accounts (keys masked) and their audiences."""
    store = Store(_data_file(ctx))
    for account in store.accounts.all():
        click.echo(f"{mask_key(account.api_key)}  ({account.dc})")
        for audience in store.audiences.of_account(account.id):
            counts = store.members.status_counts(audience.pk)
            click.echo(
                f"  {audience.id}  {audience.name}  "
                f"{counts.get('subscribed', 0)} subscribed / {sum(counts.values())} contacts"
            )
    store.close()


def default_data_path() -> str:
    """The Flask app's instance folder when there is an app, else the working directory."""
    if has_app_context():
        return os.path.join(current_app.instance_path, DATA_FILE)
    context = click.get_current_context(silent=True)
    info = context.find_object(ScriptInfo) if context else None
    if info is not None:
        try:
            return os.path.join(info.load_app().instance_path, DATA_FILE)
        except Exception:
            return DATA_FILE
    return DATA_FILE


@contextmanager
def _refusal_names(option: str) -> Iterator[None]:
    """The sandbox's refusal of a value, as click reports a bad option."""
    try:
        yield
    except problems.ApiError as problem:
        raise click.BadParameter(problem.errors[0].message, param_hint=option) from problem


def _data_file(ctx: click.Context) -> str:
    path = str(ctx.meta["mcbridge_sandbox.data"])
    folder = os.path.dirname(path)
    if folder:
        os.makedirs(folder, exist_ok=True)
    return path
