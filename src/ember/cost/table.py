"""The price table: loading, validation and model-name matching.

A table is TOML (or JSON with the same shape): `[[provider]]` entries with `name`, `source` and
`read_on`, each holding `[[provider.model]]` entries with `name`, optional `aliases`, and rates in
USD per million tokens: `prompt`, `completion`, optional `cache_read` and `cache_write`.
The bundled table ships with Ember; a user file (EMBER_PRICES_FILE) adds models or overrides
bundled ones by name (an overridden model's bundled aliases take the new price too).

Matching a span's model name tries, in order: the name as sent (lowercased), then without a
provider prefix (`openai/gpt-4o`, `models/gemini-2.0-flash`, Bedrock's `us.anthropic.`), then
without a date or version suffix (`-2024-08-06`, `-20241022`, `@20241022`, `-latest`, `-001`,
Bedrock's `-v1:0`; four-digit versions such as `-0613` are listed in the table instead, since
providers reuse a name for differently priced generations). There is no fuzzy matching: a
model that is not found has no price, and the span says so.
"""

from __future__ import annotations

import json
import re
import tomllib
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from importlib import resources
from pathlib import Path
from typing import Any

from ember.errors import SettingsError

# Costs are kept as whole pico-dollars (1e-12 USD), so sums are exact in any order; a rate of
# r USD per million tokens is r * 1e6 pico-dollars per token.
PICO_PER_USD = 10**12
_PICO_PER_TOKEN_PER_RATE = Decimal(10**6)


@dataclass(frozen=True, slots=True)
class Price:
    """One model's rates, in pico-dollars per token, and where they come from."""

    model: str
    provider: str
    prompt: int
    completion: int
    cache_read: int | None
    cache_write: int | None
    source: str
    read_on: str


_LOOKUP_CACHE_SIZE = 10_000


class PriceTable:
    def __init__(self, prices: dict[str, Price]) -> None:
        self._prices = prices
        # Spans repeat a handful of model names: remember each name's answer (bounded).
        self._found: dict[str, Price | None] = {}

    def __len__(self) -> int:
        return len(self._prices)

    def models(self) -> list[Price]:
        return sorted({id(p): p for p in self._prices.values()}.values(), key=lambda p: p.model)

    def lookup(self, model_name: str) -> Price | None:
        """The price of a model as a span names it, or None."""
        if model_name in self._found:
            return self._found[model_name]
        found = None
        for candidate in candidate_names(model_name):
            found = self._prices.get(candidate)
            if found is not None:
                break
        if len(self._found) < _LOOKUP_CACHE_SIZE:
            self._found[model_name] = found
        return found

    def merged(self, other: PriceTable) -> PriceTable:
        """This table with `other`'s entries added or overriding by name; every name of an
        overridden model (its aliases too) takes the new price."""
        replacing = {price.model: price for price in other._prices.values()}
        prices = {
            name: replacing.get(price.model, price) for name, price in self._prices.items()
        }
        prices.update(other._prices)
        return PriceTable(prices)


_BEDROCK_PROVIDERS = ("anthropic.", "meta.", "mistral.", "amazon.", "cohere.", "deepseek.")
# Four-digit versions (-0613, -2411) are not stripped: providers reuse a name for differently
# priced generations (Mistral Small 24.02 vs 3), so those ids are listed in the table instead.
_VERSION_SUFFIX = re.compile(r"(?:[-@](?:\d{4}-\d{2}-\d{2}|\d{8}|latest|\d{3}|preview)|-v\d+:\d+)$")


def candidate_names(model_name: str) -> list[str]:
    """The names tried for a model, most specific first."""
    name = model_name.strip().lower()
    names = [name]
    bare = _strip_prefix(name)
    if bare != name:
        names.append(bare)
    stripped = bare
    while True:
        shorter = _VERSION_SUFFIX.sub("", stripped)
        if shorter == stripped or not shorter:
            break
        stripped = shorter
        names.append(stripped)
    return names


