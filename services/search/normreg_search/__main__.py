"""`python -m normreg_search`: the search service on the address and backends of NORMREG_* settings."""

from __future__ import annotations

from normreg_common.service_main import run

from normreg_search.bootstrap import create_app

if __name__ == "__main__":
    run("search", create_app)
