"""The adscreen error tree. Every error a user can cause is an ``AdscreenError``;
the CLI maps it to exit code 2 with one line, the API and the form to ``http_status``.

    AdscreenError
    ├── InputError            an ad or request that cannot be scored (empty, not text)
    │   └── InputTooLarge     an ad, batch or upload over its size limit
    ├── DataFormatError       a labelled or batch file that cannot be read as promised
    │   └── NoTextColumn      a file without the column that holds the ads (each edge says how to name it)
    ├── ModelIntegrityError   a model file that is missing, tampered with or built by other library versions
    ├── RegistryError         a registry operation that cannot be carried out (unknown name, nothing to roll back)
    ├── RuleConfigError       a red-flag, hotline or UI data file that does not validate (a server fault: 500)
    ├── ScoringUnavailable    the server's scoring processes cannot score now (HTTP 503)
    │   └── ScoringTimeout    a job went over its time budget and was stopped (HTTP 503)
    ├── FeedbackOff           this server takes no corrections (ADSCREEN_FEEDBACK=off; HTTP 404)
    ├── FeedbackUnavailable   the corrections database cannot be written (HTTP 503)
    ├── FeedbackFull          the corrections database reached its size limit (HTTP 507)
    └── TooManyRequests       a client over a rate limit (HTTP 429)

HTTP answers for server faults (5xx) never name a server path: ``public_message`` says what
a caller may read, and the full message goes to the server log.
"""


class AdscreenError(Exception):
    """Base of every error adscreen raises on purpose; its message is meant for the user."""


class InputError(AdscreenError, ValueError):
    """An ad or request that cannot be scored."""


class InputTooLarge(InputError):
    """An ad, batch or upload over its configured size limit."""


class DataFormatError(AdscreenError, ValueError):
    """A data file that cannot be read as promised (names the file, and the row and column where known)."""


class NoTextColumn(DataFormatError):
    """A file of ads without a ``text`` column (or the one named): the CLI and the API each add how to name it."""


class ModelIntegrityError(AdscreenError):
    """A model that must not be loaded: missing, hash mismatch, or other library versions."""


class RegistryError(AdscreenError):
    """A registry operation that cannot be carried out."""


class RuleConfigError(AdscreenError):
    """A data file of rules (red flags, hotlines, UI strings) that does not validate."""


class ScoringUnavailable(AdscreenError):
    """A served app's scoring process could not start or stopped while scoring: the server's fault, not the ad's."""


class ScoringTimeout(ScoringUnavailable):
    """A scoring job (an ad, a batch, a file's chunk) went over its time budget; its process was stopped."""


class FeedbackOff(AdscreenError):
    """This server was started with corrections turned off."""


class FeedbackUnavailable(AdscreenError):
    """The corrections database cannot be opened or written (permissions, disk, a locked or broken file)."""


class FeedbackFull(AdscreenError):
    """The corrections database reached its configured size limit."""


class TooManyRequests(AdscreenError):
    """A client sent more requests of one kind than the server allows per minute."""

    def __init__(self, message: str, retry_after: int = 60) -> None:
        super().__init__(message)
        self.retry_after = retry_after


_STATUS: tuple[tuple[type[AdscreenError], int], ...] = (
    (InputTooLarge, 413),
    (ScoringUnavailable, 503),
    (FeedbackUnavailable, 503),
    (FeedbackFull, 507),
    (TooManyRequests, 429),
    (FeedbackOff, 404),
    (RuleConfigError, 500),
    (ModelIntegrityError, 500),
)


def http_status(error: AdscreenError) -> int:
    """What the API and the form answer: 413 over a size limit, 429 over a rate, 5xx for the server's own
    faults (503 when it cannot score or store now, 507 when storage is full), else 422 (bad input)."""
    for kind, status in _STATUS:
        if isinstance(error, kind):
            return status
    return 422


def public_message(error: AdscreenError) -> str:
    """The message an HTTP caller sees: a server fault's own message may name server files, so it is replaced."""
    if isinstance(error, (RuleConfigError, ModelIntegrityError)):
        return "the server is misconfigured (one of its data files is broken); its operator can see why in its log"
    if isinstance(error, FeedbackUnavailable):
        return "corrections cannot be stored on this server now (its database cannot be written); please try later"
    return str(error)
