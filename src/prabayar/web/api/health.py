"""Liveness and readiness for load balancers and ``make run`` users."""

from __future__ import annotations

from fastapi import APIRouter

from prabayar.web.api.schemas import HealthOut, ReadyOut, error_responses
from prabayar.web.deps import ServicesDep

router = APIRouter(tags=["health"])


@router.get("/health", response_model=HealthOut, summary="The process is up")
def health() -> HealthOut:
    return HealthOut()


@router.get(
    "/ready",
    response_model=ReadyOut,
    responses=error_responses(503),
    summary="The process can serve requests (the database answers)",
)
def ready(services: ServicesDep) -> ReadyOut:
    services.check_ready()
    return ReadyOut()
