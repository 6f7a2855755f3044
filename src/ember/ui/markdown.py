"""Markdown written by an LLM or a user, rendered to HTML that cannot run anything.

Two layers, so a mistake in one is caught by the other:
1. markdown-it-py with raw HTML off: `<script>` or `<img onerror=...>` in the text comes out as
   text. Its link check already refuses `javascript:`, `vbscript:`, `file:` and `data:` links
   (except raster `data:image/...`).
2. nh3 (the Rust `ammonia` sanitizer) on the result: a short list of tags and attributes, no
   relative URLs, links only to http(s) and mailto, images only from raster `data:` URLs.

Remote images (http/https) are not loaded: the page's Content-Security-Policy forbids them, and
loading them would tell a third party who reads the trace and when. They become a link that
says it is an image, so the reader can still follow it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import nh3
from markdown_it import MarkdownIt
from markdown_it.renderer import RendererHTML
from markdown_it.token import Token
from markdown_it.utils import EnvType, OptionsDict
from markupsafe import Markup, escape

from ember.ui.urls import is_data_image, is_web_link

_TAGS = {
    "p", "br", "hr", "h1", "h2", "h3", "h4", "h5", "h6", "strong", "em", "del", "s", "code",
    "pre", "blockquote", "ul", "ol", "li", "a", "img", "table", "thead", "tbody", "tr", "th",
    "td",
}
_ATTRIBUTES = {"a": {"href", "title"}, "img": {"src", "alt", "title"}, "ol": {"start"}}


def _attribute_filter(tag: str, attribute: str, value: str) -> str | None:
    if tag == "a" and attribute == "href":
        return value if is_web_link(value) else None
    if tag == "img" and attribute == "src":
        return value if is_data_image(value) else None
    return value


def _image(
    renderer: RendererHTML, tokens: Sequence[Token], idx: int, options: OptionsDict,
    env: EnvType,
) -> str:
    """Inline data images; any other image becomes a link (or text) naming it an image."""
    token = tokens[idx]
    src = str(token.attrGet("src") or "")
    alt = renderer.renderInlineAsText(token.children or [], options, env)
    if is_data_image(src):
        return f'<img src="{escape(src)}" alt="{escape(alt)}">'
    label = escape(f"[image: {alt}]" if alt else "[image]")
    if is_web_link(src):
        return f'<a href="{escape(src)}">{label}</a>'
    return str(label)


def _parser() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
    md.enable(["table", "strikethrough"])
    md.add_render_rule("image", _image)
    return md


_MD = _parser()


def sanitize(html: str) -> Markup:
    """HTML from our own markdown renderer, cut down to the allowed tags and URLs."""
    cleaned: Any = nh3.clean(
        html,
        tags=_TAGS,
        attributes=_ATTRIBUTES,
        attribute_filter=_attribute_filter,
        url_schemes={"http", "https", "mailto", "data"},
        url_relative="deny",
        link_rel="noopener noreferrer nofollow",
        strip_comments=True,
    )
    return Markup(cleaned)  # sanitized just above


def render_markdown(text: str) -> Markup:
    """Safe HTML for untrusted markdown text."""
    return sanitize(_MD.render(text))
