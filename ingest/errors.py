"""The few exception types ingestion raises; the edge (CLI/UI) turns them into messages."""


class PolicyQAError(Exception):
    """Base class: every error a user can see. ``str()`` is the message to show."""


class LoadError(PolicyQAError):
    """A file could not be read as a document (the run skips it with this reason)."""


class IndexBusy(PolicyQAError):
    """Another ingest holds the index lock."""


class IndexMissing(PolicyQAError):
    """No index has been built yet at the given folder."""


class IndexIncompatible(PolicyQAError):
    """The index was written by another format version or embedder."""


class IndexDamaged(PolicyQAError):
    """A file of the index cannot be read (or fails its checksum); the message names it."""

    def __init__(self, message: str, path: str = "", detail: str = "") -> None:
        super().__init__(message)
        self.path, self.detail = path, detail
