"""Local-first question answering over your documents, with verified citations."""

from .answer import Answer, Citation
from .api import Assistant
from .errors import AssistantError

__all__ = ["Assistant", "Answer", "Citation", "AssistantError"]
