"""The model catalog in the database: seeding and upgrading it from the catalog files,
discovering Ollama's models, availability, and the filtered, sorted listing."""

from __future__ import annotations

import logging
import math
import time
from dataclasses import asdict
from pathlib import Path

import httpx
import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, SQLModel, col, select

from chat_app import catalog as files
from chat_app.catalog import CatalogModel
from chat_app.models import ModelEntry, User, utcnow
from chat_app.services import keys, readiness
from chat_app.services.errors import Invalid
from chat_app.services.litellm_loader import load_litellm
from chat_app.services.providers import PROVIDERS, configuration_gap
from chat_app.settings import get_settings, provider_variable

log = logging.getLogger(__name__)

SORTS = ("name", "provider", "price", "context")
ORDERS = ("asc", "desc")
OLLAMA_CHECK_EVERY = 30.0  # seconds between looks at Ollama's model list
OLLAMA_API_BASE = PROVIDERS["ollama"].base_env

_MODELS = SQLModel.metadata.tables["models"]  # the Core table, for dialect upserts


# ----- seeding -------------------------------------------------------------------------
def _price_map_entry(litellm_model: str | None) -> dict:
    """What LiteLLM's bundled price map says of a model (empty when it does not know it)."""
    if not litellm_model:
        return {}
    litellm = load_litellm()
    return (
        litellm.model_cost.get(litellm_model) or litellm.model_cost.get(litellm_model.split("/", 1)[-1]) or {}
    )


def longest_reply(model: CatalogModel) -> int | None:
    """The most tokens the model writes in one reply, from the price map (None: nobody says)."""
    info = _price_map_entry(model.litellm_model)
    most = info.get("max_output_tokens") or info.get("max_tokens")
    return int(most) if most else None


def _litellm_facts(litellm_model: str | None) -> dict:
    """Context window and prices from LiteLLM's bundled price map, when it knows the model."""
    info = _price_map_entry(litellm_model)
    if not info:
        return {}
    facts = {}
    if info.get("max_input_tokens"):
        facts["context_window"] = int(info["max_input_tokens"])
    if info.get("input_cost_per_token") is not None:
        facts["input_per_mtok"] = round(float(info["input_cost_per_token"]) * 1_000_000, 6)
    if info.get("output_cost_per_token") is not None:
        facts["output_per_mtok"] = round(float(info["output_cost_per_token"]) * 1_000_000, 6)
    return facts


def _row_values(model: CatalogModel, *, version: int, position: int, enabled: bool) -> dict:
    """A models row for a catalog model."""
    values = {k: v for k, v in asdict(model).items() if k != "enabled"}
    values["capabilities"] = list(model.capabilities)
    if model.type == "text":  # the price map wins where it knows the model; the file fills the rest
        values.update({k: v for k, v in _litellm_facts(model.litellm_model).items() if v is not None})
    return {
        **values,
        "catalog_version": version,
        "position": position,
        "enabled": enabled,
        "updated_at": utcnow(),
    }


def _upsert(session: Session, model: CatalogModel, *, version: int, position: int, enabled: bool) -> None:
    row = session.get(ModelEntry, model.id) or ModelEntry(
        id=model.id,
        name=model.name,
        provider=model.provider,
        provider_name=model.provider_name,
        type=model.type,
    )
    for key, value in _row_values(model, version=version, position=position, enabled=enabled).items():
        setattr(row, key, value)
    session.add(row)


def sync_catalog(*, session: Session, operator_file: str | Path | None = None) -> int:
    """Seed or upgrade the models table from the shipped file and the operator's file."""
    version, models = files.shipped()
    providers = {name: p.label for name, p in PROVIDERS.items()}
    disabled: set[str] = set()
    every = list(models)
    if operator_file:
        op_version, extra, disabled = files.operator_models(Path(operator_file), providers)
        version = version * 1000 + op_version  # either file's new version upgrades the rows
        ids = {m.id for m in extra}
        every = [m for m in every if m.id not in ids] + extra
    for position, model in enumerate(every):
        _upsert(session, model, version=version, position=position, enabled=model.id not in disabled)
    keep = {m.id for m in every}
    for row in session.exec(select(ModelEntry).where(col(ModelEntry.source).in_(("catalog", "operator")))):
        if row.id not in keep:
            session.delete(row)
    session.flush()
    _catalog_changed()
    return len(every)


