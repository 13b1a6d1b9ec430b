"""The conversation: one module per flow, and the turn plumbing that calls them."""

from bot.conversation.dialogue import Dialogue
from bot.sender_log import log_id

__all__ = ["Dialogue", "log_id"]
