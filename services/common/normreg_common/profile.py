"""Jurisdiction profile: every clock and limit that differs between provinces.

Defaults are those of domain.md (the Chifeng reference case). Standard library only, and the State
Council's holiday arrangement as the chinesecalendar package publishes it (data, no I/O).
"""

from __future__ import annotations

import bisect
import datetime as dt
import functools
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

import chinese_calendar


@dataclass(frozen=True)
class WorkingCalendar:
    """Weekends are rest days; `holidays` adds rest days, `workdays` turns weekend days into work days
    (China's adjusted working weekends, 调休)."""

    holidays: frozenset[dt.date] = frozenset()
    workdays: frozenset[dt.date] = frozenset()

    def is_working_day(self, day: dt.date) -> bool:
        if day in self.workdays:
            return True
        if day in self.holidays:
            return False
        return day.weekday() < 5

    def add_working_days(self, start: dt.date, days: int) -> dt.date:
        """The date `days` working days after `start` (start itself not counted).

        Counted, not walked: a binary search over `_working_before`, so a window of centuries
        costs the same as a week.
        """
        if days <= 0:
            return start
        base = start.toordinal() + 1
        target = self._working_before(base) + days
        low = base
        # N whole weeks hold at least 5N working days less the holidays on weekdays: an upper bound.
        high = base + ((days + len(self._rest_weekdays)) // 5 + 2) * 7
        while low < high:
            middle = (low + high) // 2
            if self._working_before(middle + 1) >= target:
                high = middle
            else:
                low = middle + 1
        return dt.date.fromordinal(low)

    def working_days_between(self, start: dt.date, end: dt.date) -> int:
        """Working days in the inclusive interval [start, end]."""
        if end < start:
            return 0
        return self._working_before(end.toordinal() + 1) - self._working_before(start.toordinal())

    def _working_before(self, ordinal: int) -> int:
        """Working days among the days with ordinals 1 .. ordinal - 1."""
        return (
            _weekdays_before(ordinal)
            - bisect.bisect_left(self._rest_weekdays, ordinal)
            + (bisect.bisect_left(self._working_weekends, ordinal))
        )

    @functools.cached_property
    def _rest_weekdays(self) -> list[int]:
        return sorted(d.toordinal() for d in self.holidays - self.workdays if d.weekday() < 5)

    @functools.cached_property
    def _working_weekends(self) -> list[int]:
        return sorted(d.toordinal() for d in self.workdays if d.weekday() >= 5)


@functools.cache
def china_calendar() -> WorkingCalendar:
    """China's working days: the public holidays (法定节假日) and the weekends worked in their place
    (调休) of each year the State Council has arranged (国务院办公厅关于部分节假日安排的通知), from
    2004 to CHINA_CALENDAR_UNTIL. Later years count weekends only, until the package publishes them."""
    return WorkingCalendar(frozenset(chinese_calendar.holidays), frozenset(chinese_calendar.workdays))


# The last year whose arrangement the calendar holds.
CHINA_CALENDAR_UNTIL = max(chinese_calendar.holidays).year


def _weekdays_before(ordinal: int) -> int:
    """Mondays to Fridays among ordinals 1 .. ordinal - 1 (ordinal 1, 0001-01-01, is a Monday)."""
    weeks, rest = divmod(ordinal - 1, 7)
    return weeks * 5 + min(rest, 5)


@dataclass(frozen=True)
class FilingRoute:
    """Who receives a filing of one kind of document from one issuing body (filing-review.md).

    An empty `issuing_body` is the route for every other issuing body of the jurisdiction (its
    departments): the table names the government and the standing committee, not each bureau.
    """

    kind: str
    recipients: tuple[str, ...]
    issuing_body: str = ""


def city_routes(city: str, province: str) -> tuple[FilingRoute, ...]:
    """The routing table of a city with legislative power (设区的市) in `province`."""
    rule_recipients = ("国务院", f"{city}人大常委会", f"{province}人大常委会", f"{province}人民政府")
    return (
        FilingRoute("GOVERNMENT_RULE", rule_recipients, f"{city}人民政府"),
        # A rule issued in another body's name is still the city government's rule.
        FilingRoute("GOVERNMENT_RULE", rule_recipients),
        FilingRoute("NORMATIVE_DOCUMENT", (f"{province}人民政府", f"{city}人大常委会"), f"{city}人民政府"),
        # A department's normative document goes to the government of its level (its 司法局 receives it).
        FilingRoute("NORMATIVE_DOCUMENT", (f"{city}人民政府",)),
        # A local regulation is approved by the province's standing committee, which files it onwards.
        FilingRoute("LOCAL_REGULATION", (f"{province}人大常委会",)),
    )


def province_routes(province: str) -> tuple[FilingRoute, ...]:
    return (
        FilingRoute("GOVERNMENT_RULE", ("国务院", f"{province}人大常委会")),
        FilingRoute("NORMATIVE_DOCUMENT", ("国务院", f"{province}人大常委会"), f"{province}人民政府"),
        FilingRoute("NORMATIVE_DOCUMENT", (f"{province}人民政府",)),
        FilingRoute("LOCAL_REGULATION", ("全国人大常委会", "国务院")),
    )


@dataclass(frozen=True)
class JurisdictionProfile:
    name: str = "chifeng"
    # The jurisdiction a deployment serves, the bodies that issue documents in it, and its superior.
    jurisdiction: str = "赤峰市"
    issuing_bodies: tuple[str, ...] = ("赤峰市人民政府", "赤峰市人大常委会")
    superior: str = "内蒙古自治区"
    filing_routes: tuple[FilingRoute, ...] = city_routes("赤峰市", "内蒙古自治区")
    # The recipient's own limits (备案审查), in calendar days: materials to be completed after a
    # request (补充报送), a correction to be made (纠正), the recipient's review itself.
    completion_days: int = 15
    correction_days: int = 30
    recipient_review_days: int = 60
    # Trust between jurisdictions: the Ed25519 public keys (base64 of the 32 raw bytes) each other
    # jurisdiction signs its cross-jurisdiction events with, by jurisdiction name.
    federation_keys: tuple[tuple[str, tuple[str, ...]], ...] = ()
    # Which other jurisdiction's deployment receives filings for which recipient bodies (a body no
    # entry names does not run normreg: its outcomes are recorded by hand). The registry believes an
    # outcome for a filing with one of these bodies only from that jurisdiction, signed.
    recipient_jurisdictions: tuple[tuple[str, tuple[str, ...]], ...] = ()
    # A review suggestion (审查建议) is answered to its requester within this many days.
    suggestion_reply_days: int = 60
    timezone: str = "Asia/Shanghai"
    # Public comment minimum: rules in calendar days, normative documents in working days.
    comment_min_days_rules: int = 30
    comment_min_working_days_normative: int = 7
    # Filing with the superior body.
    filing_deadline_days: int = 30
    filing_deadline_in_working_days: bool = False
    # Effective date default delay after promulgation.
    effective_delay_days: int = 30
    # Validity of normative documents.
    validity_years_default: int = 5
    validity_years_max: int = 5
    validity_years_provisional: int = 2
    # Evaluation is due this many months before the validity period ends.
    evaluation_window_months: int = 6
    # Legality review time limit, working days from the request.
    review_time_limit_working_days: int = 15
    # Working days: China's, holidays and 调休 included (WorkingCalendar() counts weekends only).
    calendar: WorkingCalendar = field(default_factory=china_calendar)

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def local_date(self, instant: dt.datetime) -> dt.date:
        return instant.astimezone(self.tz).date()

    def filing_due(self, promulgated: dt.date) -> dt.date:
        if self.filing_deadline_in_working_days:
            return self.calendar.add_working_days(promulgated, self.filing_deadline_days)
        return promulgated + dt.timedelta(days=self.filing_deadline_days)

    def filing_recipients(self, issuing_body: str, kind: str) -> tuple[str, ...]:
        """The recipients of a filing by the routing table: the issuing body's own route, else the
        kind's route for any body, else none (a kind the table does not name is not filed)."""
        general: tuple[str, ...] = ()
        for route in self.filing_routes:
            if route.kind != kind:
                continue
            if route.issuing_body == issuing_body:
                return route.recipients
            if not route.issuing_body and not general:
                general = route.recipients
        return general

    def keys_of(self, jurisdiction: str) -> tuple[str, ...]:
        return next((keys for name, keys in self.federation_keys if name == jurisdiction), ())

    def receives_for(self, jurisdiction: str) -> tuple[str, ...]:
        """The recipient bodies whose filings `jurisdiction`'s deployment receives."""
        return next((bodies for name, bodies in self.recipient_jurisdictions if name == jurisdiction), ())

    def jurisdiction_receiving(self, recipient: str) -> str:
        """The jurisdiction whose deployment receives filings for `recipient`; "" when none does."""
        return next((name for name, bodies in self.recipient_jurisdictions if recipient in bodies), "")

    def completion_due(self, requested: dt.date) -> dt.date:
        return requested + dt.timedelta(days=self.completion_days)

    def correction_due(self, decided: dt.date) -> dt.date:
        return decided + dt.timedelta(days=self.correction_days)

    def recipient_review_due(self, registered: dt.date) -> dt.date:
        return registered + dt.timedelta(days=self.recipient_review_days)

    def suggestion_reply_due(self, received: dt.date) -> dt.date:
        return received + dt.timedelta(days=self.suggestion_reply_days)

    def review_due(self, requested: dt.date) -> dt.date:
        return self.calendar.add_working_days(requested, self.review_time_limit_working_days)


def add_years(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def add_months(day: dt.date, months: int) -> dt.date:
    month_index = day.month - 1 + months
    year = day.year + month_index // 12
    month = month_index % 12 + 1
    for candidate in (day.day, 30, 29, 28):
        try:
            return dt.date(year, month, candidate)
        except ValueError:
            continue
    raise ValueError(f"cannot add {months} months to {day}")


# The province's deployment receives its cities' filings for its government and standing committee.
NEIMENGGU_RECEIVES = (("neimenggu", ("内蒙古自治区人民政府", "内蒙古自治区人大常委会")),)

PROFILES: dict[str, JurisdictionProfile] = {
    "chifeng": JurisdictionProfile(recipient_jurisdictions=NEIMENGGU_RECEIVES),
    # Some provinces require filing within 20 days.
    "filing20": JurisdictionProfile(
        name="filing20", filing_deadline_days=20, recipient_jurisdictions=NEIMENGGU_RECEIVES
    ),
    # A small federation: the province and a second city of it.
    "neimenggu": JurisdictionProfile(
        name="neimenggu",
        jurisdiction="内蒙古自治区",
        issuing_bodies=("内蒙古自治区人民政府", "内蒙古自治区人大常委会"),
        superior="国务院",
        filing_routes=province_routes("内蒙古自治区"),
    ),
    "wuhai": JurisdictionProfile(
        name="wuhai",
        jurisdiction="乌海市",
        issuing_bodies=("乌海市人民政府", "乌海市人大常委会"),
        filing_routes=city_routes("乌海市", "内蒙古自治区"),
        recipient_jurisdictions=NEIMENGGU_RECEIVES,
    ),
}


def get_profile(name: str) -> JurisdictionProfile:
    try:
        return PROFILES[name]
    except KeyError:
        raise ValueError(f"unknown jurisdiction profile {name!r}; known: {sorted(PROFILES)}") from None
