"""ember.cost.table: parsing and validating price tables, loading files, the bundled table."""

from __future__ import annotations

import json
import tomllib
from datetime import date
from importlib import resources
from pathlib import Path
from typing import Any

import pytest

from ember.cost.table import (
    PICO_PER_USD,
    Price,
    PriceTable,
    bundled_table,
    load_file,
    load_prices,
    parse_table,
)
from ember.errors import SettingsError

ORIGIN = "prices-under-test.toml"
# One USD per million tokens, in pico-dollars per token.
PICO_PER_TOKEN_AT_ONE_USD = PICO_PER_USD // 10**6


def document(*models: dict[str, Any], **provider: Any) -> dict[str, Any]:
    """A decoded table with one provider holding `models`; `provider` overrides its fields."""
    entry: dict[str, Any] = {
        "name": "acme",
        "source": "https://acme.example/pricing",
        "read_on": "2025-01-02",
        "model": list(models),
    }
    entry.update(provider)
    return {"provider": [entry]}


def model(name: str = "acme-1", **fields: Any) -> dict[str, Any]:
    """A model entry with prompt 1.0 / completion 2.0 unless `fields` say otherwise."""
    return {"name": name, "prompt": 1.0, "completion": 2.0, **fields}


def settings_error(doc: Any) -> str:
    """The message of the SettingsError that parsing `doc` raises."""
    with pytest.raises(SettingsError) as info:
        parse_table(doc, ORIGIN)
    return info.value.message


# ------------------------------------------------------------------------------ parse_table


def test_minimal_table_parses_to_pico_rates() -> None:
    """A valid entry becomes a Price with rates in pico-dollars per token and its provenance."""
    table = parse_table(document(model(prompt=0.15, completion=0.6, cache_read=0.075)), ORIGIN)
    assert len(table) == 1
    assert table.lookup("acme-1") == Price(
        model="acme-1",
        provider="acme",
        prompt=150_000,
        completion=600_000,
        cache_read=75_000,
        cache_write=None,
        source="https://acme.example/pricing",
        read_on="2025-01-02",
    )


def test_one_usd_per_million_is_a_million_pico_per_token() -> None:
    """The unit: 1 USD per 1M tokens is 1e-6 USD = 1e6 pico-dollars per token."""
    price = parse_table(document(model(prompt=1, completion=1)), ORIGIN).lookup("acme-1")
    assert price is not None
    assert price.prompt == PICO_PER_TOKEN_AT_ONE_USD == 1_000_000


def test_names_and_provider_are_lowercased_and_aliases_resolve_to_the_same_price() -> None:
    """Names are case-insensitive keys; every alias maps to the very same Price object."""
    table = parse_table(
        document(model("Acme-Big", aliases=["ACME-LARGE", "acme-xl"]), name="ACME"), ORIGIN
    )
    price = table.lookup("acme-big")
    assert price is not None
    assert price.model == "acme-big"
    assert price.provider == "acme"
    assert table.lookup("acme-large") is price
    assert table.lookup("acme-xl") is price
    assert len(table) == 3  # three names ...
    assert table.models() == [price]  # ... one model


def test_completion_defaults_to_zero_and_optional_rates_to_none() -> None:
    """An embedding model needs only a prompt rate; cache rates are absent unless given."""
    price = parse_table(document({"name": "embed-1", "prompt": 0.02}), ORIGIN).lookup("embed-1")
    assert price is not None
    assert (price.prompt, price.completion) == (20_000, 0)
    assert price.cache_read is None
    assert price.cache_write is None


def test_zero_rates_are_allowed() -> None:
    """A free model (rate 0) is a valid price, distinct from a missing one."""
    price = parse_table(document(model(prompt=0, completion=0, cache_read=0)), ORIGIN).lookup(
        "acme-1"
    )
    assert price is not None
    assert (price.prompt, price.completion, price.cache_read) == (0, 0, 0)


