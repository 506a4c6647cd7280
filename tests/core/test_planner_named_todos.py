"""Todos named by their words ("complete call the plumber"), resolved while planning against the
requesting user's own todos; their unsafe neighbours plan nothing or exactly what was typed."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import cli
from core.plan import History, Plan, PriorStep, Scope, Todo
from core.planners.pattern import naming, plan
from core.store import Store

NOW = datetime(2026, 1, 1, tzinfo=UTC)
TITLES = [
    "call the plumber", "renew insurance", "finish the report", "go to the gym", "buy milk",
    "write the report", "pay rent", "pay rent for May", "pick up the kids", "book flights",
    "buy oat milk",
]  # fmt: skip


def todos(*titles: str, done: tuple[str, ...] = ()) -> History:
    return History(
        todos=[
            Todo(number=n, title=title, done=title in done, created_at=NOW)
            for n, title in enumerate(titles or TITLES, start=1)
        ]
    )


MINE = todos(done=("buy oat milk",))


def steps(text: str, history: History = MINE) -> list[tuple[str, dict[str, Any], str | None]]:
    return [(step.tool, step.args, step.note) for step in plan(text, history).steps]


def asks(text: str, history: History = MINE) -> str:
    result = plan(text, history)
    assert result.steps == [], result.steps
    assert result.answer
    return result.answer


@pytest.mark.parametrize(
    ("text", "tool", "number"),
    [
        ("complete call the plumber", "complete_todo", 1),
        ("tick off renew insurance", "complete_todo", 2),
        ("remove the gym todo", "delete_todo", 4),
        ("mark Renew Insurance as done", "complete_todo", 2),
        ("I'm done with the insurance", "complete_todo", 2),
        ("I've just finished the plumber", "complete_todo", 1),
        ("delete the flights item", "delete_todo", 10),
        ("cross off pick up the kids", "complete_todo", 9),
        ("check the gym todo off", "complete_todo", 4),
        ("show me the oat milk todo", "get_todo", 11),
        ("complete the one about the kids", "complete_todo", 9),
        ('complete "call the plumber"', "complete_todo", 1),
        ("remove the gym todo from my list", "delete_todo", 4),
        ("call the plumber is done", "complete_todo", 1),
        ("the gym todo is done", "complete_todo", 4),
        ("throw out the milk todo", "delete_todo", 5),
    ],
)
def test_a_todo_named_by_its_words_acts_on_its_number_and_shows_its_title(
    text: str, tool: str, number: int
) -> None:
    assert steps(text) == [(tool, {"number": number}, TITLES[number - 1])]


def test_an_exact_title_beats_titles_that_merely_contain_its_words() -> None:
    assert steps("complete pay rent") == [("complete_todo", {"number": 7}, "pay rent")]
    assert steps("complete pay rent for may") == [
        ("complete_todo", {"number": 8}, "pay rent for May")
    ]


def test_several_matches_are_a_question_listing_them() -> None:
    answer = asks("complete the report")
    assert '#3 "finish the report"' in answer
    assert '#6 "write the report"' in answer
    assert "complete todo 3" in answer


def test_a_question_quoting_the_users_titles_is_marked_private_and_no_other_is() -> None:
    assert plan("complete the report", MINE).private  # it lists two of their titles
    assert plan("complete buy oat milk", MINE).private  # "… is already done"
    assert not plan("delete the dentist todo", MINE).private  # only their own words
    assert not plan("what can you do?", MINE).private


def test_no_match_says_so_and_acts_on_nothing() -> None:
    assert "No todo matches" in asks("delete the dentist todo")
    assert "No todo matches" in asks("complete walk the dog")


def test_a_done_todo_is_not_completed_again_but_can_be_shown() -> None:
    assert "already done" in asks("complete buy oat milk")
    assert steps("show the oat milk todo") == [("get_todo", {"number": 11}, "buy oat milk")]
    # only open todos are candidates for complete: the done "buy oat milk" does not compete
    assert steps("delete milk") == [("delete_todo", {"number": 5}, "buy milk")]


@pytest.mark.parametrize(
    "text",
    [
        "don't delete call the plumber",
        "please don't complete the plumber todo",
        "how do I delete call the plumber?",
        "should I finish the report?",
        "can I complete pay rent?",
        "did I finish call the plumber?",
        "I haven't finished call the plumber",
        "never mind, don't complete call the plumber",
        "if I finish call the plumber, list my todos",
        "finish up",  # no word that names anything
        "complete it all",
        "close the window",  # verbs of the world need "todo" said: "close the gym todo"
        "throw out the milk",
        "get milk",
        "what's the weather",
        "the milk is finished",  # about milk, not "buy milk"
        "complete the report, not the plumber",
    ],
)
def test_negated_hypothetical_and_vague_requests_plan_no_step(text: str) -> None:
    assert plan(text, MINE).steps == []


@pytest.mark.parametrize(
    ("text", "title"),
    [
        ("add a todo to delete old photos", "delete old photos"),
        ("add a todo to complete 2 forms", "complete 2 forms"),
        ("add a todo to buy bread and complete call the plumber",
         "buy bread and complete call the plumber"),
        ("remind me to finish the report", "finish the report"),
    ],
)  # fmt: skip
def test_a_title_holding_a_command_is_stored_verbatim_and_acts_on_nothing(
    text: str, title: str
) -> None:
    assert steps(text) == [("add_todo", {"title": title}, None)]


def test_a_named_todo_and_another_request_in_one_message() -> None:
    assert steps("complete call the plumber and list my todos") == [
        ("complete_todo", {"number": 1}, "call the plumber"),
        ("list_todos", {"include_done": False}, None),
    ]


def test_arithmetic_that_reads_like_a_todo_action_stays_arithmetic() -> None:
    assert steps("remove 5 from 10", todos("take 5 from 10 boxes")) == [
        ("calculator", {"expression": "10 - 5"}, None)
    ]


def test_without_the_users_todos_only_conversation_titles_are_named() -> None:
    """The LLM planner's fallback and older callers pass no todos: nothing new is guessed."""
    assert plan("complete call the plumber", History()).steps == []


