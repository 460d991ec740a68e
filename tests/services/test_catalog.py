"""The catalog table: seeded and upgraded from the files, operators' own endpoints, Ollama discovery,
availability with reasons, filters and sorting."""

import json

import pytest
from sqlmodel import Session, select

from chat_app import catalog as files
from chat_app.models import ModelEntry
from chat_app.services import catalog
from chat_app.services.errors import Invalid
from tests.support.statements import statements_run


@pytest.fixture(autouse=True)
def _no_providers(monkeypatch):
    for name in (
        "OPENAI_API_KEY",
        "ANTHROPIC_API_KEY",
        "GEMINI_API_KEY",
        "DEEPSEEK_API_KEY",
        "OLLAMA_API_BASE",
        "REPLICATE_API_TOKEN",
    ):
        monkeypatch.delenv(name, raising=False)
    catalog._ollama_state.clear()


def test_seeding_covers_text_image_and_video_with_prices_from_litellm(session):
    rows = {r.id: r for r in session.exec(select(ModelEntry))}
    types = {r.type for r in rows.values()}
    assert types == {"text", "image", "video"}
    gpt = rows["openai/gpt-4o"]
    assert gpt.context_window == 128000 and gpt.input_per_mtok == 2.5  # from LiteLLM's price map
    assert rows["replicate/stability-ai/sdxl"].per_image > 0
    assert rows["replicate/cjwbw/videocrafter"].per_second > 0
    assert catalog.sync_catalog(session=session) == len(rows)  # idempotent


def test_catalog_vision_flags_agree_with_litellm(session):
    import litellm

    checked = 0
    for row in session.exec(select(ModelEntry).where(ModelEntry.type == "text")):  # what the picker offers
        name = row.litellm_model
        info = litellm.model_cost.get(name) or litellm.model_cost.get(name.split("/", 1)[-1])
        if info:  # LiteLLM's own vision flag, where it knows the model
            checked += 1
            assert ("vision" in row.capabilities) == bool(info.get("supports_vision")), row.id
    assert checked >= 6


def test_an_operator_file_adds_endpoints_disables_models_and_upgrades(session, tmp_path, monkeypatch):
    path = tmp_path / "operator.json"
    path.write_text(
        json.dumps(
            {
                "version": 1,
                "disabled": ["openai/gpt-4o-mini"],
                "endpoints": [
                    {
                        "id": "lab",
                        "name": "Our Lab",
                        "api_base": "http://127.0.0.1:9/v1",
                        "key_env": "LAB_API_KEY",
                        "models": [
                            {
                                "id": "llama-70b",
                                "name": "Llama 70B",
                                "context_window": 8192,
                                "pricing": {"input_per_mtok": 0.5, "output_per_mtok": 0.5},
                            }
                        ],
                    }
                ],
            }
        )
    )
    catalog.sync_catalog(session=session, operator_file=path)
    lab = catalog.resolve_model("lab/llama-70b", session=session)
    assert lab.api_base == "http://127.0.0.1:9/v1" and lab.litellm_model == "openai/llama-70b"
    assert (
        catalog.unavailable_reason(lab, session=session)
        == "Our Lab is not configured: the server has no LAB_API_KEY."
    )
    monkeypatch.setenv("LAB_API_KEY", "k")
    assert catalog.unavailable_reason(lab, session=session) == ""
    mini = catalog.resolve_model("openai/gpt-4o-mini", session=session)
    assert catalog.unavailable_reason(mini, session=session) == "Disabled by the operator."
    before = session.get(ModelEntry, "openai/gpt-4o").catalog_version
    path.write_text(json.dumps({"version": 2, "endpoints": []}))
    catalog.sync_catalog(session=session, operator_file=path)
    assert session.get(ModelEntry, "lab/llama-70b") is None  # gone from the file, gone from the table
    assert session.get(ModelEntry, "openai/gpt-4o").catalog_version > before
    assert catalog.resolve_model("openai/gpt-4o-mini", session=session).enabled


