"""Lookups both database stores ask in their own dialect: the same statement, with the dialect's
parameter mark and, on PostgreSQL, byte order for text ranges."""

from __future__ import annotations


def received_or_owed(
    sender: str, document: str, version: int | None, *, mark: str, collate: str = ""
) -> tuple[str, tuple[str, ...]]:
    """The statement answering FilingRepository.received_or_owed, and its arguments. Every version's
    name of documents/{d} lies between documents/{d}/versions/ and the same with the character after
    "/", compared byte by byte (`collate` makes a database with another default collation do so)."""
    if version is None:
        column = f"document{collate}"
        where = f"sender = {mark} AND {column} >= {mark} AND {column} < {mark}"
        args: tuple[str, ...] = (sender, document + "/versions/", document + "/versions0")
    else:
        where, args = f"sender = {mark} AND document = {mark}", (sender, f"{document}/versions/{version}")
    sql = (
        f"SELECT EXISTS (SELECT 1 FROM received_filings WHERE {where}) "  # noqa: S608 - constants only
        f"OR EXISTS (SELECT 1 FROM seen_promulgations WHERE {where})"
    )
    return sql, args + args
