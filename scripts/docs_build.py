"""Build the documentation site in `docs/`: API pages from the docstrings, then a browsable HTML site.

A build tool, not part of the runtime package: it lives in `scripts/` and imports `salesops` to
document it.

The API reference is generated, never hand-listed: `public_api()` finds every public function and
class of the package, and quartodoc writes one reference page per module with an anchor per object
(`reference/metrics.html#salesops.metrics.wape`). A new public function gets its entry the next time
the docs are built. Then Quarto renders the site when a `quarto` binary is on the PATH; otherwise
pandoc (from the `pypandoc-binary` wheel) renders the same `.qmd` pages, offline, into `_site/`
with a navigation sidebar, one standalone template and links rewritten from `.qmd` to `.html`.

What is public: a module is public when no part of its dotted name starts with `_`. An object is
public when it is a function or a class defined in the salesops package and is exposed by a public
module: listed in the module's `__all__` when the module has one, otherwise bound to a name without
a leading underscore. Names in `salesops.__all__` are public too. Each object is documented once,
on the page of its *home*: the package or module that exports it (`__all__`) or defines it, the
shortest such dotted name, never the top-level `salesops` unless nothing else exposes it.

Usage: `python scripts/docs_build.py [--docs DIR] [--site DIR] [--renderer auto|quarto|pandoc]`
(`scripts/docs.sh` builds, then checks the site with `scripts/check_docs.py`).

Example:
    >>> api = public_api()
    >>> next(o.anchor for o in api if o.name == "wape")
    'salesops.metrics.wape'
    >>> next(o.page for o in api if o.name == "wape")
    'metrics'
"""

from __future__ import annotations

import argparse
import html
import importlib
import inspect
import logging
import os
import pkgutil
import re
import shutil
import subprocess
import sys
import tempfile
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import yaml

from salesops.exceptions import DocsError, SalesOpsError

PACKAGE = "salesops"
REFERENCE_DIR = "reference"
# Reference sections, in reading order: (title, description, top-level modules). A module that is in
# none of them lands in the last section, so new modules are documented without editing this list.
AREAS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    (
        "Running a cycle",
        "The command line, the runner and its warm kernels, parameters, steps and their stored products.",
        ("runner", "kernels", "cli", "params", "steps", "store", "exceptions"),
    ),
    (
        "Data collection",
        "Sources, the data contract, validation, the demo company and the period snapshot.",
        ("data",),
    ),
    ("Sales performance", "Quota attainment, rep comparison, pipeline, compensation and eNPS.", ("sales",)),
    (
        "Demand planning",
        "Forecasting models, the forecast engine and accuracy metrics.",
        ("demand", "metrics"),
    ),
    (
        "Supply planning",
        "Capacity, production strategies, inventory projection and safety stock.",
        ("supply",),
    ),
    ("Pre-S&OP", "Gaps, exceptions, scenarios and recommendations.", ("balance",)),
    ("Executive review", "The KPIs of the pack, decisions and the plan of record.", ("plan",)),
    ("Follow-up", "Accuracy by lag, plan adherence, the decision log and alerts.", ("followup",)),
    ("Reports", "Display helpers for notebooks, charts and rendering.", ("report", "charts", "render")),
    ("Other modules", "Everything else in the package.", ()),
)


@dataclass(frozen=True)
class ApiObject:
    """One public function or class and where the reference documents it.

    `module` is its home (e.g. `salesops.data`), `anchor` the id of its entry on the reference page
    (`salesops.data.collect`), `page` the reference page's name without suffix (`data`).

    Example:
        >>> collect = next(o for o in public_api() if o.name == "collect")
        >>> collect.anchor, collect.page, collect.kind
        ('salesops.data.collect', 'data', 'function')
    """

    module: str
    name: str
    kind: str
    obj: object

    @property
    def anchor(self) -> str:
        return f"{self.module}.{self.name}"

    @property
    def page(self) -> str:
        return module_page(self.module)

    @property
    def docstring(self) -> str:
        """The object's own docstring (not one inherited, nor the signature a dataclass generates)."""
        doc = vars(self.obj).get("__doc__") if self.kind == "class" else self.obj.__doc__
        if not doc or (self.kind == "class" and doc.startswith(f"{self.name}(")):
            return ""
        return inspect.cleandoc(doc)


