"""Stage 2, ``wikirec build``: articles in, (book, link) training pairs out.

Reads ``articles.parquet`` (and ``redirects.parquet`` and ``inlinks.parquet`` when
present) written by ``wikirec parse`` and cleans the wikilinks the way the reference
tutorial did, with the fixes it lacked:

1. pages outside the main namespace that slipped through (``Wikipedia:WikiProject
   ...``) and repeated titles are dropped from the books;
2. links into non-content namespaces (``Wikipedia:``, ``File:``, ``Template:``,
   ``Help:``, ``Portal:``, ``User:``, ...) and interwiki links (``wikt:``, ``fr:``,
   ...) are dropped; main-namespace and ``Category:`` links are kept;
3. redirects are resolved (chains followed, a loop becomes its smallest title), so
   "New York Times" and "The New York Times" become one link;
4. case is folded (``str.lower``, as the reference did) unless ``keep_case``;
5. stop links are removed (``wikirec/data/stop_links.txt`` or a user file);
6. links seen on fewer than ``min_link_count`` distinct books are dropped (2 by default:
   a page linked from 2 to 4 books is often the book's author or series, the links the
   reference's threshold of 5 threw away; a page seen on one book tells nothing about
   any other).

In-links: the pages that link *to* a book (``inlinks.parquet``: its author's page, its
series, the lists and awards that name it) are entities too. Each in-link's target is
resolved through the redirects to a book; its source page is cleaned as a link target
(steps 2-5), so "George Orwell" linked from Animal Farm and "George Orwell" linking to it
are one entity; step 6 counts the books an entity meets either way.

With ``links="external_links"`` the books' external links (URLs) are the links
instead, as the reference suggested trying: steps 2-5 do not apply to URLs; each URL
is normalised by :func:`normalize_url` (scheme, ``www.``, fragment and trailing slash
dropped, host lower-cased, Wayback Machine copies unwrapped to the page they archive),
so ``http://www.Example.com/a/`` and ``https://example.com/a`` are one link; then
step 6 applies as for wikilinks.

Writes to ``OUT``::

    books.parquet   index, title, author, genre, country, language, publisher, series,
                    preceded_by, followed_by (infobox fields, "" when absent), infobox
                    (JSON text of every field), lead (the parse's first sentences of
                    the article, "" when it has none), n_pairs
                    , link_index (the book's own row in links.parquet when some book
                    meets it as a link, else -1)
    links.parquet   index, title (the link's key: case-folded unless keep_case),
                    display (Wikipedia's spelling after redirects: a page's own title
                    where the dump has it, else the spelling most links use), count
                    (distinct books it meets either way),
                    occurrences (out-link pairs), out_books, in_books (distinct books
                    linking to it, and linked from it)
    pairs.npy       int32, shape (n_pairs, 2): (book index, link index), one row per link
                    occurrence, repeats kept as the reference did
    in_pairs.npy    int32, shape (n_in, 2): (book index, link index) where the link's
                    page links to the book, distinct, sorted
    build.json      parameters, counts before and after each step, most frequent links

``build.json`` is written last and removed first, so a folder without it is not a
finished build (:func:`wikirec.built.write_build`); :func:`wikirec.built.load_training_data`
reads the folder back without the articles. This module must not import TensorFlow.
"""

from __future__ import annotations

import argparse
import os
import re
import time
from collections.abc import Sequence
from pathlib import Path
from urllib.parse import urlsplit

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from wikirec import __version__
from wikirec.built import BuildError, infobox_fields, write_build
from wikirec.cli import non_negative_int, positive_int
from wikirec.errors import one_line
from wikirec.io import CannotRead, parquet_columns, read_small_text
from wikirec.progress import progress_bar
from wikirec.titles import namespace_of, normalize_title

DEFAULT_STOP_LINKS = Path(__file__).resolve().parent / "data" / "stop_links.txt"

# Namespaces whose pages describe content: links into any other are dropped.
CONTENT_NAMESPACES = frozenset({"", "Category"})
MAIN_NAMESPACE = frozenset({""})

