"""The floor for the write path: a bare grpc.aio service that returns what it receives.

It answers `bench.Echo/Echo` (for the Python driver) and, under the registry's own method names,
`normreg.v1.RegistryService/CreateDocument` (for ghz, which needs a method it has a schema for). The
echoed CreateDocumentRequest decodes as a Document: the fields it carries have compatible types.
"""

from __future__ import annotations

import asyncio
import sys

import grpc


async def _echo(request: bytes, context: grpc.aio.ServicerContext) -> bytes:
    return request


async def main(port: int) -> None:
    server = grpc.aio.server()
    echo = grpc.unary_unary_rpc_method_handler(_echo)
    server.add_generic_rpc_handlers(
        (
            grpc.method_handlers_generic_handler("bench.Echo", {"Echo": echo}),
            grpc.method_handlers_generic_handler("normreg.v1.RegistryService", {"CreateDocument": echo}),
        )
    )
    server.add_insecure_port(f"127.0.0.1:{port}")
    await server.start()
    print("ready", flush=True)
    await server.wait_for_termination()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1])))