# ----- Ollama --------------------------------------------------------------------------
_ollama_state: dict[str, tuple[float, str]] = {}  # base url -> (checked at, reason it is unusable)


def ollama_gap(*, session: Session, force: bool = False) -> str:
    """Look at Ollama's model list (at most every 30 s); empty when reachable, else why not.

    The models it has appear in the catalog as text models.
    """
    base = provider_variable(OLLAMA_API_BASE).rstrip("/")
    if not base:
        return "Ollama is not configured: the server has no OLLAMA_API_BASE."
    checked_at, reason = _ollama_state.get(base, (0.0, ""))
    if not force and time.monotonic() - checked_at < OLLAMA_CHECK_EVERY:
        return reason
    try:
        response = httpx.get(f"{base}/api/tags", timeout=1.5)
        response.raise_for_status()
        names = [m["name"] for m in response.json().get("models", []) if isinstance(m.get("name"), str)]
        reason = ""
    except (httpx.HTTPError, ValueError, KeyError, TypeError) as exc:
        log.info("Ollama at %s is not reachable: %s", base, exc)
        names, reason = None, f"Ollama is not reachable at {base}."
    _ollama_state[base] = (time.monotonic(), reason)
    if names is not None:
        _record_ollama_models(names, session=session)
    return reason


def _record_ollama_models(names: list[str], *, session: Session) -> None:
    """Keep the discovered models in the catalog.

    Every worker looks every 30 s, inside someone's request: nothing is written unless the list
    changed, and rows are upserted, so workers recording the same change at once never collide.
    """
    found = {}
    for position, name in enumerate(names):
        short = name.removesuffix(":latest")
        model = CatalogModel(
            id=f"ollama/{short}",
            name=f"{short} (Ollama)",
            provider="ollama",
            provider_name="Ollama",
            litellm_model=f"ollama_chat/{name}",
            capabilities=("streaming",),
            source="ollama",
        )
        found[model.id] = _row_values(model, version=0, position=10_000 + position, enabled=True)
    stored = {row.id: row for row in session.exec(select(ModelEntry).where(ModelEntry.source == "ollama"))}
    if stored.keys() == found.keys() and all(
        stored[i].litellm_model == v["litellm_model"] and stored[i].position == v["position"]
        for i, v in found.items()
    ):
        return
    if found:
        dialect = session.get_bind().dialect.name
        insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
        statement = insert(_MODELS).values(list(found.values()))
        updates = {c: statement.excluded[c] for c in next(iter(found.values())) if c != "id"}
        session.execute(statement.on_conflict_do_update(index_elements=["id"], set_=updates))
    gone = [i for i in stored if i not in found]
    if gone:
        session.execute(sa.delete(ModelEntry).where(col(ModelEntry.id).in_(gone)))
    for row in stored.values():  # written around the ORM: read again when next asked for
        session.expire(row)
    _catalog_changed()


# ----- reading -------------------------------------------------------------------------
def as_catalog_model(row: ModelEntry) -> CatalogModel:
    return CatalogModel(
        id=row.id,
        name=row.name,
        provider=row.provider,
        provider_name=row.provider_name,
        type=row.type,
        litellm_model=row.litellm_model,
        replicate_model=row.replicate_model,
        capabilities=tuple(row.capabilities or ()),
        context_window=row.context_window,
        input_per_mtok=row.input_per_mtok,
        output_per_mtok=row.output_per_mtok,
        per_image=row.per_image,
        per_second=row.per_second,
        api_base=row.api_base,
        key_env=row.key_env,
        source=row.source,
        enabled=row.enabled,
    )


