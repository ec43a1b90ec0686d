"""The documentation's code blocks: every fenced block of README.md and docs/**/*.md is run, or marked as not.

The convention (docs/writing-docs.md says it for writers): the last non-blank line before a fence may be
an HTML comment, which the rendered page does not show,

    <!-- not run: REASON -->   the block is shown, never run; REASON says why (it trains for minutes, it
                               installs packages, it is a file's contents, it is output), and may not be empty
    <!-- file: NAME -->        the block's text is written to NAME in the page's working directory, for a
                               later block of the same page to use (which must name it)

and a block without one is run, which only `python` and `sh` blocks can be: an unmarked block of any other
language fails. The runnable blocks of one page run in order, in one fresh temporary directory (so a block
may use what an earlier one wrote), holding a link to the repository's `examples/`:

    python   the block as a script, by this interpreter, PYTHONPATH inherited with the repository first
    sh       the block by `bash -euo pipefail`, with `lstmlab` and `python` on PATH meaning
             `sys.executable -m lstmlab` and `sys.executable`: what the page shows is what runs

A block fails its page's test when it exits non-zero. Keep runnable examples tiny and of one shape
(`--seq-len 10 --samples 256,64,64 --epochs 1 --layers 1`): the pages share one dataset and XLA cache
(`cache/`, copied into each page's directory and back), so a program compiled for one page is loaded by
the next, and this file stays around a minute on 2 cores.
"""

import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from conftest import ROOT

RUNNABLE = ("python", "sh")
FENCE = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})[ \t]*(?P<lang>[\w+-]*)")
MARK = re.compile(r"^\s*<!--\s*(?P<kind>not run|file):\s*(?P<value>.*?)\s*-->\s*$")
BLOCK_TIMEOUT = 180


@dataclass
class Block:
    path: Path
    line: int  # of the opening fence, from 1
    lang: str
    code: str
    mark: str | None  # "not run", "file" or None (run)
    value: str  # the reason, or the file name

    @property
    def where(self) -> str:
        return f"{_shown(self.path)}:{self.line}"


def _shown(path: Path) -> str:
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


def doc_files() -> list[Path]:
    """README.md and every hand-written page; the generated study reports are checked apart."""
    return [ROOT / "README.md", *sorted(p for p in (ROOT / "docs").rglob("*.md") if not _is_report(p))]


def _is_report(path: Path) -> bool:
    return path.name == "report.md" and path.parent.parent == ROOT / "docs" / "studies"


def code_blocks(path: Path) -> list[Block]:
    """The fenced blocks of a Markdown file, each with the marker (if any) on its last non-blank line before."""
    lines = path.read_text().splitlines()
    blocks, i = [], 0
    while i < len(lines):
        opening = FENCE.match(lines[i])
        if not opening:
            i += 1
            continue
        indent, fence = opening["indent"], opening["fence"]
        before = next((line for line in reversed(lines[:i]) if line.strip()), "")
        mark = MARK.match(before)
        body, j = [], i + 1
        while j < len(lines) and not re.match(rf"^[ \t]*{re.escape(fence[0])}{{{len(fence)},}}\s*$", lines[j]):
            body.append(lines[j][len(indent):] if lines[j].startswith(indent) else lines[j].lstrip())
            j += 1
        assert j < len(lines), f"{_shown(path)}:{i + 1}: a code fence that is never closed"
        blocks.append(Block(path, i + 1, opening["lang"].lower(), "\n".join(body) + "\n",
                            mark["kind"] if mark else None, mark["value"] if mark else ""))
        i = j + 1
    return blocks


def problems(blocks: list[Block]) -> list[str]:
    """What breaks the convention in one page's blocks, one sentence each."""
    found = []
    for n, block in enumerate(blocks):
        if block.mark is None and block.lang not in RUNNABLE:
            found.append(f"{block.where}: a {block.lang or 'plain'} block cannot be run: mark it "
                         "<!-- not run: REASON --> or <!-- file: NAME -->, or make it python or sh")
        if block.mark == "not run" and not block.value:
            found.append(f"{block.where}: <!-- not run: --> needs a reason")
        if block.mark == "file":
            name = block.value
            if not name or Path(name).is_absolute() or ".." in Path(name).parts:
                found.append(f"{block.where}: <!-- file: {name} --> needs a relative file name")
            elif not any(b.mark is None and name in b.code for b in blocks[n + 1:]):
                found.append(f"{block.where}: no later block of the page that is run uses {name}")
    return found


def test_every_block_is_run_or_marked_not_run():
    found = [problem for path in doc_files() for problem in problems(code_blocks(path))]
    assert not found, "\n".join(found)


