"""CI (.ci/run) runs exactly the README's test command, on each Python it names."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def readme_test_command() -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    match = re.search(r"^Run the tests:\n\n {4}(.+)$", text, re.MULTILINE)
    assert match, "the README's set-up section shows the test command after 'Run the tests:'"
    return match.group(1).strip()


def ci_test_command() -> str:
    script = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    match = re.search(r"^readme_tests\(\) \{\n(?:\s*local .*\n)?\s*(.+)\n\}", script, re.MULTILINE)
    assert match, ".ci/run defines readme_tests() with the README's command"
    return match.group(1).strip()


def test_ci_runs_the_readme_test_command():
    """.ci/run passes the Python and the environment folder; otherwise the command is the README's, word for word."""
    in_ci = ci_test_command().replace('"$python"', "python3").replace('"$venv"', ".venv")
    in_ci = re.sub(r'"\$venv(/[^"]*)"', r".venv\1", in_ci)
    assert in_ci == readme_test_command()