def module_page(module: str) -> str:
    """The reference page of a module: its dotted name without the package prefix.

    Example:
        >>> module_page("salesops.data.overview"), module_page("salesops")
        ('data.overview', 'salesops')
    """
    return module.removeprefix(PACKAGE + ".") if module != PACKAGE else PACKAGE


def public_modules(package: str = PACKAGE) -> list[str]:
    """Dotted names of the package and of every module in it with no part starting with `_`.

    Example:
        >>> "salesops.metrics" in public_modules(), "salesops.sales._frames" in public_modules()
        (True, False)
    """
    root = importlib.import_module(package)
    names = [package]
    for info in pkgutil.walk_packages(root.__path__, package + ".", onerror=lambda name: None):
        if not any(part.startswith("_") for part in info.name.split(".")):
            names.append(info.name)
    return sorted(names)


def _in_package(obj: object, package: str) -> bool:
    home = getattr(obj, "__module__", None) or ""
    return home == package or home.startswith(package + ".")


def _bound_names(module) -> set[str]:
    """Names a module's source binds at top level (def, class, import, assignment), read with `ast`.

    A name in `__all__` that is not bound here is served lazily by a module `__getattr__`; static
    analysis (quartodoc) cannot follow it, so such a module is not the name's home.
    """
    import ast

    try:
        tree = ast.parse(Path(inspect.getsourcefile(module)).read_text(encoding="utf-8"))
    except (TypeError, OSError, SyntaxError):
        return set()
    names: set[str] = set()
    pending = list(tree.body)
    while pending:
        node = pending.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names.update((a.asname or a.name).split(".")[0] for a in node.names)
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names.update(n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name))
        elif isinstance(node, (ast.If, ast.Try)):
            pending += node.body + node.orelse + getattr(node, "finalbody", [])
            pending += [stmt for handler in getattr(node, "handlers", []) for stmt in handler.body]
    return names


def _exposed(module, package: str):
    """(name, object, listed in __all__) for each public function or class a module exposes."""
    listed = getattr(module, "__all__", None)
    names = list(listed) if listed is not None else [n for n in vars(module) if not n.startswith("_")]
    for name in names:
        if name.startswith("_"):
            continue
        obj = getattr(module, name, None)
        if (inspect.isfunction(obj) or inspect.isclass(obj)) and _in_package(obj, package):
            yield name, obj, listed is not None


def public_api(package: str = PACKAGE) -> list[ApiObject]:
    """Every public function and class of the package, each once, at its home (see the module docstring).

    Raises `DocsError` naming the module when a public module cannot be imported.

    Example:
        >>> [o.anchor for o in public_api() if o.name == "forecast"]
        ['salesops.demand.forecast']
    """
    exposures: dict[int, list[tuple]] = defaultdict(list)
    objects: dict[int, object] = {}
    for modname in public_modules(package):
        try:
            module = importlib.import_module(modname)
        except Exception as exc:
            raise DocsError(
                f"module {modname} does not import ({type(exc).__name__}: {exc}); fix it, "
                f"then rebuild the docs"
            ) from exc
        bound = _bound_names(module)
        for name, obj, listed in _exposed(module, package):
            defining = obj.__module__ == modname
            top_level = modname == package
            rank = (top_level, name not in bound, not (listed or defining), modname.count("."), modname, name)
            exposures[id(obj)].append((rank, modname, name))
            objects[id(obj)] = obj
    found = []
    for key, options in exposures.items():
        _, modname, name = min(options)
        obj = objects[key]
        found.append(ApiObject(modname, name, "class" if inspect.isclass(obj) else "function", obj))
    return sorted(found, key=lambda o: (o.module, o.name))


