"""The playground page in a real headless browser (Debian's chromium, driven by Playwright; no
browser is ever downloaded): type a request, press Run, watch the steps complete live, then
a follow-up in the same conversation."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.api.conftest import ALICE, ALICE_SCOPE, TOKENS, LiveApi

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip
TIMEOUT_MS = 15_000

pytestmark = pytest.mark.skipif(
    not os.path.exists(CHROMIUM),
    reason=f"{CHROMIUM} is missing: `make browser` installs Debian's chromium",
)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Any, api: LiveApi) -> Iterator[Any]:
    context = browser.new_context()
    opened = context.new_page()
    opened.set_default_timeout(TIMEOUT_MS)
    errors: list[str] = []
    opened.on("pageerror", lambda error: errors.append(str(error)))
    opened.goto(api.url + "/")
    yield opened
    context.close()
    assert errors == [], f"the page raised: {errors}"


def ask(page: Any, text: str) -> Any:
    """Type `text`, press Run, wait for this run's answer; the run's box."""
    before = page.locator(".run").count()
    page.fill("#text", text)
    page.get_by_role("button", name="Run").click()
    box = page.locator(".run").nth(before)
    box.locator(".answer").wait_for()
    return box


def test_a_request_shows_each_step_complete_and_the_answer(page: Any, api: LiveApi) -> None:
    box = ask(page, "calculate 2+3 and add a todo to buy milk")

    steps = box.locator(".step").all_inner_texts()
    assert len(steps) == 2
    assert all(step.startswith("✅") for step in steps), steps
    assert "calculator" in steps[0] and "2+3 = 5" in steps[0]
    assert "add_todo" in steps[1] and "buy milk" in steps[1]
    answer = box.locator(".answer").inner_text()
    assert "5" in answer and "buy milk" in answer
    assert box.locator(".answer.failed").count() == 0
    assert box.locator(".ask").inner_text() == "› calculate 2+3 and add a todo to buy milk"
    assert [todo.title for todo in api.store.list_todos(api.stored_runs()[0].scope)] == ["buy milk"]


def test_a_follow_up_continues_the_conversation(page: Any) -> None:
    ask(page, "calculate 2+3 and add a todo to buy milk")

    box = ask(page, "add 10 to that")

    assert "15" in box.locator(".answer").inner_text()
    assert box.locator(".step").first.inner_text().startswith("✅")
    assert page.locator(".run").count() == 2


def test_a_failing_step_is_shown_as_failed(page: Any) -> None:
    box = ask(page, "calculate 1/0")

    assert box.locator(".step").first.inner_text().startswith("❌")
    assert "division by zero" in box.locator(".answer.failed").inner_text()


def test_user_text_is_shown_as_text_never_as_html(page: Any) -> None:
    box = ask(page, "add a todo to <img src=x onerror=alert(1)>")

    assert box.locator("img").count() == 0
    assert "<img src=x" in box.locator(".ask").inner_text()


def test_with_tokens_the_page_asks_for_one_and_then_works(
    browser: Any, start_api: Callable[..., LiveApi]
) -> None:
    api = start_api(api_tokens=TOKENS)
    context = browser.new_context()
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    try:
        page.goto(api.url + "/")
        refused = ask(page, "calculate 2+3")
        assert "bearer token" in refused.locator(".answer.failed").inner_text()

        page.locator("summary").click()
        page.fill("#token", ALICE)
        page.locator("#token").dispatch_event("change")
        box = ask(page, "calculate 2+3")

        assert "5" in box.locator(".answer").inner_text()
        assert [run.scope for run in api.stored_runs()] == [ALICE_SCOPE]
    finally:
        context.close()


def ask_waiting(page: Any, text: str) -> Any:
    """Type `text`, press Run, wait for the Approve / Cancel question; the run's box."""
    before = page.locator(".run").count()
    page.fill("#text", text)
    page.get_by_role("button", name="Run").click()
    box = page.locator(".run").nth(before)
    box.locator(".ask-approval").wait_for()
    return box


def test_a_deletion_asks_and_approve_runs_it(page: Any, api: LiveApi) -> None:
    ask(page, "add a todo to buy milk")
    box = ask_waiting(page, "delete todo 1")
    assert "Delete todo #1?" in box.locator(".ask-approval").inner_text()
    page.once("dialog", lambda dialog: dialog.accept())  # "are you sure?"
    box.get_by_role("button", name="Approve").click()
    box.locator(".answer").wait_for()

    assert box.locator(".answer").inner_text().startswith("Done.")
    assert "Approved" in box.locator(".ask-approval").inner_text()
    assert api.store.list_todos(api.stored_runs()[0].scope) == []


def test_cancel_keeps_the_todo_and_says_cancelled(page: Any, api: LiveApi) -> None:
    ask(page, "add a todo to buy milk")
    box = ask_waiting(page, "delete todo 1")
    box.get_by_role("button", name="Cancel").click()
    box.locator(".answer").wait_for()

    assert box.locator(".answer.failed").inner_text().startswith("Cancelled.")
    assert len(api.store.list_todos(api.stored_runs()[0].scope)) == 1


def test_an_answer_can_be_rated(page: Any, api: LiveApi) -> None:
    box = ask(page, "calculate 2+3")
    box.get_by_role("button", name="👍").click()
    box.get_by_text("Thanks for the feedback!").wait_for()
    (run,) = api.stored_runs()
    assert run.feedback.up == 1