# Interwiki prefixes of English Wikipedia: Wikimedia projects and the language editions.
# A link starting with one of these and a colon leaves the wiki.
WIKIMEDIA_PREFIXES = frozenset(
    "b betawikiversity c commons d foundation incubator m mediawikiwiki meta "
    "metawikimedia mw n outreach phab phabricator q s species testwiki v voy w wikibooks "
    "wikidata wikimedia wikinews wikipedia wikiquote wikisource wikispecies wikiversity "
    "wikivoyage wikt wiktionary wmf".split()
)
LANGUAGE_PREFIXES = frozenset(
    "aa ab ace ady af ak als alt am ami an ang anp ar arc ary arz as ast atj av avk awa ay "
    "az azb ba ban bar bat-smg bbc bcl be be-tarask be-x-old bew bg bh bi bjn blk bm bn bo "
    "bpy br bs bug bxr ca cbk-zam cdo ce ceb ch cho chr chy ckb co cr crh cs csb cu cv cy "
    "da dag de dga din diq dsb dtp dty dv dz ee el eml en eo es et eu ext fa fat ff fi "
    "fiu-vro fj fo fon fr frp frr fur fy ga gag gan gcr gd gl glk gn gom gor got gpe gu guc "
    "gur guw gv ha hak haw he hi hif ho hr hsb ht hu hy hyw hz ia id ie ig igl ii ik ilo inh "
    "io is it iu ja jam jbo jv ka kaa kab kbd kbp kcg kg kge ki kj kk kl km kn knc ko koi kr "
    "krc ks ksh ku kus kv kw ky la lad lb lbe lez lfn lg li lij lld lmo ln lo lrc lt ltg lv "
    "mad mai map-bms mdf mg mh mhr mi min mk ml mn mni mnw mos mr mrj ms mt mus mwl my myv "
    "mzn na nah nan nap nds nds-nl ne new ng nia nl nn no nov nqo nr nrm nso nup nv ny oc "
    "olo om or os pa pag pam pap pcd pcm pdc pfl pi pih pl pms pnb pnt ps pt pwn qu rm rmy "
    "rn ro roa-rup roa-tara rsk ru rue rw sa sah sat sc scn sco sd se sg sh shi shn si "
    "simple sk skr sl sm smn sn so sq sr srn ss st stq su sv sw syl szl szy ta tay tcy tdd "
    "te tet tg th ti tig tk tl tly tn to tpi tr trv ts tt tum tw ty tyv udm ug uk ur uz ve "
    "vec vep vi vls vo wa war wo wuu xal xh xmf yi yo yue za zea zgh zh zh-classical "
    "zh-min-nan zh-yue zu".split()
)
INTERWIKI_PREFIXES = WIKIMEDIA_PREFIXES | LANGUAGE_PREFIXES

# Infobox fields copied into columns of the book table (the whole infobox stays as JSON).
INFOBOX_COLUMNS = (
    "author",
    "genre",
    "country",
    "language",
    "publisher",
    "series",
    "preceded_by",
    "followed_by",
)
TOP_LINKS = 25
# A page met by one book says nothing about any other; 2 keeps the author and series
# pages that the reference's 5 threw away (README, Quality).
DEFAULT_MIN_LINK_COUNT = 2
MAX_REDIRECT_HOPS = 32
LINK_SOURCES = ("wikilinks", "external_links")
# A Wayback Machine copy: web.archive.org/web/<timestamp, maybe with a suffix>/<url>
WAYBACK = re.compile(r"^web\.archive\.org/web/[0-9a-z_*]+/(.+)$")


# --------------------------------------------------------------------------- links


def is_content_link(title: str, categories: bool = True) -> bool:
    """True for a normalised link target in the main or ``Category:`` namespace that is
    not an interwiki link (``wikt:word``, ``fr:Titre``); ``categories=False``: in the main
    namespace only."""
    if ":" not in title:
        return True
    namespaces = CONTENT_NAMESPACES if categories else MAIN_NAMESPACE
    if namespace_of(title) not in namespaces:
        return False
    return title.split(":", 1)[0].strip().lower() not in INTERWIKI_PREFIXES


def resolve_redirects(
    titles: list[str], redirects: pa.Table | None
) -> tuple[list[str], dict[str, int]]:
    """Follow redirects from each title to the page it lands on.

    Chains are followed to their end; a title caught in a loop resolves to the
    smallest title of the loop, so every member of a loop becomes one link. Only the
    redirects reachable from ``titles`` are read into Python (found by vectorised
    scans of the table), so a whole dump's table costs a few scans.

    Parameters
    ----------
    titles : list of str, length n
    redirects : table with string columns ``source``, ``target``, or None

    Returns
    -------
    resolved : list of str, length n
    counts : dict with ``redirects_used`` (titles that moved) and ``loops``
    """
    graph = _redirect_graph(titles, redirects)
    resolved: list[str] = []
    loops: set[str] = set()
    for title in titles:
        final, loop = _follow(title, graph)
        resolved.append(final)
        if loop:
            loops.add(final)
    moved = sum(a != b for a, b in zip(titles, resolved, strict=True))
    return resolved, {"redirects_used": moved, "loops": len(loops)}


