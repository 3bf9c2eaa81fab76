"""`python -m normreg_search`: the search service on the address and backends of NORMREG_* settings.

With NORMREG_SEARCH_PROCESSES other than 1, this process supervises that many search processes on
one address (normreg_search.processes) instead of serving itself.
"""

from __future__ import annotations

import sys

from normreg_common.service_main import run
from normreg_common.settings import Settings

from normreg_search.bootstrap import create_app
from normreg_search.processes import process_count, supervise

if __name__ == "__main__":
    settings = Settings()
    count = process_count(settings)
    if settings.search_role or count == 1:
        run("search", create_app)
    else:
        sys.exit(supervise(settings, count))