RESOLVED_FOR = 5.0  # seconds a looked-up model is reused: a send looks its model up, then its name

_resolved: dict[tuple[str, str], tuple[float, CatalogModel | None]] = {}


def _resolved_key(model_id: str, session: Session) -> tuple[str, str]:
    return str(session.get_bind().engine.url), model_id


def _recently_resolved(model_id: str, *, session: Session) -> tuple[bool, CatalogModel | None]:
    """(True, the model or None) when it was looked up less than RESOLVED_FOR ago, else (False, None)."""
    cached = _resolved.get(_resolved_key(model_id, session))
    if cached is not None and time.monotonic() - cached[0] < RESOLVED_FOR:
        return True, cached[1]
    return False, None


def resolve_model(model_id: str | None, *, session: Session) -> CatalogModel | None:
    """A model of the catalog by id. The catalog changes when a worker starts (its files) and when
    Ollama's list changes, so a lookup is kept a few seconds; this process's own writes clear it."""
    if not model_id:
        return None
    known, model = _recently_resolved(model_id, session=session)
    if known:
        return model
    now = time.monotonic()
    row = session.get(ModelEntry, model_id)
    if row is None:
        readiness.require_catalog(session=session)  # not "unknown" while the catalog still loads
    model = as_catalog_model(row) if row is not None else None
    if len(_resolved) > 1000:
        _resolved.clear()
    _resolved[_resolved_key(model_id, session)] = (now, model)
    return model


def _catalog_changed() -> None:
    _resolved.clear()


def unavailable_reason(
    model: CatalogModel, *, session: Session, own_keys: frozenset[str] = frozenset()
) -> str:
    """Empty when the model can be used now (with `own_keys`: providers the person has a key for)."""
    if not model.enabled:
        return "Disabled by the operator."
    if model.provider == "ollama":
        return ollama_gap(session=session)
    return configuration_gap(model, own_key=model.key_env is None and model.provider in own_keys)


def model_info(model: CatalogModel, reason: str) -> dict:
    """The stable JSON shape of a model (the API and the picker both show this)."""
    return {
        "id": model.id,
        "name": model.name,
        "provider": {"id": model.provider, "name": model.provider_name},
        "type": model.type,
        "capabilities": list(model.capabilities),
        "context_window": model.context_window,
        "pricing": {
            "input_per_mtok": model.input_per_mtok,
            "output_per_mtok": model.output_per_mtok,
            "per_image": model.per_image,
            "per_second": model.per_second,
        },
        "available": not reason,
        "unavailable_reason": reason,
    }


def _price(info: dict) -> float:
    p = info["pricing"]
    values = [v for v in (p["input_per_mtok"], p["per_image"], p["per_second"]) if v is not None]
    return values[0] if values else float("inf")


def _check_choice(name: str, value: str | None, allowed) -> None:
    if value is not None and value not in allowed:
        raise Invalid(f"Unknown {name} {value!r}: use one of {', '.join(allowed)}.")


def list_models(
    *,
    session: Session,
    type: str | None = None,
    provider: str | None = None,
    capabilities: tuple[str, ...] = (),
    q: str | None = None,
    sort: str = "name",
    order: str = "asc",
    reader: User | None = None,
) -> list[dict]:
    """The catalog as `reader` sees it, filtered and sorted; bad parameters raise Invalid."""
    own_keys = _own_keys(reader, session=session)
    _check_choice("type", type, files.MODEL_TYPES)
    _check_choice("sort", sort, SORTS)
    _check_choice("order", order, ORDERS)
    for capability in capabilities:
        _check_choice("capability", capability, files.CAPABILITIES)
    if q is not None and len(q) > 200:
        raise Invalid("Keep the search under 200 characters.")
    if provider_variable(OLLAMA_API_BASE):
        ollama_gap(session=session)  # refreshes the discovered models at most every 30 s
    rows = session.exec(select(ModelEntry).order_by(col(ModelEntry.position)))
    infos = []
    providers_seen = set()
    for row in rows:
        providers_seen.add(row.provider)
        model = as_catalog_model(row)
        if type and model.type != type or provider and model.provider != provider:
            continue
        if any(c not in model.capabilities for c in capabilities):
            continue
        if q and q.strip().lower() not in f"{model.name} {model.id} {model.provider_name}".lower():
            continue
        infos.append(model_info(model, unavailable_reason(model, session=session, own_keys=own_keys)))
    if provider is not None and provider not in providers_seen:
        raise Invalid(f"Unknown provider {provider!r}.")
    keys = {
        "name": lambda i: i["name"].lower(),
        "provider": lambda i: (i["provider"]["name"].lower(), i["name"].lower()),
        "price": _price,
        "context": lambda i: i["context_window"] or 0,
    }
    return sorted(infos, key=keys[sort], reverse=order == "desc")


