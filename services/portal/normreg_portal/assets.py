"""The portal's static files, the text ones gzipped for a client that accepts gzip.

The stylesheet blocks the first paint of every page: 11 KB as is, 3 KB gzipped. Each file is
compressed once (kept by path and modification time); the gzipped copy has an ETag of its own, and
both copies say Vary: Accept-Encoding.
"""

from __future__ import annotations

import gzip
import os
from pathlib import Path

from starlette.datastructures import Headers
from starlette.responses import FileResponse, Response
from starlette.staticfiles import NotModifiedResponse, PathLike, StaticFiles
from starlette.types import Scope

from normreg_portal.rendering import accepts_gzip

COMPRESSIBLE = ("text/", "image/svg+xml", "application/json", "application/javascript")


class Assets(StaticFiles):
    def __init__(self, directory: Path) -> None:
        super().__init__(directory=directory)
        self._gzipped: dict[tuple[str, float], bytes] = {}

    def file_response(
        self, full_path: PathLike, stat_result: os.stat_result, scope: Scope, status_code: int = 200
    ) -> Response:
        response = super().file_response(full_path, stat_result, scope, status_code)
        media_type = response.headers.get("content-type", "")
        if status_code != 200 or not isinstance(response, FileResponse) or not media_type.startswith(COMPRESSIBLE):
            return response
        response.headers["vary"] = "Accept-Encoding"
        request = Headers(scope=scope)
        if not accepts_gzip(request.get("accept-encoding", "")):
            return response
        key = (str(full_path), stat_result.st_mtime)
        body = self._gzipped.get(key)
        if body is None:
            body = gzip.compress(Path(full_path).read_bytes(), compresslevel=9, mtime=0)
            self._gzipped[key] = body
        headers = {
            name: value for name, value in response.headers.items() if name not in ("content-length", "accept-ranges")
        }
        headers["etag"] = headers.get("etag", '""')[:-1] + '-gzip"'
        headers["content-encoding"] = "gzip"
        if headers["etag"] in [tag.strip() for tag in request.get("if-none-match", "").split(",")]:
            return NotModifiedResponse(Headers(headers))
        return Response(body, headers=headers)
