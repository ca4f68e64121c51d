"""A TCP relay: `python relay.py LISTEN_PORT TARGET_PORT [TARGET_PORT...]` forwards
127.0.0.1:LISTEN_PORT to 127.0.0.1:TARGET_PORT, byte for byte, one upstream connection per
client connection. With several targets it is a round-robin layer-4 load balancer: each
client connection goes to the next target, skipping targets that refuse the connection.

The acceptance suite's two-node pass (COFFER_ACCEPTANCE_NODES=2) puts it in front of two
nodes on one PostgreSQL database.

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


async def _serve(listen_port, target_ports):
    turn = [0]

    async def connect_upstream():
        for _ in range(len(target_ports)):
            port = target_ports[turn[0] % len(target_ports)]
            turn[0] += 1
            try:
                return await asyncio.open_connection("127.0.0.1", port)
            except OSError:
                continue
        return None

    async def handle(client_reader, client_writer):
        upstream = await connect_upstream()
        if upstream is None:
            client_writer.close()
            return
        upstream_reader, upstream_writer = upstream
        await asyncio.gather(_pipe(client_reader, upstream_writer),
                             _pipe(upstream_reader, client_writer))

    server = await asyncio.start_server(handle, "127.0.0.1", listen_port, reuse_address=True)
    print("relay 127.0.0.1:%d -> %s" % (
        listen_port, ", ".join("127.0.0.1:%d" % p for p in target_ports)), flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(_serve(int(sys.argv[1]), [int(port) for port in sys.argv[2:]]))
