"""Property-based fuzzing of the API from its own OpenAPI schema: no server error, no response that breaks its schema.

The schema is built at import time (schemathesis' fixture-based loading breaks on newer pytest).
"""

import tempfile
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    positive_data_acceptance,
    response_schema_conformance,
    status_code_conformance,
)

from adscreen import load_model
from adscreen.config import Settings
from adscreen.serve.app import create_app

# Heavy (generated requests): marked so that a quick run can leave them out with -m 'not slow'.
pytestmark = pytest.mark.slow

# Fuzzed corrections go to a database that is removed at exit, never to the user's own.
FEEDBACK_DIR = tempfile.TemporaryDirectory(prefix="adscreen-fuzz-")
SETTINGS = Settings(
    max_ad_chars=2000,
    max_batch_items=5,
    feedback_db=Path(FEEDBACK_DIR.name) / "feedback.sqlite3",
    feedback_per_minute=10_000,  # the fuzzer is one client sending many corrections
)
APP = create_app(SETTINGS, scorer=load_model())
schema = schemathesis.openapi.from_asgi("/openapi.json", APP)


@schema.parametrize()
@settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))
def test_api_conforms_to_its_schema(case: schemathesis.Case) -> None:
    """No 5xx, and every request the schema calls valid is accepted: the schema states the server's
    limits (texts non-blank and within max_ad_chars, at most max_batch_items). The one exception is
    the content of an uploaded file, which no schema describes: a file that is not CSV, JSONL or
    Parquet is refused (422, documented) although any bytes fit the schema."""
    checks = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
    if case.operation.path != "/v1/score/file":
        checks.append(positive_data_acceptance)
    case.call_and_validate(checks=checks)
