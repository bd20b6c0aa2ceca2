"""The course's slide decks: one reveal.js deck per notebook, for a lecture hall (1280 x 720, no network needed).

    python -m tools.slides [--executed DIR] [--out build/slides]      # what `make slides` runs

A deck is the instructor's notebook with the outputs of an executed run (the site's executed student edition:
``build/book/_build/jupyter_execute/student/``, else ``build/book-fast/...``; the cells the two editions share
carry the same id and code). The set-up cell, the worked solutions and the harness cells (an exercise's check
call) are left out. Long material is split so that each slide fits 1280 x 720: a slide whose estimated height
passes the budget continues on a sub-slide, long code lines wrap, figures are sized for a slide; a small script
shrinks the rare slide that still overflows (never below 80 %). reveal.js, MathJax 2, require.js and jQuery are
served from ``build/slides/vendor/`` (tools/vendor.py), so a deck works offline.
"""
from __future__ import annotations

import argparse
import ast
import base64
import copy
import struct
import sys
from pathlib import Path

import nbformat

from tools import delivery, vendor

ROOT = delivery.ROOT
WIDTH, HEIGHT = 1280, 720
BUDGET = 640                      # px of content a slide may hold (the rest: margins)
LINE_MD, LINE_CODE, LINE_OUT = 30, 24, 22    # px per line of prose, code, text output (calibrated in Chromium)
CHARS_MD, CHARS_CODE = 105, 95    # characters per line before wrapping
IMG_MAX = 430                     # px: the tallest a figure is drawn on a slide

CSS = f"""
.reveal .slides section {{ font-size: 22px; }}
.reveal h1, .reveal h2, .reveal h3 {{ text-transform: none; }}
.reveal .jp-RenderedHTMLCommon {{ font-size: 22px; line-height: 1.35; }}
.reveal .jp-RenderedHTMLCommon h1 {{ font-size: 40px; }}
.reveal .jp-RenderedHTMLCommon h2 {{ font-size: 34px; }}
.reveal .jp-RenderedHTMLCommon h3 {{ font-size: 28px; }}
.reveal .jp-RenderedHTMLCommon p, .reveal .jp-RenderedHTMLCommon li {{ margin: 0.25em 0; }}
.reveal pre, .reveal div.highlight > pre, .reveal div.jp-OutputArea-output > pre {{
  white-space: pre-wrap; word-break: break-word; overflow-wrap: anywhere; font-size: 17px; line-height: 1.3;
  width: 100%; }}
.reveal .jp-OutputArea-output img {{ max-height: {IMG_MAX}px; max-width: 100%; width: auto; height: auto; }}
.reveal .jp-OutputArea-output {{ overflow-x: hidden; }}
.reveal .jp-RenderedHTMLCommon table {{ font-size: 13px; }}
.reveal .jp-RenderedHTMLCommon td, .reveal .jp-RenderedHTMLCommon th {{ padding: 0.2em 0.4em; }}
.reveal .jp-RenderedHTMLCommon td:has(.MathJax_CHTML) {{ white-space: nowrap; min-width: 12em; }}
.reveal .jp-Cell {{ padding: 2px 16px 2px 0; }}
.reveal pre, .reveal .jp-Cell, .reveal .jp-InputArea, .reveal .jp-OutputArea, .reveal .jp-Cell-inputWrapper,
.reveal .jp-Cell-outputWrapper {{ box-sizing: border-box; max-width: 100%; }}
.reveal .jp-InputPrompt, .reveal .jp-OutputPrompt {{ display: none; }}
.reveal .jp-OutputArea-child .jp-OutputArea-prompt {{ display: none; }}
.reveal .jp-RenderedText[data-mime-type="application/vnd.jupyter.stderr"] {{ display: none; }}
"""

FIT_JS = f"""
// Safety net: a slide still taller or wider than {WIDTH} x {HEIGHT} is shrunk (never below 80 %).
function courseFit(section) {{
  section.style.transform = ''; section.style.transformOrigin = 'top left';
  var h = section.scrollHeight, w = section.scrollWidth;
  var s = Math.min(1, {HEIGHT} / h, {WIDTH} / w);
  if (s < 1) {{ section.style.transform = 'scale(' + Math.max(s, 0.8) + ')'; }}
}}
"""


