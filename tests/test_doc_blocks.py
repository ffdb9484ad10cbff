"""Every shell and Python block of README.md and docs/*.qmd runs, as written, on a fresh demo.

The guides are read the way a newcomer follows them: in a copy of the repository as a fresh clone
has it (the files git tracks or would track, so no `reports/`, no `logs/salesops.log`), with
`../shared` beside it, one guide after the other (README, getting started, data, scheduler, the
analyst's guide last: it changes the demo period's horizon), every block in its guide's order, all in
that one project folder (a module fixture, so the demo cycle runs once per session, by `make demo`).

How each block runs:

- `bash`/`sh`/`shell` blocks: with `bash -e -o pipefail`, from the project's root; a block that
  starts with `#!` is a script: it is written where its header comment says and run with `bash`.
- `cron` blocks: the command part of each entry (after the five time fields, `\\%` read as `%`), with
  `sh`, as cron runs it.
- `python` blocks: in one namespace per guide, from `notebooks/`, as cells of a notebook. A block
  defining `test_*` functions is a test: it is run and its tests are called. A function a guide tells
  the reader to add to a `salesops` module is set on that module for the blocks after it. An Airflow
  DAG needs a scheduler: its command part (the `BashOperator`'s `bash_command`, rendered for the run
  of 2 November 2026 06:00) runs with `bash` in the operator's `cwd`.
- A command starting JupyterLab is a server: it is started as written (with `--allow-root` when
  running as root, as the guides tell root users) and stopped once it serves.
- `yaml` blocks are parameters: each must validate on top of `params/default.yaml`; one whose first
  line names a params file (`# params/NAME.yaml`) is merged into that file, as the reader is told.
- `/srv/salesops` (the guides' example install) is the project copy, `/tmp/` a temporary folder,
  and `date +%Y-%m` prints `2026-11`: the demo company's history ends in October 2026.

A block (or some of its lines) is left out only with a visible marker on the line before it:
`<!-- doc-test: skip: REASON -->` or `<!-- doc-test: skip "COMMAND": REASON -->` (the lines starting
with COMMAND). `<!-- doc-test: exit N -->` states a block's expected exit code (default 0; 0 or 3
when the block passes `--fail-on-alert`). `SKIPPED` below lists every skip: adding one means
editing this file, so the set stays small and each one is justified where it is made.

To keep the time down, `.venv/bin/salesops` in the project is a thin wrapper around the real
command: a `run` or `backfill` whose arguments, folder and params files are those of one already
run in this session replays that run's exit code and output instead of running the cycle again
(several guides run `salesops run 2026-11` the same way; the shell around it, `cd`, `date`, the
redirections, the wrapper script and the exit code, still runs for real every time).
"""

from __future__ import annotations

import ast
import datetime as dt
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import textwrap
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
PERIOD = "2026-11"
# the guides in the order a newcomer reads them; the analyst's guide last: it changes the horizon
ORDER = ["README.md", "docs/getting-started.qmd", "docs/data.qmd", "docs/scheduler.qmd", "docs/analyst.qmd"]
RUN_LANGS = {"bash", "sh", "shell", "python", "cron"}
SKIPPED = {
    ("README.md", 'skip "make test"'),
    ("docs/getting-started.qmd", 'skip "make test"'),
    ("docs/getting-started.qmd", 'skip "bash scripts/setup.sh"'),
    ("docs/data.qmd", "skip"),  # the PostgreSQL params block
}
MARKER = re.compile(r"^<!--\s*doc-test:\s*(?P<body>.*?)\s*-->$")
FENCE = re.compile(r"^```\s*\{?\.?(?P<lang>[\w-]*)\}?\s*$")


# ---------------------------------------------------------------- reading the guides
@dataclass
class Block:
    guide: str
    line: int  # line of the opening fence, 1-based
    lang: str
    text: str
    marker: str | None = None

    @property
    def id(self) -> str:
        return f"{self.guide}:{self.line}"

    @property
    def skip_all(self) -> bool:
        return self.marker is not None and re.match(r"skip\s*:", self.marker) is not None

    @property
    def skip_prefix(self) -> str | None:
        m = re.match(r'skip\s+"([^"]+)"\s*:', self.marker or "")
        return m.group(1) if m else None

    @property
    def exit_codes(self) -> set[int]:
        m = re.match(r"exit\s+(\d+)$", self.marker or "")
        if m:
            return {int(m.group(1))}
        return {0, 3} if "--fail-on-alert" in self.text else {0}


