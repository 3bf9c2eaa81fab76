"""The claims a bearer token must carry, checked by a schema before anyone is believed.

A signed token is only as good as what it says: `org: null` must not become the organisation
"None", nor `roles: 7` an error deep in a handler. Whatever does not fit is UNAUTHENTICATED.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StrictFloat, StrictInt, StrictStr, ValidationError

from normreg_common.errors import Unauthenticated
from normreg_common.principal import Principal, Role
from normreg_common.text import NAME_MAX, identifier

_Identifier = Annotated[StrictStr, AfterValidator(identifier), Field(max_length=NAME_MAX)]


class Claims(BaseModel):
    # Registered claims we do not read (aud, nbf, jti…) may be present; ours are strict.
    model_config = ConfigDict(extra="ignore", frozen=True)

    sub: Annotated[_Identifier, Field(min_length=1)]
    roles: Annotated[list[Role], Field(max_length=len(Role))] = []
    org: _Identifier = ""
    exp: StrictInt | StrictFloat

    def principal(self) -> Principal:
        return Principal(subject=self.sub, roles=frozenset(self.roles), org=self.org)


def claims_of(payload: object) -> Claims:
    try:
        return Claims.model_validate(payload)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "claims"
        raise Unauthenticated(f"invalid bearer token: claim {where}: {first['msg']}") from None
