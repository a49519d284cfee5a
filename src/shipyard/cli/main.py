"""The ``shipyard`` command: a click group whose subcommands load lazily.

Start-up time matters for a command run hundreds of times a day, so each subcommand's module (and
everything it imports) is loaded only when that subcommand runs. Every ``ShipyardError`` becomes one
readable block on standard error and its exit code; a traceback is shown only for a bug.
"""

from __future__ import annotations

import gc
import importlib
import sys
from pathlib import Path
from typing import Any

from shipyard import __version__
from shipyard.core import errors

# name -> (module, attribute, one-line help shown by `shipyard --help`)
COMMANDS: dict[str, tuple[str, str, str]] = {
    "validate": ("shipyard.cli.validate_command", "validate", "Check workflow files."),
    "run": ("shipyard.cli.run_command", "run", "Run a workflow on this machine."),
    "expr": ("shipyard.cli.expr_command", "expr", "Evaluate a ${{ }} expression."),
    "cache": ("shipyard.cli.cache_command", "cache", "Inspect and prune the cache."),
    "artifacts": ("shipyard.cli.artifacts_command", "artifacts", "List or extract artifacts."),
    "release": ("shipyard.cli.release_command", "release", "Create and inspect releases."),
    "releases": ("shipyard.cli.release_command", "list_releases", "List releases."),
    "serve": ("shipyard.cli.server_command", "serve", "Run the server in the foreground."),
    "server": ("shipyard.cli.server_command", "server", "Start, stop or check the server."),
    "up": ("shipyard.cli.env_command", "up", "Run a release in an environment."),
    "down": ("shipyard.cli.env_command", "down", "Stop an environment's instances."),
    "ps": ("shipyard.cli.env_command", "ps", "Show running instances."),
    "logs": ("shipyard.cli.env_command", "logs", "Print an environment's logs."),
    "scan": ("shipyard.cli.scan_command", "scan", "Run the security scanners and gate."),
    "deploy": ("shipyard.cli.deploy_command", "deploy", "Roll a release out to an environment."),
    "deploys": ("shipyard.cli.deploy_command", "list_deploys", "Show an environment's deploys."),
    "rollback": ("shipyard.cli.deploy_command", "rollback", "Go back to the previous release."),
    "promote": ("shipyard.cli.deploy_command", "promote", "Move a paused canary on."),
    "abort": ("shipyard.cli.deploy_command", "abort", "Stop a deploy; traffic goes back."),
    "approve": ("shipyard.cli.deploy_command", "approve", "Approve a waiting deploy."),
    "reject": ("shipyard.cli.deploy_command", "reject", "Reject a waiting deploy."),
    "ship": ("shipyard.cli.ship_command", "ship", "Test, build and deploy this commit."),
    "secrets": ("shipyard.cli.secrets_command", "secrets", "Manage encrypted secrets and keys."),
    "config": ("shipyard.cli.config_command", "config", "Show and compare environments' config."),
    "flags": ("shipyard.cli.flags_command", "flags", "Publish, inspect and change feature flags."),
}


_group: Any = None


def group() -> Any:
    """The ``shipyard`` click group (click is imported here, on first use)."""
    global _group  # noqa: PLW0603 - built once per process, when a command needs click
    if _group is not None:
        return _group
    import click

    class LazyGroup(click.Group):
        """A group that imports a subcommand's module only when it is invoked."""

        def list_commands(self, ctx: click.Context) -> list[str]:
            return sorted(COMMANDS)

        def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
            entry = COMMANDS.get(cmd_name)
            if entry is None:
                return None
            module = importlib.import_module(entry[0])
            command = getattr(module, entry[1])
            assert isinstance(command, click.Command)
            return command

        def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
            rows = [(name, COMMANDS[name][2]) for name in self.list_commands(ctx)]
            with formatter.section("Commands"):
                formatter.write_dl(rows)

    @click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
    @click.version_option(__version__, "--version", "-V", prog_name="shipyard")
    def cli() -> None:
        """Shipyard: CI pipelines, environments, deploys, security gates, flags and monitoring."""

    _group = cli
    return cli


def report(error: errors.ShipyardError) -> None:
    """Print an error as the one block a person reads."""
    sys.stdout.flush()
    sys.stderr.write(f"error: {error.render()}\n")
    sys.stderr.flush()


def main(argv: list[str] | None = None) -> Any:
    """Entry point of the console script."""
    try:
        return _main(argv)
    finally:
        # The process ends next. Its interpreter's last collection would walk every object the
        # command made (some 60 ms after a run) only to find them all still referenced.
        gc.freeze()


def _main(argv: list[str] | None) -> Any:
    args = sys.argv[1:] if argv is None else argv
    try:
        if _fast(args):
            return None
    except errors.ShipyardError as error:
        report(error)
        sys.exit(error.exit_code)
    import click

    try:
        return group().main(args=argv, prog_name="shipyard", standalone_mode=False)
    except errors.ShipyardError as error:
        report(error)
        sys.exit(error.exit_code)
    except click.exceptions.Exit as done:
        sys.exit(done.exit_code)
    except click.ClickException as error:
        error.show()
        sys.exit(error.exit_code)
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        sys.exit(130)


def _fast(args: list[str]) -> bool:
    """Answer ``--version``, ``run --list`` and common ``run`` command lines without click.

    Importing click is a third of the start-up of the first two and a tenth of a short run's.
    ``run``'s arguments are parsed by ``run_command.parse``, which hands anything unusual
    (``--help`` included) back to click; the answers are the same either way (tests/cli compare
    them).
    """
    if args in (["--version"], ["-V"]):
        sys.stdout.write(f"shipyard, version {__version__}\n")
        return True
    if args == ["run", "--list"]:
        from shipyard.cli import run_listing

        sys.stdout.write(run_listing.list_text(Path.cwd()))
        return True
    if args[:1] == ["run"]:
        from shipyard.cli import run_command

        params = run_command.parse(args[1:])
        if params is None:
            return False
        try:
            run_command.execute(**params)
        except KeyboardInterrupt:
            # What click does with an interrupt (then _main's handler for its Abort).
            sys.stderr.write("\naborted\n")
            sys.exit(130)
        return True
    return False
