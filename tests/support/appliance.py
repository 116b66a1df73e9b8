# Run by tests/appliance.rs as `python3.X -I -c <this text>` inside an empty root that holds
# only the interpreter and the C library files ldd names: every module below must come from
# the binary (frozen, or built in), and work. One "ok ..." line per module; then a deliberate
# error, whose traceback must show the frozen source lines.
import sys

BUILT_IN = ["_ssl", "_hashlib", "_sqlite3", "_ctypes", "_decimal", "_json", "zlib", "_lzma",
            "_bz2", "_socket", "select", "_asyncio", "_uuid", "_datetime", "unicodedata",
            "pyexpat", "_elementtree", "_csv", "_blake2", "math", "_zoneinfo"]
absent = [m for m in BUILT_IN if m not in sys.builtin_module_names]
assert not absent, f"not built in: {absent}"
print("ok built-in", len(sys.builtin_module_names))

import ssl
ctx = ssl.create_default_context()
assert ctx.verify_mode == ssl.CERT_REQUIRED and ctx.check_hostname
print("ok ssl", ssl.OPENSSL_VERSION.split()[0])

import hashlib
assert hashlib.sha256(b"pyfreeze").hexdigest() == \
    "f5dc469890163e6b5b06361af3858e1404478bb7bd76ad8ff9e475331cb83249"
assert hashlib.blake2b(b"pyfreeze", digest_size=16).hexdigest() == \
    "3f3967ab4eb031d1a36558b65f96ad28"
assert "sha3_256" in hashlib.algorithms_available
print("ok hashlib")

import sqlite3
db = sqlite3.connect(":memory:")
db.execute("create table t (n integer)")
db.executemany("insert into t values (?)", [(i,) for i in range(10)])
assert db.execute("select sum(n) from t").fetchone() == (45,)
print("ok sqlite3", sqlite3.sqlite_version)

import ctypes, os
libc = ctypes.CDLL("libc.so.6")
assert libc.getpid() == os.getpid()
values = (ctypes.c_int * 5)(5, 1, 4, 2, 3)
CMP = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_int), ctypes.POINTER(ctypes.c_int))
libc.qsort(values, 5, ctypes.sizeof(ctypes.c_int), CMP(lambda a, b: a[0] - b[0]))
assert list(values) == [1, 2, 3, 4, 5]
print("ok ctypes")

import decimal
decimal.getcontext().prec = 30
assert str(decimal.Decimal(1) / decimal.Decimal(7)) == "0.142857142857142857142857142857"
print("ok decimal")

import json
assert json.loads(json.dumps({"a": [1, 2.5, None]})) == {"a": [1, 2.5, None]}
print("ok json")

import zlib, lzma, bz2
data = b"pyfreeze " * 1000
assert zlib.decompress(zlib.compress(data)) == data
assert lzma.decompress(lzma.compress(data)) == data
assert bz2.decompress(bz2.compress(data)) == data
print("ok zlib lzma bz2")

import asyncio, selectors, socket

async def echo_round_trip():
    async def handle(reader, writer):
        writer.write(await reader.readline())
        await writer.drain()
        writer.close()
    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(b"echo\n")
    line = await reader.readline()
    writer.close()
    server.close()
    await server.wait_closed()
    return line

assert asyncio.run(echo_round_trip()) == b"echo\n"
with selectors.DefaultSelector() as sel:
    a, b = socket.socketpair()
    sel.register(a, selectors.EVENT_READ)
    b.sendall(b"x")
    assert [key.fileobj for key, _ in sel.select(timeout=5)] == [a]
    a.close(), b.close()
print("ok socket selectors asyncio")

import uuid
assert uuid.uuid4().version == 4 and uuid.uuid1().version == 1
print("ok uuid")

import datetime
d = datetime.datetime(2024, 2, 28, 12, 0) + datetime.timedelta(days=1)
assert d.isoformat() == "2024-02-29T12:00:00"
print("ok datetime")

import unicodedata
assert unicodedata.name("\u00e9") == "LATIN SMALL LETTER E WITH ACUTE"
print("ok unicodedata")

import xml.etree.ElementTree as ET
assert ET.fromstring('<a><b x="1"/></a>').find("b").get("x") == "1"
print("ok xml.etree.ElementTree")

import csv, io
assert list(csv.reader(io.StringIO('a,b\n1,"2,3"\n'))) == [["a", "b"], ["1", "2,3"]]
print("ok csv")

import zoneinfo
try:
    zoneinfo.ZoneInfo("Europe/Paris")
    print("ok zoneinfo")
except zoneinfo.ZoneInfoNotFoundError as e:
    # No time zone database on disk and no tzdata package frozen: a clear error.
    print("zoneinfo: no time zone data:", type(e).__name__)

sys.stdout.flush()
json.loads("{")
