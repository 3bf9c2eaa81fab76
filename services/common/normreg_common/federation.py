"""Trust between jurisdictions on one shared event cluster.

Any deployment with access to the cluster could write to another's topics, so a recipient believes
a filing, an outcome or a revocation only when the jurisdiction it claims to come from signed it:
the sender signs each cross-jurisdiction event with its Ed25519 key (the `jurisdiction` and
`jurisdictionsig` extension attributes), the receiver verifies it against the keys its profile lists
for that jurisdiction. Signatures, not only Kafka ACLs: an ACL says who may write to a topic, not
who wrote an event that was copied, replayed or relayed; a signature travels with the event and is
checked the same way on the embedded log. (ACLs per topic prefix are still worth setting.)

An event that fails is raised as `Untrusted`; consumers set it aside as a dead letter with that
reason, and never apply it. A replay of an event already applied is dropped by the consumer's
per-stream sequence (inbox), like any duplicate.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterable

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from normreg_common.events import CloudEvent, canonical_json


class Untrusted(ValueError):
    """A cross-jurisdiction event that must not be applied; `reason` says why."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(f"{reason}: {message}")
        self.reason = reason


def _signed_bytes(event: CloudEvent) -> bytes:
    body = event.model_dump(mode="json", exclude={"jurisdictionsig"}, exclude_none=True)
    return canonical_json(body).encode()


def sign(event: CloudEvent, jurisdiction: str, key: Ed25519PrivateKey) -> CloudEvent:
    """`event` as sent by `jurisdiction`, signed with its key."""
    claimed = event.model_copy(update={"jurisdiction": jurisdiction, "jurisdictionsig": None})
    signature = key.sign(_signed_bytes(claimed))
    return claimed.model_copy(update={"jurisdictionsig": base64.b64encode(signature).decode()})


def public_key_text(key: Ed25519PrivateKey) -> str:
    """How a profile lists a jurisdiction's key: base64 of the 32 raw bytes."""
    raw = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return base64.b64encode(raw).decode()


def verify(event: CloudEvent, expected: str, keys: Iterable[str]) -> None:
    """Raises Untrusted unless `event` was signed by `expected` with one of `keys`.

    `expected` is the jurisdiction whose stream (topic prefix) the event was read from: an event
    claiming another sender on that stream is refused even when its signature is good."""
    if event.jurisdiction is None or event.jurisdictionsig is None:
        raise Untrusted("UNSIGNED", f"event {event.id} on the stream of {expected} carries no jurisdiction signature")
    if event.jurisdiction != expected:
        raise Untrusted(
            "WRONG_JURISDICTION", f"event {event.id} claims {event.jurisdiction} on the stream of {expected}"
        )
    try:
        signature = base64.b64decode(event.jurisdictionsig, validate=True)
    except (binascii.Error, ValueError):
        raise Untrusted("MALFORMED_SIGNATURE", f"event {event.id}: the signature is not base64") from None
    known = list(keys)
    if not known:
        raise Untrusted("UNKNOWN_JURISDICTION", f"the profile lists no key for {expected}")
    message = _signed_bytes(event)
    for text in known:
        try:
            Ed25519PublicKey.from_public_bytes(base64.b64decode(text)).verify(signature, message)
            return
        except (InvalidSignature, ValueError, binascii.Error):
            continue
    raise Untrusted("BAD_SIGNATURE", f"event {event.id} is not signed by a key of {expected}")


def private_key_text(key: Ed25519PrivateKey) -> str:
    """How a deployment keeps its own key: base64 of the 32 raw private bytes."""
    raw = key.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption())
    return base64.b64encode(raw).decode()


def private_key_from_text(text: str) -> Ed25519PrivateKey:
    try:
        return Ed25519PrivateKey.from_private_bytes(base64.b64decode(text.strip(), validate=True))
    except (binascii.Error, ValueError):
        raise ValueError("a jurisdiction's signing key is base64 of 32 raw Ed25519 private bytes") from None


def parse_keys(text: str) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """Other jurisdictions' public keys as written in a setting: `name=KEY[ KEY…][,name=KEY…]` (several
    keys of one jurisdiction while it rotates). Each key is checked to be an Ed25519 public key."""
    out: dict[str, list[str]] = {}
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        name, sep, keys = part.partition("=")
        if not sep or not name.strip() or not keys.split():
            raise ValueError(f"{part!r}: expected jurisdiction=KEY[ KEY…]")
        for key in keys.split():
            try:
                Ed25519PublicKey.from_public_bytes(base64.b64decode(key, validate=True))
            except (binascii.Error, ValueError):
                raise ValueError(f"{name.strip()}: {key!r} is not base64 of an Ed25519 public key") from None
            out.setdefault(name.strip(), []).append(key)
    return tuple((name, tuple(keys)) for name, keys in out.items())


def parse_peers(text: str) -> tuple[tuple[str, str], ...]:
    """The other deployments on the shared log, as a setting writes them: `name=topic-prefix,…`
    (`chifeng=chifeng.,wuhai=wuhai.`). Their streams are read under their prefixes."""
    out: dict[str, str] = {}
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        name, sep, prefix = (s.strip() for s in part.partition("="))
        if not sep or not name:
            raise ValueError(f"{part!r}: expected jurisdiction=topic-prefix")
        if name in out:
            raise ValueError(f"{name} is listed twice")
        out[name] = prefix
    return tuple(out.items())
