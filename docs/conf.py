"""Sphinx configuration of the neurocl documentation (``make docs``).

The example gallery is rendered from ``examples/*.py`` *without running them* (the
simulations take hours): :func:`_prepare_gallery` copies each script with a
sphinx-gallery title, its description from ``examples/README.md``, and the figure and
JSON numbers it saved last, into ``_gallery_src/``; sphinx-gallery then renders the code
with ``plot_gallery = False``.  ``_generated/engines.txt`` is the output of ``neurocl
engines`` at build time.  Everything generated lies in paths ``docs/.gitignore`` lists.
"""

from __future__ import annotations

import ast
import contextlib
import io
import re
import shutil
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

import neurocl  # noqa: E402

project = "neurocl"
author = "neurocl developers"
copyright = "2026, neurocl developers"
release = neurocl.__version__
version = release

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
]

exclude_patterns = ["_build", "_gallery_src", "_generated", "**/GALLERY_HEADER.rst", "sg_execution_times.rst"]
templates_path = []
html_theme = "alabaster"
html_theme_options = {"description": "contrastive learning in continuous time on neuromorphic hardware",
                      "page_width": "1240px", "sidebar_width": "230px"}
html_show_sourcelink = False

autodoc_default_options = {"members": True, "member-order": "bysource"}
autodoc_typehints = "none"          # the numpydoc Parameters sections state the types
autodoc_mock_imports = []
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False
nitpicky = False
suppress_warnings = []

# --------------------------------------------------------------------------- gallery
GALLERY_SRC = HERE / "_gallery_src"


def _title(doc: str) -> str:
    """The docstring's first line without parentheses, up to its first sentence end (or
    colon, unless what precedes the colon is one word: ``"Brian2: spiking raster"``)."""
    first = doc.strip().splitlines()[0].strip()
    first = re.sub(r"\s*\([^()]*\)", "", first)
    first = re.sub(r"\s*\([^()]*$", "", first)
    first = first.split(". ")[0]
    head, sep, _ = first.partition(": ")
    if sep and len(head.split()) > 1:
        first = head
    return first.rstrip(".:;, ")


#: inline code (Markdown single or reST double backticks) and Sphinx roles (``:func:`x```, kept)
_CODE = re.compile(r"(:[\w:.-]+:`[^`]+`|``[^`]+``|`[^`]+`)")


