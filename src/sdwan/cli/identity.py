"""``sdwan login|logout|whoami`` and the admin groups ``user``, ``project``, ``role``,
``token``. Passwords come from a hidden prompt or stdin, never from an option."""

from __future__ import annotations

import sys
from typing import Annotated, Any

import typer

from sdwan.cli.client import get_client, get_state, resource_path
from sdwan.cli.errors import CliError
from sdwan.cli.keystone_login import keystone_token
from sdwan.cli.output import OutputFormat, OutputOpt, print_done, print_list, print_object
from sdwan.cli.settings import config_path, write_config

users_app = typer.Typer(help="Users (admins only, except your own password).", no_args_is_help=True)
projects_app = typer.Typer(help="Projects (tenants).", no_args_is_help=True)
roles_app = typer.Typer(help="Role assignments: a user's role in a project.", no_args_is_help=True)
tokens_app = typer.Typer(help="API keys and login sessions.", no_args_is_help=True)

PasswordStdinOpt = Annotated[
    bool, typer.Option("--password-stdin", help="Read the password from stdin.")
]
ProjectOpt = Annotated[str | None, typer.Option("--project", help="Project name.")]


def _password(stdin: bool, prompt: str = "Password", confirm: bool = False) -> str:
    if stdin:
        value = sys.stdin.readline().rstrip("\n")
    else:
        value = typer.prompt(prompt, hide_input=True, confirmation_prompt=confirm)
    if not value:
        raise CliError("empty password")
    return value


def login(
    ctx: typer.Context,
    username: Annotated[
        str | None, typer.Option("--username", "-u", help="Your user name (built-in).")
    ] = None,
    project: ProjectOpt = None,
    password_stdin: PasswordStdinOpt = False,
    keystone: Annotated[
        bool, typer.Option("--keystone", help="Log in to Keystone with the OS_* variables.")
    ] = False,
    output: OutputOpt = OutputFormat.table,
) -> None:
    """Log in and store the token in the CLI config file (mode 0600)."""
    url = get_state(ctx).url
    if keystone:
        token, shown = keystone_token()
        write_config(
            config_path(), url=url.rstrip("/") if url else None, token=token, auth="keystone"
        )
        who = get_client(ctx).get("/v1/auth/whoami")  # proves the API accepts it
        shown["sdwan_role"] = who.get("role")
    else:
        if not username:
            raise CliError("give --username (or --keystone)")
        password = _password(password_stdin)
        body: dict[str, Any] = {"username": username, "password": password}
        if project:
            body["project"] = project
        answer = get_client(ctx).post("/v1/auth/login", body)
        write_config(
            config_path(),
            url=url.rstrip("/") if url else None,
            token=answer["token"],
            auth="bearer",
        )
        shown = {k: v for k, v in answer.items() if k != "token"}
    if output is OutputFormat.table:
        typer.echo(
            f"logged in as {shown['user']} (project {shown['project']}) until "
            f"{shown['expires_at']}; token stored in {config_path()}"
        )
    else:
        print_object(shown, output)


def logout(ctx: typer.Context) -> None:
    """Revoke the token in use (the stored one stops working)."""
    get_client(ctx).post("/v1/auth/logout", {})
    typer.echo("logged out")


def whoami(ctx: typer.Context, output: OutputOpt = OutputFormat.table) -> None:
    """Who the API thinks you are: name, role, project."""
    print_object(get_client(ctx).get("/v1/auth/whoami"), output)


# ---- users -----------------------------------------------------------------------------

USER_COLUMNS = [("ID", "id"), ("NAME", "name"), ("ROLES", "roles_text")]


def _user_row(user: dict[str, Any]) -> dict[str, Any]:
    roles = ", ".join(f"{r['role']}@{r['project']}" for r in user.get("roles") or [])
    return {**user, "roles_text": roles}


@users_app.command("create")
def user_create(
    ctx: typer.Context,
    name: str,
    password_stdin: PasswordStdinOpt = False,
    project: ProjectOpt = None,
    role: Annotated[str | None, typer.Option("--role", help="admin, member or reader")] = None,
    output: OutputOpt = OutputFormat.table,
) -> None:
    """Create a user (password prompted twice, or from stdin); optionally grant a role."""
    if (project is None) != (role is None):
        raise CliError("give --project and --role together")
    password = _password(password_stdin, confirm=not password_stdin)
    client = get_client(ctx)
    user = client.post("/v1/users", {"name": name, "password": password})
    if project and role:
        client.request(
            "PUT", "/v1/role-assignments", body={"user": name, "project": project, "role": role}
        )
        user = client.get(resource_path("users", name))
    print_object(_user_row(user), output)


