"""The `offerscope` command (SPEC.md §6). Every command uses the same database setting."""

from __future__ import annotations

import os
import secrets
from contextlib import nullcontext
from typing import Annotated

import typer
from rich.console import Console
from sqlalchemy.engine import make_url

from offerscope.bootstrap import Backend
from offerscope.cli import config as config_cli
from offerscope.cli.impact import DryRunOption
from offerscope.domain.errors import OfferscopeError
from offerscope.services import decisions, tokens, webhooks
from offerscope.services.actors import Role
from offerscope.services.demo import DemoMarketplace, load_demo
from offerscope.settings import Settings
from offerscope.storage.database import migrate
from offerscope.storage.unit_of_work import Database, dry_running

app = typer.Typer(help="offerscope: who may buy what on a cloud marketplace.", no_args_is_help=True)
token_app = typer.Typer(help="Access tokens.", no_args_is_help=True)
app.add_typer(token_app, name="token")
app.add_typer(config_cli.app, name="config")
webhooks_app = typer.Typer(help="Webhooks (R18).", no_args_is_help=True)
app.add_typer(webhooks_app, name="webhooks")

out = Console()
err = Console(stderr=True)

DatabaseUrl = Annotated[
    str | None,
    typer.Option(
        "--database-url",
        help="Any SQLAlchemy URL (a SQLite file or PostgreSQL). "
        "Default: $OFFERSCOPE_DATABASE_URL, else sqlite:///offerscope.db here.",
    ),
]


def _open(database_url: str | None) -> tuple[Settings, Database]:
    """Settings and a migrated database: created and brought up to date on first use.

    The database comes with its decision index attached (`bootstrap.Backend`), as in a
    server: a write works out its impact (R14) with it.
    """
    settings = Settings.from_environment(database_url)
    migrate(settings.database_url)
    return settings, Backend.connect(settings.database_url, pool_size=2).db


def _fail(error: OfferscopeError) -> typer.Exit:
    err.print(f"[red]error[/red] ({error.code}): {error.message}", highlight=False)
    return typer.Exit(code=1)


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    workers: Annotated[int, typer.Option(min=1, help="Server processes.")] = 1,
    database_url: DatabaseUrl = None,
    demo: Annotated[bool, typer.Option("--demo", help="Load the demo marketplace first.")] = False,
) -> None:
    """Serve the HTTP API and the console."""
    import uvicorn

    settings, db = _open(database_url)
    if demo:
        _print_demo(load_demo(db), f"http://{host}:{port}")
    db.dispose()
    os.environ["OFFERSCOPE_DATABASE_URL"] = settings.database_url
    if workers > 1 and not settings.secret_key:
        # The workers of one `serve` must sign console cookies alike; servers on other
        # machines need OFFERSCOPE_SECRET_KEY set to one shared value (README: Deployment).
        os.environ["OFFERSCOPE_SECRET_KEY"] = secrets.token_urlsafe(32)
    shown = make_url(settings.database_url).render_as_string(hide_password=True)  # never log it
    out.print(f"offerscope serving on http://{host}:{port} ({shown})")
    trusted = settings.forwarded_allow_ips
    uvicorn.run(
        "offerscope.asgi:create",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level="warning",
        access_log=False,
        # uvicorn would believe X-Forwarded-For from loopback by default: only a proxy the
        # operator names is trusted (it decides whose failed sign-ins are counted together).
        proxy_headers=trusted is not None,
        forwarded_allow_ips=trusted,
    )


@token_app.command("create")
def token_create(
    role: Annotated[Role, typer.Option(help="operator, seller or buyer.")],
    seller_id: Annotated[
        str | None, typer.Option(help="The seller a seller token acts for.")
    ] = None,
    account_id: Annotated[
        str | None, typer.Option(help="The account a buyer token acts for.")
    ] = None,
    dry_run: DryRunOption = False,
    database_url: DatabaseUrl = None,
) -> None:
    """Issue a token; it is printed once, alone on the last line, and only its hash is kept."""
    _, db = _open(database_url)
    try:
        with dry_running() if dry_run else nullcontext():
            token = tokens.create_token(db, role, seller_id=seller_id, account_id=account_id)
    except OfferscopeError as error:
        raise _fail(error) from error
    if dry_run:
        out.print(f"Dry run: a {role.value} token would be issued; none was.")
        return
    err.print(f"New {role.value} token (shown once; offerscope keeps only its hash):")
    print(token)