def test_fractional_rates_are_exact() -> None:
    """Rates go through Decimal, so e.g. 0.01875 USD/1M is exactly 18,750 pico per token."""
    price = parse_table(
        document(model(prompt=0.01875, completion=0.0375, cache_write=3.75)), ORIGIN
    ).lookup("acme-1")
    assert price is not None
    assert (price.prompt, price.completion, price.cache_write) == (18_750, 37_500, 3_750_000)


def test_provider_without_models_is_valid() -> None:
    """A provider may list no models (yet): the table is simply empty."""
    doc = {"provider": [{"name": "acme", "source": "s", "read_on": "2025-01-02"}]}
    assert len(parse_table(doc, ORIGIN)) == 0


def test_several_providers_keep_their_own_provenance() -> None:
    """Each model carries the source and read_on of the provider it is listed under."""
    doc = document(model("a-1"))
    doc["provider"].append(
        {"name": "other", "source": "https://other.example", "read_on": "2024-12-31",
         "model": [model("o-1")]}
    )
    table = parse_table(doc, ORIGIN)
    a, o = table.lookup("a-1"), table.lookup("o-1")
    assert a is not None and o is not None
    assert (a.provider, a.source, a.read_on) == ("acme", "https://acme.example/pricing",
                                                 "2025-01-02")
    assert (o.provider, o.source, o.read_on) == ("other", "https://other.example", "2024-12-31")


@pytest.mark.parametrize("doc", [[], "provider", {}, {"provider": {"name": "x"}}, None])
def test_document_without_a_provider_list_is_rejected(doc: Any) -> None:
    """The top level must be a table with a `provider` list; the message names the file."""
    message = settings_error(doc)
    assert ORIGIN in message
    assert "[[provider]]" in message


def test_provider_that_is_not_a_table_is_rejected() -> None:
    """A provider entry that is not a table names the file and the entry's position."""
    message = settings_error({"provider": ["openai"]})
    assert f"{ORIGIN}: provider 1" in message


@pytest.mark.parametrize("field", ["name", "source", "read_on"])
@pytest.mark.parametrize("bad", ["missing", "", "   ", 7])
def test_provider_needs_name_source_and_read_on(field: str, bad: Any) -> None:
    """A missing, empty or non-string provider field is named, with the provider's position."""
    doc = document(model())
    if bad == "missing":
        del doc["provider"][0][field]
    else:
        doc["provider"][0][field] = bad
    message = settings_error(doc)
    assert f"{ORIGIN}: provider 1" in message
    assert field in message


def test_second_provider_error_names_provider_2() -> None:
    """The position in the message points at the faulty entry, not the first one."""
    doc = document(model())
    doc["provider"].append({"name": "other", "source": "s"})
    message = settings_error(doc)
    assert f"{ORIGIN}: provider 2" in message
    assert "read_on" in message


@pytest.mark.parametrize(
    "read_on", ["yesterday", "2025-13-01", "2025-02-30", "01/02/2025", "20250101"]
)
def test_read_on_must_be_an_iso_date(read_on: str) -> None:
    """read_on that is not a real YYYY-MM-DD date is rejected, naming the field."""
    message = settings_error(document(model(), read_on=read_on))
    assert f"{ORIGIN}: provider 1" in message
    assert "read_on must be a date YYYY-MM-DD" in message


def test_read_on_may_be_a_toml_date() -> None:
    """TOML's own date type (read_on = 2025-08-07, unquoted) is accepted like the text form."""
    table = parse_table(
        tomllib.loads(
            '[[provider]]\nname = "acme"\nsource = "s"\nread_on = 2025-08-07\n'
            '[[provider.model]]\nname = "acme-1"\nprompt = 1.0\n'
        ),
        ORIGIN,
    )
    price = table.lookup("acme-1")
    assert price is not None and price.read_on == "2025-08-07"


def test_models_that_are_not_a_list_are_rejected() -> None:
    """`model` must be a list of tables."""
    doc = document()
    doc["provider"][0]["model"] = {"name": "acme-1", "prompt": 1}
    message = settings_error(doc)
    assert f"{ORIGIN}: provider 1" in message
    assert "model must be a list" in message


