"""The MLLP listener (``manage.py hl7_listen``): labs that push ORU^R01 over TCP instead of HTTP.

python-hl7's asyncio MLLP server frames the messages (<VT> message <FS><CR>); each one goes through the same
``services.receive`` as the HTTP endpoint, in one transaction, and its ACK goes back over the same connection. MLLP
carries no credentials: the listener acts for one interface token, named when it starts (its clinic is the one the
messages are matched in), and checks before every message that the token is still active, so revoking it stops the
feed at once. Bind it to loopback or a VPN address and put TLS in front (stunnel, nginx stream) for a remote lab.

One process serves any number of connections; the ORM runs in Django's one synchronous thread (sync_to_async), so
messages are processed one at a time. A bad message is answered AR and the connection stays open; an oversized one
is answered AR and that connection is closed (the rest of it cannot be framed); a dropped connection ends only
itself. The lab reconnects, as MLLP clients do.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

import hl7.mllp
from asgiref.sync import sync_to_async
from django.db import close_old_connections, transaction

from interfaces.endpoint import log_request
from interfaces.hl7v2 import message as er7
from interfaces.hl7v2 import services as svc
from interfaces.models import InterfaceRequest, InterfaceToken

logger = logging.getLogger("interfaces.hl7v2")


def decode(block: bytes) -> str:
    for encoding in ("utf-8", "cp1252"):
        try:
            return block.decode(encoding)
        except UnicodeDecodeError:
            continue
    return ""  # unreachable: cp1252 decodes nearly every byte; the rest is answered "must start with MSH"


def process_block(token_name: str, block: bytes) -> str:
    """One framed message in, its ACK out (synchronous: the ORM). The token is read afresh for every message."""
    close_old_connections()  # as Django does around each request: a long-lived process must not keep a dead one
    try:
        raw = decode(block)
        token = InterfaceToken.objects.select_related("clinic").filter(name=token_name).first()
        if token is None or not token.is_active:
            log_request(
                interface=InterfaceRequest.Interface.HL7V2,
                caller=None,
                outcome=InterfaceRequest.Outcome.DENIED,
                reason="MLLP listener: token revoked or unknown",
                size=len(block),
            )
            return er7.build_ack(raw, "AR", text="The interface token of this listener is revoked or unknown.")
        with transaction.atomic():
            outcome, ack = svc.receive(token=token, raw=raw, size=len(block))
        logger.info("MLLP message %s: %s", outcome.message_id or "-", outcome.ack)
        return ack
    finally:
        close_old_connections()


class Listener:
    """An MLLP server for one token. ``start`` binds (port 0: any free port; see ``port``), ``serve`` runs it."""

    def __init__(self, *, token_name: str, host: str, port: int, max_bytes: int):
        self.token_name = token_name
        self.host = host
        self.requested_port = port
        self.max_bytes = max_bytes
        self.server: asyncio.Server | None = None
        self._process: Callable = sync_to_async(process_block, thread_sensitive=True)

    @property
    def port(self) -> int:
        assert self.server is not None  # noqa: S101
        return self.server.sockets[0].getsockname()[1]

    async def start(self) -> asyncio.Server:
        self.server = await hl7.mllp.start_hl7_server(
            self.handle, host=self.host, port=self.requested_port, limit=self.max_bytes
        )
        return self.server

    async def serve(self) -> None:
        if self.server is None:
            await self.start()
        assert self.server is not None  # noqa: S101
        async with self.server:
            await self.server.serve_forever()

    async def _answer(self, writer, ack: str) -> None:
        writer.writeblock(ack.encode("utf-8"))
        await writer.drain()

    async def handle(self, reader, writer) -> None:
        """One connection: read framed messages until the lab hangs up."""
        try:
            while True:
                try:
                    block = await reader.readblock()
                except asyncio.IncompleteReadError:
                    break  # the lab closed the connection (between messages or in the middle of one)
                except hl7.mllp.InvalidBlockError:
                    await self._answer(
                        writer, er7.build_ack("", "AR", text="Not an MLLP block: it must start with VT (0x0B).")
                    )
                    continue
                except ValueError:  # over the size limit: the reader has dropped what it buffered
                    text = f"The message is larger than {self.max_bytes} bytes."
                    await self._answer(writer, er7.build_ack("", "AR", text=text))
                    await sync_to_async(_log_too_large, thread_sensitive=True)(self.max_bytes)
                    break
                await self._answer(writer, await self._process(self.token_name, block))
        except ConnectionError:
            pass  # reset by the peer: this connection only
        finally:
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()


def _log_too_large(size: int) -> None:
    close_old_connections()
    log_request(
        interface=InterfaceRequest.Interface.HL7V2,
        caller=None,
        outcome=InterfaceRequest.Outcome.REJECTED,
        reason="MLLP: body too large",
        size=size,
    )
