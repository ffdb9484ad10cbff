"""Check a built documentation site: no broken internal link, and every public function has its API page.

Usage: python scripts/check_docs.py [SITE] [--strict] [--build [--renderer auto|quarto|pandoc]]
SITE defaults to docs/_site; `--build` first builds it from docs/ (`scripts/docs_build.py`), in the
same process, so the package is imported once.

Fails (exit 1) on:
- a broken internal link: an `href`/`src` to a file that is not in the site, or to an anchor
  (`page.html#id`) that the target page does not have;
- a public function or class (see `docs_build.public_api` for the definition) without its
  entry in the API reference: an element with id `salesops.module.name` on `reference/PAGE.html`,
  linked from `reference/index.html`.

Warns (exit 0; exit 1 with `--strict`) on public functions and classes whose docstring is missing or
shows no example (a `>>>` line or an `Example:` label), and on docstrings that break the Google style
the API reference renders as tables (`style_problems`): a public function or method with parameters
needs an `Args:` section naming each of them, one that returns a value a `Returns:` (or `Yields:`)
section, and a class whose constructor takes arguments documents them under `Args:` or `Attributes:`.
External links (http, https, mailto) are not fetched: the build is offline.
"""

from __future__ import annotations

import argparse
import ast
import inspect
import logging
import sys
import textwrap
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run from a checkout without installing
    sys.path.insert(0, str(ROOT))

from docs_build import PACKAGE, REFERENCE_DIR, ApiObject, build, has_example, public_api

from salesops.exceptions import SalesOpsError

LINK_ATTRIBUTES = {
    "a": "href",
    "link": "href",
    "img": "src",
    "script": "src",
    "iframe": "src",
    "source": "src",
}


@dataclass(frozen=True)
class Problem:
    where: str
    message: str

    def __str__(self) -> str:
        return f"{self.where}: {self.message}"


