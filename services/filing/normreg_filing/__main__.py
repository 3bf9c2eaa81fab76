"""`python -m normreg_filing`: the filing review service on the address and backends of NORMREG_* settings."""

from __future__ import annotations

from normreg_common.service_main import run

from normreg_filing.bootstrap import create_app

if __name__ == "__main__":
    run("filing", create_app)