def test_the_convention_is_enforced(tmp_path):
    """The checker itself: unmarked blocks it cannot run, empty reasons and unused files are caught."""
    page = tmp_path / "page.md"
    page.write_text("\n".join([
        "```toml", "a = 1", "```",  # unmarked, not runnable
        "<!-- not run:  -->", "", "```sh", "lstmlab run", "```",  # no reason
        "<!-- file: spec.toml -->", "```toml", "seeds = 1", "```",  # never used
        "<!-- not run: shown only -->", "", "````text", "```sh", "inner", "```", "````",  # a nested fence
        "```python", "print(1)", "```",  # run
        "  <!-- file: c.json -->", "  ```json", "  {}", "  ```", "  ```sh", "  cat c.json", "  ```",  # in a list
    ]) + "\n")
    blocks = code_blocks(page)
    assert [(b.lang, b.mark) for b in blocks] == [("toml", None), ("sh", "not run"), ("toml", "file"),
                                                  ("text", "not run"), ("python", None), ("json", "file"),
                                                  ("sh", None)]
    assert blocks[3].code == "```sh\ninner\n```\n" and blocks[6].code == "cat c.json\n"
    found = problems(blocks)
    assert len(found) == 3
    assert "toml block cannot be run" in found[0] and "needs a reason" in found[1] and "spec.toml" in found[2]


def test_generated_reports_have_no_code_blocks():
    """The reports are not checked block by block, so they must hold none (they are tables and figures)."""
    reports = sorted((ROOT / "docs" / "studies").glob("*/report.md"))
    assert reports
    assert [str(r.relative_to(ROOT)) for r in reports if code_blocks(r)] == []


def _pages_with_runnable_blocks() -> list[Path]:
    return [path for path in doc_files() if any(b.mark is None for b in code_blocks(path))]


@pytest.fixture(scope="session")
def shared_cache(tmp_path_factory):
    """The `cache/` (datasets and compiled programs) the pages' directories start from and add to."""
    return tmp_path_factory.mktemp("docs") / "cache"


@pytest.mark.slow  # about 100 s: every page's examples train tiny runs; `-m slow` (and CI) runs them
@pytest.mark.parametrize("path", _pages_with_runnable_blocks(), ids=lambda p: str(p.relative_to(ROOT)))
def test_code_blocks_run(path, tmp_path, shared_cache):
    shims = tmp_path / "bin"
    shims.mkdir()
    for name, target in (("lstmlab", f'"{sys.executable}" -m lstmlab'), ("python", f'"{sys.executable}"')):
        (shims / name).write_text(f'#!/bin/sh\nexec {target} "$@"\n')
        (shims / name).chmod(0o755)
    work = tmp_path / "work"
    work.mkdir()
    (work / "examples").symlink_to(ROOT / "examples")
    if shared_cache.exists():
        shutil.copytree(shared_cache, work / "cache")
    env = {**os.environ, "PATH": f"{shims}{os.pathsep}{os.environ.get('PATH', '')}", "MPLBACKEND": "Agg",
           "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    for n, block in enumerate(code_blocks(path)):
        if block.mark == "file":
            (work / block.value).parent.mkdir(parents=True, exist_ok=True)
            (work / block.value).write_text(block.code)
            continue
        if block.mark == "not run":
            continue
        if block.lang == "python":
            script = tmp_path / f"block{n}.py"
            script.write_text(block.code)
            command = [sys.executable, str(script)]
        else:
            command = ["bash", "-euo", "pipefail", "-c", block.code]
        done = subprocess.run(command, cwd=work, env=env, capture_output=True, text=True, timeout=BLOCK_TIMEOUT)
        assert done.returncode == 0, (f"{block.where}: the {block.lang} block exited {done.returncode}\n"
                                      f"--- block\n{block.code}--- stdout\n{done.stdout[-3000:]}"
                                      f"--- stderr\n{done.stderr[-3000:]}")
    if (work / "cache").is_dir():
        shutil.copytree(work / "cache", shared_cache, dirs_exist_ok=True, ignore=shutil.ignore_patterns("*.lock"))


def test_flags_page_lists_every_flag():
    """docs/usage/flags.md names every flag of every command, so a new flag cannot go undocumented."""
    from lstmlab.cli import build_parser

    page = (ROOT / "docs" / "usage" / "flags.md").read_text()
    parser = build_parser()
    commands = next(a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction").choices
    missing = [f"lstmlab {name} {flag}" for name, sub in commands.items() for action in sub._actions
               for flag in action.option_strings if flag.startswith("--") and flag != "--help"
               and f"`{flag}" not in page]
    assert missing == []


def test_readme_is_short_and_keeps_the_set_up_commands():
    readme = (ROOT / "README.md").read_text()
    assert len(readme.splitlines()) <= 150
    assert ('python3.11 -m venv .venv && .venv/bin/pip install -r requirements.lock && .venv/bin/pip install '
            '--no-deps -e ".[test]" && .venv/bin/lstmlab run\n.venv/bin/python -m pytest\n') in readme
    for command in ('pip install -e ".[docs]"', "mkdocs serve", "mkdocs build --strict"):
        assert command in readme


def test_site_builds_strict(tmp_path):
    """What CI runs: a broken link, a page missing from the nav or a docstring griffe cannot parse fails."""
    pytest.importorskip("mkdocs")
    pytest.importorskip("mkdocstrings_handlers.python")
    done = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path / "site")],
                          cwd=ROOT, capture_output=True, text=True, timeout=300,
                          env={**os.environ, "NO_MKDOCS_2_WARNING": "1"})
    assert done.returncode == 0, done.stderr[-5000:]
