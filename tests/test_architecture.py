"""The import direction of ARCHITECTURE.md, enforced: each layer imports only the layers below it.

Read from the source with ``ast`` (no import runs), so a new module lands in its folder's layer and a
new arrow upwards fails here with the importing module and the imported one named.
"""

from __future__ import annotations

import ast
from pathlib import Path

import adscreen

PACKAGE = Path(adscreen.__file__).resolve().parent

# Modules of the flat core, by layer.
FOUNDATION = {"errors", "config", "paths", "datafiles", "localized", "ui", "text", "language"}
MODEL = {"feature_layout", "scoring_model", "features", "ad_vector", "char_grams", "model", "explain", "artefact"}
SCORING = {"scoring", "registry"}

# What each layer may import besides itself (ARCHITECTURE.md, "Who imports whom").
ALLOWED = {
    "foundation": set(),
    "rules": {"foundation"},
    "model": {"foundation", "rules"},
    "scoring": {"foundation", "rules", "model"},
    "tables": {"foundation"},
    "batch": {"foundation", "rules", "model", "scoring", "tables"},
    "analysis": {"foundation", "rules", "scoring", "tables"},
    "training": {"foundation", "rules", "model", "scoring", "tables"},
    "serve": {"foundation", "rules", "scoring", "tables", "batch", "training", "package"},
    "cli": {"foundation", "rules", "model", "scoring", "tables", "batch", "analysis", "training", "serve", "package"},
    "package": {"foundation", "rules", "scoring"},
}


def layer_of(module: str) -> str:
    """``adscreen.rules.redflags`` -> ``rules``; ``adscreen.scoring`` -> ``scoring``; ``adscreen`` -> ``package``."""
    parts = module.split(".")[1:]
    if not parts or parts == ["__init__"]:
        return "package"
    if (PACKAGE / parts[0]).is_dir():
        return parts[0]
    for name, members in (("foundation", FOUNDATION), ("model", MODEL), ("scoring", SCORING)):
        if parts[0] in members:
            return name
    raise AssertionError(f"adscreen.{parts[0]} is in no layer: add it to a layer here and in ARCHITECTURE.md")


def module_name(path: Path) -> str:
    relative = path.relative_to(PACKAGE.parent).with_suffix("")
    parts = relative.parts[:-1] if relative.name == "__init__" else relative.parts
    return ".".join(parts)


def imports_of(path: Path) -> set[str]:
    """Every adscreen module the file imports, at module level or inside functions."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module == "adscreen":
            # ``from adscreen import artefact`` imports a module; ``from adscreen import load_model`` the package.
            for alias in node.names:
                is_module = (PACKAGE / f"{alias.name}.py").exists() or (PACKAGE / alias.name).is_dir()
                found.add(f"adscreen.{alias.name}" if is_module else "adscreen")
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "adscreen":
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names if alias.name.split(".")[0] == "adscreen")
    return found


def test_every_import_points_down_the_layers():
    wrong = []
    for path in sorted(PACKAGE.rglob("*.py")):
        importer = module_name(path)
        own = layer_of(importer)
        for imported in imports_of(path):
            target = layer_of(imported)
            if target != own and target not in ALLOWED[own]:
                wrong.append(f"{importer} ({own}) imports {imported} ({target})")
    assert not wrong, "imports against ARCHITECTURE.md:\n" + "\n".join(wrong)


def test_the_edges_never_import_each_other_except_as_documented():
    """batch, analysis and training are side by side: none of them imports another."""
    for edge in ("batch", "analysis", "training"):
        assert not ALLOWED[edge] & ({"batch", "analysis", "training", "serve", "cli"} - {edge})


def test_config_is_a_leaf_that_does_not_load_the_model_libraries():
    """Building Settings happens in every command and at server start: it must not import scikit-learn."""
    import subprocess
    import sys

    code = "import adscreen.config, sys; print(sorted(m for m in ('sklearn', 'scipy', 'pandas') if m in sys.modules))"
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert loaded.strip() == "[]"


def test_the_server_process_that_answers_http_does_not_load_the_model_libraries():
    """``adscreen serve`` with scoring processes: the process that speaks HTTP holds the model's name only, so
    importing the command line and building the app with a deferred model must not cost it pandas, scipy or
    scikit-learn (about 180 MiB); those load in the scoring processes, or for an uploaded file."""
    import subprocess
    import sys

    code = (
        "import sys\n"
        "import adscreen.cli\n"  # what the ``adscreen`` command imports before running ``serve``
        "from adscreen import load_model\n"
        "from adscreen.config import Settings\n"
        "from adscreen.scoring import check_text\n"
        "from adscreen.serve.app import create_app\n"
        "create_app(Settings(workers=2))\n"
        "scorer = load_model(deferred=True)\n"  # what the HTTP process keeps beside its scoring processes
        "scorer.model_info, check_text('an ad')\n"
        "print(sorted(m for m in ('sklearn', 'scipy', 'pandas') if m in sys.modules))\n"
    )
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert loaded.strip() == "[]"


def test_the_layer_check_catches_an_upward_import(tmp_path):
    """The checker itself: an import from rules up into scoring is reported."""
    module = tmp_path / "probe.py"
    module.write_text("from adscreen.scoring import Scorer\n", encoding="utf-8")
    (target,) = imports_of(module)
    assert layer_of(target) == "scoring"
    assert layer_of(target) not in ALLOWED["rules"]


def test_library_errors_name_no_command_line_flag():
    """A message raised below the CLI reaches API callers too, who have no flags: the edges add their own hints."""
    import re

    flagged = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if "cli" in path.relative_to(PACKAGE).parts:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Raise):
                for part in ast.walk(node):
                    if (
                        isinstance(part, ast.Constant)
                        and isinstance(part.value, str)
                        and re.search(r"(?<![\w-])--[a-z]", part.value)
                    ):
                        flagged.append(f"{path.relative_to(PACKAGE)}:{node.lineno}: {part.value!r}")
    assert not flagged, "\n".join(flagged)


def test_public_api_is_pinned():
    """What ``from adscreen import *`` gives is the contract's API; adding to it is a decision, not an accident."""
    assert sorted(adscreen.__all__) == ["AdscreenError", "Scorer", "__version__", "load_model", "score"]
    for name in adscreen.__all__:
        assert getattr(adscreen, name) is not None