def _redirect_graph(titles: list[str], redirects: pa.Table | None) -> dict[str, str]:
    """The redirects reachable from ``titles``: source → target (first one wins)."""
    if redirects is None or redirects.num_rows == 0 or not titles:
        return {}
    sources = redirects.column("source")
    targets = redirects.column("target")
    graph: dict[str, str] = {}
    frontier = set(titles)
    for _ in range(MAX_REDIRECT_HOPS):
        mask = pc.is_in(sources, value_set=pa.array(sorted(frontier), pa.string()))
        found_sources = pc.filter(sources, mask).to_pylist()
        found_targets = pc.filter(targets, mask).to_pylist()
        new: set[str] = set()
        for source, target in zip(found_sources, found_targets, strict=True):
            if source not in graph and target:
                graph[source] = target
                if target not in graph:
                    new.add(target)
        frontier = new - graph.keys()
        if not frontier:
            break
    return graph


def _follow(title: str, graph: dict[str, str]) -> tuple[str, bool]:
    """Where ``title`` lands, and whether it ran into a loop."""
    seen: list[str] = [title]
    position = {title: 0}
    current = title
    while current in graph:
        current = graph[current]
        if current in position:
            return min(seen[position[current] :]), True
        position[current] = len(seen)
        seen.append(current)
    return current, False


STOP_LINKS_MAX_BYTES = 64 * 2**20  # a list of titles: the shipped one is a few KB


def read_stop_links(path: str | os.PathLike | None = None) -> list[str]:
    """Stop-link titles from a file: one a line, ``#`` starts a comment, blank lines
    ignored. ``None`` reads the default list shipped with wikirec."""
    path = Path(path) if path is not None else DEFAULT_STOP_LINKS
    try:
        lines = read_small_text(path, STOP_LINKS_MAX_BYTES, "stop-link file").splitlines()
    except CannotRead as exc:
        raise BuildError(str(exc)) from exc
    entries = (line.split("#", 1)[0].strip() for line in lines)
    return [entry for entry in entries if entry]


# --------------------------------------------------------------------------- books


def normalize_url(url: str) -> str | None:
    """One spelling per web page, so that the same page cited by two books is one link:
    scheme, user info, ``www.`` and the ``#fragment`` dropped, the host lower-cased (the
    path and query keep their case: servers may tell them apart), a trailing slash
    dropped, and a Wayback Machine copy (``web.archive.org/web/TIME/URL``) replaced by
    the page it archives. ``None`` for text without a host.

    >>> normalize_url("HTTPS://www.Example.com/Path/?q=1#top")
    'example.com/Path?q=1'
    >>> normalize_url("http://web.archive.org/web/2005/http://www.example.com/a/")
    'example.com/a'
    """
    text = url.strip()
    for _ in range(3):  # an archived copy of an archived copy is rare; stop anyway
        parts = urlsplit(text if "//" in text[:12] else "//" + text)
        try:
            host, port = (parts.hostname or "").rstrip("."), parts.port
        except ValueError:  # a port that is not a number
            return None
        if not host or " " in host:
            return None
        host = host.removeprefix("www.")
        path = parts.path.rstrip("/")
        query = f"?{parts.query}" if parts.query else ""
        normal = f"{host}{f':{port}' if port else ''}{path}{query}"
        archived = WAYBACK.match(normal)
        if archived is None:
            return normal
        text = archived[1]
    return normal


def _clean_urls(raw_urls: list[str]) -> tuple[tuple[list[str], np.ndarray], dict[str, int]]:
    """The :func:`_clean_links` of external links: normalise each distinct raw URL."""
    code = np.full(len(raw_urls), -1, dtype=np.int64)
    titles: list[str] = []
    index: dict[str, int] = {}
    valid = 0
    for position, url in enumerate(raw_urls):
        normal = normalize_url(url)
        if normal is None:
            continue
        valid += 1
        if normal not in index:
            index[normal] = len(titles)
            titles.append(normal)
        code[position] = index[normal]
    counts = {"read": len(raw_urls), "content_namespaces": valid, "after_redirects": valid,
              "after_case_folding": len(titles), "after_stop_links": len(titles),
              "stop_links_found": 0, "redirects_used": 0, "redirect_loops": 0}  # fmt: skip
    return (titles, code), counts