def has_example(docstring: str) -> bool:
    """True when a docstring shows an example: a doctest line (`>>>`) or an `Example:`/`Examples:` label.

    Example:
        >>> has_example("Mean error. Example: `bias([1], [2])` is 1.0."), has_example("Mean error.")
        (True, False)
    """
    return bool(re.search(r"^\s*>>>|\bExamples?:", docstring or "", flags=re.MULTILINE))


def _area_of(module: str) -> int:
    """Index in `AREAS` of the reference section a module belongs to (by its top-level module)."""
    parts = module.split(".")
    top = parts[1] if len(parts) > 1 else ""
    for i, (_, _, modules) in enumerate(AREAS):
        if top in modules:
            return i
    return len(AREAS) - 1


def fence_doctests(text: str) -> str:
    """Put each run of doctest lines (`>>>` and their output) outside code fences into a Python code fence.

    Example:
        >>> fence_doctests("Example:\\n    >>> 1 + 1\\n    2").splitlines()
        ['Example:', '```python', '>>> 1 + 1', '2', '```']
    """
    out: list[str] = []
    lines = text.splitlines()
    in_fence, i = False, 0
    while i < len(lines):
        line = lines[i]
        if line.lstrip().startswith("```"):
            in_fence = not in_fence
        if in_fence or not line.lstrip().startswith(">>>"):
            out.append(line)
            i += 1
            continue
        indent = len(line) - len(line.lstrip())
        block = []
        while i < len(lines) and lines[i].strip() and not lines[i].lstrip().startswith("```"):
            block.append(lines[i][indent:] if lines[i][:indent].strip() == "" else lines[i].lstrip())
            i += 1
        out += ["```python", *block, "```"]
    return "\n".join(out)


_LIST_ITEM = re.compile(r"^\s*(?:(?P<bullet>[-*])|(?P<plus>\+)|(?P<number>\d+)[.)])\s+\S")


def separate_lists(text: str) -> str:
    """Put a blank line before a list that follows a paragraph line, outside code fences.

    Docstrings start lists right under their introducing sentence, as Markdown on GitHub (CommonMark)
    allows; Pandoc's Markdown, which both Quarto and pandoc read, needs a blank line there, or the
    items run together into the paragraph. A list starts at a `- ` or `* ` item, or a `1. ` item, or a
    `+ ` item after a line ending with `:` (a wrapped formula line may start with `+`). Lines inside a
    list (items, continuations, nested lists) are left as they are.

    Args:
        text: Markdown from a docstring.

    Returns:
        The text, with a blank line inserted before each list that needs one.

    Example:
        >>> separate_lists("Two kinds:\\n- a;\\n- b.\\nx\\n+ y").splitlines()
        ['Two kinds:', '', '- a;', '- b.', 'x', '+ y']
    """
    out: list[str] = []
    in_fence = in_list = False
    previous = ""
    for line in text.splitlines():
        if line.lstrip().startswith("```"):
            in_fence = not in_fence
        item = None if in_fence else _LIST_ITEM.match(line)
        if item:
            starts = (
                item["bullet"] or item["number"] == "1" or (item["plus"] and previous.rstrip().endswith(":"))
            )
            if not in_list and previous.strip() and starts:
                out.append("")
                in_list = True
            elif not previous.strip():
                in_list = True
        elif line.strip() and not previous.strip() and not line[:1].isspace():
            in_list = False  # a paragraph after a blank line ends the list
        out.append(line)
        previous = line
    return "\n".join(out)


def summary_line(text: str) -> str:
    """The line an index shows for a docstring: its first line, or its first paragraph joined into one
    line when the first line leaves a code span open.

    Example:
        >>> summary_line("Plan rows: `a, b,\\n c` per month.\\n\\nMore.")
        'Plan rows: `a, b, c` per month.'
    """
    paragraph = (text or "").strip().split("\n\n")[0]
    first = paragraph.split("\n")[0]
    if first.count("`") % 2 == 0:
        return first
    return " ".join(line.strip() for line in paragraph.splitlines())


