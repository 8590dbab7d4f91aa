// wikirec serve: the page. Plain JavaScript, no library, nothing fetched but this
// server's /api/. Titles and infobox fields come from Wikipedia and may hold markup:
// everything shown is built with createElement and text nodes, never parsed as HTML.
"use strict";

(function () {
  const SUGGEST_DELAY_MS = 120; // wait for a pause in typing before asking
  const ARROW = { out: "\u2192", in: "\u2190", both: "\u2194" };
  const SIDE = {
    out: "links to the page",
    in: "is linked from the page",
    both: "links to the page and is linked from it",
  };
  const state = { info: null, liked: [], minus: [], storageKey: "wikirec:liked", route: 0, map: null };
  const $ = (id) => document.getElementById(id);

  // ------------------------------------------------------------------ DOM helpers

  // The view's new content; a child left out by a condition (null, undefined, false) is
  // skipped, as in el(): replaceChildren itself would print it as the text "null".
  function show(...children) {
    $("view").replaceChildren(...children.flat(Infinity).filter((c) => c !== null && c !== undefined && c !== false));
  }

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (key === "class") node.className = value;
      else if (key === "on") {
        for (const [event, handler] of Object.entries(value)) node.addEventListener(event, handler);
      } else if (key === "href") node.setAttribute("href", safeHref(value));
      else node.setAttribute(key, value === true ? "" : String(value));
    }
    for (const child of children.flat(Infinity)) {
      if (child === null || child === undefined || child === false) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  // Only this page's routes, this server's paths and https addresses become links.
  function safeHref(url) {
    const text = String(url);
    return /^(#|\/(?!\/)|https:\/\/)/.test(text) ? text : "#/";
  }

  const bookHref = (title) => "#/book/" + encodeURIComponent(title);
  const pageHref = (title) => "#/page/" + encodeURIComponent(title);
  const mapHref = (title) => "#/map/" + encodeURIComponent(title);

  // ------------------------------------------------------------------ the API

  async function api(name, params, signal) {
    const query = new URLSearchParams();
    for (const [key, value] of Object.entries(params || {})) {
      for (const item of [].concat(value)) query.append(key, item);
    }
    const response = await fetch("/api/" + name + "?" + query.toString(), {
      signal,
      headers: { Accept: "application/json" },
    });
    const body = await response.json().catch(() => ({ error: response.statusText }));
    if (!response.ok) {
      const error = new Error(body.error || "HTTP " + response.status);
      error.status = response.status;
      error.body = body;
      throw error;
    }
    return body;
  }

  // ------------------------------------------------------------------ search box

  const search = { timer: 0, seq: 0, controller: null, items: [], selected: -1 };

  function setupSearch() {
    const box = $("search");
    box.addEventListener("input", () => {
      clearTimeout(search.timer);
      search.timer = setTimeout(suggest, SUGGEST_DELAY_MS);
    });
    box.addEventListener("keydown", (event) => {
      if (event.key === "ArrowDown" || event.key === "ArrowUp") {
        event.preventDefault();
        moveSelection(event.key === "ArrowDown" ? 1 : -1);
      } else if (event.key === "Enter") {
        event.preventDefault();
        const item = search.items[Math.max(search.selected, 0)];
        if (item) pick(item);
        else suggest();
      } else if (event.key === "Escape") {
        hideSuggestions();
      }
    });
    box.addEventListener("blur", () => setTimeout(hideSuggestions, 150));
  }

  async function suggest() {
    const text = $("search").value.trim();
    const seq = ++search.seq;
    if (search.controller) search.controller.abort();
    if (!text) return hideSuggestions();
    search.controller = new AbortController();
    let answer;
    try {
      answer = await api("search", { q: text, limit: 10 }, search.controller.signal);
    } catch (error) {
      if (error.name === "AbortError" || seq !== search.seq) return;
      return showSuggestions([], error.message);
    }
    if (seq === search.seq) showSuggestions(answer.results);
  }

  function showSuggestions(items, message) {
    const list = $("suggestions");
    search.items = items;
    search.selected = -1;
    list.replaceChildren(
      ...items.map((item, i) =>
        el(
          "li",
          {
            role: "option",
            id: "suggestion-" + i,
            class: "suggestion",
            "data-title": item.title,
            "data-kind": item.kind,
            "aria-selected": "false",
            on: {
              mousedown: (event) => {
                event.preventDefault(); // keep the focus: the box's blur would hide the list
                pick(item);
              },
            },
          },
          el("span", { class: "title" }, item.title),
          el("span", { class: "kind" }, item.kind + (item.match === "redirect" ? ", redirect" : ""))
        )
      )
    );
    if (!items.length) list.append(el("li", { class: "none" }, message || "No match"));
    list.hidden = false;
    $("search").setAttribute("aria-expanded", "true");
  }

  function hideSuggestions() {
    $("suggestions").hidden = true;
    $("search").setAttribute("aria-expanded", "false");
  }

  function moveSelection(step) {
    if (!search.items.length) return;
    const count = search.items.length;
    search.selected = (search.selected + step + count) % count;
    $("suggestions").querySelectorAll("li.suggestion").forEach((li, i) => {
      li.setAttribute("aria-selected", String(i === search.selected));
    });
    $("search").setAttribute("aria-activedescendant", "suggestion-" + search.selected);
  }

  function pick(item) {
    hideSuggestions();
    $("search").value = item.title;
    location.hash = item.kind === "book" ? bookHref(item.title) : pageHref(item.title);
  }

  // ------------------------------------------------------------------ views

  function route() {
    const token = ++state.route;
    state.map = null; // a map left behind stops answering resizes and colour changes
    const match = /^#\/(book|page|map)\/(.+)$/.exec(location.hash);
    let title = null;
    if (match) {
      try {
        title = decodeURIComponent(match[2]);
      } catch (error) {
        title = null;
      }
    }
    window.scrollTo(0, 0);
    if (location.hash === "#/map") return showMap(null, token);
    if (title === null) return showHome();
    const views = { book: showBook, page: showPage, map: showMap };
    return views[match[1]](title, token);
  }

  function showHome() {
    document.title = "wikirec";
    const info = state.info || { examples: [], maps: [] };
    show(
      el("h1", {}, "Books like the books you know"),
      el(
        "p",
        {},
        "Type a book or a page in the search box. A book's page shows its infobox, the ",
        "books nearest to it and farthest from it in the model, and for each ",
        "recommendation the Wikipedia pages the two books share."
      ),
      info.examples.length
        ? el("p", { class: "chips" }, "Try: ", info.examples.map((t) => el("a", { href: bookHref(t) }, t)))
        : null,
      el("p", { class: "chips" }, "Maps: ", el("a", { href: "#/map" }, "the books, by genre"),
        info.maps.map((m) => el("a", { href: m.url, target: "_blank", rel: "noopener" }, m.name)))
    );
  }

  function loading() {
    show(el("p", { class: "hint" }, "Loading\u2026"));
  }

  async function showBook(title, token) {
    loading();
    let book;
    try {
      book = await api("book", { title });
    } catch (error) {
      if (token === state.route) showError(error, bookHref);
      return;
    }
    if (token !== state.route) return;
    document.title = book.title + " \u00b7 wikirec";
    const similar = el("ol", { id: "similar", class: "results" });
    const least = el("ol", { id: "least", class: "results" });
    const pages = el("ol", { id: "pages", class: "results" });
    show(
      el(
        "article",
        { class: "book", "data-title": book.title },
        el("h1", { id: "book-title" }, book.title),
        bylineLine(book.byline),
        book.lead ? el("p", { class: "lead", id: "lead" }, book.lead) : null,
        el(
          "p",
          { class: "actions" },
          el("a", { id: "wikipedia-link", href: book.wikipedia, target: "_blank", rel: "noopener noreferrer" },
            "Wikipedia article"),
          el("a", { id: "map-link", href: mapHref(book.title) }, "Show on the map"),
          book.also_page ? el("a", { href: pageHref(book.title) }, "Books linking to it") : null,
          termButtons(book.title)
        ),
        fieldList(book.fields),
        el("section", {}, el("h2", {}, "Most similar"), whyLegend(), similar),
        el(
          "div",
          { class: "columns" },
          el("section", {}, el("h2", {}, "Pages closest to it"),
            el("p", { class: "legend" }, "The pages the model would link this book to, best first; common pages last."),
            pages),
          el("details", { id: "least-section" }, el("summary", {}, "Least similar books"), least)
        )
      )
    );
    const why = state.info && state.info.why ? [book.title] : null;
    fillBooks(similar, api("similar", { title: book.title, k: 10 }), why, token);
    fillBooks(least, api("least", { title: book.title, k: 10 }), null, token);
    fillPages(pages, api("links", { title: book.title, k: 10 }), token);
  }

  async function showPage(title, token) {
    loading();
    let page;
    try {
      page = await api("page", { title });
    } catch (error) {
      if (token === state.route) showError(error, pageHref);
      return;
    }
    if (token !== state.route) return;
    document.title = page.title + " \u00b7 wikirec";
    const linking = el("ol", { id: "about-linking", class: "results" });
    const near = el("ol", { id: "about-near", class: "results" });
    show(
      el(
        "article",
        { class: "page", "data-title": page.title },
        el("h1", { id: "page-title" }, page.title),
        el(
          "p",
          { class: "actions" },
          el("span", { class: "kind" }, "linked page"),
          el("a", { id: "wikipedia-link", href: page.url, target: "_blank", rel: "noopener noreferrer" },
            "On Wikipedia"),
          plotlyMapLink(page.title, "page", "map-link", "Show on the map"),
          page.also_book ? el("a", { href: bookHref(page.title) }, "As a book") : null
        ),
        el("section", {}, el("h2", {}, "Books that link to it, or it links to"), linking),
        el("section", {}, el("h2", {}, "Other books near it"), near)
      )
    );
    // One answer, the books most about the page, shown in two lists: those that meet
    // the page in the build, then those the model only puts near it.
    const answer = api("about", { page: page.title, k: 20 });
    const part = (meets) => answer.then((body) => ({ ...body, results: body.results.filter(meets) }));
    fillBooks(linking, part((r) => Boolean(r.meets)), null, token, "None of the nearest books meets it.");
    fillBooks(near, part((r) => !r.meets), null, token);
  }

  function showError(error, href) {
    const body = error.body || {};
    const suggestions = body.suggestions || [];
    show(
      el("p", { class: "error", id: "error" }, error.message),
      suggestions.length
        ? el("p", { class: "chips" }, "Did you mean: ", suggestions.map((t) => el("a", { href: href(t) }, t)))
        : null
    );
  }

  // The fields that say which book this is come first; image, caption, catalogue
  // numbers and the rest wait behind "All infobox fields".
  const IDENTIFYING = ["author", "authors", "editor", "published", "pub_date", "release_date",
    "genre", "series", "preceded_by", "followed_by", "publisher", "country", "language", "pages"];

  function fieldList(fields) {
    if (!fields.length) return el("p", { class: "hint" }, "No infobox fields (the model's build was not found).");
    const rows = (list) => list.map(([name, value]) => [el("dt", {}, name.replace(/_/g, " ")), el("dd", {}, value)]);
    const first = fields.filter(([name]) => IDENTIFYING.includes(name.toLowerCase()));
    return [
      first.length ? el("dl", { class: "infobox", id: "infobox" }, rows(first)) : null,
      el("details", { class: "all-fields", id: "all-fields" },
        el("summary", {}, "All infobox fields (" + fields.length + ")"),
        el("dl", { class: "infobox" }, rows(fields)))
    ];
  }

  // The interactive page `wikirec plot` wrote, in a new tab, starring ``title`` (none:
  // no page of that kind was drawn).
  function plotlyMapLink(title, kind, id, label) {
    const found = ((state.info && state.info.maps) || []).find((m) => m.kind === kind);
    if (!found) return null;
    const href = found.url + (title ? "#find=" + encodeURIComponent(title) : "");
    return el("a", { id, href, target: "_blank", rel: "noopener" }, label);
  }

  function whyLegend() {
    if (!state.info || !state.info.why) return null;
    return el(
      "p",
      { class: "legend" },
      "Why: what each book has in common with this one, strongest first: the pages both link to, ",
      el("span", { class: "why-link tag" }, "categories"),
      " both are in, and ",
      el("span", { class: "why-link hub" }, "common pages"),
      " (linked from many books, so they say little) last. An arrow marks another way of meeting a page: " +
        ARROW.in + " the page links to the book, " + ARROW.both + " both ways (two arrows: this book's, then the other's)."
    );
  }

  // ------------------------------------------------------------------ result lists

  async function fillBooks(list, answer, whyQuery, token, empty = "Nothing left to recommend.") {
    let results;
    try {
      results = (await answer).results;
    } catch (error) {
      list.replaceChildren(el("li", { class: "error" }, error.message));
      return;
    }
    if (token !== undefined && token !== state.route) return;
    list.replaceChildren(...results.map((r) => bookRow(r)));
    if (!results.length) list.append(el("li", { class: "hint" }, empty));
    if (whyQuery && whyQuery.length && results.length) addWhy(list, whyQuery, results);
  }

  function bookRow(result) {
    const by = result.byline || {};
    const byline = [by.author, by.year].filter(Boolean).join(", ");
    return el(
      "li",
      { class: "result", "data-title": result.title },
      el(
        "div",
        { class: "row" },
        el("a", { class: "title", href: bookHref(result.title) }, result.title),
        byline ? el("span", { class: "byline" }, byline) : null,
        similarity(result.score),
        termButtons(result.title)
      )
    );
  }

  // A byline under a book's title: author, year, genre, pages (those the infobox has).
  function bylineLine(byline) {
    const by = byline || {};
    const pages = by.pages ? by.pages.replace(/^(\d[\d,]*)\s*(pp?\.?|pages)?\s*$/, "$1 pages") : "";
    const parts = [by.author, by.year, by.genre, pages].filter(Boolean);
    return parts.length ? el("p", { class: "byline", id: "byline" }, parts.join(" \u00b7 ")) : null;
  }

  // A cosine as a reader reads it: a bar and a percentage; the value itself on hover.
  function similarity(score) {
    return el(
      "span",
      { class: "score", title: "cosine similarity " + score.toFixed(3), "data-score": score.toFixed(3) },
      el("meter", { min: "0", max: "1", value: String(Math.max(0, score)) }),
      " " + Math.round(score * 100) + "%"
    );
  }

  async function fillPages(list, answer, token) {
    let body;
    try {
      body = await answer;
    } catch (error) {
      list.replaceChildren(el("li", { class: "error" }, error.message));
      return;
    }
    if (token !== state.route) return;
    const what = body.measure === "score" ? "the model's score" : "cosine similarity";
    list.replaceChildren(
      ...body.results.map((r) =>
        el(
          "li",
          { class: "result" + (r.hub ? " hub" : ""), "data-title": r.title },
          el(
            "div",
            { class: "row" },
            el("a", { class: "title", href: pageHref(r.title) }, r.title),
            r.hub ? el("span", { class: "byline" }, "common page") : null,
            el("span", { class: "score", title: what }, r.score.toFixed(3))
          )
        )
      )
    );
  }

  async function addWhy(list, query, results) {
    let answer;
    try {
      answer = await api("why", { query, book: results.map((r) => r.title), k: 5 });
    } catch (error) {
      return; // the recommendations stand without their reasons
    }
    const rows = list.querySelectorAll("li.result");
    answer.results.forEach((explained, i) => {
      const row = rows[i];
      if (!row) return;
      const shared = explained.shared;
      row.append(
        el(
          "div",
          { class: "why" },
          "Why: ",
          shared.length
            ? shared.map((s) => whyLink(s, query))
            : el("span", { class: "hint" }, "no page in common (near by the learned vectors only)")
        )
      );
    });
  }

  // A shared page as a pill (a category as an outlined tag, without its "Category:"; a
  // hub faded); arrows only where a book does not simply link to the page.
  function whyLink(shared, query) {
    const who = query.length === 1 ? query[0] : "the liked books";
    const plain = shared.query === "out" && shared.book === "out";
    const arrows = shared.query === shared.book ? ARROW[shared.query] : ARROW[shared.query] + ARROW[shared.book];
    const kind = shared.category ? " tag" : shared.hub ? " hub" : "";
    return el(
      "a",
      {
        class: "why-link" + kind,
        href: pageHref(shared.page),
        "data-page": shared.page,
        title: who + " " + SIDE[shared.query] + "; this book " + SIDE[shared.book] +
          (shared.hub ? "; a page many books link to" : "") + " (weight " + shared.weight.toFixed(3) + ")",
      },
      shared.category ? shared.page.replace(/^[^:]*:/, "") : shared.page,
      plain ? null : el("span", { class: "arrows" }, arrows)
    );
  }

  // ------------------------------------------------------------------ the map

  // The books on the 2-D map `wikirec plot` cached, drawn on a canvas: coloured by
  // genre group; a book of #/map/<title> and its nearest books (in the full embedding)
  // ringed and labelled, the others dimmed. Wheel zooms, drag pans, a click opens a book.
  const MAP = {
    neighbours: 10,
    dimmed: 0.22, // opacity of the points not highlighted
    hitPx: 7, // a click or hover this close to a point is on it
    maxZoom: 40, // times the whole map's scale
    highlightZoom: 8, // at most, when zooming to a book and its neighbours
    padPx: 24,
    labelChars: 40,
    font: "12px system-ui, -apple-system, 'Segoe UI', Roboto, 'DejaVu Sans', sans-serif",
  };

  // The points are asked for once per page load; a missing map is asked for again, as
  // `wikirec plot` may have made it since.
  let mapAnswer = null;

  function mapData() {
    if (!mapAnswer) {
      mapAnswer = api("map").catch((error) => {
        mapAnswer = null;
        throw error;
      });
    }
    return mapAnswer;
  }

  async function showMap(title, token) {
    loading();
    const [points, near] = await Promise.allSettled([
      mapData(),
      title === null ? Promise.resolve(null) : api("similar", { title, k: MAP.neighbours }),
    ]);
    if (token !== state.route) return;
    if (points.status === "rejected") return showMapMissing(points.reason, title);
    const data = points.value;
    const answer = near.status === "fulfilled" ? near.value : null;
    const highlight = mapHighlight(data, answer);
    document.title = (answer ? answer.query.title + " on the map" : "Map") + " \u00b7 wikirec";
    const canvas = el("canvas", { id: "map-canvas", role: "img", "aria-label": mapDescription(data, answer) });
    const tooltip = el("div", { id: "map-tooltip", class: "map-tooltip", hidden: true });
    const reset = el("button", { type: "button", id: "map-reset" }, "Reset the view");
    show(
      el("h1", {}, answer ? answer.query.title + " on the map" : "Map of the books"),
      el("p", { class: "hint", id: "map-about" }, data.count.toLocaleString("en") + " books, " +
        data.about + ". Wheel to zoom, drag to pan, click a point to open its book."),
      el("p", { class: "actions" },
        answer && answer.query.kind === "book" ? el("a", { href: bookHref(answer.query.title) }, "Back to the book") : null,
        reset,
        plotlyMapLink(answer ? answer.query.title : "", "book", "map-page-link", "Full interactive map (new tab)")),
      near.status === "rejected" ? mapTitleError(near.reason) : null,
      mapLegend(data),
      el("div", { class: "map-frame", id: "map-frame" }, canvas, tooltip),
      answer ? mapHighlightList(answer, highlight) : null
    );
    const map = { data, canvas, tooltip, highlight, view: null, home: null, order: mapDrawOrder(data), frame: 0, draws: 0 };
    state.map = map;
    sizeMapCanvas(map);
    map.home = homeView(map);
    map.view = { ...map.home };
    drawMap(map);
    listenToMap(map);
    reset.addEventListener("click", () => {
      map.view = { ...map.home };
      drawMap(map);
    });
  }

  // No map yet (or no answer): the server's one line says how to make one.
  function showMapMissing(error, title) {
    document.title = "Map \u00b7 wikirec";
    show(
      el("h1", {}, "Map of the books"),
      el("p", { id: "map-missing", class: error.status === 404 ? "notice" : "error" }, error.message),
      plotlyMapLink(title, "book", "map-page-link", "The interactive map wikirec plot wrote (new tab)")
    );
  }

  function mapTitleError(error) {
    const suggestions = (error.body && error.body.suggestions) || [];
    return [
      el("p", { class: "error", id: "error" }, error.message),
      suggestions.length
        ? el("p", { class: "chips" }, "Did you mean: ", suggestions.map((t) => el("a", { href: mapHref(t) }, t)))
        : null,
    ];
  }

  // Which points stand out: the title asked for (-1 when it is a page, not on the
  // book map) and its nearest books, by their index in the map's arrays.
  function mapHighlight(data, answer) {
    if (!answer) return null;
    const index = new Map(data.titles.map((t, i) => [t, i]));
    const at = (title) => (index.has(title) ? index.get(title) : -1);
    return {
      current: answer.query.kind === "book" ? at(answer.query.title) : -1,
      neighbours: answer.results.map((r) => at(r.title)).filter((i) => i >= 0),
    };
  }

  function mapDescription(data, answer) {
    const what = data.count.toLocaleString("en") + " books on a " + data.method_name + " map";
    return answer ? what + ", " + answer.query.title + " and its nearest books highlighted (listed below)" : what;
  }

  function mapLegend(data) {
    if (!data.field) {
      return el("p", { class: "hint", id: "map-legend" }, "One colour: no book has a genre (or the model's build was not found).");
    }
    const item = (name, count, colour) => {
      const swatch = el("span", { class: "swatch" });
      swatch.style.backgroundColor = colour; // CSSOM: the page's policy forbids style attributes only
      return el("li", { "data-name": name }, swatch, name + " (" + count.toLocaleString("en") + ")");
    };
    return el(
      "ul",
      { class: "map-legend", id: "map-legend", "aria-label": "Genre groups" },
      data.groups.map((g) => item(g.name, g.count, g.colour)),
      data.other ? el("li", { "data-name": "other" }, el("span", { class: "swatch other" }),
        "other or no genre (" + data.other.toLocaleString("en") + ")") : null
    );
  }

  // The highlighted books as a list: readable without the picture, and links to them.
  function mapHighlightList(answer, highlight) {
    const query = answer.query;
    const head = query.kind === "book"
      ? [el("a", { href: bookHref(query.title) }, query.title), " (the star) and its " +
          answer.results.length + " nearest books"]
      : [answer.results.length + " books nearest to the page ", el("a", { href: pageHref(query.title) }, query.title)];
    return el(
      "section",
      { id: "map-highlighted", "data-title": query.title, "data-current": String(highlight.current) },
      el("h2", {}, "Highlighted"),
      el("p", { class: "legend" }, head, ", ringed. They are the nearest in the model's " +
        (state.info ? state.info.dim + "-dimensional " : "") + "space: the 2-D map need not keep them near."),
      el("ol", { class: "results", id: "map-neighbours" }, answer.results.map((r) =>
        el("li", { class: "result", "data-title": r.title },
          el("div", { class: "row" }, el("a", { class: "title", href: bookHref(r.title) }, r.title), similarity(r.score)))))
    );
  }

  // Indices to draw, back to front: "other" first, then the groups, largest first, so
  // that the small ones stay visible.
  function mapDrawOrder(data) {
    const byGroup = new Map();
    data.group.forEach((g, i) => {
      if (!byGroup.has(g)) byGroup.set(g, []);
      byGroup.get(g).push(i);
    });
    const size = (g) => byGroup.get(g).length;
    const groups = [...byGroup.keys()].sort((a, b) => (b < 0) - (a < 0) || size(b) - size(a));
    return groups.map((g) => ({ group: g, indices: byGroup.get(g) }));
  }

  function sizeMapCanvas(map) {
    const width = Math.max(200, map.canvas.parentElement.clientWidth);
    const height = Math.round(Math.max(340, Math.min(600, width * 0.7, window.innerHeight - 280)));
    const ratio = window.devicePixelRatio || 1;
    map.width = width;
    map.height = height;
    map.canvas.width = Math.round(width * ratio);
    map.canvas.height = Math.round(height * ratio);
    map.canvas.style.width = width + "px";
    map.canvas.style.height = height + "px";
  }

  // A view maps the data to CSS pixels: x_px = view.x + view.scale * x, and
  // y_px = view.y - view.scale * y (up is up). It fits a box [x0, y0, x1, y1].
  function fitBox(map, box, pad) {
    const [x0, y0, x1, y1] = box;
    const scale = Math.min((map.width - 2 * pad) / Math.max(x1 - x0, 1e-9), (map.height - 2 * pad) / Math.max(y1 - y0, 1e-9));
    return centred(map, box, scale);
  }

  function centred(map, [x0, y0, x1, y1], scale) {
    return { scale, x: map.width / 2 - (scale * (x0 + x1)) / 2, y: map.height / 2 + (scale * (y0 + y1)) / 2 };
  }

  function boxOf(map, indices) {
    const xs = indices.map((i) => map.data.x[i]), ys = indices.map((i) => map.data.y[i]);
    return [Math.min(...xs), Math.min(...ys), Math.max(...xs), Math.max(...ys)];
  }

  // The box of all but the outermost 1% on each side, grown by a twentieth: a few outliers
  // would shrink the rest of the map into a corner (zoom out to see them).
  function mainBox(map) {
    const within = (values) => {
      const sorted = Float64Array.from(values).sort();
      const lo = sorted[Math.floor(0.01 * (sorted.length - 1))], hi = sorted[Math.ceil(0.99 * (sorted.length - 1))];
      const grow = (hi - lo) * 0.05;
      return [lo - grow, hi + grow];
    };
    const [x0, x1] = within(map.data.x), [y0, y1] = within(map.data.y);
    return [x0, y0, x1, y1];
  }

  // The whole map; with a highlight, zoomed to it (never past MAP.highlightZoom).
  function homeView(map) {
    const whole = fitBox(map, mainBox(map), MAP.padPx);
    map.wholeScale = whole.scale;
    const h = map.highlight;
    const shown = h ? [h.current, ...h.neighbours].filter((i) => i >= 0) : [];
    if (shown.length < 2) return whole;
    const box = boxOf(map, shown);
    const near = fitBox(map, box, 4 * MAP.padPx);
    return centred(map, box, Math.min(Math.max(near.scale, whole.scale), whole.scale * MAP.highlightZoom));
  }

  const toScreen = (view, data, i) => [view.x + view.scale * data.x[i], view.y - view.scale * data.y[i]];

  function pointRadius(map) {
    const base = Math.min(4, Math.max(1.5, 110 / Math.sqrt(map.data.count)));
    return base * Math.min(2, Math.sqrt(map.view.scale / map.wholeScale));
  }

  function mapColours() {
    const style = getComputedStyle(document.documentElement);
    const read = (name) => style.getPropertyValue(name).trim();
    return { paper: read("--surface"), ink: read("--ink"), muted: read("--muted"), other: read("--map-other"),
      current: read("--map-current") };
  }

  function drawMap(map) {
    const { canvas, data, view, highlight } = map;
    const ctx = canvas.getContext("2d");
    const colours = mapColours();
    const ratio = canvas.width / map.width;
    ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
    ctx.globalAlpha = 1;
    ctx.fillStyle = colours.paper;
    ctx.fillRect(0, 0, map.width, map.height);
    const r = pointRadius(map);
    ctx.globalAlpha = highlight ? MAP.dimmed : 1;
    for (const { group, indices } of map.order) {
      ctx.fillStyle = group < 0 ? colours.other : data.groups[group].colour;
      fillDots(ctx, view, data, indices, r, map);
    }
    ctx.globalAlpha = 1;
    const labels = highlight ? drawHighlight(ctx, map, colours, r) : [];
    canvas.setAttribute("data-transform", JSON.stringify(view));
    canvas.setAttribute("data-labels", JSON.stringify(labels));
    canvas.setAttribute("data-drawn", "true");
    map.draws += 1; // for the tests: how many times the map was drawn
    canvas.setAttribute("data-draws", String(map.draws));
  }

  // One path a colour: a few thousand arcs are one fill, not a few thousand.
  function fillDots(ctx, view, data, indices, r, map) {
    ctx.beginPath();
    for (const i of indices) {
      const [sx, sy] = toScreen(view, data, i);
      if (sx < -r || sy < -r || sx > map.width + r || sy > map.height + r) continue;
      ctx.moveTo(sx + r, sy);
      ctx.arc(sx, sy, r, 0, 2 * Math.PI);
    }
    ctx.fill();
  }

  // Lines from the book to its neighbours, rings around them, labels that do not
  // overlap; returns the labels placed, [index, x0, y0, x1, y1] in CSS pixels.
  function drawHighlight(ctx, map, colours, r) {
    const { data, view, highlight } = map;
    const { current, neighbours } = highlight;
    const at = (i) => toScreen(view, data, i);
    ctx.strokeStyle = colours.muted;
    ctx.lineWidth = 1;
    ctx.setLineDash([4, 3]);
    if (current >= 0) {
      const [cx, cy] = at(current);
      ctx.beginPath();
      for (const i of neighbours) {
        ctx.moveTo(cx, cy);
        ctx.lineTo(...at(i));
      }
      ctx.stroke();
    }
    ctx.setLineDash([]);
    for (const i of neighbours) {
      const [sx, sy] = at(i);
      ctx.fillStyle = data.group[i] < 0 ? colours.other : data.groups[data.group[i]].colour;
      dot(ctx, sx, sy, r + 1.5);
      ring(ctx, sx, sy, r + 4.5, colours.ink, 1.5);
    }
    if (current >= 0) star(ctx, ...at(current), r + 8, colours);
    const shown = (current >= 0 ? [current] : []).concat(neighbours);
    const texts = shown.map((i, n) => (i === current ? "" : n + (current >= 0 ? 0 : 1) + ". ") + shortTitle(data.titles[i]));
    return placeLabels(ctx, map, shown, texts, colours, r + 7);
  }

  function dot(ctx, x, y, radius) {
    ctx.beginPath();
    ctx.arc(x, y, radius, 0, 2 * Math.PI);
    ctx.fill();
  }

  // The book asked for is starred, as `wikirec plot` stars the books it is asked for.
  function star(ctx, x, y, radius, colours) {
    ctx.beginPath();
    for (let k = 0; k < 10; k++) {
      const angle = -Math.PI / 2 + (k * Math.PI) / 5;
      const reach = k % 2 ? radius * 0.45 : radius;
      ctx.lineTo(x + reach * Math.cos(angle), y + reach * Math.sin(angle));
    }
    ctx.closePath();
    ctx.fillStyle = colours.current;
    ctx.fill();
    ctx.strokeStyle = colours.ink;
    ctx.lineWidth = 1.2;
    ctx.stroke();
  }

  function ring(ctx, x, y, radius, colour, width) {
    ctx.beginPath();
    ctx.arc(x, y, radius, 0, 2 * Math.PI);
    ctx.strokeStyle = colour;
    ctx.lineWidth = width;
    ctx.stroke();
  }

  const shortTitle = (title) => (title.length <= MAP.labelChars ? title : title.slice(0, MAP.labelChars - 1).trimEnd() + "\u2026");

  // Greedy, in order (the book first): each label takes the first place around its
  // point, near ones first, then further out with a leader line, whose box meets no
  // label placed before and no highlighted point, inside the canvas; one with no
  // such place is left out (the list below the map names every highlighted book).
  function placeLabels(ctx, map, indices, texts, colours, clearance) {
    const height = 14;
    const points = indices.map((i) => toScreen(map.view, map.data, i));
    const dots = points.map(([x, y]) => [x - clearance, y - clearance, x + clearance, y + clearance]);
    const placed = [];
    const overlaps = (a, b) => a[0] < b[2] && b[0] < a[2] && a[1] < b[3] && b[1] < a[3];
    indices.forEach((index, n) => {
      const [x, y] = points[n];
      const bold = index === map.highlight.current;
      ctx.font = (bold ? "bold " : "") + MAP.font;
      const width = ctx.measureText(texts[n]).width;
      for (const [dx, dy, far] of labelOffsets(clearance, height)) {
        const left = dx >= 0 ? x + dx : x + dx - width;
        const box = [left, y + dy - height / 2, left + width, y + dy + height / 2];
        const inside = box[0] >= 2 && box[1] >= 2 && box[2] <= map.width - 2 && box[3] <= map.height - 2;
        if (!inside || placed.some((p) => overlaps(box, p.box)) || dots.some((d, m) => m !== n && overlaps(box, d))) continue;
        if (far) leader(ctx, x, y, dx >= 0 ? box[0] : box[2], (box[1] + box[3]) / 2, colours.muted);
        label(ctx, texts[n], box, colours);
        placed.push({ index, box });
        break;
      }
    });
    return placed.map((p) => [p.index, ...p.box.map((v) => Math.round(v * 10) / 10)]);
  }

  // Label places around a point: right, left, above and below it, then stacked further out.
  function labelOffsets(clearance, height) {
    const near = [[clearance * 0.7, -clearance * 0.7], [clearance * 0.7, clearance * 0.7],
      [-clearance * 0.7, -clearance * 0.7], [-clearance * 0.7, clearance * 0.7]].map(([dx, dy]) => [dx, dy, false]);
    const far = [];
    for (let level = 1; level <= 10; level++) {
      for (const side of [1, -1]) {
        for (const up of [-1, 1]) far.push([side * (clearance + 12), up * level * (height + 2), true]);
      }
    }
    return near.concat(far);
  }

  function leader(ctx, x, y, tx, ty, colour) {
    ctx.beginPath();
    ctx.moveTo(x, y);
    ctx.lineTo(tx, ty);
    ctx.strokeStyle = colour;
    ctx.lineWidth = 0.8;
    ctx.stroke();
  }

  // Text with a halo of the background's colour, readable over the points.
  function label(ctx, text, box, colours) {
    ctx.textBaseline = "middle";
    ctx.textAlign = "left";
    const y = (box[1] + box[3]) / 2;
    ctx.lineJoin = "round";
    ctx.lineWidth = 3;
    ctx.strokeStyle = colours.paper;
    ctx.strokeText(text, box[0], y);
    ctx.fillStyle = colours.ink;
    ctx.fillText(text, box[0], y);
  }

  // The point under the pointer: a highlighted one first, else the nearest; -1 if none
  // is within MAP.hitPx (or the dot's radius, when larger).
  function pointAt(map, px, py) {
    const reach = Math.max(MAP.hitPx, pointRadius(map) + 2);
    const h = map.highlight;
    const near = (i) => {
      const [sx, sy] = toScreen(map.view, map.data, i);
      return (sx - px) ** 2 + (sy - py) ** 2;
    };
    if (h) {
      const first = [h.current, ...h.neighbours].filter((i) => i >= 0 && near(i) <= (reach + 5) ** 2);
      if (first.length) return first.reduce((a, b) => (near(a) <= near(b) ? a : b));
    }
    let best = -1, bestDistance = reach * reach;
    for (let i = 0; i < map.data.count; i++) {
      const d = near(i);
      if (d <= bestDistance) {
        best = i;
        bestDistance = d;
      }
    }
    return best;
  }

  function showTooltip(map, index, px, py) {
    const tip = map.tooltip;
    if (index < 0) {
      tip.hidden = true;
      map.canvas.style.cursor = "";
      return;
    }
    const g = map.data.group[index];
    tip.replaceChildren(el("strong", {}, map.data.titles[index]),
      el("span", { class: "hint" }, g < 0 ? "other or no genre" : map.data.groups[g].name));
    tip.setAttribute("data-title", map.data.titles[index]);
    tip.hidden = false;
    tip.style.left = Math.min(px + 12, map.width - tip.offsetWidth - 4) + "px";
    tip.style.top = (py + 14 + tip.offsetHeight > map.height ? py - tip.offsetHeight - 10 : py + 14) + "px";
    map.canvas.style.cursor = "pointer";
  }

  // Wheel and drag events can come several a frame, and each drawing repaints every
  // point, tens of thousands on a full run: the events only change the view, and the
  // latest view is drawn once, at the next frame.
  function scheduleDraw(map) {
    if (map.frame) return;
    map.frame = requestAnimationFrame(() => {
      map.frame = 0;
      if (map.canvas.isConnected) drawMap(map); // not a map the reader has left
    });
  }

  // Wheel zooms about the pointer; a drag pans; a press and release in place is a
  // click, which opens the book under it.
  function listenToMap(map) {
    const canvas = map.canvas;
    let press = null;
    const local = (event) => {
      const box = canvas.getBoundingClientRect();
      return [event.clientX - box.left, event.clientY - box.top];
    };
    canvas.addEventListener("wheel", (event) => {
      event.preventDefault();
      const [px, py] = local(event);
      const v = map.view;
      const scale = Math.min(map.wholeScale * MAP.maxZoom, Math.max(map.wholeScale / 2, v.scale * Math.exp(-event.deltaY * 0.0015)));
      const f = scale / v.scale;
      map.view = { scale, x: px - (px - v.x) * f, y: py - (py - v.y) * f };
      scheduleDraw(map);
    }, { passive: false });
    canvas.addEventListener("pointerdown", (event) => {
      const [px, py] = local(event);
      press = { px, py, view: map.view, moved: false };
      canvas.setPointerCapture(event.pointerId);
    });
    canvas.addEventListener("pointermove", (event) => {
      const [px, py] = local(event);
      if (press) {
        const dx = px - press.px, dy = py - press.py;
        press.moved = press.moved || dx * dx + dy * dy > 16;
        if (press.moved) {
          map.view = { ...press.view, x: press.view.x + dx, y: press.view.y + dy };
          map.tooltip.hidden = true;
          scheduleDraw(map);
        }
        return;
      }
      showTooltip(map, pointAt(map, px, py), px, py);
    });
    canvas.addEventListener("pointerup", (event) => {
      const clicked = press && !press.moved;
      press = null;
      if (!clicked) return;
      const index = pointAt(map, ...local(event));
      if (index >= 0) location.hash = bookHref(map.data.titles[index]);
    });
    canvas.addEventListener("pointerleave", () => showTooltip(map, -1, 0, 0));
  }

  // The map shown follows the window's size and the reader's light or dark mode.
  function redrawMap() {
    const map = state.map;
    if (!map || !map.canvas.isConnected) return;
    sizeMapCanvas(map);
    map.home = homeView(map);
    map.view = { ...map.home };
    drawMap(map);
  }

  // ------------------------------------------------------------------ liked list

  // A book's two buttons: "like" adds it to the list, "push away" subtracts it; a
  // pressed button undoes itself.
  function termButtons(title) {
    const button = (kind, where, label, hint) =>
      el("button", { type: "button", class: kind, "data-title": title, title: hint,
        "aria-pressed": String(state[where].includes(title)),
        on: { click: () => setTerm(title, state[where].includes(title) ? null : where) } }, label);
    return el(
      "span",
      { class: "term-buttons" },
      button("like", "liked", "like", "add to the books I liked"),
      button("push", "minus", "push away", "push this book away from the list's recommendations")
    );
  }

  function setTerm(title, where) {
    state.liked = state.liked.filter((t) => t !== title);
    state.minus = state.minus.filter((t) => t !== title);
    if (where) state[where].push(title);
    saveTerms();
    renderLiked();
  }

  function pressButtons() {
    document.querySelectorAll("button.like, button.push").forEach((button) => {
      const where = button.classList.contains("like") ? state.liked : state.minus;
      button.setAttribute("aria-pressed", String(where.includes(button.getAttribute("data-title"))));
    });
  }

  function loadTerms() {
    try {
      const saved = JSON.parse(localStorage.getItem(state.storageKey) || "{}");
      state.liked = Array.isArray(saved.liked) ? saved.liked.filter((t) => typeof t === "string") : [];
      state.minus = Array.isArray(saved.minus) ? saved.minus.filter((t) => typeof t === "string") : [];
    } catch (error) {
      state.liked = [];
      state.minus = [];
    }
  }

  function saveTerms() {
    try {
      localStorage.setItem(state.storageKey, JSON.stringify({ liked: state.liked, minus: state.minus }));
    } catch (error) {
      // no storage (private mode): the list lasts as long as the page
    }
  }

  function termItem(title) {
    return el(
      "li",
      { "data-title": title },
      el("a", { class: "title", href: bookHref(title) }, title),
      el("button", { type: "button", class: "remove", "aria-label": "remove " + title,
        on: { click: () => setTerm(title, null) } }, "\u00d7")
    );
  }

  let likedSeq = 0;

  async function renderLiked() {
    pressButtons();
    const any = state.liked.length + state.minus.length > 0;
    $("liked-list").replaceChildren(...state.liked.map(termItem));
    $("minus-list").replaceChildren(...state.minus.map(termItem));
    $("liked-empty").hidden = any;
    $("minus-heading").hidden = !state.minus.length;
    $("liked-clear").hidden = !any;
    $("liked-section").hidden = !any;
    const results = $("liked-results");
    const error = $("liked-error");
    error.hidden = true;
    if (!any) return results.replaceChildren();
    const seq = ++likedSeq;
    const liked = state.liked.slice();
    let answer;
    try {
      answer = await api("liked", { liked, minus: state.minus, k: 10 });
    } catch (failure) {
      if (seq !== likedSeq) return;
      error.textContent = failure.message;
      error.hidden = false;
      return results.replaceChildren();
    }
    if (seq !== likedSeq) return;
    results.replaceChildren(...answer.results.map((r) => bookRow(r)));
    if (state.info && state.info.why && liked.length && answer.results.length) {
      addWhy(results, liked, answer.results);
    }
  }

  // ------------------------------------------------------------------ start

  async function start() {
    setupSearch();
    $("liked-clear").addEventListener("click", () => {
      state.liked = [];
      state.minus = [];
      saveTerms();
      renderLiked();
    });
    window.addEventListener("hashchange", route);
    window.addEventListener("resize", redrawMap);
    window.matchMedia("(prefers-color-scheme: dark)").addEventListener("change", () => state.map && drawMap(state.map));
    try {
      state.info = await api("info");
      const info = state.info;
      $("model-info").textContent =
        info.model + " \u00b7 " + info.books.toLocaleString("en") + " books \u00b7 " +
        info.pages.toLocaleString("en") + " pages";
      state.storageKey = "wikirec:liked:" + info.model + ":" + info.books + ":" + info.pages;
    } catch (error) {
      $("model-info").textContent = "the server does not answer: " + error.message;
    }
    loadTerms();
    renderLiked();
    route();
    document.body.setAttribute("data-ready", "true");
  }

  start();
})();