def _read_articles(
    articles_dir: Path, links: str = "wikilinks", inlinks: bool = True
) -> tuple[pa.Table, pa.Table | None, pa.Table | None]:
    """The articles, the redirects and the in-links of a parse folder (None for a table
    the folder lacks, or in-links not asked for)."""
    if articles_dir.is_file() and articles_dir.name == "articles.parquet":
        articles_dir = articles_dir.parent
    path = articles_dir / "articles.parquet"
    if not path.is_file():
        raise BuildError(f"{articles_dir}: no articles.parquet (run `wikirec parse` first)")
    not_articles = f"{path}: not an articles table from `wikirec parse`"
    try:
        columns = parquet_columns(path)
        missing = [name for name in ("title", "infobox", links) if name not in columns]
        if missing:
            raise BuildError(f"{not_articles} (no column {', '.join(missing)})")
        # "lead" is absent from parse folders made before it; the others are required
        optional = ["lead"] if "lead" in columns else []
        articles = pq.read_table(path, columns=["title", "infobox", links, *optional])
        redirects = _optional_table(articles_dir / "redirects.parquet")
        found_inlinks = _optional_table(articles_dir / "inlinks.parquet") if inlinks else None
    except (pa.ArrowException, OSError, KeyError) as exc:
        raise BuildError(f"{not_articles} ({one_line(exc, 200)})") from exc
    if articles.num_rows == 0:
        raise BuildError(f"{path}: no articles")
    return articles, redirects, found_inlinks


def _optional_table(path: Path) -> pa.Table | None:
    """The ``source``, ``target`` columns of ``redirects.parquet`` or ``inlinks.parquet``."""
    return pq.read_table(path, columns=["source", "target"]) if path.is_file() else None


def _select_books(titles: list[str]) -> tuple[np.ndarray, dict[str, int]]:
    """Which article rows are books: main-namespace titles, first of each title.

    Returns the kept row numbers (int64, ascending) and the counts dropped."""
    seen: set[str] = set()
    keep: list[int] = []
    not_main = duplicates = 0
    for row, title in enumerate(titles):
        if not title or namespace_of(title):
            not_main += 1
        elif title in seen:
            duplicates += 1
        else:
            seen.add(title)
            keep.append(row)
    return np.asarray(keep, dtype=np.int64), {
        "not_main_namespace": not_main,
        "duplicate_titles": duplicates,
    }


def _book_table(
    titles: list[str], infoboxes: list[str | None], leads: list[str | None],
    n_pairs: np.ndarray, own_links: np.ndarray,
) -> pa.Table:  # fmt: skip
    fields = [infobox_fields(raw) for raw in infoboxes]
    columns: dict[str, object] = {
        "index": np.arange(len(titles), dtype=np.int64),
        "title": titles,
    }
    for name in INFOBOX_COLUMNS:
        columns[name] = [f.get(name, "") for f in fields]
    columns["infobox"] = [raw or "{}" for raw in infoboxes]
    columns["lead"] = pa.array([lead or "" for lead in leads], pa.string())
    columns["n_pairs"] = n_pairs.astype(np.int64)
    columns["link_index"] = own_links.astype(np.int64)
    return pa.table(columns)


# --------------------------------------------------------------------------- stage