def _strip_prefix(name: str) -> str:
    if "/" in name:
        name = name.rsplit("/", 1)[1]
    for region in ("us.", "eu.", "apac.", "global."):
        if name.startswith(region) and name[len(region):].startswith(_BEDROCK_PROVIDERS):
            name = name[len(region):]
            break
    for provider in _BEDROCK_PROVIDERS:
        if name.startswith(provider):
            return name[len(provider):]
    return name


def _rate(value: Any, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise SettingsError(f"{where} must be a number of USD per million tokens, got {value!r}")
    rate = Decimal(str(value))
    if not rate.is_finite() or rate < 0:
        raise SettingsError(f"{where} must be a non-negative number, got {value!r}")
    return int((rate * _PICO_PER_TOKEN_PER_RATE).to_integral_value())


def parse_table(document: Any, origin: str) -> PriceTable:
    """Validate a decoded table; every error names the file and the entry."""
    if not isinstance(document, dict) or not isinstance(document.get("provider"), list):
        raise SettingsError(f"{origin}: expected a list of [[provider]] tables")
    prices: dict[str, Price] = {}
    for p, provider in enumerate(document["provider"]):
        where = f"{origin}: provider {p + 1}"
        if not isinstance(provider, dict):
            raise SettingsError(f"{where} must be a table")
        name = _text(provider, "name", where)
        source = _text(provider, "source", where)
        read_on = _read_on(provider.get("read_on"), where)
        models = provider.get("model", [])
        if not isinstance(models, list):
            raise SettingsError(f"{where}: model must be a list of [[provider.model]] tables")
        for m, model in enumerate(models):
            at = f"{where} ({name}), model {m + 1}"
            if not isinstance(model, dict):
                raise SettingsError(f"{at} must be a table")
            model_name = _text(model, "name", at).lower()
            at = f"{origin}: model {model_name!r}"
            optional = {
                key: _rate(model[key], f"{at}: {key}") if key in model else None
                for key in ("cache_read", "cache_write")
            }
            price = Price(
                model=model_name,
                provider=name.lower(),
                prompt=_rate(model.get("prompt"), f"{at}: prompt"),
                completion=_rate(model.get("completion", 0), f"{at}: completion"),
                cache_read=optional["cache_read"],
                cache_write=optional["cache_write"],
                source=source,
                read_on=read_on,
            )
            aliases = model.get("aliases", [])
            if not isinstance(aliases, list) or not all(isinstance(a, str) for a in aliases):
                raise SettingsError(f"{at}: aliases must be a list of model names")
            for key in (model_name, *(a.lower() for a in aliases)):
                if key in prices:
                    raise SettingsError(f"{at}: the name {key!r} appears twice in the table")
                prices[key] = price
    return PriceTable(prices)


_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _read_on(value: Any, where: str) -> str:
    """The date a price list was read: a TOML date or the text YYYY-MM-DD."""
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, str) and _ISO_DATE.fullmatch(value.strip()):
        try:
            return date.fromisoformat(value.strip()).isoformat()
        except ValueError:
            pass
    raise SettingsError(f"{where}: read_on must be a date YYYY-MM-DD, got {value!r}")


def _text(table: dict[str, Any], key: str, where: str) -> str:
    value = table.get(key)
    if not isinstance(value, str) or not value.strip():
        raise SettingsError(f"{where}: {key} must be a non-empty string")
    return value.strip()


def load_file(path: Path) -> PriceTable:
    """A user's price file, TOML or JSON (by extension); raises SettingsError on any problem."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise SettingsError(f"cannot read the price file {path}: {exc.strerror}") from exc
    try:
        document = json.loads(data) if path.suffix.lower() == ".json" else tomllib.loads(
            data.decode()
        )
    except (ValueError, UnicodeDecodeError) as exc:
        raise SettingsError(f"the price file {path} does not parse: {exc}") from exc
    return parse_table(document, str(path))


def bundled_table() -> PriceTable:
    text = resources.files("ember.cost").joinpath("prices.toml").read_text("utf-8")
    return parse_table(tomllib.loads(text), "ember/cost/prices.toml")


def load_prices(user_file: str) -> PriceTable:
    """The bundled table, with a user file's entries on top when `user_file` is set."""
    table = bundled_table()
    if user_file:
        table = table.merged(load_file(Path(user_file).expanduser()))
    return table
