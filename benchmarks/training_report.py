"""What the training report and model card add to the time of ``adscreen train``, and what validation costs.

Runs ``train_to_folder`` once on the given labelled files (default: the sample
ads) with its steps wrapped in timers, then validates the same files. Prints
seconds and the report's share of the training time; the aim is a few per cent.

Usage: PYTHONPATH=src python benchmarks/training_report.py [FILE ...]
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import adscreen.training.runs as training
from adscreen.paths import SAMPLE_ADS_DIR
from adscreen.training.validation import validate_files

seconds: dict[str, float] = {}


def timed(name: str, function: Callable) -> Callable:
    def wrapper(*args: object, **kwargs: object) -> object:
        started = time.perf_counter()
        value = function(*args, **kwargs)
        seconds[name] = round(time.perf_counter() - started, 3)
        return value

    return wrapper


def main() -> None:
    files = [Path(name) for name in sys.argv[1:]] or sorted(SAMPLE_ADS_DIR.glob("*.jsonl"))
    for step in ("train", "write_report", "write_model_card"):
        setattr(training, step, timed(step, getattr(training, step)))
    with tempfile.TemporaryDirectory() as folder:
        metadata = training.train_to_folder(files, Path(folder) / "bench", say=lambda line: None)
    validation = timed("validate", validate_files)(files)
    print(
        json.dumps(
            {
                "ads": metadata["data"]["rows"],
                "seconds": seconds,
                "report_share_of_training": round(seconds["write_report"] / seconds["train"], 3),
                "validate_findings": len(validation.findings),
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