def _reference_layout(api: list[ApiObject]) -> tuple[list[dict], dict[str, tuple[str, str]]]:
    """quartodoc sections (one page per home module) and each page's title and introduction."""
    by_module: dict[str, list[ApiObject]] = defaultdict(list)
    for obj in api:
        by_module[obj.module].append(obj)
    sections: list[dict] = []
    intros: dict[str, tuple[str, str]] = {}
    for index, (title, desc, _) in enumerate(AREAS):
        order = AREAS[index][2]
        modules = sorted(
            (m for m in by_module if _area_of(m) == index),
            key=lambda m: (
                order.index(m.split(".")[1]) if m.count(".") and m.split(".")[1] in order else len(order),
                m,
            ),
        )
        if not modules:
            continue
        pages = []
        for module in modules:
            page = module_page(module)
            doc = inspect.getdoc(importlib.import_module(module)) or ""
            intros[page] = (module, doc)
            names = [
                o.anchor.removeprefix(PACKAGE + ".") if o.module != PACKAGE else o.name
                for o in by_module[module]
            ]
            pages.append({"kind": "page", "path": page, "flatten": True, "contents": names})
        sections.append({"title": title, "desc": desc, "contents": pages})
    return sections, intros


try:  # the `docs` extra: quartodoc (and its griffe, plum); only building the API pages needs it
    from plum import dispatch
    from quartodoc import MdRenderer, layout
    from quartodoc._griffe_compat import dataclasses as dc
    from quartodoc._griffe_compat import docstrings as ds
except ImportError:  # pragma: no cover - checked by build_reference
    MdRenderer = None
else:
    # run as a script, this file runs twice (as __main__, then imported): one renderer style only
    MdRenderer._registry.pop("salesops", None)

    class _Renderer(MdRenderer):
        """quartodoc's Markdown renderer, plus: each page opens with its module's name and docstring,
        objects sit one header level below it, doctest examples go in code fences (quartodoc
        leaves the `Example:` section of a Google-style docstring as plain text) and lists right
        under a paragraph get the blank line Pandoc's Markdown needs (`separate_lists`)."""

        style = "salesops"

        def __init__(self, intros: dict[str, tuple[str, str]], **kwargs):
            super().__init__(**kwargs)
            self.intros = intros

        @dispatch
        def render(self, el: layout.Page):
            module, doc = self.intros.get(el.path, (el.path, ""))
            with self._increment_header():
                body = [self.render(item) for item in el.contents]
            return "\n\n".join([f"# {module}", separate_lists(fence_doctests(doc)), *body])

        @dispatch
        def render(self, el: ds.DocstringSectionAdmonition):  # noqa: F811 (plum dispatch)
            return separate_lists(fence_doctests(el.value.description))

        @dispatch
        def render(self, el: ds.DocstringSectionText):  # noqa: F811 (plum dispatch)
            return separate_lists(fence_doctests(MdRenderer.render(self, el)))

        @dispatch
        def summarize(self, el: layout.Doc, path: str | None = None, shorten: bool = False):
            # quartodoc renders no entry for a class's attributes (properties): list them unlinked
            if el.obj.is_attribute:
                return self._summary_row(f"`{el.name}`", self.summarize(el.obj))
            return MdRenderer.summarize(self, el, path, shorten)

        @dispatch
        def summarize(self, obj: dc.Object | dc.Alias) -> str:  # noqa: F811 (plum dispatch)
            # the first sentence, or the whole first paragraph when a code span runs past the line
            parsed = obj.docstring.parsed if obj.docstring is not None else []
            if not parsed or not isinstance(parsed[0], ds.DocstringSectionText):
                return ""
            return summary_line(parsed[0].value)


@contextmanager
def _working_dir(path: Path):
    before = Path.cwd()
    os.chdir(path)
    try:
        yield
    finally:
        os.chdir(before)


def _read_config(docs_dir: Path) -> dict:
    """The site's `_quarto.yml` as a mapping."""
    return yaml.safe_load((Path(docs_dir) / "_quarto.yml").read_text(encoding="utf-8")) or {}