def guides() -> list[str]:
    """README.md and every docs/*.qmd: the reading order first, then the rest."""
    rest = sorted(f"docs/{p.name}" for p in (ROOT / "docs").glob("*.qmd") if f"docs/{p.name}" not in ORDER)
    return ORDER + rest


def read_blocks(guide: str, text: str | None = None) -> list[Block]:
    """The fenced blocks of a guide, each with the doc-test marker on the line before it (if any)."""
    lines = (text if text is not None else (ROOT / guide).read_text(encoding="utf-8")).splitlines()
    blocks, i = [], 0
    while i < len(lines):
        m = FENCE.match(lines[i]) if lines[i].startswith("```") else None
        if m is None:
            i += 1
            continue
        end = next(j for j in range(i + 1, len(lines)) if lines[j].startswith("```"))
        before = next((lines[j].strip() for j in range(i - 1, -1, -1) if lines[j].strip()), "")
        marker = MARKER.match(before)
        blocks.append(
            Block(
                guide,
                i + 1,
                m.group("lang"),
                "\n".join(lines[i + 1 : end]) + "\n",
                marker.group("body") if marker else None,
            )
        )
        i = end + 1
    return blocks


def all_blocks() -> list[Block]:
    return [b for g in guides() for b in read_blocks(g)]


# ---------------------------------------------------------------- fast checks of the convention
def test_markers_are_known_and_the_skips_are_the_listed_few():
    markers = [b for b in all_blocks() if b.marker is not None]
    for b in markers:
        assert b.skip_all or b.skip_prefix or re.match(r"exit \d+$", b.marker), (
            f"{b.id}: unknown doc-test marker {b.marker!r}"
        )
        if b.skip_all or b.skip_prefix:
            assert len(b.marker.split(":", 1)[1].strip()) > 15, f"{b.id}: a skip needs its reason"
    skips = {(b.guide, b.marker.split(":", 1)[0].strip()) for b in markers if b.skip_all or b.skip_prefix}
    assert skips == SKIPPED, "a new skip must be justified in the guide and listed in SKIPPED"
    # a marker placed anywhere but right before a block would be silently ignored
    for guide in guides():
        text = (ROOT / guide).read_text(encoding="utf-8")
        placed = len(re.findall(r"^<!--\s*doc-test:", text, flags=re.MULTILINE))
        assert placed == sum(b.marker is not None for b in read_blocks(guide)), guide


def test_the_guides_have_blocks_to_run():
    runnable = [b for b in all_blocks() if b.lang in RUN_LANGS and not b.skip_all]
    by_guide = {g: sum(b.guide == g for b in runnable) for g in ORDER}
    assert all(by_guide.values()), by_guide
    assert len(runnable) >= 20
    unknown = {b.lang for b in all_blocks()} - RUN_LANGS - {"yaml", "text", ""}
    assert unknown == set(), f"blocks in a language this test does not know how to run: {unknown}"


def test_block_reader_keeps_markers_and_lines():
    text = 'Intro.\n\n<!-- doc-test: skip "make test": it runs the suite itself -->\n```bash\nmake demo\n'
    text += "make test\n```\n\n```{.python}\nprint(1)\n```\n"
    first, second = read_blocks("x.md", text)
    assert (first.line, first.lang, first.skip_prefix, first.skip_all) == (4, "bash", "make test", False)
    assert (second.lang, second.marker, second.text, second.exit_codes) == ("python", None, "print(1)\n", {0})


def _default_params() -> dict:
    return yaml.safe_load((ROOT / "params" / "default.yaml").read_text(encoding="utf-8"))


@pytest.mark.parametrize("block", [b for b in all_blocks() if b.lang == "yaml"], ids=lambda b: b.id)
def test_yaml_blocks_are_valid_params(block):
    from salesops.params import merge, validate

    shown = yaml.safe_load(block.text)
    validate(merge(_default_params(), shown), block.id)


def test_the_override_example_names_a_demo_sku():
    from salesops.data import generate_demo

    block = next(b for b in read_blocks("docs/analyst.qmd") if b.lang == "yaml" and "overrides:" in b.text)
    skus = {o["sku"] for o in yaml.safe_load(block.text)["demand"]["overrides"] if "sku" in o}
    demo = generate_demo(42, 150, 48, 25)["products"]
    assert skus and skus <= set(demo["sku"])
    comment = re.search(
        r"overrides: \[\]\s+# e\.g\. \{sku: ([\w-]+),", (ROOT / "params/default.yaml").read_text()
    )
    assert comment and comment.group(1) in set(demo["sku"])


