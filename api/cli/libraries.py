"""``unioncat library`` and ``unioncat token``: member libraries and their API tokens."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from catalog import holdings
from catalog.db import session_scope
from catalog.libraries import (
    add_library,
    get_library,
    library_dict,
    library_stats,
    list_libraries,
    update_library,
)
from catalog.models import Library

from .common import CliError, JsonOption, app, err, open_catalogue, out, print_json

library_app = typer.Typer(help="Member libraries.", no_args_is_help=True)
token_app = typer.Typer(help="API tokens of member libraries.", no_args_is_help=True)
app.add_typer(library_app, name="library")
app.add_typer(token_app, name="token")


# The digital repository's options, the same for add and update.
RepositoryUrl = Annotated[
    str | None, typer.Option("--repository-url", help="OAI-PMH URL of its digital repository (DSpace).")
]
RepositoryFormat = Annotated[
    str | None, typer.Option("--repository-format", help="Its items' descriptions: oai_dc or qdc.")
]
RepositoryFiles = Annotated[
    str | None, typer.Option("--repository-files", help="Its items' file lists: ore, mets or none.")
]
RepositorySet = Annotated[
    str | None, typer.Option("--repository-set", help="Harvest only this set of the repository.")
]
RepositoryAccess = Annotated[
    str | None, typer.Option("--repository-access", help="Rule of its files: open or members.")
]


@library_app.command("add")
def library_add(
    code: Annotated[str, typer.Argument(help="ISIL-like code, e.g. VNU-LIC.")],
    name: Annotated[str, typer.Option("--name", help="Name in Vietnamese.")],
    name_en: Annotated[str | None, typer.Option("--name-en", help="Name in English.")] = None,
    region: Annotated[str | None, typer.Option(help="Region.")] = None,
    city: Annotated[str | None, typer.Option(help="City.")] = None,
    website: Annotated[str | None, typer.Option(help="Website URL.")] = None,
    opac_url: Annotated[
        str | None, typer.Option("--opac-url", help="Link to a local record, with {id} for its local id.")
    ] = None,
    contact: Annotated[str | None, typer.Option(help="Contact person or e-mail.")] = None,
    holdings_profile: Annotated[
        str, typer.Option("--holdings-profile", help=f"One of: {', '.join(holdings.profile_names())}.")
    ] = holdings.AUTO,
    oai_url: Annotated[str | None, typer.Option("--oai-url", help="OAI-PMH base URL to harvest.")] = None,
    oai_prefix: Annotated[
        str | None, typer.Option("--oai-prefix", help="metadataPrefix to harvest (default marc21).")
    ] = None,
    oai_set: Annotated[str | None, typer.Option("--oai-set", help="Harvest only this OAI-PMH set.")] = None,
    harvest_every: Annotated[
        int | None, typer.Option("--harvest-every", min=1, help="Harvest by the service every N hours.")
    ] = None,
    repository_url: RepositoryUrl = None,
    repository_format: RepositoryFormat = None,
    repository_files: RepositoryFiles = None,
    repository_set: RepositorySet = None,
    repository_access: RepositoryAccess = None,
    as_json: JsonOption = False,
) -> None:
    """Add a member library."""
    engine = open_catalogue()
    with session_scope(engine) as session:
        library = add_library(
            session,
            code,
            name,
            name_en=name_en,
            region=region,
            city=city,
            website=website,
            opac_url_pattern=opac_url,
            contact=contact,
            holdings_profile=holdings_profile,
            oai_base_url=oai_url,
            oai_metadata_prefix=oai_prefix,
            oai_set=oai_set,
            harvest_interval_hours=harvest_every,
            repository_url=repository_url,
            repository_format=repository_format,
            repository_files=repository_files,
            repository_set=repository_set,
            repository_access=repository_access,
        )
        data = library_dict(library)
    if as_json:
        print_json(data)
    else:
        err.print(f"added library {data['code']}: {data['name_vi']}")


@library_app.command("update")
def library_update(
    code: Annotated[str, typer.Argument(help="Code of the library.")],
    name: Annotated[str | None, typer.Option("--name", help="Name in Vietnamese.")] = None,
    name_en: Annotated[str | None, typer.Option("--name-en", help="Name in English.")] = None,
    region: Annotated[str | None, typer.Option(help="Region.")] = None,
    city: Annotated[str | None, typer.Option(help="City.")] = None,
    website: Annotated[str | None, typer.Option(help="Website URL.")] = None,
    opac_url: Annotated[str | None, typer.Option("--opac-url", help="Link to a local record ({id}).")] = None,
    contact: Annotated[str | None, typer.Option(help="Contact person or e-mail.")] = None,
    holdings_profile: Annotated[
        str | None, typer.Option("--holdings-profile", help="Holdings profile.")
    ] = None,
    oai_url: Annotated[str | None, typer.Option("--oai-url", help="OAI-PMH base URL to harvest.")] = None,
    oai_prefix: Annotated[str | None, typer.Option("--oai-prefix", help="metadataPrefix to harvest.")] = None,
    oai_set: Annotated[str | None, typer.Option("--oai-set", help="Harvest only this set.")] = None,
    harvest_every: Annotated[
        int | None, typer.Option("--harvest-every", min=1, help="Harvest by the service every N hours.")
    ] = None,
    active: Annotated[bool | None, typer.Option("--active/--inactive", help="Member in service?")] = None,
    repository_url: RepositoryUrl = None,
    repository_format: RepositoryFormat = None,
    repository_files: RepositoryFiles = None,
    repository_set: RepositorySet = None,
    repository_access: RepositoryAccess = None,
    as_json: JsonOption = False,
) -> None:
    """Change a member library's details (only the options given)."""
    values = {
        "name_vi": name,
        "name_en": name_en,
        "region": region,
        "city": city,
        "website": website,
        "opac_url_pattern": opac_url,
        "contact": contact,
        "holdings_profile": holdings_profile,
        "oai_base_url": oai_url,
        "oai_metadata_prefix": oai_prefix,
        "oai_set": oai_set,
        "harvest_interval_hours": harvest_every,
        "active": active,
        "repository_url": repository_url,
        "repository_format": repository_format,
        "repository_files": repository_files,
        "repository_set": repository_set,
        "repository_access": repository_access,
    }
    changes = {k: v for k, v in values.items() if v is not None}
    if not changes:
        raise CliError("nothing to change: give at least one option (see --help)")
    engine = open_catalogue()
    with session_scope(engine) as session:
        data = library_dict(update_library(session, code, **changes))
    if as_json:
        print_json(data)
    else:
        err.print(f"updated library {data['code']}: {', '.join(sorted(changes))}")