def test_model_that_is_not_a_table_is_rejected() -> None:
    """A model entry that is not a table names its provider and position."""
    message = settings_error(document(model(), "acme-2"))
    assert f"{ORIGIN}: provider 1 (acme), model 2" in message


@pytest.mark.parametrize("name", ["missing", "", 3])
def test_model_without_a_name_is_rejected(name: Any) -> None:
    """A nameless model is found by provider and position, and the message names `name`."""
    entry = model()
    if name == "missing":
        del entry["name"]
    else:
        entry["name"] = name
    message = settings_error(document(model("ok-1"), entry))
    assert f"{ORIGIN}: provider 1 (acme), model 2: name" in message


def test_model_without_prompt_rate_is_rejected() -> None:
    """`prompt` is required; the message names the model and the field."""
    entry = model()
    del entry["prompt"]
    message = settings_error(document(entry))
    assert f"{ORIGIN}: model 'acme-1': prompt" in message
    assert "number" in message


@pytest.mark.parametrize("field", ["prompt", "completion", "cache_read", "cache_write"])
@pytest.mark.parametrize(
    "value",
    [-1, -0.01, "cheap", "nan", "inf", "1.5", float("nan"), float("inf"), True, False, None,
     [1.0], {"usd": 1}],
)
def test_bad_rates_are_rejected(field: str, value: Any) -> None:
    """Negative, non-finite, non-numeric and boolean rates are errors naming model and field."""
    message = settings_error(document(model(**{field: value})))
    assert f"{ORIGIN}: model 'acme-1': {field}" in message


@pytest.mark.parametrize(
    ("aliases_a", "name_b", "aliases_b", "repeated"),
    [
        ([], "acme-1", [], "acme-1"),  # the same name twice
        ([], "ACME-1", [], "acme-1"),  # ... case-insensitively
        (["acme-one"], "acme-2", ["acme-one"], "acme-one"),  # an alias twice
        ([], "acme-2", ["acme-1"], "acme-1"),  # an alias equal to another model's name
        (["acme-2"], "acme-2", [], "acme-2"),  # a name equal to another model's alias
        (["acme-1"], "acme-2", [], "acme-1"),  # a model whose alias is its own name
    ],
)
def test_a_name_appearing_twice_is_rejected(
    aliases_a: list[str], name_b: str, aliases_b: list[str], repeated: str
) -> None:
    """Names and aliases share one namespace; the message names the repeated name."""
    doc = document(model("acme-1", aliases=aliases_a), model(name_b, aliases=aliases_b))
    message = settings_error(doc)
    assert ORIGIN in message
    assert f"the name {repeated!r} appears twice" in message


def test_a_name_repeated_across_providers_is_rejected() -> None:
    """Uniqueness spans the whole table, not one provider."""
    doc = document(model("shared-1"))
    doc["provider"].append(
        {"name": "other", "source": "s", "read_on": "2025-01-01", "model": [model("shared-1")]}
    )
    assert "the name 'shared-1' appears twice" in settings_error(doc)


@pytest.mark.parametrize("aliases", ["acme-one", {"a": "b"}, [1], ["ok", None], 5])
def test_aliases_must_be_a_list_of_names(aliases: Any) -> None:
    """`aliases` must be a list of strings; the message names the model and the field."""
    message = settings_error(document(model(aliases=aliases)))
    assert f"{ORIGIN}: model 'acme-1': aliases must be a list" in message


def test_unknown_fields_such_as_note_are_ignored() -> None:
    """Free-form fields (the bundled table's `note`) do not disturb parsing."""
    table = parse_table(document(model(note="tiered above 128K", tier="x")), ORIGIN)
    assert table.lookup("acme-1") is not None


# ------------------------------------------------------------------------------ load_file

TOML_TABLE = """
[[provider]]
name = "acme"
source = "https://acme.example/pricing"
read_on = "2025-03-04"

[[provider.model]]
name = "acme-chat"
aliases = ["acme-chat-v"]
prompt = 0.5
completion = 1.5
cache_read = 0.05
"""