# ---------------------------------------------------------------- the project a reader works in
SHIM = '''#!{python}
"""doc-test wrapper of salesops: runs {real}; replays a run/backfill already run alike."""
import hashlib, json, os, subprocess, sys
from pathlib import Path

memo = Path({memo!r})
argv, cwd = sys.argv[1:], os.getcwd()
with open(memo / "calls.jsonl", "a") as log:
    log.write(json.dumps({{"argv": argv, "cwd": cwd}}) + "\\n")
key = None
if argv and argv[0] in ("run", "backfill"):
    digest = hashlib.sha256(json.dumps([argv, cwd]).encode())
    named = [Path(cwd, a) for a in argv if Path(cwd, a).is_file()]  # --params files
    if argv[0] == "run" and len(argv) > 1 and "--params" not in argv:  # the files run reads
        named += [Path(cwd, "params", "default.yaml"), Path(cwd, "params", argv[1] + ".yaml")]
    else:  # backfill: the default and every period file
        named += sorted(Path(cwd, "params").glob("default.yaml")) + sorted(
            Path(cwd, "params").glob("[0-9][0-9][0-9][0-9]-[0-9][0-9].yaml")
        )
    files = [path for path in named if path.is_file()]
    for path in files:
        digest.update(str(path).encode() + path.read_bytes())
    key = memo / (digest.hexdigest() + ".json")
if key is not None and key.exists():
    done = json.loads(key.read_text())
    sys.stdout.write(done["stdout"])
    sys.stderr.write(done["stderr"])
    sys.exit(done["rc"])
done = subprocess.run([{real!r}, *argv], capture_output=True, text=True)
sys.stdout.write(done.stdout)
sys.stderr.write(done.stderr)
if key is not None:
    key.write_text(json.dumps({{"rc": done.returncode, "stdout": done.stdout, "stderr": done.stderr}}))
sys.exit(done.returncode)
'''

DATE = """#!/bin/sh
# doc-test: the scheduled month is the demo's first planned month
if [ "$1" = "+%Y-%m" ]; then echo 2026-11; else exec {date} "$@"; fi
"""

MAIL = """#!/bin/sh
# doc-test: record the mail instead of sending it
{{ echo "mail $*"; cat; }} >> "{folder}/mail.txt"
"""


def _clone_files() -> list[str]:
    """The files a fresh clone would have: tracked, or new and not ignored (outside git: all but
    the environment, the outputs and the caches)."""
    if (ROOT / ".git").exists() and shutil.which("git"):
        listed = subprocess.run(
            ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
            cwd=ROOT,
            capture_output=True,
            check=True,
        ).stdout.decode()
        return [f for f in listed.split("\0") if f and (ROOT / f).is_file()]
    skip = re.compile(
        r"^(\.venv[^/]*|\.git|reports|logs|docs/_site|docs/reference|build)/|__pycache__|\.egg-info/"
    )
    keep = {"reports/.gitkeep", "logs/.gitignore"}
    files = [str(p.relative_to(ROOT)) for p in ROOT.rglob("*") if p.is_file()]
    return [f for f in files if f in keep or not skip.search(f)]