def build_reference(docs_dir: str | Path, api: list[ApiObject] | None = None) -> list[Path]:
    """Write the API pages into `DOCS/reference/` with quartodoc; returns the pages written.

    The `quartodoc:` section of `_quarto.yml` gives the options; its sections are generated here.

    Example:
        >>> [p.name for p in build_reference("docs")][:2]  # doctest: +SKIP
        ['balance.qmd', 'charts.qmd']
    """
    if MdRenderer is None:
        raise DocsError(
            "quartodoc is not installed; install the docs extra: "
            "uv pip install --python .venv/bin/python -e '.[docs]'"
        )
    from quartodoc import Builder

    docs_dir = Path(docs_dir).resolve()
    api = public_api() if api is None else api
    sections, intros = _reference_layout(api)
    cfg = dict(_read_config(docs_dir).get("quartodoc") or {})
    cfg.pop("style", None)
    cfg.update(
        package=PACKAGE, sections=sections, renderer=_Renderer(intros, show_signature_annotations=True)
    )
    target = docs_dir / cfg.get("dir", REFERENCE_DIR)
    shutil.rmtree(target, ignore_errors=True)
    griffe_log = logging.getLogger("griffe")
    griffe_log.addFilter(_untyped_parameters)
    try:
        with _working_dir(docs_dir):
            Builder(**cfg).build()
    finally:
        griffe_log.removeFilter(_untyped_parameters)
    return sorted(target.glob("*.qmd"))


def _untyped_parameters(record: logging.LogRecord) -> bool:
    """Drop griffe's warnings about `Args:` entries of parameters without annotation: untyped
    parameters are fine here (the table's Type column stays empty)."""
    return "No type or annotation for" not in record.getMessage()


# ---------------------------------------------------------------- the pandoc renderer
LUA_LINKS = r"""
-- Links to .qmd pages point at the rendered .html pages.
function Link(el)
  local target = el.target
  if target:match("^%a[%w+.-]*:") or target:match("^#") or target:match("^/") then
    return el
  end
  local path, fragment = target:match("^([^#]*)(.*)$")
  if path:match("%.qmd$") then
    el.target = path:gsub("%.qmd$", ".html") .. fragment
  end
  return el
end
"""


def _pandoc_path() -> str:
    """The pandoc binary: one on the PATH, else the one in the `pypandoc-binary` wheel."""
    try:
        import pypandoc

        return pypandoc.get_pandoc_path()
    except (ImportError, OSError):
        found = shutil.which("pandoc")
        if not found:
            raise DocsError(
                "pandoc not found: install the pypandoc-binary wheel (pip install pypandoc-binary) "
                "or put pandoc on the PATH"
            ) from None
        return found


def _page_title(path: Path) -> str:
    """A page's title: `title:` of its front matter, else its first level-1 heading, else its name."""
    text = path.read_text(encoding="utf-8")
    match = re.match(r"^---\s*\n(.*?)\n---\s*\n", text, flags=re.DOTALL)
    if match:
        meta = yaml.safe_load(match.group(1)) or {}
        if meta.get("title"):
            return str(meta["title"])
    heading = re.search(r"^# (.+?)(\s*\{[^}]*\})?\s*$", text, flags=re.MULTILINE)
    return heading.group(1).strip() if heading else path.stem


def _site_pages(docs_dir: Path) -> list[Path]:
    """Every `.qmd` page of the site (files and folders starting with `_` or `.` are not pages)."""
    pages = []
    for path in sorted(Path(docs_dir).rglob("*.qmd")):
        rel = path.relative_to(docs_dir)
        if not any(part.startswith(("_", ".")) for part in rel.parts):
            pages.append(path)
    return pages


def _nav_entries(items, docs_dir: Path) -> list[tuple[str, str]]:
    """(href, text) pairs of a Quarto navbar or sidebar `contents` list (sections flattened)."""
    entries = []
    for item in items or []:
        if isinstance(item, str):
            entries.append((item, _page_title(docs_dir / item)))
        elif isinstance(item, dict) and "href" in item:
            entries.append((item["href"], item.get("text") or _page_title(docs_dir / item["href"])))
        elif isinstance(item, dict) and "contents" in item:
            entries += _nav_entries(item["contents"], docs_dir)
    return entries