@token_app.command("revoke")
def token_revoke(
    token: Annotated[str, typer.Argument(help="The token to revoke.")],
    database_url: DatabaseUrl = None,
) -> None:
    """Revoke a token: it stops working on every server process at once, and so do the
    console sessions signed in with it."""
    _, db = _open(database_url)
    if not tokens.revoke_token(db, token.strip()):
        err.print("[red]error[/red] (token_not_found): No token is this one.", highlight=False)
        raise typer.Exit(code=1)
    out.print("Revoked.")


@webhooks_app.command("test")
def webhooks_test(
    url: Annotated[str, typer.Argument(help="The receiver's URL.")],
    secret: Annotated[
        str, typer.Option(envvar="OFFERSCOPE_WEBHOOK_SECRET", help="The secret to sign with.")
    ],
    timeout: Annotated[float, typer.Option(min=0.1, help="Seconds to wait.")] = 10.0,
) -> None:
    """Send one signed sample change to URL, as a webhook delivery would, and say how it went."""
    try:
        error, body = webhooks.test_endpoint(url, secret, timeout)
    except OfferscopeError as problem:
        raise _fail(problem) from problem
    out.print(f"Sent: {body}", highlight=False)
    if error is not None:
        err.print(f"[red]failed[/red]: {error}", highlight=False)
        raise typer.Exit(code=1)
    out.print("[green]delivered[/green]: the receiver answered 2xx.")


@app.command("demo")
def demo_command(database_url: DatabaseUrl = None) -> None:
    """Load the demo marketplace and print sign-in tokens."""
    _, db = _open(database_url)
    _print_demo(load_demo(db), "http://127.0.0.1:8000")


@app.command()
def check(account_id: str, specification_id: str, database_url: DatabaseUrl = None) -> None:
    """Print R12's decision: may this account buy this specification, and why not?"""
    _, db = _open(database_url)
    decision = decisions.check_from_database(db, account_id, specification_id)
    verdict = "[green]allowed[/green]" if decision.allowed else "[red]refused[/red]"
    level = decision.level.value if decision.level else "-"
    out.print(f"{verdict}  reason={decision.reason.value}  level={level}")
    out.print(decision.message, highlight=False)
    raise typer.Exit(code=0 if decision.allowed else 2)


def _print_demo(demo: DemoMarketplace, base: str) -> None:
    """Tokens and IDs as shell `export` lines, so the README's curl tour can be pasted as is."""
    names = {
        "OPERATOR": demo.tokens["operator"],
        "SELLER": demo.tokens["seller"],
        "ACME": demo.tokens["enterprise buyer (acme_corp)"],
        "ALICE": demo.tokens["individual buyer (alice_wang)"],
        "BOB": demo.tokens["individual buyer (bob_li)"],
        "CLOUDDB": demo.products["CloudDB"],
        "BACKUP": demo.products["Backup Plus"],
        "BASIC": demo.specifications["CloudDB / Basic"],
        "BETA": demo.specifications["CloudDB / Beta"],
        "DAILY": demo.specifications["Backup Plus / Daily"],
    }
    out.print("[bold]Demo marketplace loaded.[/bold] Tokens are shown once; paste these lines:")
    for name, value in names.items():
        print(f"export {name}={value}")
    out.print(f"Seller Console: {base}/console  (sign in with $SELLER)", highlight=False)
    out.print(
        f"Buyer store:    {base}/store  (sign in with $ALICE, $BOB or $ACME)", highlight=False
    )
    out.print("Try:", highlight=False)
    print(
        f'  curl -s -H "Authorization: Bearer $SELLER" {base}/v1/products/$CLOUDDB/target-customers'
    )
    print(f'  curl -s -H "Authorization: Bearer $ALICE" {base}/v1/catalog')
    print(
        f"  curl -s -H \"Authorization: Bearer $OPERATOR\" -H 'Content-Type: application/json' "
        f'-d "{{\\"account_id\\": \\"3d4e5f60718293a4b5c6d7e8f90a1b2c\\", '
        f'\\"specification_id\\": \\"$BETA\\"}}" {base}/v1/decisions'
    )


def main() -> None:
    app()
