"""The portal's settings: the shared NORMREG_* ones plus its own address and limits."""

from __future__ import annotations

from normreg_common.settings import Settings


class PortalSettings(Settings):
    # host:port the portal listens on (NORMREG_PORTAL_ADDR).
    portal_addr: str = "127.0.0.1:8080"
    # Absolute base of links in the sitemap and feed, e.g. https://gfxwj.example.gov.cn; empty = the
    # address the request came to.
    portal_public_url: str = ""
    # What the header calls the site.
    portal_site_name: str = "规章和规范性文件查询"
    # Comments one client (address) may send per window.
    portal_comment_limit: int = 5
    portal_comment_window_s: float = 600.0
    # Review suggestions (审查建议) one client may send per window.
    portal_suggestion_limit: int = 5
    portal_suggestion_window_s: float = 600.0
    # The portal has no /metrics port of its own yet; `make run` lists none for it.
    portal_metrics_addr: str = ""
    # Rendered pages kept, keyed by the service's exact reply (0: render every time).
    portal_page_cache: int = 512
    # ... and at most this many MiB of them, with the replies that are their keys.
    portal_page_cache_mb: int = 128
    # Deadline of each call to the services.
    portal_backend_timeout_s: float = 5.0

    def portal_host_port(self) -> tuple[str, int]:
        host, _, port = self.portal_addr.rpartition(":")
        return host.strip("[]") or "127.0.0.1", int(port)