def _link(href: str, root: str) -> str:
    return root + re.sub(r"\.qmd$", ".html", href)


def _active(is_current: bool) -> str:
    return ' class="active"' if is_current else ""


def _navigation(docs_dir: Path, rel_page: Path) -> str:
    """The sidebar of one page: the site title, the guides of `_quarto.yml` and the API module pages."""
    cfg = _read_config(docs_dir).get("website", {})
    root = "../" * (len(rel_page.parts) - 1)
    current = rel_page.as_posix()
    sidebar = cfg.get("sidebar") or {}
    sidebars = sidebar if isinstance(sidebar, list) else [sidebar]
    blocks = [
        f'<p class="site-title"><a href="{root}index.html">{html.escape(cfg.get("title", PACKAGE))}</a></p>'
    ]
    for bar in sidebars:
        entries = _nav_entries(bar.get("contents"), docs_dir)
        items = "".join(
            f'<li{_active(href == current)}><a href="{html.escape(_link(href, root))}">'
            f"{html.escape(text)}</a></li>"
            for href, text in entries
        )
        title = f'<p class="nav-title">{html.escape(bar["title"])}</p>' if bar.get("title") else ""
        blocks.append(f"{title}<ul>{items}</ul>")
    reference = docs_dir / REFERENCE_DIR
    api_pages = sorted(
        (p for p in _site_pages(docs_dir) if p.parent == reference and p.name != "index.qmd"),
        key=lambda p: p.stem.split("."),
    )
    if api_pages:
        items = "".join(
            f"<li{_active(p.relative_to(docs_dir).as_posix() == current)}>"
            f'<a href="{root}{REFERENCE_DIR}/{p.stem}.html"><code>{html.escape(_page_title(p))}</code></a></li>'
            for p in api_pages
        )
        blocks.append(f'<p class="nav-title">API modules</p><ul class="api">{items}</ul>')
    return '<nav class="sidebar">' + "".join(blocks) + "</nav>"


