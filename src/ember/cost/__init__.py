"""LLM prices: the bundled table (`prices.toml`), user overrides, and per-span cost."""