@library_app.command("list")
def library_list(as_json: JsonOption = False) -> None:
    """List the member libraries with their counts."""
    engine = open_catalogue()
    with session_scope(engine) as session:
        rows = [library_dict(lib, library_stats(session, lib)) for lib in list_libraries(session)]
    if as_json:
        print_json(rows)
        return
    if not rows:
        err.print("no libraries yet: add one with 'unioncat library add CODE --name NAME'")
        return
    table = Table("code", "name", "records", "holdings", "last ingest")
    for row in rows:
        table.add_row(
            row["code"], row["name_vi"], str(row["records"]), str(row["holdings"]), row["last_ingest"] or ""
        )
    out.print(table)


@library_app.command("show")
def library_show(
    code: Annotated[str, typer.Argument(help="Library code.")], as_json: JsonOption = False
) -> None:
    """Show one library's settings and counts."""
    engine = open_catalogue()
    with session_scope(engine) as session:
        library = get_library(session, code)
        data = library_dict(library, library_stats(session, library))
    if as_json:
        print_json(data)
        return
    for key, value in data.items():
        if value not in (None, ""):
            out.print(f"{key:>20}: {value}")


# ------------------------------------------------------------------------------------------- token
@token_app.command("create")
def token_create(
    library: Annotated[str, typer.Option("--library", "-l", help="The library the token writes for.")],
    name: Annotated[str, typer.Option(help="What the token is for (e.g. 'Koha nightly export').")] = "",
    as_json: JsonOption = False,
) -> None:
    """Create a token for a library; it is printed once and only its hash is kept."""
    from catalog import tokens

    with session_scope(open_catalogue()) as session:
        record, token = tokens.create_token(session, library, name)
        data = {**tokens.token_dict(record, get_library(session, library).code), "token": token}
    if as_json:
        print_json(data)
    else:
        err.print(f"token {data['id']} for {data['library']} (shown once, keep it safe):")
        out.print(token, markup=False, highlight=False)


@token_app.command("revoke")
def token_revoke(
    token_id: Annotated[int, typer.Argument(help="The token's id (see 'token list').")],
    as_json: JsonOption = False,
) -> None:
    """Revoke a token: requests with it are refused from now on."""
    from catalog import tokens

    with session_scope(open_catalogue()) as session:
        try:
            record = tokens.revoke(session, token_id)
        except tokens.TokenError as exc:
            raise CliError(str(exc)) from None
        data = tokens.token_dict(record, session.get(Library, record.library_id).code)  # type: ignore[union-attr]
    if as_json:
        print_json(data)
    else:
        err.print(f"token {token_id} revoked")


@token_app.command("list")
def token_list(
    library: Annotated[
        str | None, typer.Option("--library", "-l", help="Only this library's tokens.")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """List tokens (never the tokens themselves)."""
    from catalog import tokens

    with session_scope(open_catalogue()) as session:
        rows = tokens.list_tokens(session, library)
    if as_json:
        print_json(rows)
        return
    table = Table("id", "library", "name", "prefix", "created", "last used", "revoked")
    for row in rows:
        table.add_row(
            str(row["id"]),
            row["library"],
            row["name"],
            row["prefix"],
            row["created_at"],
            row["last_used_at"] or "never",
            str(row["revoked"]),
        )
    out.print(table)