def _md_to_rst(text: str) -> str:
    """The few Markdown constructs examples/README.md uses, as reStructuredText (also applied to
    the examples' docstrings: their ``literals`` and roles are kept).  Code spans may run over a
    line break, as in Markdown and reST."""
    text = "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("!["))
    parts = _CODE.split(text)
    for i, part in enumerate(parts):
        if i % 2:            # inline code, or a role (kept as it is)
            if part.startswith(":"):
                continue
            inner = part.strip("`")
            parts[i] = f"``{inner}``" if inner.strip() == inner else f":literal:`{inner}`"
        else:
            lines = []
            for line in part.split("\n"):
                line = line.replace("\\", "\\\\").replace("|", "\\|")
                line = re.sub(r"\[([^\]]+)\]\(([^)]+)\)", r"`\1 <\2>`__", line)
                line = re.sub(r"(?<![*\w])\*(?=\S)([^*]+?)(?<=\S)\*(?![*\w])", r"*\1*", line)
                lines.append(line)
            parts[i] = "\n".join(lines)
    return "".join(parts).strip()


def _run_lines(doc: str) -> str:
    """``Run:  python examples/x.py [--out ...]`` lines of a docstring as inline code."""
    return re.sub(r"^(\s*)Run:\s+(.+)$", lambda m: f"{m.group(1)}Run: ``{m.group(2).strip()}``", doc, flags=re.M)


def _readme_sections() -> dict:
    """``{script name: Markdown text}`` of the ``## `name.py` ...`` sections of examples/README.md."""
    path = ROOT / "examples" / "README.md"
    sections = {}
    if not path.is_file():
        return sections
    current = None
    for line in path.read_text(encoding="utf-8").splitlines():
        m = re.match(r"^##\s.*?`([\w.]+\.py)`", line)
        if m:
            current = m.group(1)
            sections[current] = []
        elif line.startswith("## "):
            current = None
        elif current:
            sections[current].append(line)
    return {k: "\n".join(v) for k, v in sections.items()}


def _prepare_gallery() -> None:
    if GALLERY_SRC.exists():
        shutil.rmtree(GALLERY_SRC)
    GALLERY_SRC.mkdir()
    (GALLERY_SRC / "GALLERY_HEADER.rst").write_text(
        "Example gallery\n===============\n\n"
        "Each example is a standalone script in ``examples/`` that reproduces one figure or one workflow, "
        "prints its numbers and saves them (a PNG, and for most a JSON next to it).  The pages show the "
        "figure and the numbers *as last saved by the script* and its code; building the documentation "
        "does not rerun the simulations (``make gallery`` does, two hours or more on 2 cores).\n")
    readme = _readme_sections()
    measured = HERE / "_generated" / "measured"
    measured.mkdir(parents=True, exist_ok=True)
    for script in sorted((ROOT / "examples").glob("*.py")):
        text = _md_to_rst(readme[script.name]) if script.name in readme else \
            f"(``examples/README.md`` has no section on ``{script.name}`` yet.)"
        (measured / f"{script.stem}.rst").write_text(text + "\n", encoding="utf-8")
    for script in sorted((ROOT / "examples").glob("*.py")):
        src = script.read_text(encoding="utf-8")
        tree = ast.parse(src)
        doc = ast.get_docstring(tree) or script.stem
        body_start = tree.body[0].end_lineno if ast.get_docstring(tree) else 0
        code = "\n".join(src.splitlines()[body_start:])
        title = _title(doc)
        parts = [title, "=" * len(title), "", f"``examples/{script.name}``", "", _md_to_rst(_run_lines(doc.replace('"""', "'''"))), ""]
        png, js = script.with_suffix(".png"), script.with_suffix(".json")
        if script.name in readme:
            parts += ["Measured", "--------", "", _md_to_rst(readme[script.name]), ""]
        parts += ["Saved output", "------------", ""]
        thumb = ""
        if png.is_file():
            shutil.copy2(png, GALLERY_SRC / png.name)
            parts += [f".. image:: /_gallery_src/{png.name}", f"   :alt: {png.name}", "   :width: 100%", ""]
            thumb = f"# sphinx_gallery_thumbnail_path = '_gallery_src/{png.name}'\n"
        else:
            parts += [f"No figure saved yet (``{png.name}`` is written by ``python examples/{script.name}``).", ""]
        if js.is_file():
            shutil.copy2(js, GALLERY_SRC / js.name)
            parts += [f"Numbers the script saved (``examples/{js.name}``):", "",
                      f".. literalinclude:: /_gallery_src/{js.name}", "   :language: json", ""]
        text = "\n".join(parts)
        (GALLERY_SRC / script.name).write_text(f'r"""\n{text}\n"""\n{thumb}{code}\n', encoding="utf-8")


def _engines_text() -> None:
    from neurocl.cli import main

    out = HERE / "_generated"
    out.mkdir(exist_ok=True)
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        main(["engines"])
    (out / "engines.txt").write_text(buf.getvalue())
    blocks, name = {}, None
    for line in buf.getvalue().splitlines():
        if line and not line.startswith(" "):
            name = line.split(":")[0].strip()
            blocks[name] = []
        if name:
            blocks[name].append(line)
    for name, lines in blocks.items():
        (out / f"engine_{name}.txt").write_text("\n".join(lines) + "\n")
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        main(["circuits"])
        print()
        main(["profiles"])
    (out / "shipped.txt").write_text(buf.getvalue())


_prepare_gallery()
_engines_text()

sphinx_gallery_conf = {
    "examples_dirs": ["_gallery_src"],
    "gallery_dirs": ["gallery"],
    "plot_gallery": "False",
    "filename_pattern": r"^$",          # nothing is executed
    "download_all_examples": False,
    "remove_config_comments": True,
    "within_subsection_order": "FileNameSortKey",
    "show_memory": False,
    "min_reported_time": 10**9,
    "write_computation_times": False,
}
