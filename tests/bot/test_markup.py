"""Slack mrkdwn in → readable text for the planner; user text out → escaped, never a ping."""

from __future__ import annotations

import pytest

from bot.markup import escape, readable, truncate


@pytest.mark.parametrize(
    ("slack", "plain"),
    [
        (
            "add a todo to read <https://example.com|the doc>",
            "add a todo to read the doc (https://example.com)",
        ),
        ("see <https://example.com>", "see https://example.com"),
        ("see <https://example.com|https://example.com>", "see https://example.com"),
        ("mail <mailto:a@example.com|a@example.com>", "mail a@example.com"),
        ("post in <#C123|general>", "post in #general"),
        ("post in <#C123>", "post in #C123"),
        ("<!here> lunch", "@here lunch"),
        ("<!channel> lunch", "@channel lunch"),
        ("<!subteam^S123|@design> review", "@design review"),
        ("due <!date^1392734382^{date_short}|Feb 18, 2014>", "due Feb 18, 2014"),
        ("salt &amp; pepper &lt;b&gt;", "salt & pepper <b>"),
        ("&amp;lt; stays literal", "&lt; stays literal"),
        ("calculate\n  2 +\t3", "calculate 2 + 3"),
    ],
)
def test_readable_turns_slack_markup_into_plain_text(slack: str, plain: str) -> None:
    assert readable(slack) == plain


def test_readable_drops_only_the_bots_own_mention() -> None:
    assert readable("<@UBOT> remind <@U123> to call", "UBOT") == "remind <@U123> to call"
    assert readable("<@UBOT|crane> hi", "UBOT") == "hi"
    assert readable("<@UBOT> hi") == "<@UBOT> hi"  # bot id unknown: nothing dropped


def test_escape_makes_pings_and_links_inert() -> None:
    assert escape("<!channel> & <@U123>") == "&lt;!channel&gt; &amp; &lt;@U123&gt;"
    assert escape(readable("a &amp; b")) == "a &amp; b"


def test_truncate_keeps_short_text_and_marks_cut_text() -> None:
    assert truncate("short", 10) == "short"
    cut = truncate("x" * 100, 40)
    assert len(cut) == 40 and cut.endswith("… (truncated)")