def _own_keys(reader: User | None, *, session: Session) -> frozenset[str]:
    """Providers `reader` stored a key for: models that need one are available to them."""
    return frozenset(keys.own_key_providers(reader.id, session=session)) if reader else frozenset()


def model_names(model_ids: set[str], *, session: Session) -> dict[str, str]:
    """The catalog's names of these models (a model gone from it keeps its id): those looked up a
    moment ago from there (a send has just resolved its model), the rest in one query."""
    found: dict[str, str] = {}
    unknown = set()
    for model_id in model_ids:
        known, model = _recently_resolved(model_id, session=session)
        if known and model is not None:
            found[model_id] = model.name
        elif not known:
            unknown.add(model_id)
    if unknown:
        rows = session.execute(
            sa.select(col(ModelEntry.id), col(ModelEntry.name)).where(col(ModelEntry.id).in_(unknown))
        )
        found.update({model_id: name for model_id, name in rows})
    return {model_id: found.get(model_id, model_id) for model_id in model_ids}


def default_model_for(person: User, *, session: Session) -> str | None:
    """The model a new chat of `person` starts with: their choice, else the catalog's default."""
    return person.default_model_id or default_model_id(
        session=session, own_keys=_own_keys(person, session=session)
    )


def text_models(*, session: Session) -> list[CatalogModel]:
    """The catalog's text models, in its order."""
    rows = session.exec(
        select(ModelEntry).where(ModelEntry.type == "text").order_by(col(ModelEntry.position))
    )
    return [as_catalog_model(row) for row in rows]


def usable_by_price(
    models: list[CatalogModel], *, session: Session, own_keys: frozenset[str] = frozenset()
) -> list[CatalogModel]:
    """Those of `models` that can be used now (with `own_keys`: the providers the payer has a key
    for), cheapest first."""
    usable = [m for m in models if not unavailable_reason(m, session=session, own_keys=own_keys)]
    return sorted(usable, key=call_price)


def default_model_id(*, session: Session, own_keys: frozenset[str] = frozenset()) -> str | None:
    """The operator's DEFAULT_MODEL when it can be used now; else the cheapest usable text model
    that sees images, the cheapest usable text model, or the first text model."""
    models = text_models(session=session)
    if not models:
        return None
    by_price = usable_by_price(models, session=session, own_keys=own_keys)
    chosen = get_settings().default_model
    if any(m.id == chosen for m in by_price):
        return chosen
    seeing = [m for m in by_price if "vision" in m.capabilities]
    return (seeing or by_price or models)[0].id


def call_price(model: CatalogModel) -> float:
    """What a short call costs, by the catalog's prices (a prompt weighs more than the few words
    of a reply); a model without prices comes last."""
    if model.input_per_mtok is None and model.output_per_mtok is None:
        return math.inf
    return (model.input_per_mtok or 0) + (model.output_per_mtok or 0) / 10


def sync_configured_catalog() -> int:
    """Seed or upgrade the catalog of the configured database (at start-up and after migrating)."""
    from chat_app.db import session_scope

    with session_scope() as session:
        return sync_catalog(session=session, operator_file=get_settings().operator_catalog or None)
