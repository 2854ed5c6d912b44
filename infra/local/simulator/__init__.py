"""Local WhatsApp simulator: a fake Meta Graph API plus a customer chat page that sends webhooks."""

from .app import RunningSimulator, create_app, start_in_thread
from .config import SimConfig

__all__ = ["RunningSimulator", "SimConfig", "create_app", "start_in_thread"]
