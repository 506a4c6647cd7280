"""Slack mrkdwn in, plain text for the planner; plain text out, escaped so it never pings."""

from __future__ import annotations

import re

_LINK = re.compile(r"<([^<>|]+)(?:\|([^<>]*))?>")


def readable(text: str, bot_user_id: str | None = None) -> str:
    """`<https://x|the doc>` → "the doc (https://x)", the bot's own mention dropped, entities
    unescaped. Other user mentions stay `<@U…>`: they are data, escaped again when echoed."""

    def replace(match: re.Match[str]) -> str:
        target, label = match.group(1), match.group(2)
        if target.startswith("@"):
            user = target[1:]
            return "" if bot_user_id and user == bot_user_id else f"<@{user}>"
        if target.startswith("#"):
            return f"#{label or target[1:]}"
        if target.startswith("!"):
            if target.startswith("!date^"):  # the label is the date as text
                return label or target[1:]
            # <!here>, <!subteam^S1|@team>: the label may already carry its "@"
            name = label or target[1:].split("^")[0]
            return name if name.startswith("@") else f"@{name}"
        if label and label != target and label != target.removeprefix("mailto:"):
            return f"{label} ({target})"
        return target.removeprefix("mailto:")

    text = _LINK.sub(replace, text)
    text = text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    return " ".join(text.split())


def escape(text: str) -> str:
    """Escape user text for mrkdwn: `<!channel>` or `<@U1>` show as text and ping nobody."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def truncate(text: str, limit: int) -> str:
    marker = "… (truncated)"
    return text if len(text) <= limit else text[: limit - len(marker)] + marker
