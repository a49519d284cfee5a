"""A tiny real HTTP/1.1 server the router tests proxy to, run as its own process.

    python -m tests.runtime.router.backend --name web-1 [--port 0]

Prints ``port N`` once listening. Paths:

- ``/echo`` (any method; ``/continue`` sends ``100 Continue`` first): JSON with the instance
  name, method, target, headers (as a list of [name, value]), body length and sha256, and the
  peer port of the connection;
- ``/download?size=N[&chunked=1]``: N bytes of ``x`` streamed in 64 KiB writes;
- ``/slow?seconds=S``: answers after S seconds; ``/stall``: reads the request, never answers;
- ``/drip?chunks=N&interval=S``: a chunked body of N one-byte chunks, S seconds apart;
- ``/hop``: a response carrying hop-by-hop fields the router must drop;
- ``/close``: answers without Content-Length and closes (a body delimited by the close);
- ``/ws``: a WebSocket handshake, then echoes every frame back (text or binary).

It parses requests itself (no shared code with the router), supports keep-alive, Content-Length
and chunked request bodies, and never buffers an upload whole.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import hashlib
import json
import sys
import urllib.parse

WS_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC11B85"


async def read_body(reader: asyncio.StreamReader, headers: dict[str, str]) -> tuple[int, str]:
    """Consume the request body, returning its length and sha256 (streamed, not buffered)."""
    digest = hashlib.sha256()
    total = 0
    if headers.get("transfer-encoding", "").lower().endswith("chunked"):
        while True:
            size_line = await reader.readuntil(b"\r\n")
            size = int(size_line.split(b";")[0].strip(), 16)
            if size == 0:
                while (await reader.readuntil(b"\r\n")) != b"\r\n":
                    pass
                break
            remaining = size
            while remaining:
                piece = await reader.read(min(remaining, 65536))
                if not piece:
                    raise asyncio.IncompleteReadError(b"", remaining)
                digest.update(piece)
                total += len(piece)
                remaining -= len(piece)
            await reader.readexactly(2)
    else:
        remaining = int(headers.get("content-length", "0"))
        while remaining:
            piece = await reader.read(min(remaining, 65536))
            if not piece:
                raise asyncio.IncompleteReadError(b"", remaining)
            digest.update(piece)
            total += len(piece)
            remaining -= len(piece)
    return total, digest.hexdigest()


class Backend:
    def __init__(self, name: str) -> None:
        self.name = name

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peer_port = writer.get_extra_info("peername")[1]
        try:
            while True:
                try:
                    head = await reader.readuntil(b"\r\n\r\n")
                except (asyncio.IncompleteReadError, ConnectionError):
                    return
                lines = head.decode("latin-1").split("\r\n")
                method, target, _version = lines[0].split(" ", 2)
                header_list = [line.split(":", 1) for line in lines[1:] if line]
                header_list = [[k.strip(), v.strip()] for k, v in header_list]
                headers = {k.lower(): v for k, v in header_list}
                url = urllib.parse.urlsplit(target)
                query = dict(urllib.parse.parse_qsl(url.query))
                if url.path == "/ws":
                    await self.websocket(reader, writer, headers)
                    return
                if url.path == "/continue":  # answers Expect: 100-continue before the body
                    writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
                    await writer.drain()
                length, sha = await read_body(reader, headers)
                if url.path in ("/echo", "/continue"):
                    body = json.dumps(
                        {
                            "instance": self.name,
                            "method": method,
                            "target": target,
                            "headers": header_list,
                            "body_length": length,
                            "body_sha256": sha,
                            "peer_port": peer_port,
                        }
                    ).encode()
                    self.respond(writer, 200, body, "application/json")
                elif url.path == "/download":
                    # Deliberately sloppy: a body even for HEAD, as naive servers do.
                    await self.download(writer, int(query["size"]), query.get("chunked") == "1")
                elif url.path == "/slow":
                    await asyncio.sleep(float(query["seconds"]))
                    self.respond(writer, 200, f"slept {query['seconds']}".encode())
                elif url.path == "/drip":
                    writer.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
                    for _ in range(int(query["chunks"])):
                        await writer.drain()
                        await asyncio.sleep(float(query["interval"]))
                        writer.write(b"1\r\nx\r\n")
                    writer.write(b"0\r\n\r\n")
                elif url.path == "/stall":
                    await asyncio.sleep(3600)
                elif url.path == "/hop":
                    body = b"hop"
                    writer.write(
                        b"HTTP/1.1 200 OK\r\nConnection: keep-alive, X-Secret\r\n"
                        b"X-Secret: internal\r\nKeep-Alive: timeout=5\r\n"
                        b"Proxy-Authenticate: Basic\r\nTrailer: X-Checksum\r\nUpgrade: h2c\r\n"
                        b"X-Kept: yes\r\nContent-Length: 3\r\n\r\n" + body
                    )
                elif url.path == "/close":
                    writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil close")
                    await writer.drain()
                    writer.close()
                    return
                else:
                    self.respond(writer, 404, b"not found")
                await writer.drain()
                if headers.get("connection", "").lower() == "close":
                    return
        except (ConnectionError, asyncio.IncompleteReadError):
            return
        finally:
            writer.close()

    def respond(
        self, writer: asyncio.StreamWriter, status: int, body: bytes, kind: str = "text/plain"
    ) -> None:
        writer.write(
            f"HTTP/1.1 {status} X\r\nContent-Type: {kind}\r\nContent-Length: {len(body)}\r\n"
            f"X-Instance: {self.name}\r\n\r\n".encode()
            + body
        )

    async def download(self, writer: asyncio.StreamWriter, size: int, chunked: bool) -> None:
        framing = "Transfer-Encoding: chunked" if chunked else f"Content-Length: {size}"
        writer.write(f"HTTP/1.1 200 OK\r\n{framing}\r\nX-Instance: {self.name}\r\n\r\n".encode())
        block = b"x" * 65536
        remaining = size
        while remaining:
            piece = block[: min(remaining, len(block))]
            writer.write(b"%x\r\n%b\r\n" % (len(piece), piece) if chunked else piece)
            remaining -= len(piece)
            await writer.drain()
        if chunked:
            writer.write(b"0\r\n\r\n")

    async def websocket(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, headers: dict[str, str]
    ) -> None:
        key = headers["sec-websocket-key"].encode()
        accept = base64.b64encode(
            hashlib.sha1(key + WS_GUID, usedforsecurity=False).digest()
        ).decode()
        writer.write(
            b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            + f"Sec-WebSocket-Accept: {accept}\r\n\r\n".encode()
        )
        while True:
            try:
                first, second = await reader.readexactly(2)
            except asyncio.IncompleteReadError:
                return
            opcode = first & 0x0F
            length = second & 0x7F
            if length == 126:
                length = int.from_bytes(await reader.readexactly(2), "big")
            elif length == 127:
                length = int.from_bytes(await reader.readexactly(8), "big")
            mask = await reader.readexactly(4) if second & 0x80 else b"\0\0\0\0"
            payload = bytes(b ^ mask[i % 4] for i, b in enumerate(await reader.readexactly(length)))
            if opcode == 0x8:
                writer.write(b"\x88\x00")
                await writer.drain()
                return
            writer.write(ws_frame(opcode, payload))
            await writer.drain()


def ws_frame(opcode: int, payload: bytes, mask: bytes | None = None) -> bytes:
    """One unfragmented WebSocket frame (masked when ``mask`` is given, as clients must)."""
    length = len(payload)
    if length < 126:
        size = bytes([length | (0x80 if mask else 0)])
    elif length < 65536:
        size = bytes([126 | (0x80 if mask else 0)]) + length.to_bytes(2, "big")
    else:
        size = bytes([127 | (0x80 if mask else 0)]) + length.to_bytes(8, "big")
    if mask:
        payload = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        return bytes([0x80 | opcode]) + size + mask + payload
    return bytes([0x80 | opcode]) + size + payload


async def main(name: str, port: int) -> None:
    backend = Backend(name)
    server = await asyncio.start_server(backend.serve, "127.0.0.1", port, limit=1 << 20)
    print(f"port {server.sockets[0].getsockname()[1]}", flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--name", required=True)
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()
    try:
        asyncio.run(main(args.name, args.port))
    except KeyboardInterrupt:
        sys.exit(0)
