"""The delivering half of the MedCom hub: outbox, workers (database or NATS), retries, resends, dead letters."""
