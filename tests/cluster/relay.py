"""A TCP relay: `python relay.py LISTEN_PORT TARGET_PORT` forwards 127.0.0.1:LISTEN_PORT to
127.0.0.1:TARGET_PORT, byte for byte, one upstream connection per client connection.

Used only by the cluster harness's self-test mode (COFFER_CLUSTER_RELAYS=N, see README.md):
N relays in front of one embedded server stand in for N nodes, so the multi-node tests and
the history checker can be exercised before a shared metadata backend exists. Killing a relay
with SIGKILL resets its connections exactly as a crashed node would; the server behind it
keeps running (so it does not test a node's durability).
"""

import asyncio
import sys


async def _pipe(reader, writer):
    try:
        while True:
            data = await reader.read(1 << 16)
            if not data:
                break
            writer.write(data)
            await writer.drain()
    except (ConnectionError, OSError):
        pass
    finally:
        try:
            writer.close()
        except (ConnectionError, OSError):
            pass


async def _serve(listen_port, target_port):
    async def handle(client_reader, client_writer):
        try:
            upstream_reader, upstream_writer = await asyncio.open_connection(
                "127.0.0.1", target_port)
        except OSError:
            client_writer.close()
            return
        await asyncio.gather(_pipe(client_reader, upstream_writer),
                             _pipe(upstream_reader, client_writer))

    server = await asyncio.start_server(handle, "127.0.0.1", listen_port, reuse_address=True)
    print("relay 127.0.0.1:%d -> 127.0.0.1:%d" % (listen_port, target_port), flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(_serve(int(sys.argv[1]), int(sys.argv[2])))
