"""The JavaScript that the site and the slide decks serve from their own folder, so that both work without network.

Each piece comes from an npm registry package (one tarball, pinned by version and sha256), downloaded once into the
git-ignored cache ``data/cache/npm/`` and unpacked from there: only the files a page needs are copied next to it.

    reveal.js 4.0.2   the version nbconvert's reveal template is written for
    mathjax 2.7.7     the decks (nbconvert's template calls MathJax 2's API); mathjax 3.2.2: the site (Sphinx)
    requirejs 2.1.10  and jquery 2.2.4: what nbconvert's template loads before reveal.js
"""
from __future__ import annotations

import hashlib
import os
import shutil
import tarfile
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CACHE = Path(os.environ.get("COURSE_CACHE", ROOT / "data" / "cache")) / "npm"
REGISTRY = "https://registry.npmjs.org"

#: name -> (version, sha256 of the registry's tarball)
PACKAGES = {
    "reveal.js": ("4.0.2", "0c234d5bfe539606c1af4bcc031f0d21ed99e264d90b7859abad34f7e3a0c587"),
    "mathjax@2": ("2.7.7", "f0054315d40f7288b2373b23520677fd1132a405702dfca05ee6ebe5cd0a8677"),
    "mathjax@3": ("3.2.2", "1b9c0a1c44df864e915690558e72adb9cc5203360daefd385084ced3b6c64c09"),
    "requirejs": ("2.1.10", "4f951a198b4ea218c75bafe88056056947fb0b72daefcd5f3a022281c5600c60"),
    "jquery": ("2.2.4", "1ce113265b4e2a1c8cfc1da2fbf8836bd44e2911daa2a264b8ec52afef2e19a1"),
}

#: what each use needs of a package (paths inside the tarball's package/ folder; a folder is copied whole)
PARTS = {
    "reveal.js": ["dist", "plugin/notes", "LICENSE"],
    "mathjax@2": ["MathJax.js", "config/TeX-AMS_CHTML-full.js", "config/Safe.js", "extensions", "jax/input/TeX",
                  "jax/element", "jax/output/CommonHTML", "fonts/HTML-CSS/TeX/woff", "LICENSE"],
    "mathjax@3": ["es5/tex-mml-chtml.js", "es5/input", "es5/output/chtml", "es5/ui", "es5/a11y", "LICENSE"],
    "requirejs": ["require.js"],
    "jquery": ["dist/jquery.min.js", "LICENSE.txt"],
}


class VendorError(RuntimeError):
    pass


def _npm_name(key: str) -> str:
    return key.split("@")[0] if not key.startswith("@") else key


def tarball(key: str) -> Path:
    """The package's tarball in the cache, downloaded from the npm registry the first time; its sha256 checked."""
    version, sha = PACKAGES[key]
    name = _npm_name(key)
    path = CACHE / f"{name}-{version}.tgz"
    url = f"{REGISTRY}/{name}/-/{name.split('/')[-1]}-{version}.tgz"
    if not path.exists():
        CACHE.mkdir(parents=True, exist_ok=True)
        try:
            with urllib.request.urlopen(url, timeout=120) as r:
                data = r.read()
        except OSError as exc:
            raise VendorError(f"could not download {url} ({exc}). Offline: put that file, sha256 {sha}, at {path}, "
                              "then build again.") from exc
        got = hashlib.sha256(data).hexdigest()
        if got != sha:
            raise VendorError(f"{url}: sha256 {got}, expected {sha}; nothing was kept")
        part = path.with_suffix(".part")
        part.write_bytes(data)
        part.replace(path)
    elif hashlib.sha256(path.read_bytes()).hexdigest() != sha:
        raise VendorError(f"{path} does not have the sha256 {sha} of {url}: delete it and build again")
    return path


def install(key: str, dest: Path) -> Path:
    """Copy the parts of the package that the pages need into ``dest`` (made anew when the version changed).
    Returns ``dest``."""
    version, _ = PACKAGES[key]
    mark = dest / ".vendored"
    if mark.exists() and mark.read_text() == f"{key} {version}":
        return dest
    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    wanted = PARTS[key]
    with tarfile.open(tarball(key)) as tar:
        for member in tar.getmembers():
            rel = member.name.split("/", 1)[1] if "/" in member.name else member.name
            if not member.isfile() or not any(rel == w or rel.startswith(w + "/") for w in wanted):
                continue
            target = dest / rel
            if not target.resolve().is_relative_to(dest.resolve()):
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            with tar.extractfile(member) as f:
                target.write_bytes(f.read())
    mark.write_text(f"{key} {version}")
    return dest


def tree_size(path: Path) -> int:
    return sum(p.stat().st_size for p in Path(path).rglob("*") if p.is_file())


if __name__ == "__main__":      # fill the cache (for example before going offline)
    for k in PACKAGES:
        print(tarball(k), flush=True)