def build_training_data(
    articles_dir: str | os.PathLike,
    out_dir: str | os.PathLike,
    min_link_count: int = DEFAULT_MIN_LINK_COUNT,
    stop_links: str | os.PathLike | list[str] | None = None,
    keep_case: bool = False,
    top_links: int = TOP_LINKS,
    progress: bool = False,
    links: str = "wikilinks",
    inlinks: bool = True,
    category_links: bool = True,
) -> dict:
    """Build the training pairs of ``articles_dir`` into ``out_dir``; return the summary.

    Parameters
    ----------
    articles_dir : folder holding ``articles.parquet`` (and ``redirects.parquet``)
    out_dir : output folder (created; files of an earlier build are replaced)
    min_link_count : drop links met by fewer distinct books (the reference used 5)
    stop_links : a stop-link file, a list of titles, or None for the default list
    keep_case : keep MediaWiki's case instead of folding links to lower case
    top_links : how many of the most frequent kept links the summary lists
    progress : show a progress bar on stderr
    links : "wikilinks" (the reference's) or "external_links" (URLs, normalised by
        :func:`normalize_url`; ``stop_links``, ``keep_case`` and ``inlinks`` do not apply)
    inlinks : read the parse's ``inlinks.parquet`` (when there is one) into ``in_pairs``
    category_links : keep ``Category:`` links as links (False: categories stay labels
        only, the parse's ``categories`` column, e.g. to measure how well the links
        alone place books in their categories)

    Returns
    -------
    summary : dict, also written to ``out_dir/build.json``
    """
    started = time.perf_counter()
    if min_link_count < 1:
        raise BuildError(f"--min-link-count must be at least 1, not {min_link_count}")
    if links not in LINK_SOURCES:
        raise BuildError(f"--links must be one of {', '.join(LINK_SOURCES)}, not {links!r}")
    articles_dir, out = Path(articles_dir), Path(out_dir)
    stops = stop_links if isinstance(stop_links, list) else read_stop_links(stop_links)
    with progress_bar(total=5, desc="build", enabled=progress) as bar:
        wanted_inlinks = inlinks and links == "wikilinks"  # a URL links to nothing
        articles, redirects, inlink_table = _read_articles(articles_dir, links, wanted_inlinks)
        bar.update()
        titles = articles.column("title").to_pylist()
        book_rows, book_counts = _select_books(titles)
        book_titles = [titles[row] for row in book_rows]
        book_of_row = np.full(articles.num_rows, -1, dtype=np.int64)
        book_of_row[book_rows] = np.arange(len(book_rows))
        wikilinks = articles.column(links).combine_chunks()
        occurrence_book = book_of_row[pc.list_parent_indices(wikilinks).to_numpy()]
        encoded = pc.list_flatten(wikilinks).dictionary_encode()
        raw_titles = encoded.dictionary.to_pylist()
        raw_codes = encoded.indices.to_numpy(zero_copy_only=False).astype(np.int64)
        bar.update()
        # The in-links' sources and the books' own titles are cleaned with the link
        # targets, so that one page is one entity whichever way it meets a book.
        in_books, in_sources = _inlink_books(inlink_table, book_titles, redirects)
        extra = [*in_sources, *book_titles]
        if links == "wikilinks":
            raw_counts = np.bincount(raw_codes, minlength=len(raw_titles))
            link_of_raw, counts = _clean_links(raw_titles, redirects, stops, keep_case, extra,
                                               category_links, raw_counts)  # fmt: skip
        else:
            (urls, url_code), counts = _clean_urls(raw_titles)
            link_of_raw = (urls, url_code, urls)  # a URL is shown as it is kept
        bar.update()
        link_title, link_code, link_display = link_of_raw
        codes = link_code[raw_codes]
        on_book = occurrence_book >= 0
        n_raw, n_in = len(raw_titles), len(in_sources)
        in_codes = link_code[n_raw : n_raw + n_in] if links == "wikilinks" else link_code[:0]
        own_codes = link_code[n_raw + n_in :] if links == "wikilinks" else None
        pairs, in_pairs, link_table, new_code, steps = _filter_pairs(
            occurrence_book[on_book], codes[on_book], in_books, in_codes, link_title,
            min_link_count, link_display,
        )  # fmt: skip
        bar.update()
        summary = _summary(
            articles.num_rows, book_counts, len(book_rows), len(raw_codes),
            int(on_book.sum()), counts, steps, pairs, link_table, top_links,
        )  # fmt: skip
        summary["in_links"] = {
            "read": 0 if inlink_table is None else inlink_table.num_rows,
            "to_books": int(len(in_books)),
            "kept": int(len(in_pairs)),
        }
        summary["params"] = {
            "articles_dir": str(articles_dir),
            "min_link_count": min_link_count,
            "stop_links": stops
            if isinstance(stop_links, list)
            else str(stop_links if stop_links is not None else DEFAULT_STOP_LINKS),
            "n_stop_links": len(stops),
            "keep_case": keep_case,
            "links": links,
            "inlinks": wanted_inlinks,
            "category_links": category_links,
        }
        summary["version"] = __version__
        summary["redirects_available"] = 0 if redirects is None else redirects.num_rows
        infoboxes = pc.take(articles.column("infobox"), pa.array(book_rows)).to_pylist()
        leads = (pc.take(articles.column("lead"), pa.array(book_rows)).to_pylist()
                 if "lead" in articles.column_names else [""] * len(book_rows))  # fmt: skip
        n_pairs = np.bincount(pairs[:, 0], minlength=len(book_rows))
        own_links = _own_links(own_codes, new_code, len(book_rows))
        summary["books"]["without_pairs"] = int((n_pairs == 0).sum())
        summary["books"]["with_lead"] = sum(1 for lead in leads if lead)
        summary["seconds"] = round(time.perf_counter() - started, 3)
        books = _book_table(book_titles, infoboxes, leads, n_pairs, own_links)
        write_build(out, books, link_table, pairs, in_pairs, summary)
        bar.update()
    return summary


