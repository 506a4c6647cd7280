"""Everyday talk around a request never changes what is planned, and never ends up in a todo
title unless it is inside it."""

from __future__ import annotations

import time
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.plan import History, PriorStep
from core.planners.pattern import help_text, plan
from core.planners.pattern.talk import clean

AFTER_FIVE = History(steps=[PriorStep(tool="calculator", value=5)])


def steps(text: str, history: History | None = None) -> list[tuple[str, dict[str, Any]]]:
    return [(step.tool, step.args) for step in plan(text, history).steps]


@pytest.mark.parametrize(
    "text",
    [
        "hi crane, could you add a todo to call Ana? thanks!",
        "Hey there! Please add a todo to call Ana.",
        "good morning crane, would you mind adding a todo to call Ana",
        "could you please add a todo for me to call Ana",
        "I'd like you to add a todo to call Ana, please",
        "would you be so kind as to add a todo to call Ana",
        "quick one: add a todo to call Ana",
        "do me a favour and add a todo to call Ana. Thank you so much!",
        "add a todo to call Ana thanks!",
        "add a todo to call Ana for me please",
        "add a todo to call Ana, cheers",
        "yo crane add a todo to call Ana if you can",
        "how about adding a todo to call Ana?",
    ],
)
def test_talk_around_an_add_never_reaches_the_title(text: str) -> None:
    assert steps(text) == [("add_todo", {"title": "call Ana"})]


@pytest.mark.parametrize(
    ("text", "title"),
    [
        ("add a todo to thank Ana", "thank Ana"),
        ("remind me to say thank you to Bob", "say thank you to Bob"),
        ("remind me to say please", "say please"),
        ("add a todo to write a thank you", "write a thank you"),
        ("remind me to ask Bob to cover for me", "ask Bob to cover for me"),
        ("add a todo to tell Ana thanks", "tell Ana thanks"),
        ("add a todo: please the crowd", "please the crowd"),
        ("remind me to call mom, dad and grandma", "call mom, dad and grandma"),
    ],
)
def test_talk_words_inside_a_title_stay_in_it(text: str, title: str) -> None:
    assert steps(text) == [("add_todo", {"title": title})]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("ok so add 10 to that", [("calculator", {"expression": "5 + 10"})]),
        ("oh and divide it by 2", [("calculator", {"expression": "5 / 2"})]),
        ("right, double it", [("calculator", {"expression": "5 * 2"})]),
        ("alright, now times 3 please", [("calculator", {"expression": "5 * 3"})]),
        ("btw what's that plus 1?", [("calculator", {"expression": "5 + 1"})]),
        ("actually, add 2 to it. thanks", [("calculator", {"expression": "5 + 2"})]),
    ],
)
def test_openers_before_a_follow_up_change_nothing(text: str, expected: list[Any]) -> None:
    assert steps(text, AFTER_FIVE) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("would you mind calculating 18 * 3 for me?", [("calculator", {"expression": "18 * 3"})]),
        ("quick one: what's 18*3?", [("calculator", {"expression": "18*3"})]),
        ("good morning! what's 15% of 80?", [("calculator", {"expression": "(15/100)*80"})]),
        ("could you list my todos for me please", [("list_todos", {"include_done": False})]),
        ("hey there, what's on my list?", [("list_todos", {"include_done": False})]),
        ("would you mind listing my todos", [("list_todos", {"include_done": False})]),
        ("can you delete todo 2 for me? thanks", [("delete_todo", {"number": 2})]),
    ],
)
def test_talk_around_other_requests_changes_nothing(text: str, expected: list[Any]) -> None:
    assert steps(text) == expected


@pytest.mark.parametrize(
    "text", ["thanks a lot!", "ok", "hi crane", "cheers, crane", "great, thanks!", "never mind"]
)
def test_talk_alone_plans_nothing_and_says_what_crane_can_do(text: str) -> None:
    assert plan(text).steps == []
    assert plan(text).answer == help_text()


def test_a_gerund_is_read_only_after_words_that_ask_for_one() -> None:
    assert plan("adding a todo to call Ana").steps == []  # a status, not a request
    assert plan("finishing todo 2").steps == []


@settings(deadline=None, max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.one_of(
        st.text(max_size=300),
        st.lists(
            st.sampled_from(
                ["hi", "crane", "please", "thanks", "for", "me", "could", "you", "would", "mind",
                 "adding", "ok", "so", ",", "!", "?", ".", "say", "thank", "a", "todo", "to"]
            ),
            max_size=40,
        ).map(" ".join),
    )
)  # fmt: skip
def test_cleaning_talk_never_crashes_and_only_removes_from_the_ends(text: str) -> None:
    cleaned = clean(text)
    assert len(cleaned) <= len(text.strip()) + 10  # a gerund's base can be a few letters longer
    assert "\n" not in cleaned or "\n" in text


@pytest.mark.parametrize(
    "text",
    [
        "add a todo to x" + ", " * 1990,
        "add a todo to x" + ",.!?;:" * 600,
        "add a todo to x " + "please " * 560,
        "add a todo to x" + " thanks," * 490,
        "ok so " * 660 + "list my todos",
        "would you mind " * 260 + "adding a todo to x",
        "complete " + "milk and " * 440,
        "what is " + "1% tip on " * 390,
        "max(" * 990 + "1,299" + ")" * 990,
        "€1,000 " * 570,
    ],
)
def test_hostile_shapes_of_talk_and_money_are_planned_in_bounded_time(text: str) -> None:
    """Never hang: closing words are looked for near the end only, amounts in one pass."""
    started = time.perf_counter()
    result = plan(text[:4000], History(steps=[PriorStep(tool="calculator", value=5)]))
    assert bool(result.steps) != bool(result.answer)
    # a hang guard, not a speed check (that is bench/bench_planner.py): ~0.01-1 s here, and a
    # quadratic blow-up on 4000 characters would take minutes
    assert time.perf_counter() - started < 30.0


@pytest.mark.parametrize(
    "text",
    [
        "delete todo 2, never mind",
        "delete todo 2, wait",
        "delete todo 2. sorry",
        "delete todo 2, just kidding",
        "delete todo 2, actually no",
    ],
)
def test_words_that_take_a_request_back_are_not_talk(text: str) -> None:
    assert plan(text).steps == []


def test_after_words_that_take_gerunds_every_request_may_be_one() -> None:
    assert steps("how about adding a todo to call Sam and listing my todos") == [
        ("add_todo", {"title": "call Sam"}),
        ("list_todos", {"include_done": False}),
    ]
    assert steps("would you mind calculating 2+3 and doubling it") == [
        ("calculator", {"expression": "2+3"}),
        ("calculator", {"expression": "$1 * 2"}),
    ]
    # a gerund that is no request verb stays in the title; a delete never ends a title
    assert steps("how about adding a todo to go shopping and cooking dinner") == [
        ("add_todo", {"title": "go shopping and cooking dinner"})
    ]
    assert steps("how about adding a todo to buy milk and deleting todo 2") == [
        ("add_todo", {"title": "buy milk and deleting todo 2"})
    ]
