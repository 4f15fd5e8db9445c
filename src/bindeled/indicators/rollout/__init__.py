"""The rollout view: is each organisation ready to connect to each service, and what is live per municipality.

``services`` names the services and the checks each needs; ``readiness`` derives the checks (pure)
from the SOR register, the security registers and the hub's status of a test message
(``hub_messages``); ``plans`` is the small register of what cannot be derived (planned go-live, live);
``gather`` puts it together from a running server's data; ``demo`` seeds the demo's mix.
"""

from .gather import rollout_view, view_json
from .plans import RolloutPlan, RolloutRegister, decode_plan
from .readiness import MunicipalityRollout, OrganisationReadiness, RolloutView, ServiceReadiness, assess
from .services import SERVICES, Service

__all__ = [
    "SERVICES",
    "MunicipalityRollout",
    "OrganisationReadiness",
    "RolloutPlan",
    "RolloutRegister",
    "RolloutView",
    "Service",
    "ServiceReadiness",
    "assess",
    "decode_plan",
    "rollout_view",
    "view_json",
]