@users_app.command("list")
def user_list(ctx: typer.Context, output: OutputOpt = OutputFormat.table) -> None:
    items = get_client(ctx).get("/v1/users")["items"]
    print_list([_user_row(u) for u in items], USER_COLUMNS, output)


@users_app.command("show")
def user_show(ctx: typer.Context, name: str, output: OutputOpt = OutputFormat.table) -> None:
    print_object(_user_row(get_client(ctx).get(resource_path("users", name))), output)


@users_app.command("set-password")
def user_set_password(
    ctx: typer.Context,
    name: str,
    password_stdin: PasswordStdinOpt = False,
    revoke_api_keys: Annotated[
        bool, typer.Option("--revoke-api-keys", help="Also revoke the user's API keys.")
    ] = False,
) -> None:
    """Admins: set anyone's. Others: your own (asks for the current one first). With
    --password-stdin: the new password on the first line, the current on the second."""
    me = get_client(ctx).get("/v1/auth/whoami")
    body: dict[str, Any] = {}
    if me.get("role") != "admin":
        body["current_password"] = _password(password_stdin, "Current password")
    body["password"] = _password(password_stdin, "New password", confirm=not password_stdin)
    if password_stdin and "current_password" in body:  # first line new, second current
        body["password"], body["current_password"] = body["current_password"], body["password"]
    if revoke_api_keys:
        body["revoke_api_keys"] = True
    get_client(ctx).request("PUT", resource_path("users", name) + "/password", body=body)
    ended = "login sessions and API keys" if revoke_api_keys else "login sessions"
    typer.echo(f"password of {name} changed; its {ended} ended")


@users_app.command("delete")
def user_delete(ctx: typer.Context, name: str) -> None:
    """Delete a user: its role assignments go, its tokens stop working."""
    get_client(ctx).delete(resource_path("users", name))
    typer.echo(f"user {name} deleted")


# ---- projects --------------------------------------------------------------------------

PROJECT_COLUMNS = [
    ("NAME", "name"),
    ("DESCRIPTION", "description"),
    ("ALLOWED API ADDRESSES", "api_address_allow"),
    ("WEBHOOK ADDRESSES", "webhook_allow"),
    ("CREATED", "created_at"),
]
AllowOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--allow",
        help="A gobgpd API address its routers may use (repeatable): unix:/socket/dir/, a "
        "network such as 192.0.2.0/24, or '*'. Narrows the server's SDWAN_API_ADDRESS_ALLOW.",
    ),
]
WebhookAllowOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--webhook-allow",
        help="An address its webhooks may post to (repeatable): a network such as "
        "192.0.2.0/24, or '*'. Narrows the server's SDWAN_WEBHOOK_ALLOW.",
    ),
]


@projects_app.command("create")
def project_create(
    ctx: typer.Context,
    name: str,
    description: Annotated[str, typer.Option("--description")] = "",
    allow: AllowOpt = None,
    webhook_allow: WebhookAllowOpt = None,
    output: OutputOpt = OutputFormat.table,
) -> None:
    """Create a project (admins); --allow gives it its own list of API addresses,
    --webhook-allow its own list of webhook addresses."""
    body: dict[str, object] = {"name": name, "description": description}
    if allow:
        body["api_address_allow"] = allow
    if webhook_allow:
        body["webhook_allow"] = webhook_allow
    print_object(get_client(ctx).post("/v1/projects", body), output)


@projects_app.command("set")
def project_set(
    ctx: typer.Context,
    name: str,
    description: Annotated[str | None, typer.Option("--description")] = None,
    allow: AllowOpt = None,
    server_list: Annotated[
        bool, typer.Option("--server-list", help="Drop the project's own list.")
    ] = False,
    webhook_allow: WebhookAllowOpt = None,
    webhook_server_list: Annotated[
        bool,
        typer.Option("--webhook-server-list", help="Drop the project's own webhook list."),
    ] = False,
    output: OutputOpt = OutputFormat.table,
) -> None:
    """Change a project's description or its allowlists of gobgpd API addresses and
    webhook addresses."""
    body: dict[str, object] = {}
    if description is not None:
        body["description"] = description
    if allow and server_list:
        raise CliError("give --allow or --server-list, not both")
    if allow:
        body["api_address_allow"] = allow
    elif server_list:
        body["api_address_allow"] = None
    if webhook_allow and webhook_server_list:
        raise CliError("give --webhook-allow or --webhook-server-list, not both")
    if webhook_allow:
        body["webhook_allow"] = webhook_allow
    elif webhook_server_list:
        body["webhook_allow"] = None
    if not body:
        raise CliError(
            "nothing to change: give --description, --allow, --server-list, --webhook-allow "
            "or --webhook-server-list"
        )
    print_object(get_client(ctx).patch(resource_path("projects", name), body), output)


