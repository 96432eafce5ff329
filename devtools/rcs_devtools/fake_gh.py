"""A stand-in for the GitHub CLI's ``gh api``, for running workflow steps in tests.

It answers the issue-comment endpoints as GitHub's REST API does (pages of ``per_page``,
default 30, at most 100; 201 on create; 403 when the token's bot edits another user's comment;
404 elsewhere) from a JSON state file, and handles the flags the steps use as gh does:
``--method``/``-X``, ``--paginate`` (every page, one after the other), ``--jq``/``-q`` (applied
to each page, strings printed raw), ``-F``/``-f`` (``@file`` read from a file), ``--input``,
``--silent``. Every call is recorded in the state file.

    FAKE_GH_STATE=state.json python fake_gh.py api --paginate repos/o/r/issues/7/comments
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import jq

#: The login of the workflow's GITHUB_TOKEN, as comments made with it show.
BOT_LOGIN = "github-actions[bot]"
STATE_ENV = "FAKE_GH_STATE"


class HttpError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def load_state(path: Path) -> dict[str, Any]:
    return dict(json.loads(path.read_text(encoding="utf-8")))


def new_state(repository: str, comments: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """A state for one repository: ``comments`` as {"issue", "login", "body"}."""
    state: dict[str, Any] = {"repository": repository, "comments": [], "calls": [], "next_id": 1000}
    for comment in comments or []:
        add_comment(state, comment["issue"], comment["login"], comment["body"])
    return state


def add_comment(state: dict[str, Any], issue: int, login: str, body: str) -> dict[str, Any]:
    comment = {
        "id": state["next_id"],
        "issue": issue,
        "user": {"login": login, "type": "Bot" if login.endswith("[bot]") else "User"},
        "body": body,
    }
    state["next_id"] += 1
    state["comments"].append(comment)
    return comment


def _public(comment: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in comment.items() if k != "issue"}


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="gh api")
    parser.add_argument("endpoint")
    parser.add_argument("-X", "--method")
    parser.add_argument("--paginate", action="store_true")
    parser.add_argument("-q", "--jq")
    parser.add_argument("-F", "--field", action="append", default=[])
    parser.add_argument("-f", "--raw-field", action="append", default=[])
    parser.add_argument("--input")
    parser.add_argument("--silent", action="store_true")
    parser.add_argument("-H", "--header", action="append", default=[])
    return parser


def _read_value(value: str) -> str:
    if value == "@-":
        return sys.stdin.read()
    if value.startswith("@"):
        return Path(value[1:]).read_text(encoding="utf-8")
    return value


def _fields(args: argparse.Namespace) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    for raw in args.raw_field:
        key, _, value = raw.partition("=")
        fields[key] = value
    for typed in args.field:
        key, _, value = typed.partition("=")
        if value.startswith("@"):
            fields[key] = _read_value(value)
        elif value in ("true", "false", "null") or re.fullmatch(r"-?\d+", value):
            fields[key] = json.loads(value)
        else:
            fields[key] = value
    if args.input is not None:
        text = sys.stdin.read() if args.input == "-" else Path(args.input).read_text()
        fields.update(json.loads(text))
    return fields


def _answer(
    state: dict[str, Any], method: str, path: str, query: dict[str, str], fields: dict[str, Any]
) -> tuple[Any, str | None]:
    """One request: (response body, the next page's path or None)."""
    repo = re.escape(state["repository"])
    listing = re.fullmatch(rf"repos/{repo}/issues/(\d+)/comments", path)
    single = re.fullmatch(rf"repos/{repo}/issues/comments/(\d+)", path)
    if listing and method == "GET":
        issue = int(listing[1])
        per_page = min(int(query.get("per_page", "30")), 100)
        page = int(query.get("page", "1"))
        mine = [c for c in state["comments"] if c["issue"] == issue]
        chunk = mine[(page - 1) * per_page : page * per_page]
        more = page * per_page < len(mine)
        following = f"{path}?per_page={per_page}&page={page + 1}" if more else None
        return [_public(c) for c in chunk], following
    if listing and method == "POST":
        if not isinstance(fields.get("body"), str):
            raise HttpError(422, "Invalid request. body is missing")
        return _public(add_comment(state, int(listing[1]), BOT_LOGIN, fields["body"])), None
    if single and method == "PATCH":
        found = [c for c in state["comments"] if c["id"] == int(single[1])]
        if not found:
            raise HttpError(404, "Not Found")
        if found[0]["user"]["login"] != BOT_LOGIN:
            raise HttpError(403, "Resource not accessible by integration")
        found[0]["body"] = fields["body"]
        return _public(found[0]), None
    raise HttpError(404, "Not Found")


def _print(result: Any, filter_: str | None) -> None:
    if filter_ is None:
        print(json.dumps(result))
        return
    for value in jq.compile(filter_).input_value(result).all():
        print(value if isinstance(value, str) else json.dumps(value))


def main(argv: list[str]) -> int:
    if not argv or argv[0] != "api":
        print(f"fake gh: only `gh api` is faked, not {argv[:1]}", file=sys.stderr)
        return 2
    if not (os.environ.get("GH_TOKEN") or os.environ.get("GITHUB_TOKEN")):
        print(
            "gh: To use GitHub CLI in a GitHub Actions workflow, set the GH_TOKEN environment "
            "variable.",
            file=sys.stderr,
        )
        return 4
    args = _parser().parse_args(argv[1:])
    state_file = Path(os.environ[STATE_ENV])
    state = load_state(state_file)
    fields = _fields(args)
    method = (args.method or ("POST" if fields else "GET")).upper()
    split = urlsplit(args.endpoint.lstrip("/"))
    state["calls"].append(
        {
            "method": method,
            "endpoint": args.endpoint,
            "paginate": args.paginate,
            "jq": args.jq,
            "fields": fields,
        }
    )
    path, query = split.path, {k: v[-1] for k, v in parse_qs(split.query).items()}
    try:
        while True:
            result, following = _answer(state, method, path, query, fields)
            if not args.silent:
                _print(result, args.jq)
            if not (args.paginate and following):
                break
            split = urlsplit(following)
            path, query = split.path, {k: v[-1] for k, v in parse_qs(split.query).items()}
    except HttpError as err:
        print(f"gh: {err.message} (HTTP {err.status})", file=sys.stderr)
        return 1
    finally:
        state_file.write_text(json.dumps(state, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
