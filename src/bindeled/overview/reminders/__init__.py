"""Appointment reminders: a citizen's opt-in, an outbox that never reminds a version twice, pluggable senders.

``model`` holds the records, ``subscriptions`` the opt-in, ``schedule`` keeps the outbox in step with
each appointment's current version, ``tail`` follows the Appointment history with a durable mark,
``outbox`` has the state transitions (claims committed before sending), ``dispatch`` sends what is
due through a ``senders`` sender, and ``worker`` runs it all in the server.
"""

from .dispatch import Dispatcher
from .model import CHANNELS, OutgoingReminder, ReminderRow, Subscription
from .outbox import reminders_of
from .schedule import reconcile
from .senders import FileSender, HttpSender, PermanentSendError, ReminderSender, TransientSendError
from .subscriptions import subscribe, subscription_of, unsubscribe
from .tail import HistoryTail
from .worker import ReminderWorker, reminder_worker, sender_from

__all__ = [
    "CHANNELS",
    "Dispatcher",
    "FileSender",
    "HistoryTail",
    "HttpSender",
    "OutgoingReminder",
    "PermanentSendError",
    "ReminderRow",
    "ReminderSender",
    "ReminderWorker",
    "Subscription",
    "TransientSendError",
    "reconcile",
    "reminder_worker",
    "reminders_of",
    "sender_from",
    "subscribe",
    "subscription_of",
    "unsubscribe",
]
