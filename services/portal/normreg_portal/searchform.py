"""The search page's query string, checked and turned into a SearchDocumentsRequest.

Everything a person can put in the URL is bounded here, so odd input gets a clear 400 page and the
search service never sees a request it would refuse.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import urlencode

from normreg.v1 import search_service_pb2 as spb

from normreg_portal import dates
from normreg_portal.labels import KIND_SLUGS, STATUS_FILTERS

QUERY_MAX = 200
BODY_MAX = 100
TOKEN_MAX = 200
PAGE_SIZE = 20
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_SPACES = re.compile(r"\s+")


@dataclass
class SearchForm:
    q: str = ""
    status: str = "in_force"
    kind: str = ""
    body: str = ""
    year: str = ""
    valid_on: str = ""
    sort: str = ""
    page: str = ""
    errors: list[str] = field(default_factory=list)

    @property
    def filtered(self) -> bool:
        """Any filter or order other than the defaults."""
        return bool(self.status != "in_force" or self.kind or self.body or self.year or self.valid_on or self.sort)

    @property
    def listing(self) -> bool:
        """An empty query lists documents, newest first."""
        return not self.q

    def request(self, page_size: int = PAGE_SIZE) -> spb.SearchDocumentsRequest:
        request = spb.SearchDocumentsRequest(query=self.q, page_size=page_size, page_token=self.page)
        if not self.valid_on:
            request.states.extend(STATUS_FILTERS[self.status][1])
        if self.kind:
            request.kinds.append(KIND_SLUGS[self.kind])
        if self.body:
            request.issuing_bodies.append(self.body)
        if self.year:
            year = int(self.year)
            dates.set_date(request.promulgation_date, "from_date", dt.date(year, 1, 1))
            dates.set_date(request.promulgation_date, "to_date", dt.date(year, 12, 31))
        if self.valid_on:
            dates.set_date(request, "valid_on", dt.date.fromisoformat(self.valid_on))
        date_sort = self.sort == "date" or (self.listing and self.sort != "relevance")
        request.sort = spb.SORT_ORDER_PROMULGATION_DATE_DESC if date_sort else spb.SORT_ORDER_RELEVANCE
        return request

    def url(self, **changes: str) -> str:
        """This search's URL with some parameters changed ("" removes one); the page is reset."""
        values = {
            "q": self.q,
            "status": self.status if self.status != "in_force" else "",
            "kind": self.kind,
            "body": self.body,
            "year": self.year,
            "valid_on": self.valid_on,
            "sort": self.sort,
        }
        values.update(changes)
        return "/search?" + urlencode({k: v for k, v in values.items() if v})


def parse(params: Mapping[str, str]) -> SearchForm:
    form = SearchForm()
    q = _SPACES.sub(" ", _CONTROL.sub(" ", params.get("q", ""))).strip()
    if len(q) > QUERY_MAX:
        form.errors.append(f"检索词最多 {QUERY_MAX} 个字，请缩短后再试。")
        q = q[:QUERY_MAX]
    form.q = q
    status = params.get("status", "") or "in_force"
    if status in STATUS_FILTERS:
        form.status = status
    else:
        form.errors.append("无法识别的效力状态。")
    kind = params.get("kind", "")
    if kind in KIND_SLUGS or not kind:
        form.kind = kind
    else:
        form.errors.append("无法识别的文件类别。")
    body = _SPACES.sub(" ", _CONTROL.sub(" ", params.get("body", ""))).strip()
    if len(body) > BODY_MAX:
        form.errors.append("制定机关名称过长。")
    else:
        form.body = body
    year = params.get("year", "").strip()
    if year and not (year.isascii() and year.isdigit() and 1900 <= int(year) <= 2200):
        form.errors.append("年份应为四位数字，例如 2024。")
    elif year:
        form.year = year
    valid_on = params.get("valid_on", "").strip()
    if valid_on:
        try:
            form.valid_on = dates.parse_user_date(valid_on).isoformat()
        except dates.DateOutOfRange:
            form.errors.append(dates.OUT_OF_RANGE)
        except ValueError:
            form.errors.append("日期格式应为 年-月-日，例如 2025-01-01。")
    sort = params.get("sort", "")
    if sort in ("", "relevance", "date"):
        form.sort = sort
    else:
        form.errors.append("无法识别的排序方式。")
    page = params.get("page", "")
    if len(page) > TOKEN_MAX or _CONTROL.search(page):
        form.errors.append("翻页参数无效，请从第一页重新检索。")
    else:
        form.page = page
    return form