def _venv(project: Path, memo: Path) -> Path:
    """`.venv` of the project: the test's environment, with `bin/salesops` the memoising wrapper."""
    real_prefix = Path(sys.prefix)
    venv = project / ".venv"
    (venv / "bin").mkdir(parents=True)
    if (real_prefix / "pyvenv.cfg").is_file():
        shutil.copy(real_prefix / "pyvenv.cfg", venv / "pyvenv.cfg")
        for entry in real_prefix.iterdir():
            if entry.name not in ("bin", "pyvenv.cfg", ".installed") and not (venv / entry.name).exists():
                (venv / entry.name).symlink_to(entry)
    real_bin = Path(sys.executable).parent
    for entry in real_bin.iterdir():
        if entry.name != "salesops":
            (venv / "bin" / entry.name).symlink_to(entry)
    shim = venv / "bin" / "salesops"
    shim.write_text(SHIM.format(python=sys.executable, real=str(real_bin / "salesops"), memo=str(memo)))
    shim.chmod(0o755)
    (venv / ".installed").touch()  # newer than pyproject.toml: `make demo` does not reinstall
    os.utime(project / "pyproject.toml", (0, 0))
    return venv


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    base = tmp_path_factory.mktemp("clone")
    main = base / "main"
    for rel in _clone_files():
        (main / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / rel, main / rel)
    if SHARED.is_dir():
        (base / "shared").symlink_to(SHARED)
    memo, tools, tmp, home = base / "memo", base / "tools", base / "tmp", base / "home"
    for folder in (memo, tools, tmp, home):
        folder.mkdir()
    _venv(main, memo)
    (tools / "date").write_text(DATE.format(date=shutil.which("date")))
    (tools / "mail").write_text(MAIL.format(folder=base))
    for tool in tools.iterdir():
        tool.chmod(0o755)
    env = {
        **os.environ,
        "PATH": f"{tools}{os.pathsep}{os.environ['PATH']}",
        "HOME": str(home),
        "JUPYTER_RUNTIME_DIR": str(home / "jupyter-runtime"),
        "BROWSER": "true",
        "PYTHONDONTWRITEBYTECODE": "1",
        # `make demo` as written, over three of its seven periods (the Makefile's DEMO_FROM): the
        # other four add minutes of CI and nothing a guide shows
        "DEMO_FROM": "2026-09",
    }
    for var in ("VIRTUAL_ENV", "PYTEST_CURRENT_TEST", "MAKEFLAGS", "MFLAGS", "MAKELEVEL"):
        env.pop(var, None)
    return {"base": base, "root": main, "memo": memo, "tmp": tmp, "env": env, "outputs": {}, "done": set()}


# ---------------------------------------------------------------- running one block
def _local(project, text: str) -> str:
    """The guide's example paths in the test's folders (one pass: the project itself is under /tmp)."""
    places = {"/srv/salesops": str(project["root"]), "/tmp/": f"{project['tmp']}/"}
    return re.sub(r"(?<![\w./-])(/srv/salesops|/tmp/)", lambda m: places[m.group(1)], text)


def _shell(project, argv: list[str], cwd: Path, timeout: int = 900) -> subprocess.CompletedProcess:
    return subprocess.run(
        argv, cwd=cwd, env=project["env"], capture_output=True, text=True, timeout=timeout, check=False
    )


def _jupyter(project, command: str) -> subprocess.CompletedProcess:
    """Start JupyterLab as the guide says, wait until it serves, stop it."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    extra = f" --no-browser --ip=127.0.0.1 --port={port}" + (" --allow-root" if os.geteuid() == 0 else "")
    log = project["base"] / f"jupyter-{port}.log"
    with open(log, "w") as sink:
        proc = subprocess.Popen(
            ["bash", "-c", f"exec {command.strip()}{extra}"],
            cwd=project["root"],
            env=project["env"],
            stdout=sink,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline and proc.poll() is None:
                if f":{port}/" in log.read_text():
                    break
                time.sleep(0.5)
            serving = proc.poll() is None and f":{port}/" in log.read_text()
        finally:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
    return subprocess.CompletedProcess(command, 0 if serving else 1, log.read_text(), "")


def _run_shell_block(project, block: Block) -> subprocess.CompletedProcess:
    text = _local(project, block.text)
    lines = text.splitlines()
    if block.skip_prefix:
        lines = [line for line in lines if not line.strip().startswith(block.skip_prefix)]
    if lines and lines[0].startswith("#!"):  # a script: written where its header says, then run
        named = next((m.group(1) for m in map(re.compile(r"^# (/\S+\.sh)$").match, lines) if m), None)
        script = Path(named) if named else project["base"] / f"block-{block.line}.sh"
        script.write_text("\n".join(lines) + "\n")
        return _shell(project, ["bash", str(script)], project["root"])
    servers = [line for line in lines if re.match(r"\s*\S*jupyter lab\b", line)]
    if servers:
        assert len(lines) == len(servers), f"{block.id}: a server block holds the server command only"
        return _jupyter(project, servers[0])
    return _shell(project, ["bash", "-e", "-o", "pipefail", "-c", "\n".join(lines)], project["root"])


def _run_cron_block(project, block: Block) -> subprocess.CompletedProcess:
    outputs = []
    for line in _local(project, block.text).splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        command = line.split(None, 5)[5].replace("\\%", "%")
        done = _shell(project, ["sh", "-c", command], Path(project["env"]["HOME"]))
        outputs.append(done)
        if done.returncode not in block.exit_codes:
            return done
    assert outputs, f"{block.id}: a cron block with no entry"
    return outputs[-1]


def _airflow_command(source: str) -> tuple[str, str]:
    """The `bash_command` and `cwd` of the block's BashOperator, rendered for the run of 2026-11-02."""
    import jinja2

    call = next(
        node
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "BashOperator"
    )
    kw = {k.arg: ast.literal_eval(k.value) for k in call.keywords if k.arg in ("bash_command", "cwd")}
    end = dt.datetime(2026, 11, 2, 6, 0)
    command = jinja2.Template(kw["bash_command"]).render(data_interval_end=end, var={"value": {}})
    return command, kw.get("cwd", ".")


