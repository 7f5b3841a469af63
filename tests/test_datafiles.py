"""Reading the data files: libyaml's parser gives what PyYAML's own safe loader gives, on every file we ship."""

from pathlib import Path

import pytest
import yaml

from adscreen.datafiles import SAFE_LOADER, read_yaml
from adscreen.errors import RuleConfigError
from adscreen.paths import DATA_DIR

DATA_FILES = sorted(DATA_DIR.rglob("*.yaml"))


def test_every_data_file_reads_as_the_pure_python_safe_loader_reads_it() -> None:
    assert len(DATA_FILES) > 30
    for path in DATA_FILES:
        assert read_yaml(path) == yaml.safe_load(path.read_text(encoding="utf-8")), path


def test_the_loader_is_safe() -> None:
    """A Python object tag is refused, whichever parser reads it."""
    with pytest.raises(yaml.constructor.ConstructorError):
        yaml.load("!!python/object/apply:os.system ['true']", Loader=SAFE_LOADER)


def test_a_broken_file_is_one_error_naming_it(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text("a: [1, 2\n", encoding="utf-8")
    with pytest.raises(RuleConfigError, match=r"broken\.yaml: cannot read"):
        read_yaml(broken)
