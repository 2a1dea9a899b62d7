"""Local-first question answering over your documents, with verified citations."""

from .api import Assistant
from .errors import AssistantError
from .results import Answer, Citation

__all__ = ["Assistant", "Answer", "Citation", "AssistantError"]