@projects_app.command("list")
def project_list(ctx: typer.Context, output: OutputOpt = OutputFormat.table) -> None:
    print_list(get_client(ctx).get("/v1/projects")["items"], PROJECT_COLUMNS, output)


@projects_app.command("delete")
def project_delete(ctx: typer.Context, name: str) -> None:
    """Delete an empty project (409 while it owns routers)."""
    get_client(ctx).delete(resource_path("projects", name))
    typer.echo(f"project {name} deleted")


# ---- roles -----------------------------------------------------------------------------

ROLE_COLUMNS = [("USER", "user"), ("PROJECT", "project"), ("ROLE", "role")]


@roles_app.command("grant")
def role_grant(
    ctx: typer.Context,
    user: str,
    role: Annotated[str, typer.Argument(help="admin, member or reader")],
    project: Annotated[str, typer.Option("--project", help="Project name.")],
    output: OutputOpt = OutputFormat.table,
) -> None:
    """Give USER ROLE in --project (replaces its role there)."""
    body = {"user": user, "project": project, "role": role}
    print_object(get_client(ctx).request("PUT", "/v1/role-assignments", body=body), output)


@roles_app.command("revoke")
def role_revoke(
    ctx: typer.Context,
    user: str,
    project: Annotated[str, typer.Option("--project", help="Project name.")],
) -> None:
    params = {"user": user, "project": project}
    get_client(ctx).delete("/v1/role-assignments", params=params)
    typer.echo(f"{user} has no role in {project} any more")


@roles_app.command("list")
def role_list(
    ctx: typer.Context,
    user: Annotated[str | None, typer.Option("--user")] = None,
    project: ProjectOpt = None,
    output: OutputOpt = OutputFormat.table,
) -> None:
    params = {k: v for k, v in {"user": user, "project": project}.items() if v}
    print_list(get_client(ctx).get("/v1/role-assignments", params)["items"], ROLE_COLUMNS, output)


# ---- tokens ----------------------------------------------------------------------------

TOKEN_COLUMNS = [
    ("ID", "id"),
    ("NAME", "name"),
    ("KIND", "kind"),
    ("ROLE", "role"),
    ("PROJECT", "project"),
    ("EXPIRES", "expires_at"),
    ("REVOKED", "revoked_at"),
]


@tokens_app.command("create")
def token_create(
    ctx: typer.Context,
    name: str,
    role: Annotated[str | None, typer.Option("--role", help="admin, member or reader")] = None,
    project: ProjectOpt = None,
    expires_in: Annotated[
        int | None, typer.Option("--expires-in", help="Seconds until it expires.")
    ] = None,
    output: OutputOpt = OutputFormat.table,
) -> None:
    """Create an API key; it is printed once (on stdout alone in table mode)."""
    body = {"name": name, "role": role, "project": project, "expires_in": expires_in}
    created = get_client(ctx).post("/v1/tokens", {k: v for k, v in body.items() if v})
    if output is OutputFormat.table:
        typer.echo(
            f"API key {name} ({created['role']}, project {created['project'] or 'all'}); "
            "store it now, it is not shown again:",
            err=True,
        )
        typer.echo(created["token"])
    else:
        print_object(created, output)


@tokens_app.command("list")
def token_list(
    ctx: typer.Context,
    active: Annotated[bool, typer.Option("--active", help="Only usable ones.")] = False,
    output: OutputOpt = OutputFormat.table,
) -> None:
    items = get_client(ctx).get("/v1/tokens", {"active": "true"} if active else {})["items"]
    print_list(items, TOKEN_COLUMNS, output)


@tokens_app.command("revoke")
def token_revoke(ctx: typer.Context, token_id: str, output: OutputOpt = OutputFormat.table) -> None:
    answer = get_client(ctx).delete(resource_path("tokens", token_id))
    print_done(f"token {token_id} revoked", answer, output)
