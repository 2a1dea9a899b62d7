"""Errors a person can act on: each message says what went wrong and what to do."""


class AssistantError(Exception):
    """Base class; the CLI prints the message as one line and exits non-zero."""


class ModelError(AssistantError):
    """The model cannot be located, assembled, verified or loaded."""


class IndexDamagedError(AssistantError):
    """The on-disk index cannot be read."""


class CorpusError(AssistantError):
    """The corpus folder is missing or unusable."""


class NotFoundError(AssistantError):
    """A document or conversation that does not exist (HTTP 404)."""


class DocumentNotFound(NotFoundError, CorpusError):
    """No document of the corpus folder has that id."""


class ConversationNotFound(NotFoundError):
    """No saved conversation has that id."""


class QuestionError(AssistantError, ValueError):
    """The question is empty or too long."""


class BusyError(AssistantError):
    """Every answer slot stayed busy for longer than the wait allowed."""

    def __init__(self, message: str, retry_after: int = 5):
        super().__init__(message)
        self.retry_after = retry_after  # seconds a client should wait before trying again


class LLMUnavailableError(AssistantError):
    """A remote LLM server is down, slow or answered with an error."""


class DocumentError(Exception):
    """A document that cannot be read; the message says why. Its file is skipped."""
