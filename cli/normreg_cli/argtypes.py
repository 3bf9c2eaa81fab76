"""Argument types the global options use too: kept apart from options.py, which needs the command
module these are used by."""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable


def bounded_number(most: float, unit: str) -> Callable[[str], float]:
    """A number more than 0 and at most `most` (`unit` names it in the message): not inf or nan."""

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
        if not math.isfinite(value) or not 0 < value <= most:
            raise argparse.ArgumentTypeError(f"{text!r}: give more than 0 and at most {most:g} {unit}")
        return value

    return parse


def travels_in_a_header(token: str) -> bool:
    """Visible ASCII, no spaces: what a bearer token in an HTTP header is made of (a JWT: base64url
    and dots)."""
    return all("!" <= c <= "~" for c in token)


def bearer_token(text: str) -> str:
    token = text.strip()
    if not travels_in_a_header(token):
        raise argparse.ArgumentTypeError(
            "a token is made of visible ASCII characters only (a JWT: letters, digits, -_.)"
        )
    return token
