"""MedCom message hub, receiving side: ``$process-message``, routing, hops and stay effects.

Modules (one job each):

* :mod:`.status` – the hop trail of each letter as AuditEvents ("where is my message?")
* :mod:`.endpoints` – the endpoint register (EER-style, stored as FHIR ``Endpoint/eer-<GLN>``)
* :mod:`.register_rules` – only administrators keep the register, and only well-formed entries
* :mod:`.received` – the hub's memory of received letters, envelopes and the answers it gave
* :mod:`.routing` – who may send as whom, and whether the receiver is known and takes the type
* :mod:`.package_defects` – the one MedCom package defect the hub does not hold against senders
* :mod:`.receive` – the whole receiving step in one transaction
* :mod:`.stay_effects` – a HospitalNotification's effect on the citizen's current-stay Encounter
* :mod:`.synthetic` – synthetic valid messages for the demo and the benchmark

The delivery side (workers, push and mailbox, resends, dead letters) is :mod:`bindeled.messaging.delivery`.
"""
