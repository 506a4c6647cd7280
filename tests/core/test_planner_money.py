"""Money arithmetic: currency around numbers, thousands separators, percentages of amounts,
splitting and unit prices. The plan shows the plain expression computed."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.plan import History, PriorStep
from core.planners.pattern import plan
from core.planners.pattern.arithmetic import translate
from core.planners.pattern.numbers import plain_amounts
from core.tools.calculator_eval import evaluate

AFTER_120 = History(steps=[PriorStep(tool="calculator", value=120)])


def steps(text: str, history: History | None = None) -> list[tuple[str, dict[str, Any]]]:
    return [(step.tool, step.args) for step in plan(text, history).steps]


@pytest.mark.parametrize(
    ("text", "expression", "value"),
    [
        ("what's a 20% tip on €60?", "60 * 20 / 100", 12),
        ("20% tip on €60", "60 * 20 / 100", 12),
        ("what's 15% tip on 84 dollars", "84 * 15 / 100", 12.6),
        ("15% tip for a $84 bill", "84 * 15 / 100", 12.6),
        ("what's the tip on 60 at 20%", "60 * 20 / 100", 12),
        ("what is a 7% discount on 250", "250 * 7 / 100", 17.5),
        ("what is 250 plus 7% tax", "250 + 250 * 7 / 100", 267.5),
        ("what is 60 with a 20% tip", "60 + 60 * 20 / 100", 72),
        ("what is 60 + 20%", "60 + 60 * 20 / 100", 72),
        ("what's 250 after a 10% discount", "250 - 250 * 10 / 100", 225),
        ("what is 60 - 15%", "60 - 60 * 15 / 100", 51),
        ("take 10% off 50", "50 - 50 * 10 / 100", 45),
        ("add 20% tip to 45", "45 + 45 * 20 / 100", 54),
        ("split 120 between 4 people", "120 / 4", 30),
        ("split €90 three ways", "90 / 3", 30),
        ("split the bill of $120 evenly among 4 friends", "120 / 4", 30),
        ("divide 100 among 4", "100 / 4", 25),
        ("3 tickets at $12.50 each", "3 * 12.50", 37.5),
        ("how much are 4 coffees at €3.20 each?", "4 * 3.20", 12.8),
        ("two tickets at five dollars each", "2 * 5", 10),
        ("what's the total for 3 pizzas at $12 each", "3 * 12", 36),
        ("what is 60 euros plus 25 euros", "60 + 25", 85),
        ("calculate $7.25 * 4", "7.25 * 4", 29),
        ("what is 1,299.99 + 0.01", "1299.99 + 0.01", 1300),
        ("what is (1,000 + 2,000) * 2", "(1000 + 2000) * 2", 6000),
        ("calculate max(1,299)", "max(1,299)", 299),
        ("calculate max(1,299) + 1,000", "max(1,299) + 1000", 1299),
        ("what is USD 40 / 8", "40 / 8", 5),
    ],
)
def test_money_phrasings_plan_the_plain_expression(
    text: str, expression: str, value: float
) -> None:
    assert steps(text) == [("calculator", {"expression": expression})]
    assert evaluate(expression) == value


@pytest.mark.parametrize(
    ("text", "expression"),
    [
        ("add 10% tax", "120 + 120 * 10 / 100"),
        ("plus 7% tax", "120 + 120 * 7 / 100"),
        ("split that between 4 people", "120 / 4"),
        ("what's a 15% tip on that?", "120 * 15 / 100"),
        ("apply a 10% discount", "120 - 120 * 10 / 100"),
    ],
)
def test_money_follow_ups_use_the_last_result(text: str, expression: str) -> None:
    assert steps(text, AFTER_120) == [("calculator", {"expression": expression})]


def test_money_in_one_plan_refers_to_the_step_before() -> None:
    assert steps("calculate 3 * 40 and add 10% tax") == [
        ("calculator", {"expression": "3 * 40"}),
        ("calculator", {"expression": "$1 + $1 * 10 / 100"}),
    ]


@pytest.mark.parametrize(
    ("text", "expression"),
    [
        ("what is 10 % 3", "10 % 3"),  # % between numbers stays the remainder
        ("what is 60 + 20 % 3", "60 + 20 % 3"),
        ("what is 60 plus 20% of 50", "60 + (20/100)*50"),
        ("what is 20% off 50", "(50 * (1 - 20/100))"),
    ],
)
def test_percent_forms_that_already_had_a_meaning_keep_it(text: str, expression: str) -> None:
    assert steps(text) == [("calculator", {"expression": expression})]


@pytest.mark.parametrize(
    ("text", "title"),
    [
        ("remind me to split 120 between 4 people", "split 120 between 4 people"),
        ("add a todo to pay $60 plus 20% tip", "pay $60 plus 20% tip"),
        ("add a todo to buy 3 tickets at $12 each", "buy 3 tickets at $12 each"),
    ],
)
def test_money_inside_a_todo_title_is_stored_verbatim(text: str, title: str) -> None:
    assert steps(text) == [("add_todo", {"title": title})]


@pytest.mark.parametrize(
    "text", ["split the bill", "what's the tip", "calculate 1,5 + 2", "3 meetings at 5pm each"]
)
def test_money_words_without_an_amount_plan_nothing(text: str) -> None:
    assert plan(text).steps == []


_MONEY = st.sampled_from(
    ["€", "$", "£", "60", "1,299.99", "1,000", "7", "%", "tip", "tax", "on", "of", "plus", "a",
     "split", "between", "ways", "people", "each", "at", "tickets", "euros", "dollars", "max(",
     ")", ",", "-", "+", "§", "off", "discount", "with", "after", "percent", "usd", "three"]
)  # fmt: skip


@settings(deadline=None, max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(st.text(max_size=300), st.lists(_MONEY, max_size=50).map(" ".join)))
def test_money_reading_never_crashes_and_gives_checked_arithmetic_or_nothing(text: str) -> None:
    assert isinstance(plain_amounts(text.lower()), str)
    found = translate(text.lower())
    if found is not None:
        assert not any(word in found[0] for word in ("tip", "tax", "each", "split", "%%"))
    result = plan(text)
    assert bool(result.steps) != bool(result.answer)
