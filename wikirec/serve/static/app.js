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
  const state = { info: null, liked: [], minus: [], storageKey: "wikirec:liked", route: 0 };
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
    const match = /^#\/(book|page)\/(.+)$/.exec(location.hash);
    let title = null;
    if (match) {
      try {
        title = decodeURIComponent(match[2]);
      } catch (error) {
        title = null;
      }
    }
    window.scrollTo(0, 0);
    if (title === null) return showHome();
    return match[1] === "book" ? showBook(title, token) : showPage(title, token);
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
      info.maps.length
        ? el(
            "p",
            { class: "chips" },
            "Maps: ",
            info.maps.map((m) => el("a", { href: m.url, target: "_blank", rel: "noopener" }, m.name))
          )
        : null
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
          mapLink(book.title, "book"),
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
          mapLink(page.title, "page"),
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

  function mapLink(title, kind) {
    const found = ((state.info && state.info.maps) || []).find((m) => m.kind === kind);
    if (!found) return null;
    return el("a", { id: "map-link", href: found.url + "#find=" + encodeURIComponent(title), target: "_blank",
      rel: "noopener" }, "Show on the map");
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
