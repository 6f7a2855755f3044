"""The UI's pure parts: safe markdown, reading OpenInference's flattened lists back, and the
span detail's view of values (vectors summarized, JSON pretty-printed)."""

from __future__ import annotations

import json

import pytest

from ember.ui import oi
from ember.ui.format import duration, size, timestamp, usd
from ember.ui.markdown import render_markdown
from ember.ui.span_view import shown, without_vectors

PNG = "data:image/png;base64,iVBORw0KGgo="


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("**bold** _em_", "<p><strong>bold</strong> <em>em</em></p>"),
        ("<script>alert(1)</script>", "<p>&lt;script&gt;alert(1)&lt;/script&gt;</p>"),
        ("<img src=x onerror=alert(1)>", "<p>&lt;img src=x onerror=alert(1)&gt;</p>"),
        ("[a](javascript:alert(1))", "<p>[a](javascript:alert(1))</p>"),
        ("[a](JaVaScRiPt:alert(1))", "<p>[a](JaVaScRiPt:alert(1))</p>"),
        ("[a](data:text/html,x)", "<p>[a](data:text/html,x)</p>"),
        ("[a](/v1/projects)", '<p><a rel="noopener noreferrer nofollow">a</a></p>'),
        ("[a](https://x.invalid/?q=1&r=2)",
         '<p><a href="https://x.invalid/?q=1&amp;r=2" rel="noopener noreferrer nofollow">'
         "a</a></p>"),
        (f"![pic]({PNG})", f'<p><img src="{PNG}" alt="pic"></p>'),
        ("![pic](https://x.invalid/p.png)",
         '<p><a href="https://x.invalid/p.png" rel="noopener noreferrer nofollow">'
         "[image: pic]</a></p>"),
        ("![pic](data:image/svg+xml;base64,PHN2Zz4=)",
         "<p>![pic](data:image/svg+xml;base64,PHN2Zz4=)</p>"),
        ("![](s3://bucket/key.png)", "<p>[image]</p>"),
        ('![x" onerror="alert(1)](https://x.invalid/a.png)',
         '<p><a href="https://x.invalid/a.png" rel="noopener noreferrer nofollow">'
         '[image: x" onerror="alert(1)]</a></p>'),  # text, not an attribute
    ],
)
def test_markdown_is_rendered_safely(text: str, expected: str) -> None:
    assert str(render_markdown(text)).strip() == expected


def test_markdown_tables_and_code() -> None:
    html = str(render_markdown("|a|b|\n|-|-|\n|1|<b>2</b>|\n\n```\n<i>code</i>\n```"))
    assert "<table>" in html and "<td>&lt;b&gt;2&lt;/b&gt;</td>" in html
    assert "<pre><code>&lt;i&gt;code&lt;/i&gt;\n</code></pre>" in html


def test_indexed_lists_sort_numerically_and_tolerate_gaps() -> None:
    attributes = {
        "llm.input_messages.10.message.role": "user",
        "llm.input_messages.2.message.role": "system",
        "llm.input_messages.2.message.contents.0.message_content.type": "text",
        "llm.input_messages_count": 3,
        "llm.input_messages.x.message.role": "ignored: not an index",
    }
    items = oi.indexed(attributes, "llm.input_messages")
    assert [i["message.role"] for i in items] == ["system", "user"]
    assert items[0]["message.contents.0.message_content.type"] == "text"


def test_a_list_sent_whole_as_json_is_read_too() -> None:
    whole = json.dumps([{"message": {"role": "user", "content": "hi"}},
                        {"message.role": "assistant", "message.content": "yo"}])
    (user, assistant) = oi.messages({"llm.input_messages": whole}, "llm.input_messages")
    assert (user.role, user.content) == ("user", "hi")
    assert (assistant.role, assistant.content) == ("assistant", "yo")
    # Flattened keys win over the whole list.
    both = {"llm.input_messages": whole, "llm.input_messages.0.message.role": "system"}
    assert [m.role for m in oi.messages(both, "llm.input_messages")] == ["system"]


