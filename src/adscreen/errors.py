"""The adscreen error tree. Every error a user can cause is an ``AdscreenError``;
the CLI maps it to exit code 2 with one line, the API and the form to ``http_status``.

    AdscreenError
    ├── InputError            an ad or request that cannot be scored (empty, not text)
    │   └── InputTooLarge     an ad, batch or upload over its size limit
    ├── DataFormatError       a labelled or batch file that cannot be read as promised
    ├── ModelIntegrityError   a model file that is missing, tampered with or built by other library versions
    ├── RegistryError         a registry operation that cannot be carried out (unknown name, nothing to roll back)
    ├── RuleConfigError       a red-flag, hotline or UI data file that does not validate
    └── ScoringUnavailable    the server's scoring processes cannot score now (HTTP 503)
"""


class AdscreenError(Exception):
    """Base of every error adscreen raises on purpose; its message is meant for the user."""


class InputError(AdscreenError, ValueError):
    """An ad or request that cannot be scored."""


class InputTooLarge(InputError):
    """An ad, batch or upload over its configured size limit."""


class DataFormatError(AdscreenError, ValueError):
    """A data file that cannot be read as promised (names the file, and the row and column where known)."""


class ModelIntegrityError(AdscreenError):
    """A model that must not be loaded: missing, hash mismatch, or other library versions."""


class RegistryError(AdscreenError):
    """A registry operation that cannot be carried out."""


class RuleConfigError(AdscreenError):
    """A data file of rules (red flags, hotlines, UI strings) that does not validate."""


class ScoringUnavailable(AdscreenError):
    """A served app's scoring process could not start or stopped while scoring: the server's fault, not the ad's."""


def http_status(error: AdscreenError) -> int:
    """What the API and the form answer: 413 over a size limit, 503 when the server cannot score now, else 422."""
    if isinstance(error, InputTooLarge):
        return 413
    if isinstance(error, ScoringUnavailable):
        return 503
    return 422
