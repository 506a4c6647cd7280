"""REST runs created together share one durable commit: each 202 comes once its run is
durable, a reused Idempotency-Key among them gets the same run, and when their commit fails
every one of them gets a 503 and none is stored."""

from __future__ import annotations

import httpx
import pytest

from tests.api.conftest import LiveApi
from tests.fakes.commits import HeldCommits


def post_together(
    api: LiveApi, held: HeldCommits, requests: list[tuple[str, str | None]]
) -> list[httpx.Response]:
    """(text, Idempotency-Key) each, sharing one commit after the first's."""
    return held.together(
        [lambda text=text, key=key: api.post_run(text, **({"Idempotency-Key": key} if key else {}))
         for text, key in requests]
    )  # fmt: skip


def test_runs_created_together_are_each_stored_once_and_a_reused_key_gets_its_run(
    api: LiveApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    held = HeldCommits(api.store, monkeypatch)
    requests = [("calculate 1+1", None), ("calculate 2+2", "k1"), ("calculate 3+3", None),
                ("calculate 2+2", "k1")]  # fmt: skip

    created = post_together(api, held, requests)

    assert [response.status_code for response in created[:3]] == [202] * 3
    assert created[3].status_code in (200, 202)  # the replay: finished by now, or not yet
    assert created[3].json()["id"] == created[1].json()["id"]
    api.settle()
    assert len(api.stored_runs()) == 3


def test_when_the_shared_commit_fails_every_request_in_it_gets_503_and_none_is_stored(
    api: LiveApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    held = HeldCommits(api.store, monkeypatch)
    held.fail = True

    refused = post_together(api, held, [(f"calculate {i}+1", f"key{i}") for i in range(4)])

    assert [response.status_code for response in refused] == [503] * 4
    monkeypatch.undo()
    assert api.stored_runs() == []
    retried = api.post_run("calculate 0+1", **{"Idempotency-Key": "key0"})
    assert retried.status_code == 202  # nothing was bound to the key: a new run
