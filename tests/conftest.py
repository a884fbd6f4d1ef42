"""Project-wide test settings.

Hypothesis: no per-example deadline and no "too slow" health check. Tests assert behaviour,
never speed; on a loaded 2-core CI runner a deadline would only make them flaky.
"""

from __future__ import annotations

from hypothesis import HealthCheck, settings

settings.register_profile(
    "prabayar", deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]
)
settings.load_profile("prabayar")
