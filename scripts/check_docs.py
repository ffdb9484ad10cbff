"""Check a built documentation site: no broken internal link, and every public function has its API page.

Usage: python scripts/check_docs.py [SITE] [--strict] [--build [--renderer auto|quarto|pandoc]]
SITE defaults to docs/_site; `--build` first builds it from docs/ (`salesops.docs_build`), in the same
process, so the package is imported once.

Fails (exit 1) on:
- a broken internal link: an `href`/`src` to a file that is not in the site, or to an anchor
  (`page.html#id`) that the target page does not have;
- a public function or class (see `salesops.docs_build.public_api` for the definition) without its
  entry in the API reference: an element with id `salesops.module.name` on `reference/PAGE.html`,
  linked from `reference/index.html`.

Warns (exit 0; exit 1 with `--strict`) on public functions and classes whose docstring is missing or
shows no example (a `>>>` line or an `Example:` label). External links (http, https, mailto) are not
fetched: the build is offline.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run from a checkout without installing
    sys.path.insert(0, str(ROOT))

from salesops.docs_build import REFERENCE_DIR, ApiObject, build, has_example, public_api
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
    for problem in links:
        print(f"broken link: {problem}", file=out)
    for problem in missing:
        print(f"missing API page: {problem}", file=out)
    label = "error" if strict else "warning"
    for problem in docstrings:
        print(f"{label}: {problem}", file=out)
    failed = len(links) + len(missing) + (len(docstrings) if strict else 0)
    print(
        f"{len(pages)} pages, {len(api)} public functions and classes: {len(links)} broken link(s), "
        f"{len(missing)} missing API page(s), {len(docstrings)} docstring(s) without an example"
        f"{'' if strict else ' (warnings)'}",
        file=out,
    )
    return 1 if failed else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("site", nargs="?", default=str(ROOT / "docs" / "_site"))
    parser.add_argument("--strict", action="store_true", help="docstrings without an example are errors too")
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
