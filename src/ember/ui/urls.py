"""Which URLs in untrusted content may become a link or an image (pure, light to import)."""

from __future__ import annotations

import re

# Raster images only: an SVG can hold script (inert in <img>, but nothing needs it).
DATA_IMAGE = re.compile(r"^data:image/(?:png|jpeg|gif|webp);base64,[A-Za-z0-9+/=\s]+$")
_LINK_SCHEMES = ("http://", "https://", "mailto:")


def is_data_image(url: str) -> bool:
    """A base64 raster image in a data: URL (shown inline; the CSP allows data: images)."""
    return DATA_IMAGE.match(url) is not None


def is_web_link(url: str) -> bool:
    """An http(s) or mailto URL: may be a link, never loaded by the page itself."""
    return url.lower().startswith(_LINK_SCHEMES)