def _inlink_books(
    inlinks: pa.Table | None, book_titles: list[str], redirects: pa.Table | None
) -> tuple[np.ndarray, list[str]]:
    """The book each in-link points to (int64, through redirects) and its source title,
    for the in-links that reach a book (a page linking to itself is left out)."""
    if inlinks is None or inlinks.num_rows == 0:
        return np.zeros(0, np.int64), []
    book_index = {title: i for i, title in enumerate(book_titles)}
    targets = pc.unique(inlinks.column("target")).to_pylist()
    resolved, _ = resolve_redirects(targets, redirects)
    book_of_target = {t: book_index[r] for t, r in zip(targets, resolved, strict=True)
                      if r in book_index}  # fmt: skip
    books: list[int] = []
    sources: list[str] = []
    for source, target in zip(inlinks.column("source").to_pylist(),
                              inlinks.column("target").to_pylist(), strict=True):  # fmt: skip
        book = book_of_target.get(target)
        if book is not None and source and source != book_titles[book]:
            books.append(book)
            sources.append(source)
    return np.asarray(books, np.int64), sources


def _own_links(own_codes: np.ndarray | None, new_code: np.ndarray, n_books: int) -> np.ndarray:
    """int64 (n_books,): each book's own row among the kept links, or -1."""
    if own_codes is None:
        return np.full(n_books, -1, np.int64)
    kept = np.where(own_codes >= 0, new_code[np.maximum(own_codes, 0)], -1)
    return np.where(own_codes >= 0, kept, -1).astype(np.int64)


def _clean_links(
    raw_titles: list[str],
    redirects: pa.Table | None,
    stops: list[str],
    keep_case: bool,
    extra: Sequence[str] = (),
    categories: bool = True,
    raw_counts: np.ndarray | None = None,
) -> tuple[tuple[list[str], np.ndarray, list[str]], dict[str, int]]:
    """Map each distinct raw link target to a cleaned link, or -1 when dropped.

    Returns ``((titles, code, display))``: ``code[i]`` is the position in ``titles`` of
    raw target ``i`` (int64, -1 if dropped), ``display[j]`` is Wikipedia's spelling of
    link ``j`` (:func:`_display_title`), and counts of distinct targets per step.
    ``extra`` titles (pages that are not link targets: in-link sources, the books'
    own titles) are cleaned the same way and coded after the raw targets, but neither
    counted nor given a title of their own unless cleaning keeps them. ``raw_counts``:
    occurrences of each raw target (int, len(raw_titles)), which spelling wins."""
    every = [*raw_titles, *extra]
    content = [is_content_link(t, categories) for t in every]
    kept_positions = np.flatnonzero(np.asarray(content, dtype=bool))
    kept = [every[i] for i in kept_positions]
    stop_titles = [normalize_title(s) for s in stops]
    resolved, redirect_counts = resolve_redirects(kept + stop_titles, redirects)
    resolved_stops = resolved[len(kept) :]
    resolved = resolved[: len(kept)]
    fold = (lambda t: t) if keep_case else str.lower
    stop_set = {s.lower() for s in stop_titles} | {s.lower() for s in resolved_stops}
    code = np.full(len(every), -1, dtype=np.int64)
    titles: list[str] = []
    index: dict[str, int] = {}
    n_raw = len(raw_titles)
    after_redirects: set[str] = set()
    after_namespaces: set[str] = set()
    stopped: set[str] = set()
    spellings: list[dict[str, float]] = []
    for position, title in zip(kept_positions, resolved, strict=True):
        counted = position < n_raw
        if counted:
            after_redirects.add(title)
        if not is_content_link(title, categories):  # a redirect into another namespace
            continue
        folded = fold(title)
        if counted:
            after_namespaces.add(folded)
        if title.lower() in stop_set:
            if counted:
                stopped.add(folded)
            continue
        if folded not in index:
            index[folded] = len(titles)
            titles.append(folded)
            spellings.append({})
        code[position] = index[folded]
        votes = spellings[index[folded]]
        votes[title] = votes.get(title, 0.0) + _spelling_vote(position, n_raw, raw_counts)
    counts = {
        "read": n_raw,
        "content_namespaces": int(np.count_nonzero(kept_positions < n_raw)),
        "after_redirects": len({t for t in after_redirects if is_content_link(t, categories)}),
        "after_case_folding": len(after_namespaces),
        "after_stop_links": len(after_namespaces - stopped),
        "stop_links_found": len(stopped),
        "redirects_used": redirect_counts["redirects_used"],
        "redirect_loops": redirect_counts["loops"],
    }
    return (titles, code, [_display_title(votes) for votes in spellings]), counts


# A page's own title (a book's, an in-link's source page) outvotes any number of links
# spelled otherwise: it is how Wikipedia names the page.
PAGE_TITLE_VOTE = 1e12


def _spelling_vote(position: int, n_raw: int, raw_counts: np.ndarray | None) -> float:
    """How much the spelling at ``position`` counts towards its link's display title:
    a raw target its occurrences (1 without ``raw_counts``), a page's own title
    :data:`PAGE_TITLE_VOTE`."""
    if position >= n_raw:
        return PAGE_TITLE_VOTE
    return 1.0 if raw_counts is None else float(raw_counts[position])