def test_a_bad_operator_file_is_refused_with_the_reason(session, tmp_path):
    path = tmp_path / "bad.json"
    path.write_text(
        json.dumps({"version": 1, "models": [{"id": "x", "name": "X", "provider": "p", "type": "audio"}]})
    )
    with pytest.raises(files.CatalogError, match="unknown type"):
        catalog.sync_catalog(session=session, operator_file=path)


def test_ollama_models_are_discovered_and_unavailable_when_it_is_down(session, fake_providers, monkeypatch):
    monkeypatch.setenv("OLLAMA_API_BASE", fake_providers.base_url)
    ollama = [m for m in catalog.list_models(session=session, provider="ollama")]
    assert {m["id"] for m in ollama} >= {"ollama/llama3.2", "ollama/qwen2.5:0.5b"}
    assert all(m["available"] and m["type"] == "text" for m in ollama)
    monkeypatch.setenv("OLLAMA_API_BASE", "http://127.0.0.1:9")  # nothing listens there
    down = catalog.list_models(session=session, provider="ollama")
    assert down and not any(m["available"] for m in down)
    assert down[0]["unavailable_reason"] == "Ollama is not reachable at http://127.0.0.1:9."


def test_unconfigured_providers_say_which_variable_is_missing(session, monkeypatch):
    infos = {m["id"]: m for m in catalog.list_models(session=session)}
    assert infos["anthropic/claude-sonnet-4-5"]["unavailable_reason"] == (
        "Anthropic is not configured: the server has no ANTHROPIC_API_KEY. You can add your own key in Settings."
    )
    assert "no REPLICATE_API_TOKEN." in infos["replicate/stability-ai/sdxl"]["unavailable_reason"]
    monkeypatch.setenv("ANTHROPIC_API_KEY", "k")
    infos = {m["id"]: m for m in catalog.list_models(session=session)}
    assert infos["anthropic/claude-sonnet-4-5"]["available"] is True


def test_filters_search_and_sorting(session):
    images = catalog.list_models(session=session, type="image")
    assert images and all(m["type"] == "image" for m in images)
    vision = catalog.list_models(session=session, capabilities=("vision", "reasoning"))
    assert vision and all({"vision", "reasoning"} <= set(m["capabilities"]) for m in vision)
    assert [m["id"] for m in catalog.list_models(session=session, q="flux")] == [
        "replicate/black-forest-labs/flux-schnell"
    ]
    by_context = catalog.list_models(session=session, type="text", sort="context", order="desc")
    windows = [m["context_window"] for m in by_context]
    assert windows == sorted(windows, reverse=True)
    names = [m["name"].lower() for m in catalog.list_models(session=session)]
    assert names == sorted(names)
    cheap_first = catalog.list_models(session=session, type="text", sort="price")
    prices = [m["pricing"]["input_per_mtok"] for m in cheap_first]
    assert prices == sorted(prices)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"type": "audio"},
        {"sort": "speed"},
        {"order": "up"},
        {"capabilities": ("telepathy",)},
        {"provider": "nobody"},
        {"q": "x" * 300},
    ],
)
def test_bad_parameters_are_refused(session, kwargs):
    with pytest.raises(Invalid):
        catalog.list_models(session=session, **kwargs)


def test_workers_discovering_ollamas_models_at_once_never_collide(engine):
    """Two requests (two workers) record the same new models at the same moment: both succeed."""
    import threading

    first, second = Session(engine), Session(engine)
    catalog._record_ollama_models(["llama3.2:latest", "qwen2.5:0.5b"], session=first)  # not committed yet
    failures: list[BaseException] = []

    def record_too() -> None:
        try:
            catalog._record_ollama_models(["llama3.2:latest", "qwen2.5:0.5b"], session=second)
            second.commit()
        except BaseException as exc:
            failures.append(exc)

    racer = threading.Thread(target=record_too)
    racer.start()
    racer.join(timeout=0.5)  # it waits for the first writer
    first.commit()
    racer.join(timeout=30)
    assert not racer.is_alive() and failures == []
    with Session(engine) as check:
        ids = {m.id for m in check.exec(select(ModelEntry).where(ModelEntry.source == "ollama"))}
    assert ids == {"ollama/llama3.2", "ollama/qwen2.5:0.5b"}
    first.close()
    second.close()


