"""The sandbox's tests run at the host's isolation level and again at each weaker fallback level
that works here."""
from __future__ import annotations

import pytest

from referees.sandbox import confinement, isolation, policy


@pytest.fixture(params=["auto", "namespaces", "userns", "basic"])
def level(request, monkeypatch):
    """Run a test at the host's level and again at the weaker fallback levels (where they work here)."""
    if request.param != "auto":
        iso = confinement._LEVELS[request.param]
        if not confinement._probe(iso):
            pytest.skip(f"level {request.param} does not work on this host")
        monkeypatch.setattr(confinement, "_ISOLATION", iso)
        monkeypatch.setattr(policy, "_ALLOW_WEAK", iso.level in policy.WEAK_LEVELS)
    return isolation()
