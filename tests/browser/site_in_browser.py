#!/usr/bin/env python
"""Real-browser test of the course's website and slide decks (`make browser-test-site`, run by .ci/run).

Serves the built site (``make site``: build/book*/_build/html) and the decks it links to (its ``slides/``; without a
site, ``make slides``' build/slides) on
127.0.0.1, and drives Debian's Chromium with Playwright, every request to another host aborted (a lecture hall
without network):
- the site at 1280 x 800: the landing page, the data page and three notebook pages; fails on a console error, a
  request that left localhost, a broken internal link or image, a notebook page without figures, a horizontal
  scroll bar;
- three decks at 1280 x 720: every slide visited; fails where content passes the slide's bottom or right edge,
  where MathJax or reveal.js did not load, or on a console error.
Screenshots go to build/browser-test/site/ and build/browser-test/slides/. Exit code 0 only if every check passed.

    python tests/browser/site_in_browser.py [--site DIR] [--slides DIR] [--decks 01 05 09]
"""
from __future__ import annotations

import argparse
import functools
import http.server
import sys
import threading
import time
import urllib.parse
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from common import CHROMIUM, FAILURES, OUT, PASSED, ROOT, expect, log  # noqa: E402


class Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def serve(folder: Path):
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(folder)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


class Watch:
    """Console errors, failed requests, and requests to other hosts (aborted) of a page."""

    def __init__(self, page):
        self.errors, self.outside, self.failed = [], [], []
        page.on("console", lambda m: m.type == "error" and self.errors.append(m.text))
        page.on("pageerror", lambda e: self.errors.append(str(e)))
        page.on("requestfailed", lambda r: r.url.startswith("http://127.0.0.1") and self.failed.append(r.url))
        page.on("response", lambda r: r.status >= 400 and self.failed.append(f"{r.status} {r.url}"))

        def route(r):
            host = urllib.parse.urlparse(r.request.url).hostname
            if r.request.url.startswith(("data:", "blob:")) or host in ("127.0.0.1", "localhost"):
                return r.continue_()
            self.outside.append(r.request.url)
            return r.abort()

        page.route("**/*", route)

    def clear(self):
        self.errors.clear(), self.outside.clear(), self.failed.clear()


