"""The operator's command line for one person's data (GDPR-style requests), on the database and
media store the settings name:

    python -m chat_app.admin export-user EMAIL [--to FILE.zip]
    python -m chat_app.admin delete-user EMAIL [--yes]
"""

from __future__ import annotations

import argparse
import sys
from datetime import date
from pathlib import Path

from chat_app.db import session_scope
from chat_app.services import personal_data
from chat_app.services.errors import DomainError
from chat_app.settings import settings_or_exit


def _export(email: str, to: Path | None) -> int:
    target = to or Path(f"export-{email.replace('@', '_at_')}-{date.today().isoformat()}.zip")
    with session_scope() as session:
        personal_data.export_person(email, target, session=session)
    print(f"Everything of {email} is in {target}.")
    return 0


def _delete(email: str, confirmed: bool) -> int:
    if not confirmed:
        answer = input(f"Delete {email}, their chats and their files for good? Type the address again: ")
        if answer.strip().lower() != email.strip().lower():
            print("Nothing was deleted.")
            return 1
    with session_scope() as session:  # committed at the end of the block; files go after that
        counts = personal_data.delete_person(email, session=session)
    done = ", ".join(f"{n} {kind}" for kind, n in counts.items())
    print(f"{email} is deleted, with {done}.")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m chat_app.admin", description="A person's data, for the operator."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    export = commands.add_parser("export-user", help="write everything of a person to one zip file")
    export.add_argument("email")
    export.add_argument("--to", type=Path, help="the zip to write (default: export-<address>-<date>.zip)")
    delete = commands.add_parser("delete-user", help="delete a person, their chats and their files")
    delete.add_argument("email")
    delete.add_argument("--yes", action="store_true", help="do not ask for the address again")
    args = parser.parse_args(argv)
    settings_or_exit()  # a bad setting stops here, with a sentence naming it
    try:
        if args.command == "export-user":
            return _export(args.email, args.to)
        return _delete(args.email, args.yes)
    except DomainError as exc:
        print(exc, file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