def test_an_unchanged_ollama_list_writes_nothing(engine):
    with Session(engine) as session:
        catalog._record_ollama_models(["llama3.2:latest"], session=session)
        session.commit()
        with statements_run(engine) as run:
            catalog._record_ollama_models(["llama3.2:latest"], session=session)
            session.commit()
    writes = [s.text for s in run if not s.text.lstrip().upper().startswith("SELECT")]
    assert writes == []


def test_a_model_looked_up_moments_ago_follows_a_catalog_change_at_once(session, tmp_path):
    assert catalog.resolve_model("openai/gpt-4o-mini", session=session).enabled
    path = tmp_path / "ops.json"
    path.write_text(json.dumps({"version": 1, "disabled": ["openai/gpt-4o-mini"], "models": []}))
    catalog.sync_catalog(session=session, operator_file=path)
    session.commit()
    assert not catalog.resolve_model("openai/gpt-4o-mini", session=session).enabled


def test_names_of_models_looked_up_moments_ago_need_no_query(session, engine):
    """A send resolves its model, then shows its messages with the model's name: one read."""
    catalog._catalog_changed()
    with statements_run(engine) as reads:
        model = catalog.resolve_model("openai/gpt-4o-mini", session=session)
        assert model is not None and len(reads) == 1
        mini = catalog.model_names({"openai/gpt-4o-mini"}, session=session)
        assert mini == {"openai/gpt-4o-mini": model.name}
        assert len(reads) == 1
        names = catalog.model_names({"openai/gpt-4o-mini", "openai/gpt-4o", "gone/model"}, session=session)
        assert names == {
            "openai/gpt-4o-mini": model.name,
            "openai/gpt-4o": "GPT-4o",
            "gone/model": "gone/model",
        }
        assert len(reads) == 2 and "gpt-4o-mini" not in str(reads[1].params)  # only the others were asked for
        catalog._catalog_changed()  # a write to the catalog here: names are read again
        catalog.model_names({"openai/gpt-4o-mini"}, session=session)
        assert len(reads) == 3


def test_a_new_persons_model_is_the_operators_choice_or_the_cheapest_that_sees_images(session, configure):
    from tests.support.factories import make_user

    configure(OPENAI_API_KEY="sk-test", ANTHROPIC_API_KEY="sk-ant-test")
    person = make_user(session)
    assert catalog.default_model_for(person, session=session) == "openai/gpt-4o-mini"
    configure(DEFAULT_MODEL="anthropic/claude-haiku-4-5")
    assert catalog.default_model_for(person, session=session) == "anthropic/claude-haiku-4-5"
    configure(DEFAULT_MODEL="deepseek/deepseek-chat")  # no DeepSeek key: not usable now
    assert catalog.default_model_for(person, session=session) == "openai/gpt-4o-mini"
    person.default_model_id = "anthropic/claude-sonnet-4-5"  # the person's last choice
    assert catalog.default_model_for(person, session=session) == "anthropic/claude-sonnet-4-5"


def test_without_a_usable_model_that_sees_images_the_cheapest_usable_text_model_is_the_default(
    session, configure
):
    configure(DEEPSEEK_API_KEY="sk-deepseek")
    assert catalog.default_model_id(session=session) == "deepseek/deepseek-chat"
    configure(DEEPSEEK_API_KEY="")
    assert catalog.default_model_id(session=session) == "anthropic/claude-opus-4-5"  # the first, unusable
