"""Uniform numbers (统一编号) of promulgated documents: 赤政规〔2020〕3号.

>>> n = UniformNumber.parse("赤政规〔2020〕3号")
>>> (n.prefix, n.year, n.sequence)
('赤政规', 2020, 3)
>>> str(n)
'赤政规〔2020〕3号'
>>> str(UniformNumber.parse("赤政规[2020]3号"))  # common ASCII brackets are accepted and normalised
'赤政规〔2020〕3号'
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

_PATTERN = re.compile(r"^(?P<prefix>[^\s〔\[（(【]{1,20})[〔\[（(【](?P<year>\d{4})[〕\]）)】]第?(?P<seq>\d{1,6})号\Z")


_INVISIBLE = frozenset({"Cc", "Cf", "Co", "Cs", "Cn", "Zs", "Zl", "Zp"})


@dataclass(frozen=True, order=True)
class UniformNumber:
    prefix: str
    year: int
    sequence: int

    def __post_init__(self) -> None:
        if not self.prefix or any(c in self.prefix for c in "〔〕[]()（）【】 "):
            raise ValueError(f"invalid uniform number prefix {self.prefix!r}")
        # Numbers are unique as printed: a prefix that prints like another must be the same string.
        if any(unicodedata.category(c) in _INVISIBLE for c in self.prefix):
            raise ValueError(f"uniform number prefix {self.prefix!r} has an invisible or control character")
        if not 1900 <= self.year <= 2999:
            raise ValueError(f"invalid year {self.year}")
        if self.sequence < 1:
            raise ValueError("the sequence of a uniform number starts at 1")

    def __str__(self) -> str:
        return f"{self.prefix}〔{self.year}〕{self.sequence}号"

    @classmethod
    def parse(cls, text: str) -> UniformNumber:
        match = _PATTERN.match(text.strip())
        if match is None:
            raise ValueError(f"not a uniform number: {text!r} (expected like 赤政规〔2020〕3号)")
        return cls(match["prefix"], int(match["year"]), int(match["seq"]))


def registration_number(code: str, year: int, sequence: int) -> str:
    """Unified registration number (统一登记号), one series per year for the whole jurisdiction."""
    return f"{code}-{year}-{sequence:04d}"
