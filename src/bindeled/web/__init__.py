"""The pages: server-rendered HTML for clinicians, citizens and operators, beside the FHIR API.

Starlette routes (``routes.py``) render Jinja2 templates (``templates/``) with strings from the
message catalogues (``messages.py``, Danish first, English available) and one stylesheet of our own
(``static/``); plots are inline SVG drawn in Python (``svg.py``). The session is a signed cookie
(``session_cookie.py``); every data access goes through the security gate as the logged-in user
(``access.py``). ``metrics.py`` serves Prometheus metrics at ``/metrics``. The staff overview is the
``$overview`` service's answer (``overview_data.py``); the operators' pages show traffic, indicators and
the rollout view (``pages_operations.py``, ``pages_indicators.py``, ``pages_rollout.py``).
"""

from .metrics import MetricsMiddleware, ServiceMetrics
from .routes import web_routes

__all__ = ["MetricsMiddleware", "ServiceMetrics", "web_routes"]
