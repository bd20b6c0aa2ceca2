"""Sphinx extension of the course's site: each script once per page.

sphinx-thebe adds its inline configuration (``const THEBE_JS_URL = ...``) at every read phase; with Jupyter Book's
two, a page declared the constant twice and the browser stopped that script with an error.
"""


def _each_script_once(app, pagename, templatename, context, doctree):
    seen, kept = set(), []
    for js in context.get("script_files", []):
        key = (str(getattr(js, "filename", js) or ""),          # an inline script: None or "" (added twice)
               repr(sorted((k, str(v)) for k, v in getattr(js, "attributes", {}).items())))
        if key not in seen:
            seen.add(key)
            kept.append(js)
    if "script_files" in context:
        context["script_files"][:] = kept


def setup(app):
    app.connect("html-page-context", _each_script_once, priority=1)   # first: the event stops at a handler returning a template
    return {"parallel_read_safe": True, "parallel_write_safe": True}
