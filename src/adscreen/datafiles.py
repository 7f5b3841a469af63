"""Reading files: the project's YAML data files, with one clear RuleConfigError naming the file and the field,
and the sha256 that pins a data or model file."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from adscreen.errors import RuleConfigError

Model = TypeVar("Model", bound=BaseModel)
# libyaml's parser under the safe loader's rules, where PyYAML was built with it: five to ten times faster, and
# every start-up (a command, a server, each batch worker) reads some fifty data files.
SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def read_yaml(path: Path) -> object:
    try:
        return yaml.load(path.read_text(encoding="utf-8"), Loader=SAFE_LOADER)
    except (OSError, yaml.YAMLError) as error:
        raise RuleConfigError(f"{path}: cannot read: {error}") from None


def validated(path: Path, schema: type[Model], raw: object) -> Model:
    """``raw`` (read from ``path``) as a ``schema`` instance, or the first problem with its location."""
    try:
        return schema.model_validate(raw)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise RuleConfigError(f"{path}: {where}: {first['msg']}") from None


def file_sha256(path: Path) -> str:
    """The file's sha256, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
