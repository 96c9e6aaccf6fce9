"""One local Ray cluster for every test that needs it (starting one takes 10-20 s on 2 cores).

The tests that use :func:`ray_cluster` are in one xdist group (``"ray"``), so
they run in one worker and share this session fixture.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest

RAY_MISSING = (
    "Ray Data is not installed: it is augkit's optional `ray` extra "
    "(pip install 'augkit[ray]'; `make test` installs it with the dev extra)"
)


@pytest.fixture(scope="session")
def ray_cluster() -> Iterator[Any]:
    """``ray``, initialised with a local cluster of 2 CPUs; shut down at the end of the session."""
    ray = pytest.importorskip("ray", reason=RAY_MISSING)
    data = pytest.importorskip("ray.data", reason=RAY_MISSING)
    # Ray starts its workers at niceness 15; on 2 cores shared with other busy
    # processes (the rest of the suite, at 0) they would starve for minutes.
    os.environ.setdefault("RAY_worker_niceness", "0")
    for attempt in range(3):
        try:
            ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
            break
        except Exception as exc:
            # Ray gives its raylet 30 s to register (a constant in ray/_private/node.py);
            # on 2 cores shared with other busy processes that is sometimes too little.
            ray.shutdown()
            if attempt == 2 or "timed out during startup" not in str(exc):
                raise
    ctx = data.DataContext.get_current()
    ctx.enable_progress_bars = False
    ctx.print_on_execution_start = False
    yield ray
    ray.shutdown()
