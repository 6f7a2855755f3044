"""ember.cost.table matching: how a span's model name finds its price (`lookup`,
`candidate_names`), against the bundled table and small hand-made tables."""

from __future__ import annotations

from typing import Any

import pytest

from ember.cost.table import PriceTable, candidate_names, parse_table


def small_table(*names: str | tuple[str, list[str]]) -> PriceTable:
    """A table whose models are `names` (or (name, aliases)), each with a distinct prompt rate."""
    models: list[dict[str, Any]] = []
    for i, item in enumerate(names, start=1):
        name, aliases = item if isinstance(item, tuple) else (item, [])
        models.append({"name": name, "aliases": aliases, "prompt": i, "completion": i})
    doc = {"provider": [{"name": "p", "source": "s", "read_on": "2025-01-01", "model": models}]}
    return parse_table(doc, "small")


# ------------------------------------------------------------------------------ candidate_names


@pytest.mark.parametrize(
    ("model_name", "expected"),
    [
        ("gpt-4o", ["gpt-4o"]),
        ("  GPT-4o  ", ["gpt-4o"]),
        ("gpt-4o-2024-08-06", ["gpt-4o-2024-08-06", "gpt-4o"]),
        ("claude-3-5-sonnet-20241022", ["claude-3-5-sonnet-20241022", "claude-3-5-sonnet"]),
        ("claude-3-5-haiku-latest", ["claude-3-5-haiku-latest", "claude-3-5-haiku"]),
        ("gemini-1.5-flash-001", ["gemini-1.5-flash-001", "gemini-1.5-flash"]),
        ("openai/gpt-4o", ["openai/gpt-4o", "gpt-4o"]),
        ("models/gemini-2.0-flash", ["models/gemini-2.0-flash", "gemini-2.0-flash"]),
        (
            "claude-3-5-sonnet-v2@20241022",
            ["claude-3-5-sonnet-v2@20241022", "claude-3-5-sonnet-v2"],
        ),
        (
            "anthropic.claude-3-5-sonnet-20240620-v1:0",
            [
                "anthropic.claude-3-5-sonnet-20240620-v1:0",
                "claude-3-5-sonnet-20240620-v1:0",
                "claude-3-5-sonnet-20240620",
                "claude-3-5-sonnet",
            ],
        ),
        (
            "us.anthropic.claude-3-5-sonnet-20240620-v1:0",
            [
                "us.anthropic.claude-3-5-sonnet-20240620-v1:0",
                "claude-3-5-sonnet-20240620-v1:0",
                "claude-3-5-sonnet-20240620",
                "claude-3-5-sonnet",
            ],
        ),
        # Four-digit versions are not stripped: the table lists the ones that share a price.
        ("gpt-4-0125-preview", ["gpt-4-0125-preview", "gpt-4-0125"]),
        ("mistral-large-2411", ["mistral-large-2411"]),
        ("deepseek-chat-v3-0324", ["deepseek-chat-v3-0324"]),
        ("my-finetune", ["my-finetune"]),
        ("ft:gpt-4o-mini-2024-07-18:acme::abc", ["ft:gpt-4o-mini-2024-07-18:acme::abc"]),
    ],
)
def test_candidate_names(model_name: str, expected: list[str]) -> None:
    """The names tried, most specific first: as sent, without prefix, then suffixes one by one."""
    assert candidate_names(model_name) == expected


def test_candidate_names_never_strip_to_nothing() -> None:
    """A name that is only a suffix-like token is kept whole, not stripped to ''."""
    assert candidate_names("latest") == ["latest"]
    assert candidate_names("2024") == ["2024"]
    assert "" not in candidate_names("-latest")


def test_region_prefix_only_strips_before_a_bedrock_provider() -> None:
    """`us.` is a Bedrock cross-region prefix only when a Bedrock provider follows it."""
    assert candidate_names("us.gpt-4o") == ["us.gpt-4o"]
    assert candidate_names("eu.meta.llama3-2-1b-instruct-v1:0")[1] == "llama3-2-1b-instruct-v1:0"


# ------------------------------------------------------------------------------ lookup rules


def test_exact_name_wins_over_a_stripped_one() -> None:
    """An entry for a dated snapshot beats the undated entry it would strip to."""
    table = small_table("acme", "acme-2024-05-13")
    exact, undated = table.lookup("acme-2024-05-13"), table.lookup("acme-2024-08-06")
    assert exact is not None and undated is not None
    assert exact.model == "acme-2024-05-13"
    assert undated.model == "acme"


def test_alias_wins_over_stripping() -> None:
    """An alias keeps an id from stripping to a different (wrongly priced) model."""
    table = small_table("base", ("base-turbo", ["base-0125-preview"]))
    price = table.lookup("base-0125-preview")
    assert price is not None
    assert price.model == "base-turbo"