def _import_targets(source: str) -> list[tuple[str, str]]:
    return [
        (node.module, alias.name)
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("salesops")
        for alias in node.names
    ]


def _run_python_block(project, block: Block, namespace: dict, monkeypatch) -> subprocess.CompletedProcess:
    import importlib

    if "BashOperator(" in block.text:  # needs a scheduler: run its command part
        command, cwd = _airflow_command(block.text)
        return _shell(project, ["bash", "-c", command], Path(_local(project, cwd)))
    for module, name in _import_targets(block.text):  # a function the guide had the reader add
        target = importlib.import_module(module)
        if not hasattr(target, name) and name in namespace:
            monkeypatch.setattr(target, name, namespace[name], raising=False)
    before = set(namespace)
    monkeypatch.chdir(project["root"] / "notebooks")
    exec(compile(block.text, block.id, "exec"), namespace)  # noqa: S102 - the guide's own code
    for name in sorted(set(namespace) - before):
        if name.startswith("test_") and callable(namespace[name]):
            namespace[name]()
    monkeypatch.chdir(project["root"])
    return subprocess.CompletedProcess(block.id, 0, "", "")


def _apply_yaml_block(project, block: Block):
    from salesops.params import merge

    first = block.text.splitlines()[0]
    m = re.match(r"#\s*(params/[\w.-]+\.yaml)\b", first)
    if m is None or block.skip_all:
        return
    path = project["root"] / m.group(1)
    current = yaml.safe_load(path.read_text()) if path.exists() else {}
    path.write_text(yaml.safe_dump(merge(current or {}, yaml.safe_load(block.text)), sort_keys=False))


def _following_text_block(block: Block) -> Block:
    blocks = read_blocks(block.guide)
    return next(b for b in blocks if b.line > block.line and b.lang == "text")


# What some blocks must print or leave, beyond their exit code (keyed by a line of the block).
def _expect_validate(project, block, done):
    assert re.search(r"^params: .*params/default\.yaml, .*params/2026-11\.yaml$", done.stdout, re.MULTILINE)
    assert "period: 2026-11 (given with --period)" in done.stdout


def _expect_maven(project, block, done):
    shown = _following_text_block(block).text.splitlines()
    printed = done.stdout.splitlines()
    for line in shown:
        assert line in printed, f"{block.id}: the guide shows {line!r}, validate does not print it"


def _expect_cron(project, block, done):
    log = (project["root"] / "logs" / "salesops.log").read_text()
    assert re.search(
        rf"^\d{{4}}-\d\d-\d\d \d\d:\d\d:\d\d {PERIOD} \[ *[\d.]+s\] data_collection: ", log, re.MULTILINE
    )
    assert f"{PERIOD}: reports in " in log


def _expect_backfill(project, block, done):
    periods = [f"2026-{month:02d}" for month in range(9, 12)]
    assert re.findall(r"^(\d{4}-\d\d): success in ", done.stdout, re.MULTILINE) == periods


def _expect_horizon(project, block, done):
    assert done.stdout.split() == ["2026-11-01", "2028-10-01", "24", "months"]


EXPECT = {
    ".venv/bin/salesops validate --period 2026-11": _expect_validate,
    ".venv/bin/salesops validate --params params/mavencrm.yaml --period 2018-01": _expect_maven,
    "0 6 2 * * cd /srv/salesops": _expect_cron,
    ".venv/bin/salesops backfill 2026-09 2026-11": _expect_backfill,
    ".venv/bin/python -c \"import pandas as pd; d = pd.read_parquet('reports/2026-11/data/demand_planning": (
        _expect_horizon
    ),
}


