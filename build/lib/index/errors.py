"""Errors a user can act on. The CLI prints their message and exits 2, never a traceback."""

#: What every message about a damaged index ends with.
REBUILD_HINT = "run `qa index --rebuild` to rebuild it from the kept articles"


class QAError(Exception):
    """Base for every error whose message tells the user what to do."""


class IndexMissingError(QAError):
    pass


class IndexCorruptError(QAError):
    pass


class ModelMismatchError(QAError):
    pass


class IndexLockedError(QAError):
    pass


class NoArticlesError(QAError):
    pass


class ModelLoadError(QAError):
    pass
