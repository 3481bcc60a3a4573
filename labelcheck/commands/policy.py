"""`labelcheck policy list|show|validate|checks`."""

from __future__ import annotations

import click

from ..policy import load as policy_mod
from ..policy.checks import CHECKS
from ..render import policy as policy_view
from .options import load_policies


@click.group("policy")
def policy_group() -> None:
    """List, show and validate labelling policies."""


@policy_group.command("list")
def policy_list() -> None:
    """The built-in policies."""
    for pid in policy_mod.BUILTIN:
        p = load_policies((pid,))[0]
        click.echo(f"{p.id:24} {len(p.rules):2} rules  {p.title}")


@policy_group.command("show")
@click.argument("ref", metavar="ID|FILE")
def policy_show(ref: str) -> None:
    """Show a policy with every rule resolved (extends applied): check, level, dates, reference, options."""
    click.echo(policy_view.render(load_policies((ref,))[0]), nl=False)


@policy_group.command("validate")
@click.argument("files", nargs=-1, required=True, metavar="FILE...")
def policy_validate(files: tuple[str, ...]) -> None:
    """Validate policy files (schema, extends, checks, options); exit 3 at the first problem."""
    for f in files:
        p = load_policies((f,))[0]
        click.echo(f"{f}: ok ({p.id}, {len(p.rules)} rules)")


@policy_group.command("checks")
def policy_checks() -> None:
    """The checks a policy rule can run, with their documentation."""
    for cid, module in CHECKS.items():
        click.echo(f"== {cid}\n{(module.__doc__ or '').strip()}\n")
