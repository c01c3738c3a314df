"""A small fast HTTP/1.1 upstream for the proxy bench: python3 fast_upstream.py PORT.
asyncio, one fixed answer ("ok", Content-Length) to every request head, keep-alive unless
the request says close; prints "listening PORT". Bodies are not expected."""
import asyncio
import sys

ANSWER = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nok"


class Answer(asyncio.Protocol):
    def connection_made(self, transport):
        self.t = transport
        self.buf = b""

    def data_received(self, data):
        self.buf += data
        while True:
            end = self.buf.find(b"\r\n\r\n")
            if end < 0:
                return
            head, self.buf = self.buf[:end], self.buf[end + 4:]
            self.t.write(ANSWER)
            if b"\nconnection: close" in head.lower():
                self.t.close()
                return


async def main():
    loop = asyncio.get_running_loop()
    server = await loop.create_server(Answer, "127.0.0.1", int(sys.argv[1]), backlog=1024)
    print("listening", server.sockets[0].getsockname()[1], flush=True)
    await server.serve_forever()


asyncio.run(main())
