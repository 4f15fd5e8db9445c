"""The reminders package's public names are pinned."""

from __future__ import annotations

from bindeled.overview import reminders


def test_public_names() -> None:
    assert sorted(reminders.__all__) == [
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
    assert all(hasattr(reminders, name) for name in reminders.__all__)
