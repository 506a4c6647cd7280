"""The README and .env.example tell the truth: commands exist, every setting is documented."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import cli.args
from core.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()
ENV_EXAMPLE = (ROOT / ".env.example").read_text()


def setting_names() -> set[str]:
    names = set()
    for field in Settings.model_fields.values():
        alias = field.validation_alias
        choices = getattr(alias, "choices", None)
        names.update(choices if choices else [alias])
    return {str(name) for name in names}


def test_every_setting_is_in_the_readme_table_and_env_example() -> None:
    table = set(re.findall(r"^\| `([A-Z_]+)` \|", README, re.M))
    example = set(re.findall(r"^#? ?([A-Z_]+)=", ENV_EXAMPLE, re.M))
    assert setting_names() <= table, setting_names() - table
    assert setting_names() <= example, setting_names() - example
    assert table <= setting_names() | {"OPENAI_API_KEY", "OPENAI_BASE_URL"}, table - setting_names()


def test_readme_make_targets_exist() -> None:
    targets = set(re.findall(r"^make (\w+)", README, re.M))
    assert {"run", "test"} <= targets
    makefile = (ROOT / "Makefile").read_text()
    for target in targets | {"bench", "lock"}:
        assert re.search(rf"^{target}:", makefile, re.M), target


def test_readme_crane_commands_parse() -> None:
    parser = cli.args.parser()
    commands = re.findall(r"^\.venv/bin/crane (.+?)(?:\s+#.*)?$", README, re.M)
    assert len(commands) >= 5
    for line in commands:
        args = [a.strip('"') for a in re.findall(r'"[^"]*"|\S+', line)]
        parser.parse_args(args)  # raises cli.Refused on an unknown command or flag


def test_ci_runs_the_readme_test_command() -> None:
    assert "make test" in README
    assert "make test" in (ROOT / ".ci/run").read_text()


def test_crane_help_runs_as_a_console_script() -> None:
    out = subprocess.run(
        [str(ROOT / ".venv/bin/crane"), "--help"], capture_output=True, text=True, check=True
    )
    assert "ask" in out.stdout and "serve" in out.stdout