def test_load_file_reads_toml(tmp_path: Path) -> None:
    """A .toml file is parsed as TOML."""
    path = tmp_path / "prices.toml"
    path.write_text(TOML_TABLE)
    price = load_file(path).lookup("acme-chat-v")
    assert price is not None
    assert (price.model, price.prompt, price.completion, price.cache_read) == (
        "acme-chat", 500_000, 1_500_000, 50_000
    )
    assert price.read_on == "2025-03-04"


@pytest.mark.parametrize("filename", ["prices.json", "PRICES.JSON"])
def test_load_file_reads_json_by_extension(tmp_path: Path, filename: str) -> None:
    """A .json file (any case) is parsed as JSON with the same shape."""
    path = tmp_path / filename
    path.write_text(json.dumps(document(model("json-model", prompt=2.5, completion=10))))
    price = load_file(path).lookup("json-model")
    assert price is not None
    assert (price.prompt, price.completion) == (2_500_000, 10_000_000)


@pytest.mark.parametrize("filename", ["prices.txt", "prices", "prices.conf"])
def test_other_extensions_are_read_as_toml(tmp_path: Path, filename: str) -> None:
    """Anything but .json is TOML."""
    path = tmp_path / filename
    path.write_text(TOML_TABLE)
    assert load_file(path).lookup("acme-chat") is not None


def test_json_content_in_a_toml_file_does_not_parse(tmp_path: Path) -> None:
    """The extension decides the format: JSON in a .toml file is a parse error."""
    path = tmp_path / "prices.toml"
    path.write_text(json.dumps(document(model())))
    with pytest.raises(SettingsError, match="does not parse"):
        load_file(path)


def test_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    """A path that does not exist names the path and the OS reason."""
    path = tmp_path / "nope.toml"
    with pytest.raises(SettingsError) as info:
        load_file(path)
    assert info.value.message.startswith(f"cannot read the price file {path}")
    assert "No such file" in info.value.message


def test_directory_is_a_clear_error(tmp_path: Path) -> None:
    """A directory is not readable as a price file."""
    with pytest.raises(SettingsError, match="cannot read the price file"):
        load_file(tmp_path)


@pytest.mark.parametrize(
    ("filename", "content"),
    [
        ("bad.toml", b"[[provider]\nname = "),
        ("bad.toml", b"name = \"\xff\xfe\""),  # not UTF-8
        ("bad.json", b"{\"provider\": ["),
        ("bad.json", b"\xff\xfe\x00garbage"),
        ("empty.json", b""),
    ],
)
def test_unparsable_file_is_a_clear_error(tmp_path: Path, filename: str, content: bytes) -> None:
    """Syntax errors and bad encodings are a SettingsError naming the file, never a crash."""
    path = tmp_path / filename
    path.write_bytes(content)
    with pytest.raises(SettingsError) as info:
        load_file(path)
    assert f"the price file {path} does not parse" in info.value.message


def test_empty_toml_file_is_a_validation_error_naming_the_file(tmp_path: Path) -> None:
    """An empty TOML file parses (to {}) and then fails validation, naming the file."""
    path = tmp_path / "empty.toml"
    path.write_text("")
    with pytest.raises(SettingsError) as info:
        load_file(path)
    assert info.value.message == f"{path}: expected a list of [[provider]] tables"


def test_validation_errors_from_a_file_name_the_file(tmp_path: Path) -> None:
    """Validation messages use the file's path as their origin."""
    path = tmp_path / "prices.json"
    path.write_text(json.dumps(document(model(prompt=-1))))
    with pytest.raises(SettingsError) as info:
        load_file(path)
    assert info.value.message.startswith(f"{path}: model 'acme-1': prompt")


# ------------------------------------------------------------------------------ load_prices


def test_load_prices_without_a_file_is_the_bundled_table(bundled: PriceTable) -> None:
    """An empty EMBER_PRICES_FILE setting means the bundled table alone."""
    table = load_prices("")
    assert len(table) == len(bundled)
    assert table.models() == bundled.models()