def _display_title(votes: dict[str, float]) -> str:
    """The spelling with the most votes, after redirects: ``The New York Times`` for a
    key ``the new york times``. Ties go to the fewest capitals (``IMDb`` over ``IMDB``,
    ``Time`` over ``TIME``: shouting is the rarer style of a title), then code-point
    order."""
    return min(votes, key=lambda spelling: (-votes[spelling], _capitals(spelling), spelling))


def _capitals(text: str) -> int:
    return sum(ch.isupper() for ch in text)


def _filter_pairs(
    books: np.ndarray,
    codes: np.ndarray,
    in_books: np.ndarray,
    in_codes: np.ndarray,
    titles: list[str],
    min_count: int,
    display: list[str] | None = None,
) -> tuple[np.ndarray, np.ndarray, pa.Table, np.ndarray, dict[str, int]]:
    """Remove the dropped and the rare links; number the kept links by count.

    Parameters
    ----------
    books, codes : int64 arrays, shape (n_occurrences,): book index, cleaned link code
        (-1 for a dropped link)
    in_books, in_codes : int64 arrays, shape (n_in,): the same for the in-links
    titles, display : each code's link key and how it is shown (None: as its key)

    Returns
    -------
    pairs : int32 array, shape (n_pairs, 2)
    in_pairs : int32 array, shape (n_in_kept, 2), distinct, sorted
    links : table ``index, title, display, count, occurrences, out_books, in_books``
    new_code : int64 (n_codes,): each code's kept link index, or -1
    steps : occurrence counts after each step
    """
    live = codes >= 0
    books, codes = books[live], codes[live]
    in_live = in_codes >= 0
    in_books, in_codes = in_books[in_live], in_codes[in_live]
    n_codes = max(len(titles), 1)
    out_unique = np.unique(books * n_codes + codes)
    in_unique = np.unique(in_books * n_codes + in_codes)
    either = np.union1d(out_unique, in_unique)
    book_count = np.bincount(either % n_codes, minlength=len(titles))
    out_books = np.bincount(out_unique % n_codes, minlength=len(titles))
    in_books_count = np.bincount(in_unique % n_codes, minlength=len(titles))
    occurrences = np.bincount(codes, minlength=len(titles))
    frequent = np.flatnonzero(book_count >= min_count)
    title_array = np.asarray(titles, dtype=object)
    # Most linked first, ties by title: a stable order that does not depend on the input.
    order = frequent[np.lexsort((title_array[frequent], -book_count[frequent]))]
    new_code = np.full(len(titles), -1, dtype=np.int64)
    new_code[order] = np.arange(len(order))
    mapped = new_code[codes]
    keep = mapped >= 0
    pairs = np.stack([books[keep], mapped[keep]], axis=1).astype(np.int32)
    in_mapped = new_code[in_unique % n_codes]
    in_keep = in_mapped >= 0
    in_pairs = np.stack([in_unique[in_keep] // n_codes, in_mapped[in_keep]], axis=1)
    in_pairs = in_pairs[np.lexsort((in_pairs[:, 1], in_pairs[:, 0]))].astype(np.int32)
    links = pa.table(
        {
            "index": np.arange(len(order), dtype=np.int64),
            "title": pa.array(title_array[order].tolist(), pa.string()),
            "display": pa.array([(display or titles)[code] for code in order], pa.string()),
            "count": book_count[order].astype(np.int64),
            "occurrences": occurrences[order].astype(np.int64),
            "out_books": out_books[order].astype(np.int64),
            "in_books": in_books_count[order].astype(np.int64),
        }
    )
    steps = {"after_content_and_stop_links": int(live.sum()), "kept": int(keep.sum())}
    return pairs, in_pairs.reshape(-1, 2), links, new_code, steps


def _summary(
    n_articles, book_counts, n_books, n_occurrences, n_on_books, link_counts, steps, pairs,
    links, top_links,
) -> dict:  # fmt: skip
    n_links = links.num_rows
    unique = len(np.unique(pairs[:, 0].astype(np.int64) * max(n_links, 1) + pairs[:, 1]))
    titles = links.column("title").to_pylist()[:top_links]
    counts = links.column("count").to_pylist()[:top_links]
    return {
        "books": {"read": n_articles, **book_counts, "kept": n_books},
        "link_occurrences": {
            "read": n_occurrences,
            "on_kept_books": n_on_books,
            "after_namespaces_redirects_stop_links": steps["after_content_and_stop_links"],
            "kept": steps["kept"],
        },
        "distinct_links": {**link_counts, "kept": n_links},
        "pairs": {"kept": int(len(pairs)), "unique": int(unique)},
        "top_links": [[t, c] for t, c in zip(titles, counts, strict=True)],
    }


# --------------------------------------------------------------------------- CLI


def add_command(subparsers) -> None:
    parser = subparsers.add_parser(
        "build",
        help="turn articles into (book, link) training pairs",
        description="Clean the wikilinks of articles.parquet (redirects resolved, case "
        "folded, non-content namespaces, stop links and rare links dropped) and write "
        "books.parquet, links.parquet, pairs.npy and build.json.",
    )
    parser.add_argument("articles", metavar="ARTICLES_DIR", help="output folder of wikirec parse")
    parser.add_argument("--out", required=True, metavar="DIR", help="output folder")
    parser.add_argument(
        "--min-link-count",
        type=positive_int,
        default=DEFAULT_MIN_LINK_COUNT,
        metavar="N",
        help=f"drop links met by fewer than N books, either way (default: "
        f"{DEFAULT_MIN_LINK_COUNT}; the reference used 5)",
    )
    parser.add_argument(
        "--stop-links",
        metavar="FILE",
        default=None,
        help="stop-link titles, one a line, '#' comments (default: the shipped list, "
        f"{DEFAULT_STOP_LINKS.name})",
    )
    parser.add_argument("--keep-case", action="store_true", help="do not fold links to lower case")
    parser.add_argument(
        "--no-inlinks", dest="inlinks", action="store_false",
        help="ignore the parse's inlinks.parquet (the pages linking to each book)",
    )  # fmt: skip
    parser.add_argument(
        "--no-category-links", dest="category_links", action="store_false",
        help="drop Category: links (categories stay in books' metadata, not links)",
    )  # fmt: skip
    parser.add_argument(
        "--links",
        choices=LINK_SOURCES,
        default="wikilinks",
        help="which links make the pairs: wikilinks (default) or external_links (URLs, "
        "normalised: scheme, www. and trailing slash dropped, host lower-cased)",
    )
    parser.add_argument(
        "--top",
        type=non_negative_int,
        default=TOP_LINKS,
        metavar="N",
        help="show the N most frequent links",
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    summary = build_training_data(
        args.articles,
        args.out,
        min_link_count=args.min_link_count,
        stop_links=args.stop_links,
        keep_case=args.keep_case,
        top_links=args.top,
        progress=not args.quiet,
        links=args.links,
        inlinks=args.inlinks,
        category_links=args.category_links,
    )
    for line in summary_lines(summary):
        print(line)
    print(f"wrote {Path(args.out)}/books.parquet, links.parquet, pairs.npy, in_pairs.npy, "
          "build.json")  # fmt: skip
    return 0


def summary_lines(summary: dict) -> list[str]:
    """The summary as a few lines for people."""
    books, links = summary["books"], summary["distinct_links"]
    occ, pairs = summary["link_occurrences"], summary["pairs"]
    if summary["params"].get("links") == "external_links":
        link_line = (
            f"links: {links['read']:,} distinct URLs, {links['content_namespaces']:,} with a "
            f"host, {links['after_case_folding']:,} after normalising, {links['kept']:,} "
            f"seen on >= {summary['params']['min_link_count']} books"
        )
    else:
        link_line = (
            f"links: {links['read']:,} distinct targets, {links['content_namespaces']:,} in "
            f"content namespaces, {links['after_redirects']:,} after redirects "
            f"({links['redirects_used']:,} resolved), {links['after_case_folding']:,} after "
            f"case folding, {links['after_stop_links']:,} after stop links, "
            f"{links['kept']:,} seen on >= {summary['params']['min_link_count']} books"
        )
    lines = [
        f"books: {books['read']:,} read, {books['not_main_namespace']:,} not in the main "
        f"namespace, {books['duplicate_titles']:,} repeated, {books['kept']:,} kept "
        f"({books['without_pairs']:,} without any kept link)",
        link_line,
        f"pairs: {occ['read']:,} link occurrences, {pairs['kept']:,} kept "
        f"({pairs['unique']:,} distinct) in {summary['seconds']:.1f} s",
    ]
    inlinks = summary.get("in_links")
    if inlinks and inlinks["read"]:
        lines.append(
            f"in-links: {inlinks['read']:,} read, {inlinks['to_books']:,} reach a book, "
            f"{inlinks['kept']:,} distinct (book, link) kept"
        )
    if summary["top_links"]:
        top = ", ".join(f"{t} ({c:,})" for t, c in summary["top_links"])
        urls = summary["params"].get("links") == "external_links"
        hint = "" if urls else " (add non-content ones to --stop-links)"
        lines.append(f"most frequent links kept{hint}: {top}")
    return lines