def test_no_fuzzy_matching() -> None:
    """A name must equal an entry after prefix/suffix stripping; near misses find nothing."""
    table = small_table("acme-chat")
    for name in ("acme-cha", "acme-chat-pro", "acme", "xacme-chat", "acme_chat"):
        assert table.lookup(name) is None, name


@pytest.mark.parametrize("name", ["", "   ", "/", "openai/", "-latest"])
def test_degenerate_names_find_nothing(name: str) -> None:
    """Empty or prefix-only names never match (and never crash)."""
    assert small_table("acme").lookup(name) is None


# ------------------------------------------------------------------------------ bundled table


@pytest.mark.parametrize(
    ("model_name", "priced_as"),
    [
        # exact and case-insensitive
        ("gpt-4o-mini", "gpt-4o-mini"),
        ("GPT-4o-Mini", "gpt-4o-mini"),
        ("Claude-3-5-Sonnet-20241022", "claude-3-5-sonnet"),
        # dated OpenAI snapshots
        ("gpt-4o-mini-2024-07-18", "gpt-4o-mini"),
        ("gpt-4o-2024-08-06", "gpt-4o"),
        ("gpt-4o-2024-11-20", "gpt-4o"),
        ("gpt-4-turbo-2024-04-09", "gpt-4-turbo"),
        ("o3-mini-2025-01-31", "o3-mini"),
        ("gpt-3.5-turbo-0125", "gpt-3.5-turbo"),
        ("gpt-4-0613", "gpt-4"),
        ("gpt-4-32k-0613", "gpt-4-32k"),
        # older snapshots with their own (different) price
        ("gpt-4o-2024-05-13", "gpt-4o-2024-05-13"),
        ("gpt-3.5-turbo-1106", "gpt-3.5-turbo-1106"),
        ("gpt-3.5-turbo-0613", "gpt-3.5-turbo-0613"),
        ("mistral-small-2409", "mistral-small-2409"),
        ("codestral-2405", "codestral-2405"),
        # GPT-4 Turbo previews are not GPT-4
        ("gpt-4-0125-preview", "gpt-4-turbo"),
        ("gpt-4-1106-preview", "gpt-4-turbo"),
        ("gpt-4-turbo-preview", "gpt-4-turbo"),
        ("gpt-4-vision-preview", "gpt-4-turbo"),
        # Anthropic
        ("claude-3-5-sonnet-20241022", "claude-3-5-sonnet"),
        ("claude-3-5-sonnet-20240620", "claude-3-5-sonnet"),
        ("claude-3-5-haiku-latest", "claude-3-5-haiku"),
        ("claude-3-7-sonnet-20250219", "claude-3-7-sonnet"),
        ("claude-sonnet-4-20250514", "claude-sonnet-4"),
        ("claude-opus-4-1-20250805", "claude-opus-4-1"),
        ("claude-3-haiku-20240307", "claude-3-haiku"),
        # Vertex AI: "@date" and the v2 marker both strip (v2 has the same price as v1)
        ("claude-3-5-sonnet-v2@20241022", "claude-3-5-sonnet"),
        ("claude-3-5-sonnet@20240620", "claude-3-5-sonnet"),
        ("claude-3-5-haiku@20241022", "claude-3-5-haiku"),
        # Bedrock, with and without a cross-region prefix
        ("anthropic.claude-3-5-sonnet-20240620-v1:0", "claude-3-5-sonnet"),
        ("us.anthropic.claude-3-5-sonnet-20240620-v1:0", "claude-3-5-sonnet"),
        ("eu.anthropic.claude-3-7-sonnet-20250219-v1:0", "claude-3-7-sonnet"),
        ("anthropic.claude-3-5-sonnet-20241022-v2:0", "claude-3-5-sonnet"),
        ("global.anthropic.claude-sonnet-4-5-20250929-v1:0", "claude-sonnet-4-5"),
        # provider prefixes and Gemini versions
        ("openai/gpt-4o", "gpt-4o"),
        ("models/gemini-2.0-flash", "gemini-2.0-flash"),
        ("gemini-1.5-flash-001", "gemini-1.5-flash"),
        ("gemini-1.5-pro-002", "gemini-1.5-pro"),
        ("gemini-1.5-flash-8b-001", "gemini-1.5-flash-8b"),
        ("anthropic/claude-3.5-sonnet", "claude-3-5-sonnet"),
        ("meta-llama/Llama-3.3-70B-Instruct-Turbo", "llama-3.3-70b-instruct"),
        # Azure OpenAI spelling
        ("gpt-35-turbo", "gpt-3.5-turbo"),
        ("gpt-35-turbo-0125", "gpt-3.5-turbo"),
        ("gpt-35-turbo-16k", "gpt-3.5-turbo-16k"),
        # "-latest" and aliases
        ("gpt-5-chat-latest", "gpt-5"),
        ("chatgpt-4o-latest", "chatgpt-4o-latest"),
        ("mistral-large-latest", "mistral-large"),
        ("gemini-2.5-pro-preview-06-05", "gemini-2.5-pro"),
    ],
)
def test_bundled_lookup(bundled: PriceTable, model_name: str, priced_as: str) -> None:
    """Model ids as instrumentations send them find the intended bundled entry."""
    price = bundled.lookup(model_name)
    assert price is not None, model_name
    assert price.model == priced_as


