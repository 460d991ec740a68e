"""The API's description (api/openapi.py) as a page people read: every route with what it is for,
its parameters, what its body holds, and its answers. Plain HTML, built on the server, every text
escaped; no script."""

from __future__ import annotations

import html
import json
from typing import Any

_STYLE = """
body { font: 15px/1.5 system-ui, sans-serif; max-width: 60rem; margin: 2rem auto; padding: 0 1rem; color: #1c2024; }
h1 { font-size: 1.6rem; } h2 { font-size: 1.05rem; margin: 2rem 0 .3rem; font-family: ui-monospace, monospace; }
.method { display: inline-block; min-width: 4.2rem; font-weight: 700; }
.get { color: #0d74ce; } .post { color: #218358; } .put, .patch { color: #ab6400; } .delete { color: #ce2c31; }
table { border-collapse: collapse; margin: .4rem 0; } td, th { text-align: left; padding: .15rem .8rem .15rem 0; vertical-align: top; }
code, pre { font-family: ui-monospace, monospace; font-size: .9em; } pre { background: #f3f4f6; padding: .5rem; overflow-x: auto; }
.muted { color: #60646c; } nav a { margin-right: .8rem; }
@media (prefers-color-scheme: dark) { body { background: #111113; color: #edeef0; } pre { background: #212225; } .muted { color: #b0b4ba; } }
"""


def page(description: dict[str, Any]) -> str:
    info = description.get("info", {})
    title = html.escape(str(info.get("title", "API")))
    parts = [
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>",
        "<meta name='viewport' content='width=device-width, initial-scale=1'>",
        f"<title>{title}</title><style>{_STYLE}</style></head><body>",
        f"<h1>{title}</h1>",
        "<p class='muted'>Every route the server answers, from the same description as "
        "<a href='/api/openapi.json'>/api/openapi.json</a> (OpenAPI 3.1). Routes marked "
        "<em>signed in</em> take the session cookie the sign-in routes set; errors are "
        '<code>{"error": sentence, "code": name}</code>. Routes marked <em>API token</em> (OpenAI\'s '
        "protocol, under <code>/v1</code>) take <code>Authorization: Bearer</code> and a personal API "
        "token from the settings page instead, and answer errors as OpenAI does: "
        '<code>{"error": {"message", "type", "code"}}</code>.</p>',
    ]
    for path, methods in sorted(description.get("paths", {}).items()):
        for method, operation in methods.items():
            parts.append(_operation(method, path, operation))
    parts.append("</body></html>")
    return "".join(parts)


def _operation(method: str, path: str, operation: dict[str, Any]) -> str:
    anchor = html.escape(f"{method}-{path}", quote=True)
    needs = {"session": " <em class=muted>signed in</em>", "token": " <em class=muted>API token</em>"}
    security = operation.get("security") or []
    needed = next((needs[name] for name in needs if security == [{name: []}]), "")
    parts = [
        f"<h2 id='{anchor}'><span class='method {html.escape(method)}'>{html.escape(method.upper())}</span>"
        f"{html.escape(path)}</h2>",
        f"<p>{html.escape(operation.get('description') or operation.get('summary', ''))}{needed}</p>",
    ]
    parameters = operation.get("parameters") or []
    if parameters:
        rows = "".join(
            f"<tr><td><code>{html.escape(p['name'])}</code></td><td class='muted'>{html.escape(p['in'])}"
            f"{', required' if p.get('required') else ''}</td><td>{html.escape(_type(p.get('schema', {})))}</td></tr>"
            for p in parameters
        )
        parts.append(f"<table><tr><th>parameter</th><th>where</th><th>value</th></tr>{rows}</table>")
    body = operation.get("requestBody")
    if body:
        for media, content in body.get("content", {}).items():
            parts.append(
                f"<p class='muted'>Body, <code>{html.escape(media)}</code>:</p>"
                f"<pre>{html.escape(_shape(content.get('schema', {})))}</pre>"
            )
    answers = ", ".join(
        f"{html.escape(status)} {html.escape(answer.get('description', ''))}"
        for status, answer in operation.get("responses", {}).items()
    )
    parts.append(f"<p class='muted'>Answers: {answers}</p>")
    return "".join(parts)


def _type(schema: dict[str, Any]) -> str:
    if "anyOf" in schema:
        return " or ".join(_type(choice) for choice in schema["anyOf"])
    if "enum" in schema:
        return " | ".join(str(v) for v in schema["enum"])
    if schema.get("type") == "array":
        return f"list of {_type(schema.get('items', {}))}"
    return str(schema.get("format") or schema.get("type") or "any")


def _shape(schema: dict[str, Any]) -> str:
    """A body's fields, required ones marked, as a JSON-like sketch."""
    properties = schema.get("properties")
    if not properties:
        return schema.get("description") or _type(schema)
    required = set(schema.get("required", []))
    fields = {f"{name}{'' if name in required else '?'}": _type(value) for name, value in properties.items()}
    return json.dumps(fields, indent=2, ensure_ascii=False)