def _png_height(data: str) -> int | None:
    """Pixel height of a base64 PNG (from its header), or None."""
    try:
        head = base64.b64decode(data[:64])
        if head[:8] == b"\x89PNG\r\n\x1a\n":
            w, h = struct.unpack(">II", head[16:24])
            return int(h * min(1.0, (WIDTH - 40) / w))
    except Exception:
        pass
    return None


def _lines(text: str, per_line: int) -> int:
    return sum(max(1, -(-len(line) // per_line)) for line in text.splitlines() or [""])


def cell_height(cell) -> int:
    """Estimated height of a cell on a slide, in px (input and outputs)."""
    if cell.cell_type == "markdown":
        src = cell.source
        h = 0
        for line in src.splitlines():
            if line.startswith("# "):
                h += 60
            elif line.startswith("## "):
                h += 52
            elif line.startswith("#"):
                h += 44
            elif line.startswith("|"):
                h += 26
            elif line.strip().startswith("$$"):
                h += 30
            elif not line.strip():
                h += 8
            else:
                h += LINE_MD * max(1, -(-len(line) // CHARS_MD))
        return h + 10
    h = LINE_CODE * _lines(cell.source, CHARS_CODE) + 20
    for o in cell.get("outputs", []):
        data = o.get("data", {})
        if "image/png" in data:
            px = _png_height(data["image/png"]) or IMG_MAX
            h += min(px, IMG_MAX) + 10
        elif "text/html" in data:
            html = data["text/html"]
            html = html if isinstance(html, str) else "".join(html)
            h += 26 * max(2, html.count("<tr")) + 10
        elif o.get("output_type") == "stream" and o.get("name") == "stderr":
            continue
        elif "text/plain" in data or o.get("output_type") == "stream":
            text = o.get("text") or data.get("text/plain", "")
            text = text if isinstance(text, str) else "".join(text)
            h += LINE_OUT * min(_lines(text.rstrip(), CHARS_CODE), 40) + 10
    return h


def _outputs_height(outputs) -> int:
    return cell_height(nbformat.v4.new_code_cell("", outputs=outputs)) - _input_height(nbformat.v4.new_code_cell(""))


def _input_height(cell) -> int:
    return LINE_CODE * _lines(cell.source, CHARS_CODE) + 20


def _slide_type(cell) -> str:
    return cell.get("metadata", {}).get("slideshow", {}).get("slide_type", "-")


def _set_type(cell, kind: str) -> None:
    cell.setdefault("metadata", {}).setdefault("slideshow", {})["slide_type"] = kind


def is_harness(cell) -> bool:
    """An exercise's check call: imports from utils.exercises and check_...(...) calls (or ``x = check_x(x)``)."""
    if cell.cell_type != "code":
        return False
    try:
        tree = ast.parse(cell.source)
    except SyntaxError:
        return False
    if not tree.body:
        return False

    def is_check(node):
        return (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id.startswith("check_"))

    for stmt in tree.body:
        if isinstance(stmt, ast.ImportFrom) and (stmt.module or "").startswith("utils.exercises"):
            continue
        if isinstance(stmt, ast.Expr) and is_check(stmt.value):
            continue
        if isinstance(stmt, ast.Assign) and is_check(stmt.value):
            continue
        return False
    return True


def deck_notebook(nb, executed=None):
    """The notebook a deck is made from: ``nb`` (the instructor's) with the outputs of ``executed`` where cells
    match, the set-up, solution and harness cells skipped, and sub-slides added where a slide would overflow."""
    nb = delivery.strip(copy.deepcopy(nb))
    nb.metadata.pop("widgets", None)
    ran = {}
    if executed is not None:
        ran = {c.get("id"): c for c in executed.cells if c.cell_type == "code"}
    for c in nb.cells:
        t = delivery.tags(c)
        if {"setup", "solution", "colab-badge"} & set(t) or is_harness(c):
            _set_type(c, "skip")
            continue
        twin = ran.get(c.get("id"))
        if c.cell_type == "code" and twin is not None and twin.source == c.source:
            c.outputs = [_for_slide(o) for o in twin.get("outputs", []) if not _is_widget(o)]
    split(nb.cells)
    return nb


def _for_slide(output):
    """A table (a pandas DataFrame's HTML) is shown by its text form, which pandas wraps at 80 characters."""
    data = output.get("data", {})
    html = data.get("text/html", "")
    html = html if isinstance(html, str) else "".join(html)
    if "<table" in html and "text/plain" in data:
        output = copy.deepcopy(output)
        del output["data"]["text/html"]
    return output


def _is_widget(output) -> bool:
    return "application/vnd.jupyter.widget-view+json" in output.get("data", {})


def _markdown_blocks(source: str) -> list[str]:
    """A Markdown cell cut where a slide may break: between paragraphs, and between the items of a long list
    (never inside display math, a code block or a table)."""
    blocks, current, fence = [], [], False
    for line in source.splitlines():
        if line.strip().startswith(("```", "$$")) and not (line.strip().startswith("$$") and line.strip().endswith("$$")
                                                            and len(line.strip()) > 2):
            fence = not fence
        breaks = not fence and current and (not line.strip() or (line.startswith(("- ", "* ", "1. "))
                                                                    and current[-1].startswith(("- ", "* ", "  "))))
        if breaks and "".join(current).strip():
            blocks.append("\n".join(current).strip("\n"))
            current = []
        current.append(line)
    if "".join(current).strip():
        blocks.append("\n".join(current).strip("\n"))
    return blocks


def _split_tall_cells(cells) -> list:
    """Cells taller than a slide, cut: a long Markdown cell into several (each on its own sub-slide), a code cell
    whose input and outputs do not fit together into its input, then its outputs on the next sub-slide."""
    out = []
    for c in cells:
        kind = _slide_type(c)
        if kind in ("skip", "notes") or cell_height(c) <= BUDGET:
            out.append(c)
            continue
        if c.cell_type == "markdown":
            chunks, current = [], []
            for block in _markdown_blocks(c.source):
                trial = "\n\n".join(current + [block])
                if current and cell_height(nbformat.v4.new_markdown_cell(trial)) > BUDGET:
                    chunks.append("\n\n".join(current))
                    current = [block]
                else:
                    current.append(block)
            chunks.append("\n\n".join(current))
            for i, chunk in enumerate(chunks):
                part = copy.deepcopy(c)
                part.source = chunk
                if i:
                    part["id"] = f"{c.get('id', 'md')}-{i}"
                    _set_type(part, "subslide")
                out.append(part)
        elif c.cell_type == "code" and c.get("outputs"):
            head = copy.deepcopy(c)
            head.outputs = []
            out.append(head)
            groups, current = [], []
            for o in c.outputs:            # the outputs, on as many sub-slides as they need
                if current and _outputs_height(current + [o]) > BUDGET:
                    groups.append(current)
                    current = []
                current.append(o)
            groups.append(current)
            for i, group in enumerate(groups):
                tail = copy.deepcopy(c)
                tail.outputs = group
                tail["id"] = f"{c.get('id', 'code')}-out{i}"
                tail.metadata.setdefault("tags", []).append("deck-output-only")
                _set_type(tail, "subslide")
                out.append(tail)
        else:
            out.append(c)
    return out


def split(cells) -> None:
    """Where the cells of one slide (or sub-slide) would be taller than the budget, start a sub-slide at the cell
    that passes it (fragments keep their place: a fragment's height counts too, it is shown on the same slide)."""
    cells[:] = _split_tall_cells(cells)
    used = None
    for c in cells:
        kind = _slide_type(c)
        if kind in ("skip", "notes"):
            continue
        h = cell_height(c) if "deck-output-only" not in delivery.tags(c) else cell_height(c) - _input_height(c)
        if kind in ("slide", "subslide") or used is None:
            used = h
            continue
        if used + h > BUDGET:
            _set_type(c, "subslide")
            used = h
        else:
            used += h


def _exporter(prefix: str = "vendor"):
    import jinja2
    from nbconvert import SlidesExporter

    template = ("{%- extends 'index.html.j2' -%}\n"
                "{% block html_head_js_mermaidjs %}{% endblock html_head_js_mermaidjs %}\n"
                "{% block jupyter_widgets %}{% endblock jupyter_widgets %}\n"
                "{% block html_head_js_mathjax %}<script type=\"text/x-mathjax-config\">MathJax.Hub.Config("
                "{CommonHTML: {linebreaks: {automatic: true}}, 'fast-preview': {disabled: true}});</script>\n"
                "{{ super() }}{% endblock html_head_js_mathjax %}\n"
                "{% block footer_js %}<style>" + CSS + "</style>\n<script>" + FIT_JS + """
require({waitSeconds: 30}, ["{{ reveal_url_prefix }}/dist/reveal.js", "{{ reveal_url_prefix }}/plugin/notes/notes.js"],
  function(Reveal, RevealNotes) {
    window.Reveal = Reveal;
    Reveal.initialize({controls: true, progress: true, history: true, center: false, transition: "none",
                       slideNumber: "c/t", plugins: [RevealNotes], width: {{reveal_width}}, height: {{reveal_height}},
                       margin: 0.02});
    function update() {
      var s = Reveal.getCurrentSlide();
      if (window.MathJax && MathJax.Hub) { MathJax.Hub.Queue(["Rerender", MathJax.Hub, s], [courseFit, s]); }
      courseFit(s);
    }
    Reveal.on('ready', update);
    Reveal.on('slidechanged', update);
  });
</script>{% endblock footer_js %}\n""")
    exporter = SlidesExporter(extra_loaders=[jinja2.DictLoader({"course_reveal.html.j2": template})],
                              template_file="course_reveal.html.j2")
    exporter.register_preprocessor(_output_only, enabled=True)
    exporter.exclude_input_prompt = True
    exporter.exclude_output_prompt = True
    exporter.reveal_url_prefix = f"{prefix}/reveal.js"
    exporter.reveal_width, exporter.reveal_height = str(WIDTH), str(HEIGHT)
    exporter.reveal_theme = "white"
    exporter.require_js_url = f"{prefix}/require.js"
    exporter.jquery_url = f"{prefix}/jquery.min.js"
    exporter.mathjax_url = f"{prefix}/mathjax/MathJax.js?config=TeX-AMS_CHTML-full,Safe"
    return exporter


def _output_only(nb, resources):
    """The second half of a code cell cut in two shows its outputs alone."""
    for c in nb.cells:
        if "deck-output-only" in delivery.tags(c):
            c.metadata.setdefault("jupyter", {})["source_hidden"] = True
            c.metadata["transient"] = {"remove_source": True}
    return nb, resources


def vendor_into(out: Path) -> Path:
    """reveal.js, MathJax 2, require.js and jQuery in ``out/vendor/``."""
    v = out / "vendor"
    vendor.install("reveal.js", v / "reveal.js")
    vendor.install("mathjax@2", v / "mathjax")
    for key, file in (("requirejs", "require.js"), ("jquery", "dist/jquery.min.js")):
        d = vendor.install(key, delivery.BUILD / "vendor-parts" / key)   # not in out/: copied with the decks
        (v / Path(file).name).write_bytes((d / file).read_bytes())
    return v


def default_executed() -> Path | None:
    from tools import site

    for fast in (False, True):
        d = site.executed_dir(fast)
        if d.exists() and any(d.glob("*.ipynb")):
            return d
    return None


def build(out: Path, executed: Path | None = None, names=None, with_vendor: bool = True) -> list[Path]:
    """One deck per notebook in ``out`` (figures from ``executed`` when given and present), with the JavaScript
    they load in ``out/vendor/`` (``with_vendor=False``: the decks alone). Returns the decks."""
    out.mkdir(parents=True, exist_ok=True)
    if with_vendor:
        vendor_into(out)
    exporter = _exporter()
    written = []
    for p in delivery.notebooks():
        if names and p.stem not in names and p.name not in names:
            continue
        ran = executed / p.name if executed else None
        nb = deck_notebook(nbformat.read(p, as_version=4),
                           nbformat.read(ran, as_version=4) if ran and ran.exists() else None)
        body, _ = exporter.from_notebook_node(nb, resources={"metadata": {"name": p.stem}})
        target = out / (p.stem + ".slides.html")
        target.write_text(body, encoding="utf-8")
        written.append(target)
    return written


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--executed", type=Path, help="folder of executed notebooks (default: the site's)")
    ap.add_argument("--out", type=Path, default=delivery.BUILD / "slides")
    ap.add_argument("names", nargs="*", help="notebooks to build (default: all)")
    args = ap.parse_args(argv)
    executed = args.executed or default_executed()
    written = build(args.out, executed, args.names)
    print(f"wrote {len(written)} reveal.js decks to {args.out}, " + (
        f"figures from {executed}" if executed else
        "without figures (no executed notebooks: run `make site` or `make site FAST=1` first)"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
