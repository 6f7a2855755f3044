"""Ember: an observability server for LLM applications."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ember.notebook import launch_app

__version__ = "0.1.0"
__all__ = ["launch_app"]


def __getattr__(name: str) -> Any:
    # launch_app is imported on first use, so `import ember` (the CLI, every test) stays fast.
    if name == "launch_app":
        from ember.notebook import launch_app

        return launch_app
    raise AttributeError(f"module 'ember' has no attribute {name!r}")