def test_first_gpt_4o_snapshot_has_its_older_higher_price(bundled: PriceTable) -> None:
    """gpt-4o-2024-05-13 is 5/15 with no cache discount; later snapshots are 2.50/10."""
    first, later = bundled.lookup("gpt-4o-2024-05-13"), bundled.lookup("gpt-4o-2024-08-06")
    assert first is not None and later is not None
    assert (first.prompt, first.completion, first.cache_read) == (5_000_000, 15_000_000, None)
    assert (later.prompt, later.completion, later.cache_read) == (2_500_000, 10_000_000, 1_250_000)


def test_gpt_4_0125_preview_is_not_priced_as_gpt_4(bundled: PriceTable) -> None:
    """gpt-4-0125-preview is GPT-4 Turbo (10/30), not the 8K GPT-4 (30/60) it would strip to."""
    turbo, gpt4 = bundled.lookup("gpt-4-0125-preview"), bundled.lookup("gpt-4")
    assert turbo is not None and gpt4 is not None
    assert turbo != gpt4
    assert (turbo.prompt, turbo.completion) == (10_000_000, 30_000_000)


@pytest.mark.parametrize(
    "model_name",
    [
        "my-finetune",
        "ft:gpt-4o-mini-2024-07-18:acme::abc",  # a fine-tune is priced differently
        "llama-3.3-70b-versatile",  # Groq's id; the table prices Llama at Together AI only
        "gemini-2.5-flash-preview-04-17",  # previews had other prices (see the table's note)
        "gpt-4o-audio-preview",  # audio/realtime variants are not gpt-4o
        "gpt-4o-realtime-preview-2024-12-17",
        "gpt-4o-mini-tts",
        "claude-2.1",
        "text-embedding-004",
        "deepseek/deepseek-r1",
        "amazon.titan-embed-text-v2:0",
        "",
    ],
)
def test_unknown_models_have_no_price(bundled: PriceTable, model_name: str) -> None:
    """Models the table does not list (or lists only under other terms) are not guessed."""
    assert bundled.lookup(model_name) is None


@pytest.mark.parametrize(
    "model_name",
    [
        "mistral-small-2402",
        "mistral.mistral-small-2402-v1:0",
        "mistral-large-2402",
        "deepseek-chat-v3-0324",
    ],
)
def test_older_snapshots_are_not_priced_as_a_newer_model(
    bundled: PriceTable, model_name: str
) -> None:
    """An id naming an older, differently priced model must not get a newer model's price: it
    needs its own entry or no price at all."""
    price = bundled.lookup(model_name)
    newer = {"mistral-small", "mistral-large", "deepseek-chat"}
    assert price is None or price.model not in newer, (model_name, price)


# ------------------------------------------------------------------------------ repeated lookups


def test_repeated_lookups_give_the_same_answer() -> None:
    """Looking a name up again (found or not, any spelling) gives the same answer."""
    table = small_table("acme", "acme-2024-05-13")
    for _ in range(3):
        assert table.lookup("ACME-2024-08-06") is table.lookup("acme")
        assert table.lookup(" acme-2024-05-13 ") is table.lookup("acme-2024-05-13")
        assert table.lookup("nope") is None


def test_merged_table_does_not_reuse_the_base_tables_answers() -> None:
    """Answers the base table gave before a merge do not leak into the merged table."""
    base = small_table("acme", "other")
    before = base.lookup("acme-2024-08-06")
    assert base.lookup("newer") is None
    override = parse_table(
        {"provider": [{"name": "mine", "source": "s", "read_on": "2025-02-02",
                       "model": [{"name": "acme", "prompt": 9}, {"name": "newer", "prompt": 9}]}]},
        "mine",
    )
    merged = base.merged(override)
    after, newer = merged.lookup("acme-2024-08-06"), merged.lookup("newer")
    assert before is not None and after is not None and newer is not None
    assert (before.prompt, after.prompt, newer.prompt) == (1_000_000, 9_000_000, 9_000_000)
    assert base.lookup("acme-2024-08-06") is before  # the base table is unchanged
