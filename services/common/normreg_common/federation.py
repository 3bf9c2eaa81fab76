"""Trust between jurisdictions on one shared event cluster.

Any deployment with access to the cluster could write to another's topics, so a recipient believes
a filing, an outcome or a revocation only when the jurisdiction it claims to come from signed it:
the sender signs each cross-jurisdiction event with its Ed25519 key (the `jurisdiction` and
`jurisdictionsig` extension attributes), the receiver verifies it against the keys its profile lists
for that jurisdiction. Signatures, not only Kafka ACLs: an ACL says who may write to a topic, not
who wrote an event that was copied, replayed or relayed; a signature travels with the event and is
checked the same way on the embedded log. (ACLs per topic prefix are still worth setting.)

What is signed is the envelope, not a rendering of the payload: the CloudEvents context attributes
(id, source, type, subject, time, sequence, datacontenttype, dataschema, jurisdiction) and the
SHA-256 of the data's bytes. A payload may change encoding (JSON today, a protobuf message named by
`dataschema`) without touching this module, and an extension attribute a newer sender adds (or a
hop-specific one such as `traceparent`) neither breaks nor weakens the check.

An event that fails is raised as `Untrusted`; consumers set it aside as a dead letter with that
reason, and never apply it. A replay of an event already applied is refused by the consumer's
per-stream sequence (inbox).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from normreg_common.events import CloudEvent, canonical_json


class Untrusted(ValueError):
    """A cross-jurisdiction event that must not be applied; `reason` says why."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(f"{reason}: {message}")
        self.reason = reason


# The registry's events that cross to another jurisdiction: what a recipient's filing service reads
# from a subordinate's stream (a promulgation naming its bodies, a filing sent to one of them, with
# its materials; and the steps that take a version into force or out of it, which say whether a
# review suggestion may still be made on it). The registry signs these; the recipient verifies these
# and reads no other.
CROSSING_REGISTRY_EVENTS = frozenset(
    "normreg.registry.v1." + action
    for action in (
        "promulgated",
        "filing_recorded",
        "entered_into_force",
        "amended",
        "repealed",
        "declared_invalid",
        "expired",
    )
)

# The context attributes a signature covers; `jurisdictionsig` itself and the extensions that
# change from hop to hop (traceparent, tracestate) or carry their own proof (checkpoint) are not.
SIGNED_ATTRIBUTES = frozenset(
    {"specversion", "id", "source", "type", "subject", "time", "datacontenttype", "dataschema", "sequence"}
    | {"jurisdiction"}
)


def data_bytes(event: CloudEvent) -> bytes:
    """The bytes of the event's payload as signed: its canonical JSON (sorted keys, no spaces), which
    any reader that parsed the event computes alike."""
    return canonical_json(event.data).encode()


def _signed_bytes(event: CloudEvent) -> bytes:
    # Read attribute by attribute: a model dump of the event costs as much as the data's digest.
    context: dict[str, object] = {name: getattr(event, name) for name in SIGNED_ATTRIBUTES}
    context["time"] = event.time.isoformat()
    context["datasha256"] = hashlib.sha256(data_bytes(event)).hexdigest()
    return canonical_json({k: v for k, v in context.items() if v is not None}).encode()


def sign(event: CloudEvent, jurisdiction: str, key: Ed25519PrivateKey) -> CloudEvent:
    """`event` as sent by `jurisdiction`, signed with its key."""
    claimed = event.model_copy(update={"jurisdiction": jurisdiction, "jurisdictionsig": None})
    signature = key.sign(_signed_bytes(claimed))
    return claimed.model_copy(update={"jurisdictionsig": base64.b64encode(signature).decode()})


@dataclass(frozen=True)
class Signer:
    """A deployment's identity between jurisdictions: its name (the profile's) and its key."""

    jurisdiction: str
    key: Ed25519PrivateKey

    def sign(self, event: CloudEvent) -> CloudEvent:
        return sign(event, self.jurisdiction, self.key)

    @property
    def public_key(self) -> str:
        return public_key_text(self.key)


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
