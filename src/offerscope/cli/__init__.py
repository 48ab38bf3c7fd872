"""The command line: thin Typer commands over the use cases."""

from offerscope.cli import bulk, main

# The bulk commands use main's helpers, so they are added here, once both modules exist.
main.app.add_typer(bulk.accounts_app, name="accounts")
main.app.add_typer(bulk.users_app, name="users")
