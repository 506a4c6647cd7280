"""CRANE_MCP_CONFIG refused whole, in one line naming the file and the key: `crane ask` and
`crane serve` exit 2 before anything starts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import cli
from core.mcp.config import ConfigError, load


def _write(tmp_path: Path, text: str) -> str:
    path = tmp_path / "mcp.json"
    path.write_text(text, encoding="utf-8")
    return str(path)


@pytest.mark.parametrize(
    ("content", "named"),
    [
        ('{"mcpServers": {"jira": {"command": "x", "comand": "y"}}}', "mcpServers.jira.comand"),
        ('{"mcpServers": {}, "servers": {}}', "servers"),
        ('{"mcpServers": {"jira": {"command": "x", "env": {"A": 1}}}}', "mcpServers.jira.env.A"),
        ('{"mcpServers": {"Jira": {"command": "x"}}}', "mcpServers.Jira"),
        ('{"mcpServers": {"old": {"type": "sse", "url": "http://127.0.0.1:1/sse"}}}', "sse"),
        ('{"mcpServers": {"both": {"command": "x", "url": "http://127.0.0.1:1/"}}}', "both"),
        ('{"mcpServers": {"jira": {"command": "x",}}}', "not valid JSON"),
    ],
)
def test_a_bad_config_is_refused_in_one_line_naming_the_file_and_the_key(
    tmp_path: Path, content: str, named: str
) -> None:
    path = _write(tmp_path, content)
    with pytest.raises(ConfigError) as refused:
        load(path)
    message = str(refused.value)
    assert message.startswith(path) and named in message and "\n" not in message


def test_a_good_config_reads_both_transports_and_crane_s_own_keys(tmp_path: Path) -> None:
    config = {"mcpServers": {
        "tickets": {"command": "tickets-mcp", "args": ["--ro"], "env": {"TOKEN": "${T}"},
                    "trust_annotations": True, "allowed_workspaces": ["T1"]},
        "deploys": {"type": "http", "url": "http://127.0.0.1:9/mcp",
                    "headers": {"Authorization": "Bearer ${D}"}, "timeout_s": 5,
                    "allowed_users": ["U1"], "public_output": True},
    }}  # fmt: skip
    servers = load(_write(tmp_path, json.dumps(config)))
    assert servers["tickets"].stdio and not servers["deploys"].stdio
    assert servers["tickets"].allows("T1", "anyone") and not servers["tickets"].allows("T2", "U")
    assert servers["deploys"].allows("T9", "U1") and not servers["deploys"].allows("T9", "U2")


@pytest.mark.parametrize("command", [["ask", "calculate 1+1"], ["serve"]])
def test_crane_ask_and_serve_exit_2_on_an_unknown_key(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    command: list[str],
) -> None:
    path = _write(tmp_path, '{"mcpServers": {"jira": {"command": "x", "trust": true}}}')
    monkeypatch.setenv("CRANE_MCP_CONFIG", path)
    monkeypatch.setenv("CRANE_DB", str(tmp_path / "crane.db"))
    assert cli.main(command) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and path in err and "mcpServers.jira.trust" in err
    assert not (tmp_path / "crane.db").exists()  # refused before the database


def test_the_readme_s_example_config_is_valid(tmp_path: Path) -> None:
    readme = (Path(__file__).parents[2] / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Tools from MCP servers")[1].split("\n## ")[0]
    example = section.split("```json\n")[1].split("```")[0]
    servers = load(_write(tmp_path, example))
    assert servers["tickets"].stdio and servers["deploys"].url