# ---- the site ---------------------------------------------------------------------------------------
def check_site(browser, html: Path) -> None:
    server, base = serve(html)
    shots = OUT / "site"
    shots.mkdir(parents=True, exist_ok=True)
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    watch = Watch(page)
    pages = ["intro.html", "data.html"] + sorted(
        p.relative_to(html).as_posix() for p in (html / "student").glob("*.html"))
    notebooks = [p for p in pages if p.startswith("student/")]
    chosen = pages[:2] + [notebooks[i] for i in sorted({0, len(notebooks) // 2, len(notebooks) - 1})
                          if i < len(notebooks)]
    for rel in chosen:
        watch.clear()
        t0 = time.time()
        page.goto(f"{base}/{rel}", wait_until="networkidle")
        page.wait_for_timeout(500)
        name = Path(rel).stem
        page.screenshot(path=str(shots / f"{name}.png"))
        page.screenshot(path=str(shots / f"{name}_full.png"), full_page=True)
        expect(not watch.errors, f"site {rel}: no console error" + (f" ({watch.errors[:2]})" if watch.errors else ""))
        expect(not watch.outside, f"site {rel}: nothing loaded from another host"
               + (f" ({watch.outside[:3]})" if watch.outside else ""))
        expect(not watch.failed, f"site {rel}: every request answered" + (f" ({watch.failed[:3]})" if watch.failed else ""))
        sw, cw = page.evaluate("[document.documentElement.scrollWidth, document.documentElement.clientWidth]")
        expect(sw <= cw, f"site {rel}: no horizontal scroll bar at 1280 px (content {sw} px, window {cw} px)")
        broken = page.evaluate("""Array.from(document.images).filter(i => !(i.complete && i.naturalWidth > 0))
                                  .map(i => i.src.slice(0, 80))""")
        expect(not broken, f"site {rel}: every image loads" + (f" ({broken[:3]})" if broken else ""))
        links = page.evaluate("""Array.from(document.querySelectorAll('a[href]')).map(a => a.href)
                                 .filter(h => h.startsWith(location.origin))""")
        missing = sorted({h for h in links if not (html / urllib.parse.unquote(
            urllib.parse.urlparse(h).path.lstrip("/"))).exists()})
        expect(not missing, f"site {rel}: {len(set(links))} internal links, none broken"
               + (f" ({missing[:3]})" if missing else ""))
        if rel.startswith("student/"):
            figures = page.evaluate("document.querySelectorAll('.cell_output img').length")
            expect(figures > 0, f"site {rel}: {figures} figures in the outputs")
            launch = page.evaluate("""Array.from(document.querySelectorAll('a')).map(a => a.href)
                                      .filter(h => h.includes('colab.research.google.com') || h.includes('mybinder.org'))""")
            expect(any("colab" in h and "/notebooks/student/" in h for h in launch)
                   and any("mybinder" in h for h in launch), f"site {rel}: launch buttons for Binder and Colab")
            download = page.evaluate("document.querySelectorAll('a[href$=\".ipynb\"]').length")
            expect(download > 0, f"site {rel}: a download of the notebook")
        if rel == "intro.html":
            search = page.evaluate("!!document.querySelector('form[action$=\"search.html\"], .search-button')")
            expect(search, "site intro.html: a search")
        log(f"  {rel}: {time.time() - t0:.1f} s")
    watch.clear()
    page.goto(f"{base}/search.html?q=perceptron", wait_until="networkidle")
    page.wait_for_timeout(1500)
    hits = page.evaluate("document.querySelectorAll('#search-results li, ul.search li').length")
    expect(hits > 0, f"site search for 'perceptron': {hits} results")
    page.screenshot(path=str(shots / "search.png"))
    page.close()
    server.shutdown()


# ---- the decks --------------------------------------------------------------------------------------
MEASURE = """() => {
  const s = Reveal.getCurrentSlide(), box = document.querySelector('.reveal .slides').getBoundingClientRect();
  const scale = Reveal.getScale();
  let bottom = 0, right = 0;
  for (const el of s.querySelectorAll('*')) {
    const st = getComputedStyle(el);
    if (st.display === 'none' || st.visibility === 'hidden' && !el.closest('.fragment')) continue;
    // MathJax's hidden copies (the preview it replaces, the MathML for screen readers) are clipped, never seen
    if (el.closest('.MathJax_Preview, .MJX_Assistive_MathML, script')) continue;
    const r = el.getBoundingClientRect();
    if (r.width === 0 && r.height === 0) continue;
    bottom = Math.max(bottom, (r.bottom - box.top) / scale);
    right = Math.max(right, (r.right - box.left) / scale);
  }
  const wide = Array.from(s.querySelectorAll('pre, .jp-OutputArea-output, table'))
                    .filter(e => e.scrollWidth > e.clientWidth + 2).length;
  const shrunk = s.style.transform || '';
  return {bottom, right, wide, shrunk, h: Reveal.getIndices().h, v: Reveal.getIndices().v || 0};
}"""


def check_deck(browser, base: str, name: str, width=1280, height=720) -> None:
    page = browser.new_page(viewport={"width": width, "height": height})
    watch = Watch(page)
    t0 = time.time()
    page.goto(f"{base}/{name}.slides.html", wait_until="load")
    try:
        page.wait_for_function("window.Reveal && Reveal.isReady()", timeout=30_000)
    except Exception:
        expect(False, f"deck {name}: reveal.js started" + (f" ({watch.errors[:2]})" if watch.errors else ""))
        page.close()
        return
    page.wait_for_function("window.MathJax && MathJax.Hub && MathJax.Hub.queue.pending === 0", timeout=30_000)
    total = page.evaluate("Reveal.getTotalSlides()")
    over, shrunk, saved = [], [], set()
    shots = OUT / "slides"
    shots.mkdir(parents=True, exist_ok=True)
    for i, ix in enumerate(page.evaluate("Reveal.getSlides().map(s => Reveal.getIndices(s))")):
        page.evaluate(f"Reveal.slide({ix['h']}, {ix.get('v') or 0})")
        page.wait_for_function("MathJax.Hub.queue.pending === 0 && !MathJax.Hub.queue.running", timeout=20_000)
        page.wait_for_timeout(50)
        m = page.evaluate(MEASURE)
        where = f"{m['h']}.{m['v']}"
        if m["bottom"] > height + 1 or m["right"] > width + 1 or m["wide"]:
            over.append(f"slide {where}: bottom {m['bottom']:.0f}, right {m['right']:.0f}, wide {m['wide']}")
            page.screenshot(path=str(shots / f"{name}_overflow_{where}.png"))
        if m["shrunk"]:
            shrunk.append(where)
        for kind, selector in (("title", "h1"), ("figure", ".jp-OutputArea-output img"), ("formula", ".MathJax_CHTML")):
            if kind not in saved and page.evaluate(f"!!Reveal.getCurrentSlide().querySelector('{selector}')"):
                saved.add(kind)
                page.screenshot(path=str(shots / f"{name}_{kind}_{where}.png"))
    math = page.evaluate("document.querySelectorAll('.MathJax_CHTML, mjx-container').length")
    expect(math > 0 or name.startswith("0X"), f"deck {name}: MathJax rendered {math} formulas")
    expect(not over, f"deck {name}: {total} slides, none passes 1280 x 720" + (f" ({len(over)}: {over[:6]})" if over else ""))
    expect(not watch.outside, f"deck {name}: nothing loaded from another host" + (f" ({watch.outside[:3]})" if watch.outside else ""))
    expect(not watch.errors, f"deck {name}: no console error" + (f" ({watch.errors[:2]})" if watch.errors else ""))
    expect(not watch.failed, f"deck {name}: every file found" + (f" ({watch.failed[:3]})" if watch.failed else ""))
    log(f"  {name}: {total} slides in {time.time() - t0:.1f} s; shrunk to fit: {len(shrunk)} {shrunk[:8]}")
    page.close()


def main(argv=None) -> int:
    from playwright.sync_api import sync_playwright

    ap = argparse.ArgumentParser()
    ap.add_argument("--site", type=Path, help="the site's HTML folder (default: build/book-fast, then build/book)")
    ap.add_argument("--slides", type=Path, help="the decks' folder (default: the site's slides/, which its landing "
                                                  "page links to; without a site, make slides' build/slides)")
    ap.add_argument("--decks", nargs="*", default=["01", "05", "09"], help="decks to step through (number prefixes)")
    ap.add_argument("--no-site", action="store_true")
    args = ap.parse_args(argv)
    if not Path(CHROMIUM).exists():
        log(f"Chromium not found at {CHROMIUM}: install Debian's chromium (apt-get install chromium)")
        return 2
    site = args.site or next((d for d in (ROOT / "build/book-fast/_build/html", ROOT / "build/book/_build/html")
                              if (d / "intro.html").exists()), None)
    slides = args.slides or (site / "slides" if site and (site / "slides").is_dir() else ROOT / "build" / "slides")
    t0 = time.time()
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=[
            "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync"])
        if not args.no_site:
            if site is None:
                expect(False, "a built site (make site FAST=1)")
            else:
                log(f"site: {site}")
                check_site(browser, site)
        log(f"decks: {slides}")
        decks = sorted(slides.glob("*.slides.html"))
        chosen = [d for d in decks if any(d.name.startswith(k) for k in args.decks)]
        expect(len(chosen) == len(args.decks), f"decks {args.decks} built in {slides} (make site, or make slides)")
        server, base = serve(slides)
        for d in chosen:
            check_deck(browser, base, d.name.removesuffix(".slides.html"))
        server.shutdown()
        browser.close()
    log(f"\n{len(PASSED)} checks passed, {len(FAILURES)} failed, in {time.time() - t0:.0f} s; "
        f"screenshots in {OUT.relative_to(ROOT)}/site and /slides")
    for f in FAILURES:
        log(f"  FAILED: {f}")
    return 1 if FAILURES else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