def _run_block(project, block: Block, namespace: dict, monkeypatch) -> subprocess.CompletedProcess | None:
    if block.lang == "yaml":
        _apply_yaml_block(project, block)
        return None
    if block.lang not in RUN_LANGS or block.skip_all:
        return None
    if block.lang == "python":
        return _run_python_block(project, block, namespace, monkeypatch)
    if block.lang == "cron":
        return _run_cron_block(project, block)
    return _run_shell_block(project, block)


def _run_guide(project, guide: str, monkeypatch):
    """Run every block of `guide` in the project, after the guides before it (once each)."""
    if guide in project["done"]:
        return
    for earlier in ORDER[: ORDER.index(guide)]:
        _run_guide(project, earlier, monkeypatch)
    project["done"].add(guide)
    namespace: dict = {"__name__": f"doc_{Path(guide).stem.replace('-', '_')}"}
    ran = 0
    for block in read_blocks(guide):
        started = time.perf_counter()
        done = _run_block(project, block, namespace, monkeypatch)
        if done is None:
            continue
        ran += 1
        project["outputs"][block.id] = (round(time.perf_counter() - started, 1), done)
        assert done.returncode in block.exit_codes, (
            f"{block.id}: the {block.lang} block exited {done.returncode} (expected "
            f"{' or '.join(map(str, sorted(block.exit_codes)))}):\n{textwrap.indent(block.text, '    ')}\n"
            f"stdout:\n{done.stdout[-3000:]}\nstderr:\n{done.stderr[-3000:]}"
        )
        for key, check in EXPECT.items():
            if any(line.strip().startswith(key) for line in block.text.splitlines()):
                check(project, block, done)
    assert ran, f"{guide} has no block to run"


@pytest.mark.slow
@pytest.mark.parametrize("guide", ORDER)
def test_guide_blocks_run_as_written(project, guide, monkeypatch):
    _run_guide(project, guide, monkeypatch)


@pytest.mark.slow
def test_every_expectation_matched_a_block():
    texts = [b.text for b in all_blocks()]
    for key in EXPECT:
        assert any(key in text for text in texts), f"no block of the guides runs {key!r} any more"


@pytest.mark.slow
def test_the_fresh_clone_ran_the_documented_commands(project, monkeypatch):
    _run_guide(project, ORDER[-1], monkeypatch)
    calls = [json.loads(line) for line in (project["memo"] / "calls.jsonl").read_text().splitlines()]
    argvs = [" ".join(c["argv"]) for c in calls]
    assert "backfill 2026-09 2026-11" in argvs  # make demo (DEMO_FROM set above)
    assert "run 2026-11" in argvs  # getting started, without make
    assert "run 2026-11 --fail-on-alert" in argvs  # cron, the wrapper and Airflow
    assert argvs.count("run 2026-11 --fail-on-alert") >= 3
    assert "run 2026-11 --from demand_planning --reapprove" in argvs
    run = json.loads((project["root"] / "reports" / PERIOD / "run.json").read_text())
    assert run["status"] == "success"
    timing = sorted(((t, k) for k, (t, _) in project["outputs"].items()), reverse=True)
    print("slowest blocks:", timing[:8])


@pytest.mark.slow
def test_html_only_run_unpublishes_the_stale_pdf(project, monkeypatch):
    _run_guide(project, ORDER[-1], monkeypatch)
    root, period_dir = project["root"], project["root"] / "reports" / PERIOD
    done = _shell(
        project,
        [
            ".venv/bin/salesops",
            "run",
            PERIOD,
            "--from",
            "executive_review",
            "--to",
            "executive_review",
            "--format",
            "pdf",
        ],
        root,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert (period_dir / "executive_review.pdf").is_file()
    assert not (period_dir / "05_executive_review.html").exists()  # re-run without html: the old one went
    done = _shell(
        project,
        [
            ".venv/bin/salesops",
            "run",
            PERIOD,
            "--from",
            "executive_review",
            "--to",
            "executive_review",
            "--format",
            "html",
        ],
        root,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert not (period_dir / "executive_review.pdf").exists()
    assert (period_dir / "05_executive_review.html").is_file()
    index = (period_dir / "index.html").read_text()
    assert "executive_review.pdf" not in index and "05_executive_review.html" in index