def test_matching_words_are_whole_words_without_articles_or_todo_nouns() -> None:
    assert naming.words("the Gym TODO") == ("gym",)
    assert naming.words("my to-do about the kids") == ("about", "kids")
    assert plan("complete the gy todo", MINE).steps == []  # "gy" is not a word of "gym"


_WORDS = st.sampled_from(
    ["complete", "delete", "remove", "the", "a", "todo", "it", "not", "don't", "report", "milk",
     "call", "plumber", "and", "list", "my", "todos", "show", "I", "finished", "is", "done",
     "mark", "as", "off", "tick", "'", '"', ",", "?", "gym", "one", "about", "2", "if", "should"]
)  # fmt: skip


@settings(deadline=None, max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(
    text=st.one_of(st.text(max_size=300), st.lists(_WORDS, max_size=40).map(" ".join)),
    titles=st.lists(st.one_of(st.text(min_size=1, max_size=40), _WORDS), max_size=8),
)
def test_naming_never_crashes_and_acts_only_on_an_open_todo_of_the_user(
    text: str, titles: list[str]
) -> None:
    history = todos(*titles, done=tuple(titles[:1])) if titles else History(todos=[])
    result = plan(text, history)
    assert isinstance(result, Plan)
    assert bool(result.steps) != bool(result.answer)
    numbers = {todo.number for todo in history.todos or []}
    for step in result.steps:
        if step.note is not None:
            assert step.args["number"] in numbers
            assert step.note == (history.todos or [])[step.args["number"] - 1].title


def test_crane_plans_against_the_users_own_todos_in_any_thread(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    db = str(tmp_path / "crane.db")
    store = Store(db)
    try:
        store.add_todo(Scope(), "call the plumber")
        store.add_todo(Scope(user_id="someone-else"), "call the plumber")  # never a candidate
    finally:
        store.close()

    code = cli.main(["ask", "complete call the plumber", "--thread", "new", "--db", db])

    out = capsys.readouterr().out
    assert code == 0
    assert '1. complete_todo {"number": 1} — "call the plumber"' in out  # the plan names it
    assert "Completed todo #1: call the plumber" in out


def test_two_todos_named_at_once_are_two_steps_when_each_is_clear() -> None:
    assert steps("complete milk and the plumber") == [
        ("complete_todo", {"number": 5}, "buy milk"),
        ("complete_todo", {"number": 1}, "call the plumber"),
    ]
    assert "More than one todo" in asks("delete the report and the plumber")
    assert "No todo matches" in asks("delete the plumber and the dentist")


def test_a_title_holding_and_is_one_todo_not_two() -> None:
    history = todos("buy bread and butter", "buy bread", "buy butter")
    assert steps("complete buy bread and butter", history) == [
        ("complete_todo", {"number": 1}, "buy bread and butter")
    ]


def test_a_position_said_done_uses_the_last_listing() -> None:
    listed = PriorStep(tool="list_todos", value=2, todo_numbers=[4, 7])
    history = History(steps=[listed], todos=MINE.todos)
    assert steps("the second one is done", history) == [("complete_todo", {"number": 7}, None)]
    assert "Which todo" in asks("the second one is done", History(todos=MINE.todos))