def test_load_prices_adds_and_overrides_by_name(tmp_path: Path, bundled: PriceTable) -> None:
    """A user file adds new models and replaces bundled ones of the same name; the rest stay."""
    path = tmp_path / "mine.toml"
    path.write_text(
        """
[[provider]]
name = "mine"
source = "https://internal.example/rates"
read_on = "2025-09-09"

[[provider.model]]
name = "gpt-4o-mini"
prompt = 1.0
completion = 2.0

[[provider.model]]
name = "house-llm"
aliases = ["house-llm-large"]
prompt = 0.3
completion = 0.9
"""
    )
    table = load_prices(str(path))
    overridden = table.lookup("gpt-4o-mini")
    assert overridden is not None
    assert (overridden.prompt, overridden.completion) == (1_000_000, 2_000_000)
    assert (overridden.provider, overridden.read_on) == ("mine", "2025-09-09")
    assert overridden.cache_read is None  # the override replaces the entry, not single fields
    # dated ids reach the override through suffix stripping
    assert table.lookup("gpt-4o-mini-2024-07-18") is overridden
    added = table.lookup("house-llm-large")
    assert added is not None
    assert added.model == "house-llm"
    # other bundled models are untouched
    for name in ("gpt-4o", "claude-3-5-sonnet", "gemini-2.0-flash", "text-embedding-3-small"):
        assert table.lookup(name) == bundled.lookup(name)
    assert len(table) == len(bundled) + 2
    # the bundled table itself is not modified
    original = bundled.lookup("gpt-4o-mini")
    assert original is not None
    assert original.prompt == 150_000


def test_load_prices_expands_the_home_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`~/prices.json` is read from the home directory."""
    monkeypatch.setenv("HOME", str(tmp_path))
    (tmp_path / "prices.json").write_text(json.dumps(document(model("home-model"))))
    assert load_prices("~/prices.json").lookup("home-model") is not None


def test_load_prices_with_a_bad_file_raises(tmp_path: Path) -> None:
    """A broken user file is an error at start-up, not a silently bundled-only table."""
    with pytest.raises(SettingsError, match="cannot read the price file"):
        load_prices(str(tmp_path / "missing.toml"))


def test_merged_prefers_the_other_table() -> None:
    """`merged` adds the other table's names and lets them win on conflicts."""
    base = parse_table(document(model("a", prompt=1), model("b", prompt=1)), "base")
    extra = parse_table(document(model("b", prompt=5), model("c", prompt=5)), "extra")
    merged = base.merged(extra)
    prompts = {n: p.prompt for n in "abc" if (p := merged.lookup(n)) is not None}
    assert prompts == {"a": 1_000_000, "b": 5_000_000, "c": 5_000_000}
    assert len(base) == 2  # unchanged


def test_overriding_a_model_also_reprices_its_bundled_aliases(tmp_path: Path) -> None:
    """Overriding `gpt-4-turbo` should reprice every id of that model, aliases included."""
    path = tmp_path / "mine.json"
    path.write_text(json.dumps(document(model("gpt-4-turbo", prompt=1, completion=1))))
    table = load_prices(str(path))
    prompts = {
        name: price.prompt if (price := table.lookup(name)) else None
        for name in ("gpt-4-turbo", "gpt-4-turbo-preview", "gpt-4-0125-preview")
    }
    assert prompts == dict.fromkeys(prompts, 1_000_000)


# ------------------------------------------------------------------------------ bundled table

BUNDLED_PROVIDERS = {"openai", "anthropic", "google", "mistralai", "meta", "deepseek"}


def bundled_document() -> dict[str, Any]:
    text = resources.files("ember.cost").joinpath("prices.toml").read_text("utf-8")
    return tomllib.loads(text)


def test_bundled_table_loads(bundled: PriceTable) -> None:
    """The shipped prices.toml is valid and not trivially small."""
    assert len(bundled.models()) >= 50
    assert len(bundled) > len(bundled.models())  # some aliases