def render_with_pandoc(docs_dir: str | Path, site_dir: str | Path) -> list[Path]:
    """Render every `.qmd` page of DOCS into SITE as standalone HTML; returns the pages written.

    Each page gets the sidebar (guides of `_quarto.yml`, then the API modules), a table of contents,
    `_template.html` around it, and its links to `.qmd` pages rewritten to `.html`.

    Example:
        >>> sorted(p.name for p in render_with_pandoc("docs", "docs/_site"))[:2]  # doctest: +SKIP
        ['analyst.html', 'balance.html']
    """
    docs_dir, site_dir = Path(docs_dir).resolve(), Path(site_dir).resolve()
    pandoc = _pandoc_path()
    cfg = _read_config(docs_dir)
    site_title = cfg.get("website", {}).get("title", PACKAGE)
    template = docs_dir / "_template.html"
    shutil.rmtree(site_dir, ignore_errors=True)
    site_dir.mkdir(parents=True)
    for asset in docs_dir.rglob("*"):
        rel = asset.relative_to(docs_dir)
        if (
            asset.is_file()
            and asset.suffix not in (".qmd", ".yml", ".json")
            and asset.name != "_template.html"
            and not any(part.startswith((".", "_")) for part in rel.parts)
        ):
            (site_dir / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(asset, site_dir / rel)
    with tempfile.TemporaryDirectory(prefix="salesops-docs-") as tmp:
        lua = Path(tmp) / "links.lua"
        lua.write_text(LUA_LINKS, encoding="utf-8")

        def render(numbered: tuple[int, Path]) -> Path:
            number, page = numbered
            rel = page.relative_to(docs_dir)
            target = (site_dir / rel).with_suffix(".html")
            target.parent.mkdir(parents=True, exist_ok=True)
            nav = Path(tmp) / f"nav-{number}.html"
            nav.write_text(_navigation(docs_dir, rel), encoding="utf-8")
            root = "../" * (len(rel.parts) - 1)
            command = [
                pandoc,
                str(page),
                "--from",
                "markdown",
                "--to",
                "html5",
                "--standalone",
                "--mathml",
                "--template",
                str(template),
                "--lua-filter",
                str(lua),
                "--toc",
                "--toc-depth",
                "2",
                "--include-before-body",
                str(nav),
                "--metadata",
                f"pagetitle={_page_title(page)}",
                "--variable",
                f"site-title={site_title}",
                "--variable",
                f"root={root}",
                "--output",
                str(target),
            ]
            done = subprocess.run(command, capture_output=True, text=True, check=False)
            if done.returncode != 0:
                raise DocsError(f"pandoc could not render {rel}: {done.stderr.strip()}")
            return target

        with ThreadPoolExecutor(max_workers=max(1, os.cpu_count() or 1)) as pool:
            written = list(pool.map(render, enumerate(_site_pages(docs_dir))))
    return written


def render_with_quarto(docs_dir: str | Path, site_dir: str | Path, quarto: str) -> list[Path]:
    """`quarto render DOCS --output-dir SITE`; returns the HTML pages written.

    Example:
        >>> render_with_quarto("docs", "docs/_site", shutil.which("quarto"))  # doctest: +SKIP
    """
    site_dir = Path(site_dir).resolve()
    done = subprocess.run(
        [quarto, "render", str(docs_dir), "--output-dir", str(site_dir)],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise DocsError(f"quarto render failed:\n{done.stderr.strip()[-3000:]}")
    return sorted(site_dir.rglob("*.html"))


def build(
    docs_dir: str | Path = "docs",
    site_dir: str | Path | None = None,
    renderer: str = "auto",
    api: list[ApiObject] | None = None,
) -> Path:
    """Generate the API pages, then render the site; returns the site folder (default `DOCS/_site`).

    `renderer`: `auto` (Quarto when a `quarto` binary is on the PATH, else pandoc), `quarto` or `pandoc`.
    `api`: the public API when already found (`public_api()`), to import the package only once.

    Example:
        >>> build("docs", "/tmp/salesops-site", renderer="pandoc")  # doctest: +SKIP
        PosixPath('/tmp/salesops-site')
    """
    docs_dir = Path(docs_dir).resolve()
    site_dir = Path(site_dir).resolve() if site_dir else docs_dir / "_site"
    if renderer not in ("auto", "quarto", "pandoc"):
        raise DocsError(f"renderer '{renderer}' is unknown; use auto, quarto or pandoc")
    build_reference(docs_dir, api)
    quarto = shutil.which("quarto")
    if renderer == "quarto" and not quarto:
        raise DocsError(
            "renderer quarto was asked for but no `quarto` binary is on the PATH; install Quarto "
            "or use --renderer pandoc"
        )
    if quarto and renderer != "pandoc":
        render_with_quarto(docs_dir, site_dir, quarto)
    else:
        render_with_pandoc(docs_dir, site_dir)
    return site_dir


def main(argv: list[str] | None = None) -> int:
    """`python scripts/docs_build.py`: build the site; exit 0, or 2 with the reason on stderr.

    Example:
        >>> main(["--docs", "docs", "--renderer", "pandoc"])  # doctest: +SKIP
        docs: /path/to/docs/_site/index.html
        0
    """
    parser = argparse.ArgumentParser(prog="python scripts/docs_build.py", description=__doc__.split("\n")[0])
    parser.add_argument("--docs", default="docs", help="the site's sources (default: docs)")
    parser.add_argument("--site", default=None, help="where the HTML goes (default: DOCS/_site)")
    parser.add_argument("--renderer", default="auto", choices=["auto", "quarto", "pandoc"])
    args = parser.parse_args(argv)
    try:
        site = build(args.docs, args.site, args.renderer)
    except SalesOpsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"docs: {site / 'index.html'}")
    return 0


if __name__ == "__main__":
    # one copy of the module, the importable one (scripts/ is on sys.path when run as a script)
    from docs_build import main as _main

    raise SystemExit(_main())
