"""The App Home: the user's open todos (each with Done) and their five latest runs, or a welcome
for someone who never used Crane. `home_view` is pure; `HomeTab` reads the store and publishes.

The tab is the user's own (nobody else sees it), so todo titles are shown whole.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot import buttons, render
from bot.markup import escape, truncate
from core.jobs import Jobs
from core.plan import Run, RunEvent, Scope, Todo
from core.runtime import Crane

log = logging.getLogger("crane.slack")

MAX_TODOS = 40  # a view holds at most 100 blocks
LATEST_RUNS = 5
WELCOME = "*Welcome to Crane!* Ask in any channel with `/crane` or a mention, or message me here:"


def usage_line(mine: dict[str, Any], workspace_cost: float, limits: dict[str, Any]) -> str:
    """The viewer's usage today (UTC) against the limits in force, in one line."""

    def against(used: str, limit: Any, unit: str) -> str:
        return f"{used} of {limit:,} {unit}" if limit is not None else f"{used} {unit}"

    parts = [against(f"{mine['runs']:,}", limits["runs_per_day"], "runs")]
    if limits["runs_per_minute"] is not None:
        parts.append(f"at most {limits['runs_per_minute']:,} a minute")
    tokens = mine["prompt_tokens"] + mine["completion_tokens"]
    parts.append(against(f"{tokens:,}", limits["tokens_per_day"], "LLM tokens"))
    cost = limits["cost_per_day_usd"]
    parts.append(f"workspace ${workspace_cost:.2f}" + (f" of ${cost:g}" if cost else ""))
    return "Your usage today (UTC): " + " · ".join(parts)


def welcome(examples: list[tuple[str, ...]]) -> str:
    """For someone who never used Crane: the first example of each tool (Crane.examples)."""
    return "\n".join([WELCOME, *(f"• `{escape(tool[0])}`" for tool in examples)])


def home_view(
    todos: list[Todo], runs: list[Run], usage: str | None = None,
    examples: list[tuple[str, ...]] | None = None,
) -> dict[str, Any]:  # fmt: skip
    if not todos and not runs:
        return {"type": "home", "blocks": [render.section(welcome(examples or []))]}
    blocks: list[dict[str, Any]] = [render.context(usage)] if usage else []
    blocks.append({"type": "header", "text": buttons.plain_text("Your open todos", 150)})
    for todo in todos[:MAX_TODOS]:
        block = render.section(f"#{todo.number} {escape(todo.title)}")
        block["accessory"] = buttons.button("Done", buttons.TODO_DONE, str(todo.number), "primary")
        blocks.append(block)
    if not todos:
        blocks.append(render.context("No open todos."))
    elif len(todos) > MAX_TODOS:
        blocks.append(render.context(f"… and {len(todos) - MAX_TODOS} more"))
    blocks += [
        {"type": "divider"},
        {"type": "header", "text": buttons.plain_text("Latest runs", 150)},
    ]
    for run in runs[:LATEST_RUNS]:
        icon = render.ICONS.get(run.status.value, "•")
        line = f"{icon} {escape(truncate(run.text, 200))} — _{run.status.value.replace('_', ' ')}_"
        blocks.append(render.context(line))
    return {"type": "home", "blocks": blocks}


class HomeTab:
    def __init__(
        self, crane: Crane, client_for: Callable[[Scope], WebClient | None], jobs: Jobs
    ) -> None:
        self.crane = crane
        self.client_for = client_for  # the workspace's client (OAuth mode), None if uninstalled
        # republishing waits for no run: subscribers are told before the run's own Slack view
        # posts its answer, which must not wait for a views.publish round trip. The server's
        # own pool, so shutdown and "idle" count it too.
        self.jobs = jobs

    def publish(self, scope: Scope) -> None:
        """Publish the user's Home; a failure is logged, never raised."""
        try:
            client = self.client_for(scope)
            if client is None:
                return
            reads = self.crane.reads
            view = home_view(reads.todos(scope), reads.runs(scope, LATEST_RUNS), self._usage(scope),
                             self.crane.examples)  # fmt: skip
            client.views_publish(user_id=scope.user_id, view=view)
        except SlackApiError as error:
            log.info("could not publish the Home tab: %s", error.response.get("error"))
        except Exception:
            log.exception("could not publish the Home tab")

    def _usage(self, scope: Scope) -> str:
        reads = self.crane.reads
        workspace = reads.usage(1, None, scope.team_id, scope.enterprise_id, by_user=False)
        cost = workspace[0]["cost_usd"] if workspace else 0.0
        return usage_line(reads.today(scope), cost, self.crane.limits.describe())

    def on_event(self, event: RunEvent) -> None:
        """Orchestrator subscriber: once per finished run that changed its user's todos."""
        if event.type != "run.finished":
            return
        tools = self.crane.tools
        changed = any(
            step["status"] == "completed" and getattr(tools.get(step["tool"]), "writes", False)
            for step in event.data.get("steps", [])
        )
        if changed:
            run = self.crane.reads.run(event.run_id)
            # a Slack workspace's user (or an API caller named like one); a full pool skips
            # it: the next run republishes
            if run.scope.team_id and self.jobs.reserve():
                self.jobs.submit_reserved(self.publish, run.scope)