def test_bundled_table_has_every_provider(bundled: PriceTable) -> None:
    """Models from each of the six providers are present."""
    providers = {p.provider for p in bundled.models()}
    assert providers >= BUNDLED_PROVIDERS


def test_every_bundled_provider_has_a_source_and_read_on_date() -> None:
    """Each provider names an https source and the date its prices were read, and has models."""
    for provider in bundled_document()["provider"]:
        assert provider["source"].startswith("https://"), provider["name"]
        assert isinstance(provider["read_on"], str), provider["name"]
        assert date.fromisoformat(provider["read_on"]) <= date.today(), provider["name"]
        assert provider["model"], provider["name"]


def test_every_bundled_price_carries_its_provenance(bundled: PriceTable) -> None:
    """Every Price knows where it comes from (shown beside each priced span)."""
    for price in bundled.models():
        assert price.source.startswith("https://"), price.model
        assert len(price.read_on) == 10, price.model
        date.fromisoformat(price.read_on)


def test_bundled_rates_are_plausible(bundled: PriceTable) -> None:
    """Data sanity: prompt rates positive; cache reads cheaper than input, writes not cheaper."""
    for price in bundled.models():
        assert price.prompt > 0, price.model
        assert price.completion >= 0, price.model
        if price.cache_read is not None:
            assert price.cache_read < price.prompt, price.model
        if price.cache_write is not None:
            assert price.cache_write >= price.prompt, price.model


def test_bundled_names_are_their_own_entries(bundled: PriceTable) -> None:
    """Each bundled name and alias looks up to its own entry (exact names win over stripping)."""
    for provider in bundled_document()["provider"]:
        for entry in provider["model"]:
            for name in (entry["name"], *entry.get("aliases", [])):
                price = bundled.lookup(name)
                assert price is not None, name
                assert price.model == entry["name"].lower(), name


@pytest.mark.parametrize("suffix", ["-2025-01-01", "-20250101", "@20250101", "-latest"])
def test_every_bundled_name_survives_a_date_suffix(bundled: PriceTable, suffix: str) -> None:
    """A dated snapshot of any bundled name is priced as that name, never a shorter one."""
    for price in bundled.models():
        found = bundled.lookup(price.model + suffix)
        assert found is not None, price.model + suffix
        assert found.model == price.model, price.model + suffix


@pytest.mark.parametrize(
    ("name", "prompt", "completion", "cache_read", "cache_write"),
    [
        ("gpt-4o-mini", 0.15, 0.60, 0.075, None),
        ("gpt-4o", 2.50, 10.00, 1.25, None),
        ("text-embedding-3-small", 0.02, 0, None, None),
        ("text-embedding-3-large", 0.13, 0, None, None),
        ("claude-3-5-sonnet", 3.00, 15.00, 0.30, 3.75),
        ("claude-3-haiku", 0.25, 1.25, 0.03, 0.30),
        ("gemini-1.5-flash", 0.075, 0.30, 0.01875, None),
        ("gpt-3.5-turbo", 0.50, 1.50, None, None),
    ],
)
def test_well_known_list_prices(
    bundled: PriceTable,
    name: str,
    prompt: float,
    completion: float,
    cache_read: float | None,
    cache_write: float | None,
) -> None:
    """Spot-check of a few long-stable public list prices (USD per 1M tokens)."""
    price = bundled.lookup(name)
    assert price is not None

    def pico(rate: float | None) -> int | None:
        return None if rate is None else round(rate * PICO_PER_TOKEN_AT_ONE_USD)

    assert (price.prompt, price.completion, price.cache_read, price.cache_write) == (
        pico(prompt), pico(completion), pico(cache_read), pico(cache_write)
    )


def test_bundled_table_is_what_bundled_table_returns(bundled: PriceTable) -> None:
    """`bundled_table()` is deterministic (fresh parse, equal content)."""
    again = bundled_table()
    assert again is not bundled
    assert again.models() == bundled.models()