class _PageParser(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.ids: set[str] = set()
        self.links: list[str] = []

    def handle_starttag(self, tag, attrs):
        values = dict(attrs)
        for key in ("id", "name") if tag == "a" else ("id",):
            if values.get(key):
                self.ids.add(values[key])
        attribute = LINK_ATTRIBUTES.get(tag)
        if attribute and values.get(attribute):
            self.links.append(values[attribute])


def parse_site(site: Path) -> dict[Path, _PageParser]:
    """Every HTML page of the site, parsed: its element ids and its links."""
    pages = {}
    for path in sorted(site.rglob("*.html")):
        parser = _PageParser()
        parser.feed(path.read_text(encoding="utf-8", errors="replace"))
        pages[path.resolve()] = parser
    return pages


def is_external(link: str) -> bool:
    parts = urlsplit(link)
    return bool(parts.scheme or parts.netloc) or link.startswith("//")


def broken_links(site: str | Path, pages: dict[Path, _PageParser] | None = None) -> list[Problem]:
    """Internal links whose file or anchor does not exist, one problem per link.

    Example:
        >>> broken_links("docs/_site")  # doctest: +SKIP
        [Problem(where='analyst.html', message="link 'missing.html': no such file in the site")]
    """
    site = Path(site).resolve()
    pages = parse_site(site) if pages is None else pages
    problems = []
    for page, parsed in pages.items():
        where = page.relative_to(site).as_posix()
        for link in parsed.links:
            if is_external(link):
                continue
            parts = urlsplit(link)
            target = (page.parent / unquote(parts.path)).resolve() if parts.path else page
            if parts.path.endswith("/") or target.is_dir():
                target = target / "index.html"
            if not target.is_relative_to(site):
                problems.append(Problem(where, f"link '{link}' points outside the site"))
            elif not target.exists():
                problems.append(Problem(where, f"link '{link}': no such file in the site"))
            elif parts.fragment and target.suffix == ".html":
                ids = pages[target].ids if target in pages else set()
                if unquote(parts.fragment) not in ids:
                    problems.append(
                        Problem(
                            where,
                            f"link '{link}': {target.relative_to(site).as_posix()} has "
                            f"no anchor '#{unquote(parts.fragment)}'",
                        )
                    )
    return problems


def missing_api_pages(
    site: str | Path, api: list[ApiObject], pages: dict[Path, _PageParser] | None = None
) -> list[Problem]:
    """Public objects without their entry on their reference page, or not linked from the reference index."""
    site = Path(site).resolve()
    pages = parse_site(site) if pages is None else pages
    reference = site / REFERENCE_DIR
    index = pages.get((reference / "index.html").resolve())
    indexed = set()
    if index is not None:
        for link in index.links:
            parts = urlsplit(link)
            indexed.add(((reference / parts.path).resolve(), unquote(parts.fragment)))
    problems = []
    for obj in api:
        page = (reference / f"{obj.page}.html").resolve()
        where = f"{REFERENCE_DIR}/{obj.page}.html"
        if page not in pages:
            problems.append(
                Problem(where, f"{obj.anchor} ({obj.kind}) has no API page: the page does not exist")
            )
        elif obj.anchor not in pages[page].ids:
            problems.append(
                Problem(where, f"{obj.anchor} ({obj.kind}) has no entry (no element with id '{obj.anchor}')")
            )
        elif index is not None and (page, obj.anchor) not in indexed:
            problems.append(
                Problem(f"{REFERENCE_DIR}/index.html", f"{obj.anchor} is not listed in the API index")
            )
    if index is None:
        problems.append(Problem(f"{REFERENCE_DIR}/index.html", "the API index page does not exist"))
    return problems


def docstring_problems(api: list[ApiObject]) -> list[Problem]:
    """Public objects with no docstring, or a docstring without an example."""
    problems = []
    for obj in api:
        if not obj.docstring.strip():
            problems.append(Problem(obj.anchor, f"{obj.kind} has no docstring"))
        elif not has_example(obj.docstring):
            problems.append(
                Problem(
                    obj.anchor,
                    f"{obj.kind} docstring has no example (add an `Example:` section with a >>> line)",
                )
            )
    return problems


# ---------------------------------------------------------------- the docstring style
NO_VALUE_ANNOTATIONS = {"None", "NoReturn", "Never"}


def _sections(docstring: str) -> dict[str, list[str]]:
    """The Google-style sections griffe finds in a docstring: kind (`parameters`, `returns`, ...) to the
    names it documents (empty for sections without names), as quartodoc will render them."""
    from griffe import Docstring, Parser

    found: dict[str, list[str]] = {}
    if not docstring:
        return found
    logger = logging.getLogger("griffe")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        parsed = Docstring(docstring).parse(Parser.google, warnings=False)
    finally:
        logger.setLevel(level)
    for section in parsed:
        names = (
            [getattr(item, "name", "") for item in section.value] if isinstance(section.value, list) else []
        )
        found.setdefault(section.kind.value, []).extend(n.lstrip("*") for n in names if n)
    return found


def _function_node(func) -> ast.FunctionDef | ast.AsyncFunctionDef | None:
    try:
        tree = ast.parse(textwrap.dedent(inspect.getsource(func)))
    except (OSError, TypeError, SyntaxError):
        return None
    return next((n for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))), None)


def _own_nodes(node):
    """The nodes of a function's body, without those of the functions and classes nested in it."""
    pending = list(ast.iter_child_nodes(node))
    while pending:
        child = pending.pop()
        yield child
        if not isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)):
            pending += ast.iter_child_nodes(child)


