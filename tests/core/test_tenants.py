"""Uninstall leaves nothing behind: every tenant table is forgotten, other tenants untouched,
and a run still executing when its workspace goes stops without writing again."""

from __future__ import annotations

from datetime import timedelta

import pytest

from core.limits import Limits
from core.orchestrator import Orchestrator
from core.plan import Plan, PlannedStep, Received, RunStatus, Scope, ToolResult
from core.runtime import Crane
from core.store import Store
from core.store.tenants import TENANT_TABLES
from tests.core.test_orchestrator import Args, Toolbox

ACME_T1 = Scope(enterprise_id="E1", team_id="T1", user_id="alice")
ACME_T2 = Scope(enterprise_id="E1", team_id="T2", user_id="bob")
OTHER = Scope(enterprise_id="", team_id="T9", user_id="carol")


def tables_with_team_id(store: Store) -> set[str]:
    with store.write() as conn:
        names = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        return {
            name
            for name in names
            if any(col["name"] == "team_id" for col in conn.execute(f"PRAGMA table_info({name})"))
        }


def rows_of(store: Store, column: str, value: str) -> dict[str, int]:
    with store.write() as conn:
        counts = {
            table: conn.execute(
                f"SELECT COUNT(*) FROM {table} WHERE {column} = ?", (value,)
            ).fetchone()[0]
            for table in TENANT_TABLES
        }
    return {table: count for table, count in counts.items() if count}


def fill(store: Store, who: Scope) -> None:
    """A bit of everything a workspace leaves: a run with steps and events, a todo, a delivery,
    an idempotency key, a vote, a question awaiting approval, an acknowledged request, an
    installation and its bot."""
    # a per-minute limit, so the run's minute is counted too (run_minutes)
    crane = Crane(store, lambda text, history: Plan(), Orchestrator(store), limits=Limits(1000))
    plan = Plan(steps=[PlannedStep(tool="add_todo", args={"title": "buy milk"})])
    run = crane.start(who, "add a todo", plan, "C1:1.0", idempotency=(f"k-{who.user_id}", "h"))
    crane.execute(run.id)
    crane.vote(run.id, who, "up")
    deleting = Plan(steps=[PlannedStep(tool="delete_todo", args={"number": 1})])
    crane.execute(crane.start(who, "delete todo 1", deleting, approval=True).id)
    store.claim_delivery(f"msg:{who.team_id}:C1:1.0", who)
    # a request acknowledged and not planned yet (durable intake)
    received = Received(id=f"i-{who.team_id}", scope=who, text="add a todo to call mom",
                       conversation="C1:2.0", channel="C1", received_at=store.clock())  # fmt: skip
    store.receive(received, f"msg:{who.team_id}:C1:2.0", ("host", 1, "token"))
    install = store.installations
    install.save_installation(who.enterprise_id, who.team_id, who.user_id, False, "{}")
    install.save_bot(who.enterprise_id, who.team_id, False, "{}")


def test_every_table_with_a_team_id_column_is_forgotten_on_uninstall(store: Store) -> None:
    assert tables_with_team_id(store) == set(TENANT_TABLES)


def test_forgetting_a_workspace_deletes_all_its_rows_and_only_its_rows(store: Store) -> None:
    for who in (ACME_T1, ACME_T2, OTHER):
        fill(store, who)
    before_t2, before_other = rows_of(store, "team_id", "T2"), rows_of(store, "team_id", "T9")
    assert set(before_t2) == set(TENANT_TABLES)

    store.forget_tenant("E1", "T1")

    assert rows_of(store, "team_id", "T1") == {}
    assert rows_of(store, "team_id", "T2") == before_t2
    assert rows_of(store, "team_id", "T9") == before_other
    assert [t.title for t in store.list_todos(ACME_T2)] == ["buy milk"]
    assert store.list_todos(ACME_T1) == [] and store.list_runs(ACME_T1) == []


def test_forgetting_an_org_deletes_every_workspace_of_it(store: Store) -> None:
    for who in (ACME_T1, ACME_T2, OTHER):
        fill(store, who)
    store.installations.save_bot("E1", "", True, "{}")  # the org-wide install itself

    store.forget_tenant("E1", None)

    assert rows_of(store, "enterprise_id", "E1") == {}
    assert set(rows_of(store, "team_id", "T9")) == set(TENANT_TABLES)


@pytest.mark.parametrize(("enterprise", "team"), [("E1", ""), ("", None)])
def test_forgetting_without_an_id_is_refused_and_deletes_nothing(
    store: Store, enterprise: str, team: str | None
) -> None:
    fill(store, OTHER)
    with pytest.raises(ValueError):
        store.forget_tenant(enterprise, team)
    assert set(rows_of(store, "team_id", "T9")) == set(TENANT_TABLES)


def test_a_workspace_can_install_again_after_an_uninstall_and_starts_empty(store: Store) -> None:
    fill(store, ACME_T1)
    store.forget_tenant("E1", "T1")
    assert store.claim_delivery("msg:T1:C1:1.0", ACME_T1)  # the old delivery is forgotten too
    assert store.installations.find_bot("E1", "T1") is None
    assert store.list_todos(ACME_T1, include_done=True) == []


def test_a_run_executing_when_its_workspace_is_forgotten_stops_and_writes_nothing_more(
    store: Store,
) -> None:
    toolbox = Toolbox()

    def uninstall_meanwhile(args: Args, ctx: object) -> ToolResult:
        store.forget_tenant("E1", "T1")  # another replica handling app_uninstalled
        return ToolResult(text="done")

    toolbox.add("slow", uninstall_meanwhile)
    crane = Crane(store, lambda text, history: Plan(), Orchestrator(store, tools=toolbox.tools))
    plan = Plan(steps=[PlannedStep(tool="slow", args={}),
                       PlannedStep(tool="add_todo", args={"title": "after"})])  # fmt: skip
    run = crane.start(ACME_T1, "slow then add", plan, "C1:2.0")

    stopped = crane.execute(run.id)

    assert stopped.status is RunStatus.running  # stopped where it was; nothing recorded it
    assert toolbox.calls["slow"] == 1
    assert rows_of(store, "team_id", "T1") == {}


def test_oauth_states_are_good_once_and_only_until_they_expire(store: Store) -> None:
    states = store.installations
    states.issue_state("s-1", timedelta(minutes=10))
    states.issue_state("s-2", timedelta(seconds=-1))  # already expired
    assert states.consume_state("s-1")
    assert not states.consume_state("s-1")  # replayed
    assert not states.consume_state("s-2")
    assert not states.consume_state("never-issued")
