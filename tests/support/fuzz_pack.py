"""Fuzzes the stock runtime's pack reader (pyfreeze_runtime.c) from inside an embedding
program: opens every truncation of the pack given, every single-byte change of its header and
index (with the index checksum made right again, so the row checks are reached), and random
multi-byte changes (seeded), and uses every row of each one that opens. The process must not
crash; each bad pack must be an ImportError naming the pack. Prints a JSON summary.

    fuzz_pack.py PACK WORKDIR RANDOM_CASES"""
import json
import os
import random
import struct
import sys

import _pyfreeze

pack_path, work, random_cases = sys.argv[1], sys.argv[2], int(sys.argv[3])
data = open(pack_path, "rb").read()
HEADER = 112
STRINGS_AT, STRINGS_SIZE_AT, CRC_AT = 64, 68, 72


def _table():
    table = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = 0x82F63B78 ^ (c >> 1) if c & 1 else c >> 1
        table.append(c)
    return table


TABLE = _table()


def crc32c(data):
    c = 0xFFFFFFFF
    for b in data:
        c = TABLE[(c ^ b) & 0xFF] ^ (c >> 8)
    return c ^ 0xFFFFFFFF


assert crc32c(b"123456789") == 0xE3069283


def fix_crc(b):
    strings, size = struct.unpack_from("<II", b, STRINGS_AT)
    end = min(strings + size, len(b))
    if HEADER <= end and len(b) >= HEADER:
        struct.pack_into("<I", b, CRC_AT, crc32c(bytes(b[HEADER:end])))


EXPECTED = (ImportError, FileNotFoundError, ValueError, EOFError, TypeError, UnicodeDecodeError)
counts = {"cases": 0, "opened": 0, "rejected": 0, "unnamed": 0}
reasons = set()


def use(handle):
    for name, flags, origin in _pyfreeze.modules(handle):
        for call in (_pyfreeze.find, _pyfreeze.get_code, _pyfreeze.get_source, _pyfreeze.resources):
            try:
                call(name, handle)
            except EXPECTED:
                pass
        try:
            for path in _pyfreeze.resources(name, handle):
                _pyfreeze.read_resource(name, path, handle)
        except EXPECTED:
            pass
        _pyfreeze.package_at(origin.rpartition("/")[0], handle)
    for folder, _origin in _pyfreeze.distributions(handle):
        try:
            for path in _pyfreeze.dist_files(folder, handle):
                _pyfreeze.read_dist_file(folder, path, handle)
        except EXPECTED:
            pass


def case(b):
    counts["cases"] += 1
    path = os.path.join(work, "case-%d.pyfz" % counts["cases"])
    with open(path, "wb") as f:
        f.write(b)
    try:
        handle = _pyfreeze.pack_open(path)
    except ImportError as e:
        counts["rejected"] += 1
        if not str(e).startswith("pyfreeze: pack %s: " % path):
            counts["unnamed"] += 1
        reasons.add(" ".join(str(e).split(": ")[2].split()[:3]))
        return
    counts["opened"] += 1
    use(handle)


for n in range(len(data)):
    case(data[:n])
strings, size = struct.unpack_from("<II", data, STRINGS_AT)
for at in range(strings + size):
    if CRC_AT <= at < CRC_AT + 4:
        continue
    for delta in (1, 0x80, 0xFF):
        b = bytearray(data)
        b[at] ^= delta
        fix_crc(b)
        case(bytes(b))
rng = random.Random(20261201)
for _ in range(random_cases):
    b = bytearray(data)
    for _ in range(rng.randint(1, 8)):
        b[rng.randrange(len(b))] = rng.randrange(256)
    if rng.random() < 0.8:
        fix_crc(b)
    case(bytes(b))
counts["reasons"] = sorted(reasons)
print(json.dumps(counts))