def _returns_value(func) -> str | None:
    """`returns` or `yields` when a function gives its caller a value, else None.

    The return annotation decides (`None`, `NoReturn`, `Never`: no value; a generator type: yields);
    without one, the source does: a `yield`, or a `return` with a value other than `None`.
    """
    unwrapped = inspect.unwrap(func)
    annotation = inspect.signature(unwrapped).return_annotation
    if annotation is not inspect.Signature.empty:
        text = (
            annotation if isinstance(annotation, str) else getattr(annotation, "__name__", repr(annotation))
        )
        if text in NO_VALUE_ANNOTATIONS or annotation is None:
            return None
        if text.split("[")[0].rsplit(".", 1)[-1] in ("Iterator", "Generator", "Iterable"):
            node = _function_node(unwrapped)
            if node is None or any(isinstance(n, (ast.Yield, ast.YieldFrom)) for n in _own_nodes(node)):
                return "yields"
        return "returns"
    node = _function_node(unwrapped)
    if node is None:
        return None
    own = list(_own_nodes(node))
    if any(isinstance(n, (ast.Yield, ast.YieldFrom)) for n in own):
        return "yields"
    for n in own:
        if isinstance(n, ast.Return) and not (n.value is None or _is_none(n.value)):
            return "returns"
    return None


def _is_none(node: ast.expr) -> bool:
    return isinstance(node, ast.Constant) and node.value is None


def _parameters(func, bound: bool) -> list[str]:
    """The parameters a docstring must name: all of them, less the first of a bound method (self/cls)."""
    params = list(inspect.signature(inspect.unwrap(func)).parameters.values())
    if bound and params and params[0].kind in (params[0].POSITIONAL_ONLY, params[0].POSITIONAL_OR_KEYWORD):
        params = params[1:]
    return [p.name for p in params]


def _callable_problems(where: str, func, docstring: str, bound: bool) -> list[Problem]:
    sections = _sections(docstring)
    documented = sections.get("parameters", [])
    params = _parameters(func, bound)
    problems = []
    undocumented = [name for name in params if name not in documented]
    if undocumented and "parameters" not in sections:
        problems.append(Problem(where, f"no `Args:` section (parameters: {', '.join(params)})"))
    elif undocumented:
        problems.append(Problem(where, f"`Args:` does not name {', '.join(undocumented)}"))
    unknown = [name for name in documented if name not in params]
    if unknown:
        problems.append(Problem(where, f"`Args:` names {', '.join(unknown)}, not parameters"))
    kind = _returns_value(func)
    if kind == "returns" and "returns" not in sections:
        problems.append(Problem(where, "returns a value but has no `Returns:` section"))
    elif kind == "yields" and not ({"yields", "returns"} & set(sections)):
        problems.append(Problem(where, "yields values but has no `Yields:` section"))
    return problems


def _constructor_parameters(cls, package: str) -> list[str]:
    """The arguments a class is built with, when the package defines its constructor (or it is a
    dataclass or a pydantic model, whose constructor takes its fields); else none."""
    fields = getattr(cls, "model_fields", None)
    if isinstance(fields, dict):
        return [name for name, info in fields.items() if getattr(info, "init", True) is not False]
    owner = next((k for k in cls.__mro__ if "__init__" in vars(k)), object)
    module = getattr(owner, "__module__", "") or ""
    if module != package and not module.startswith(package + "."):
        return []
    return _parameters(cls.__init__, bound=True)


def _methods(cls):
    """(name, function, bound) for each public method a class defines itself (not properties)."""
    for name, value in vars(cls).items():
        if name.startswith("_"):
            continue
        if isinstance(value, staticmethod):
            yield name, value.__func__, False
        elif isinstance(value, classmethod):
            yield name, value.__func__, True
        elif inspect.isfunction(value):
            yield name, value, True