def test_messages_with_parts_tool_calls_and_images() -> None:
    prefix = "llm.output_messages.0.message."
    (message,) = oi.messages({
        f"{prefix}role": "assistant",
        f"{prefix}content": "Same text",
        f"{prefix}contents.0.message_content.type": "text",
        f"{prefix}contents.0.message_content.text": "Same text",
        f"{prefix}contents.1.message_content.type": "image",
        f"{prefix}contents.1.message_content.image.image.url": "javascript:alert(1)",
        f"{prefix}tool_calls.0.tool_call.id": "call_1",
        f"{prefix}tool_calls.0.tool_call.function.name": "search",
        f"{prefix}tool_calls.0.tool_call.function.arguments": '{"q": "x"}',
        f"{prefix}tool_calls.1.tool_call.function.arguments": "not json",
    }, "llm.output_messages")
    assert message.content == "Same text"
    # The text part repeats the content: shown once.
    assert [c.type for c in message.contents] == ["image"]
    image = message.contents[0].image
    assert image is not None and image.how == "other"  # never a link or an <img>
    first, second = message.tool_calls
    assert (first.id, first.name, first.arguments_json) == ("call_1", "search", True)
    assert first.arguments == '{\n  "q": "x"\n}'
    assert (second.arguments, second.arguments_json) == ("not json", False)


@pytest.mark.parametrize(
    ("url", "how"),
    [(PNG, "data"), ("https://x.invalid/a.png", "link"), ("__REDACTED__", "redacted"),
     ("data:image/svg+xml;base64,PHN2Zz4=", "other"), ("s3://b/k", "other")],
)
def test_image_references(url: str, how: str) -> None:
    image = oi.image(url)
    assert image is not None and image.how == how


def test_documents_keep_producer_order_and_parse_metadata() -> None:
    docs = oi.documents({
        "retrieval.documents.1.document.content": "second",
        "retrieval.documents.1.document.score": 1,
        "retrieval.documents.0.document.content": "first",
        "retrieval.documents.0.document.metadata": "{'python': 'repr'}",
    }, "retrieval.documents")
    assert [(d.rank, d.content, d.score) for d in docs] == [(1, "first", None), (2, "second", 1.0)]
    assert docs[0].metadata == "{'python': 'repr'}"  # not JSON: kept as sent


def test_vectors_are_summarized_in_displayed_json() -> None:
    response = {"data": [{"embedding": [0.5] * 16, "index": 0}], "ids": list(range(40))}
    assert without_vectors(response) == {
        "data": [{"embedding": "16 numbers (not shown)", "index": 0}],
        "ids": list(range(40)),  # integers (token ids) are not vectors
    }
    value = shown(json.dumps(response))
    assert value is not None and value.json and "0.5" not in value.text


def test_shown_values() -> None:
    assert shown(None) is None
    assert shown('"quoted text"', markdown=True, mime_type="application/json") == shown(
        "quoted text", markdown=True
    )
    text = shown("plain **md**", markdown=True)
    assert text is not None and (text.json, text.markdown) == (False, True)
    assert shown(True) is not None and shown(True).text == "true"  # type: ignore[union-attr]


def test_formats() -> None:
    assert [duration(x) for x in (120, 85_000, 1_500_000, 123_000_000, 2_500_000_000)] == [
        "120 ns", "85 µs", "1.5 ms", "123 ms", "2.50 s"
    ]
    assert [duration(x) for x in (3_599_600_000_000, 90_000_000_000)] == [
        "60 min 0 s", "1 min 30 s"
    ]
    assert [usd(x) for x in (0, 2e-7, 1.5e-5, 0.0123, 12.5)] == [
        "$0", "$0.00000020", "$0.000015", "$0.0123", "$12.50"
    ]
    assert [size(x) for x in (999, 200_000, 2_500_000)] == ["999 characters", "200 KB", "2.5 MB"]
    assert timestamp(1_760_000_000_123_456_789) == "2025-10-09 08:53:20.123456789 UTC"