def style_problems(api: list[ApiObject], package: str = PACKAGE) -> list[Problem]:
    """Public functions, methods and classes whose docstring misses a Google-style section.

    A function or method with parameters needs an `Args:` section naming each of them (and only
    them); one that returns a value (its return annotation is not `None`; without one, its source
    returns a value) a `Returns:` section, a generator `Yields:`. A class whose constructor takes
    arguments documents them under `Args:` or `Attributes:` (in the class docstring, or `Args:` in
    `__init__`'s). Each problem is named by the defining module and qualified name
    (`salesops.metrics.wape`), so an allow-list can match modules.

    Args:
        api: The public objects (`public_api()`).
        package: The package whose constructors count (others', e.g. `Exception`'s, do not).

    Returns:
        One problem per missing or wrong section, sorted by name.

    Example:
        >>> def f(x):
        ...     '''Double.'''
        ...     return 2 * x
        >>> [p.message for p in style_problems([ApiObject("m", "f", "function", f)])]
        ['no `Args:` section (parameters: x)', 'returns a value but has no `Returns:` section']
    """
    problems: list[Problem] = []
    for obj in api:
        where = f"{getattr(obj.obj, '__module__', obj.module)}.{getattr(obj.obj, '__qualname__', obj.name)}"
        if obj.kind == "function":
            problems += _callable_problems(where, obj.obj, obj.docstring, bound=False)
            continue
        cls = obj.obj
        params = _constructor_parameters(cls, package)
        sections = _sections(obj.docstring)
        init_doc = inspect.getdoc(vars(cls)["__init__"]) if "__init__" in vars(cls) else ""
        documented = set(sections.get("parameters", [])) | set(sections.get("attributes", []))
        documented |= set(_sections(init_doc or "").get("parameters", []))
        undocumented = [name for name in params if name not in documented]
        if undocumented and not documented:
            problems.append(
                Problem(where, f"no `Args:` or `Attributes:` section (constructor: {', '.join(params)})")
            )
        elif undocumented:
            problems.append(Problem(where, f"`Args:`/`Attributes:` do not name {', '.join(undocumented)}"))
        for name, func, bound in _methods(cls):
            doc = inspect.cleandoc(func.__doc__ or "")
            problems += _callable_problems(f"{where}.{name}", func, doc, bound)
    return sorted(problems, key=lambda p: p.where)


def check(site: str | Path, strict: bool = False, api: list[ApiObject] | None = None, out=sys.stdout) -> int:
    """Run every check on SITE, print the problems, return the exit code (0 good, 1 problems)."""
    site = Path(site)
    if not (site / "index.html").is_file():
        print(f"error: {site}/index.html does not exist; build the site first (make docs)", file=out)
        return 1
    api = public_api() if api is None else api
    pages = parse_site(site.resolve())
    links = broken_links(site, pages)
    missing = missing_api_pages(site, api, pages)
    docstrings = docstring_problems(api)
    style = style_problems(api)
    for problem in links:
        print(f"broken link: {problem}", file=out)
    for problem in missing:
        print(f"missing API page: {problem}", file=out)
    label = "error" if strict else "warning"
    for problem in docstrings:
        print(f"{label}: {problem}", file=out)
    for problem in style:
        print(f"{label}: {problem}", file=out)
    failed = len(links) + len(missing) + (len(docstrings) + len(style) if strict else 0)
    print(
        f"{len(pages)} pages, {len(api)} public functions and classes: {len(links)} broken link(s), "
        f"{len(missing)} missing API page(s), {len(docstrings)} docstring(s) without an example, "
        f"{len(style)} missing docstring section(s){'' if strict else ' (warnings)'}",
        file=out,
    )
    return 1 if failed else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("site", nargs="?", default=str(ROOT / "docs" / "_site"))
    parser.add_argument(
        "--strict", action="store_true", help="docstrings without an example or a section are errors too"
    )
    parser.add_argument("--build", action="store_true", help="build the site from docs/ into SITE first")
    parser.add_argument("--docs", default=str(ROOT / "docs"), help="the site's sources, with --build")
    parser.add_argument("--renderer", default="auto", choices=["auto", "quarto", "pandoc"])
    args = parser.parse_args(argv)
    try:
        api = public_api()
        if args.build:
            print(f"docs: {build(args.docs, args.site, args.renderer, api=api) / 'index.html'}")
    except SalesOpsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return check(args.site, strict=args.strict, api=api)


if __name__ == "__main__":
    raise SystemExit(main())
