#!/usr/bin/env python3
# aenv_ref.py -- an independent reference implementation of the AENV/1
# `.aspera-env` envelope format (encoder and decoder), written from
# the AENV/1 specification alone (stated in this repository as docs/FORMAT.md), without looking at aenv's TypeScript sources, so
# that aenv and this file are unlikely to share a bug. Used by
# test/interop.test.ts to check that envelopes aenv makes open here and that
# envelopes made here open in aenv.
#
# Needs Python 3.8+ and the `cryptography` package (AES-GCM, ChaCha20-Poly1305,
# HKDF; Debian bookworm's python3-cryptography 38 is enough), and for Argon2id
# either cryptography >= 44 or argon2-cffi (Debian: python3-argon2, bindings to
# the Argon2 reference C implementation). CI uses Debian's packages because this
# workplace cannot reach PyPI; both Argon2id sources are independent of aenv's
# own (OpenSSL / @noble) Argon2id. `aenv_ref.py impl` prints which one is used.
#
# CLI (every command prints one JSON line per file; exit 0 only when all are ok):
#   aenv_ref.py decrypt FILE|DIR PWFILE OUT|OUTDIR
#   aenv_ref.py verify  FILE|DIR [PWFILE]
#   aenv_ref.py encrypt IN|DIR PWFILE OUT|OUTDIR --suite 1|2 --kdf 1|2|3 --chunk-log2 N
#                       [--params P1,P2,P3] [--salt HEX] [--nonce HEX]
#   aenv_ref.py vectors VECTORS_DIR   (checks every entry of VECTORS_DIR/vectors.json:
#                       the three statuses, the plaintext, the intermediate keys)
#   aenv_ref.py impl    (one JSON line: python, cryptography and Argon2id versions;
#                       exit 1 when no Argon2id is available)
# With a directory, every regular file under it (sorted, recursive) is handled;
# encrypt writes OUTDIR/SUB/NAME.aspera-env, decrypt writes OUTDIR/SUB/NAME without
# the `.aspera-env` suffix. One run shares a salt (encrypt) and caches master keys
# keyed by (password, kdf, params, salt), as docs/FORMAT.md "Keys" allows.
# Exit codes: 0 all ok, 1 some file not ok, 2 usage error.

import hashlib
import hmac
import json
import os
import struct
import sys
import unicodedata

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM, ChaCha20Poly1305
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

try:
    from cryptography.hazmat.primitives.kdf.argon2 import Argon2id
except ImportError:  # cryptography < 44 (Debian bookworm has 38)
    Argon2id = None
try:
    from argon2 import low_level as argon2_low_level  # argon2-cffi (Debian: python3-argon2)
except ImportError:
    argon2_low_level = None


def argon2id_impl():
    """Which Argon2id this file uses: cryptography's when it has one, else argon2-cffi's; None if neither."""
    if Argon2id is not None:
        import cryptography
        return "cryptography " + cryptography.__version__
    if argon2_low_level is not None:
        import argon2
        return "argon2-cffi " + getattr(argon2, "__version__", "?")
    return None


def argon2id(P, salt, m, t, p):
    """Argon2id v1.3 (RFC 9106), no secret, no associated data, 32-byte output."""
    if Argon2id is not None:
        return Argon2id(salt=salt, length=32, iterations=t, lanes=p, memory_cost=m,
                        ad=None, secret=None).derive(P)
    if argon2_low_level is not None:
        return argon2_low_level.hash_secret_raw(P, salt, time_cost=t, memory_cost=m, parallelism=p,
                                                hash_len=32, type=argon2_low_level.Type.ID,
                                                version=0x13)
    raise RuntimeError("Argon2id needs cryptography >= 44 or argon2-cffi (python3-argon2)")

MAGIC = b"AENV\r\n\x1a\n"
TRAILER_MAGIC = b"AENVEND\n"
HEADER_LEN = 128
TRAILER_LEN = 40
TAG_LEN = 16
VERSION = 1

SUITE_AES = 1
SUITE_CHACHA = 2
KDF_SCRYPT = 1
KDF_ARGON2ID = 2
KDF_PBKDF2 = 3

DEFAULT_PARAMS = {
    KDF_SCRYPT: (17, 8, 1),
    KDF_ARGON2ID: (65536, 3, 1),
    KDF_PBKDF2: (600000, 0, 0),
}


class UsageError(Exception):
    pass


# ---------------------------------------------------------------- keys

def password_bytes(pw):
    """P = UTF-8 of the NFC-normalized password; never empty."""
    if isinstance(pw, bytes):
        try:
            pw = pw.decode("utf-8", errors="strict")
        except UnicodeDecodeError:
            raise UsageError("password is not valid UTF-8")
    if pw == "":
        raise UsageError("password is empty")
    return unicodedata.normalize("NFC", pw).encode("utf-8")


def read_password_file(path):
    """First line of the file, with one trailing \\n or \\r\\n stripped."""
    with open(path, "rb") as f:
        data = f.read()
    nl = data.find(b"\n")
    line = data if nl < 0 else data[:nl]
    if nl >= 0 and line.endswith(b"\r"):
        line = line[:-1]
    try:
        text = line.decode("utf-8", errors="strict")
    except UnicodeDecodeError:
        raise UsageError("password file is not valid UTF-8")
    if text == "":
        raise UsageError("password is empty")
    return text


def params_ok(kdf, p1, p2, p3):
    """KDF limits of docs/FORMAT.md's table (kdf must already be known)."""
    if kdf == KDF_SCRYPT:
        if not (14 <= p1 <= 20 and 8 <= p2 <= 32 and 1 <= p3 <= 16):
            return False
        return 128 * p2 * (1 << p1) * p3 <= (1 << 30)
    if kdf == KDF_ARGON2ID:
        if not (19456 <= p1 <= 1048576 and 2 <= p2 <= 16 and 1 <= p3 <= 16):
            return False
        return p1 * p2 <= 4194304
    if kdf == KDF_PBKDF2:
        return 100000 <= p1 <= 10000000 and p2 == 0 and p3 == 0
    return False


def derive_master(P, kdf, params, salt):
    p1, p2, p3 = params
    if kdf == KDF_SCRYPT:
        n = 1 << p1
        # OpenSSL counts 128*r*(N+2+p) bytes; the limit allows 128*r*N*p <= 1 GiB.
        maxmem = 128 * p2 * (n + 2 + p3) + (64 << 20)
        return hashlib.scrypt(P, salt=salt, n=n, r=p2, p=p3, maxmem=maxmem, dklen=32)
    if kdf == KDF_ARGON2ID:
        return argon2id(P, salt, p1, p2, p3)
    if kdf == KDF_PBKDF2:
        return hashlib.pbkdf2_hmac("sha256", P, salt, p1, dklen=32)
    raise ValueError("unknown kdf %r" % kdf)


_master_cache = {}


def master_key(P, kdf, params, salt):
    key = (P, kdf, tuple(params), bytes(salt))
    if key not in _master_cache:
        _master_cache[key] = derive_master(P, kdf, params, salt)
    return _master_cache[key]


def hkdf(master, file_nonce, info):
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=file_nonce, info=info).derive(master)


def sub_keys(master, file_nonce):
    return hkdf(master, file_nonce, b"AENV/1 header"), hkdf(master, file_nonce, b"AENV/1 payload")


def aead(suite, key):
    return AESGCM(key) if suite == SUITE_AES else ChaCha20Poly1305(key)


def chunk_nonce(i, last):
    return i.to_bytes(11, "big") + (b"\x01" if last else b"\x00")


# ---------------------------------------------------------------- encode

def encode(plaintext, password, suite, kdf, chunk_log2, params=None, salt=None, file_nonce=None):
    """Seals `plaintext` (bytes) as an AENV/1 envelope; returns its bytes."""
    if suite not in (SUITE_AES, SUITE_CHACHA):
        raise ValueError("suite")
    if kdf not in DEFAULT_PARAMS:
        raise ValueError("kdf")
    if not (12 <= chunk_log2 <= 24):
        raise ValueError("chunk_log2")
    params = tuple(params) if params is not None else DEFAULT_PARAMS[kdf]
    if not params_ok(kdf, *params):
        raise ValueError("KDF parameters outside the limits: %r" % (params,))
    salt = salt if salt is not None else os.urandom(32)
    file_nonce = file_nonce if file_nonce is not None else os.urandom(32)
    if len(salt) != 32 or len(file_nonce) != 32:
        raise ValueError("salt and file_nonce are 32 bytes")
    P = password_bytes(password)
    master = master_key(P, kdf, params, salt)
    header_key, payload_key = sub_keys(master, file_nonce)

    h88 = (MAGIC + bytes([VERSION, suite, kdf, chunk_log2])
           + struct.pack("<III", *params) + salt + file_nonce)
    assert len(h88) == 88
    h120 = h88 + hmac.new(header_key, h88, hashlib.sha256).digest()
    header = h120 + hashlib.sha256(h120).digest()[:8]
    assert len(header) == HEADER_LEN

    C = 1 << chunk_log2
    pieces = [plaintext[i:i + C] for i in range(0, len(plaintext), C)] or [b""]
    cipher = aead(suite, payload_key)
    out = [header]
    for i, piece in enumerate(pieces):
        out.append(cipher.encrypt(chunk_nonce(i, i == len(pieces) - 1), bytes(piece), None))
    body = b"".join(out)
    return body + TRAILER_MAGIC + hashlib.sha256(body).digest()


# ---------------------------------------------------------------- decode

def decode(path, password, mode):
    """Runs decoding steps 1-11 of docs/FORMAT.md on the file at `path`.

    mode is 'decrypt' (needs a password) or 'verify' (password optional).
    Returns a dict: status (ok | not-envelope | unsupported | corrupt |
    wrong-password), step (the step that decided a failure), reason,
    plaintext (bytes, decrypt ok only), digest_warning (decrypt: the trailer
    digest differs although every chunk opened), chunk/offset for a chunk failure.
    """
    if mode not in ("decrypt", "verify"):
        raise ValueError("mode")
    if mode == "decrypt" and password is None:
        raise UsageError("decrypt needs a password")
    P = password_bytes(password) if password is not None else None
    with open(path, "rb") as f:
        data = f.read()
    return decode_bytes(data, P, mode)


def _fail(status, step, reason, **extra):
    r = {"status": status, "step": step, "reason": reason, "plaintext": None, "digest_warning": False}
    r.update(extra)
    return r


def decode_bytes(data, P, mode):
    S = len(data)
    # 1
    if S < 8 or data[0:8] != MAGIC:
        return _fail("not-envelope", 1, "no AENV magic")
    # 2
    if S < 9:
        return _fail("corrupt", 2, "truncated after the magic")
    if data[8] != VERSION:
        return _fail("unsupported", 2, "version %d" % data[8])
    # 3
    if S < HEADER_LEN + TRAILER_LEN:
        return _fail("corrupt", 3, "truncated: %d bytes" % S)
    header = data[:HEADER_LEN]
    # 4
    if hashlib.sha256(header[:120]).digest()[:8] != header[120:128]:
        return _fail("corrupt", 4, "header_check differs")
    # 5
    suite, kdf, chunk_log2 = header[9], header[10], header[11]
    p1, p2, p3 = struct.unpack("<III", header[12:24])
    if suite not in (SUITE_AES, SUITE_CHACHA):
        return _fail("unsupported", 5, "suite %d" % suite)
    if kdf not in (KDF_SCRYPT, KDF_ARGON2ID, KDF_PBKDF2):
        return _fail("unsupported", 5, "kdf %d" % kdf)
    if not (12 <= chunk_log2 <= 24):
        return _fail("unsupported", 5, "chunk_log2 %d" % chunk_log2)
    if not params_ok(kdf, p1, p2, p3):
        return _fail("unsupported", 5, "kdf params %d,%d,%d" % (p1, p2, p3))
    salt = header[24:56]
    file_nonce = header[56:88]
    # 6
    payload_key = None
    if P is not None:
        master = master_key(P, kdf, (p1, p2, p3), salt)
        header_key, payload_key = sub_keys(master, file_nonce)
        if not hmac.compare_digest(hmac.new(header_key, header[:88], hashlib.sha256).digest(), header[88:120]):
            return _fail("wrong-password", 6, "header_mac differs")
    # 7
    C = 1 << chunk_log2
    B = C + TAG_LEN
    L = S - HEADER_LEN - TRAILER_LEN
    if L < TAG_LEN or (L > TAG_LEN and 1 <= L % B <= TAG_LEN):
        return _fail("corrupt", 7, "impossible payload length %d" % L)
    n = -(-L // B)
    # 8
    trailer = data[S - TRAILER_LEN:]
    if trailer[:8] != TRAILER_MAGIC:
        return _fail("corrupt", 8, "trailer magic differs")
    digest_ok = hashlib.sha256(data[:S - TRAILER_LEN]).digest() == trailer[8:40]
    # 9
    if P is None:
        if not digest_ok:
            return _fail("corrupt", 9, "content digest differs")
        return {"status": "ok", "step": None, "reason": "", "plaintext": None, "digest_warning": False}
    # 10
    cipher = aead(suite, payload_key)
    out = []
    for i in range(n):
        off = HEADER_LEN + i * B
        end = min(off + B, HEADER_LEN + L)
        try:
            out.append(cipher.decrypt(chunk_nonce(i, i == n - 1), data[off:end], None))
        except InvalidTag:
            return _fail("corrupt", 10, "chunk %d at offset %d fails its tag" % (i, off), chunk=i, offset=off)
    # 11
    if mode == "verify":
        if not digest_ok:
            return _fail("corrupt", 11, "content digest differs")
        return {"status": "ok", "step": None, "reason": "", "plaintext": None, "digest_warning": False}
    return {"status": "ok", "step": None, "reason": "content digest differs" if not digest_ok else "",
            "plaintext": b"".join(out), "digest_warning": not digest_ok}


# ---------------------------------------------------------------- vectors

def check_vectors(vdir):
    """Yields one result dict per entry of vdir/vectors.json."""
    with open(os.path.join(vdir, "vectors.json"), encoding="utf-8") as f:
        doc = json.load(f)
    for v in doc["vectors"]:
        path = os.path.join(vdir, v["file"])
        problems = []
        got = {}
        for mode, pw, field in (("decrypt", v["password"], "expect"),
                                ("verify", v["password"], "expect_verify"),
                                ("verify", None, "expect_nopassword")):
            r = decode(path, pw, mode)
            got[field] = r["status"]
            if r["status"] != v[field]:
                problems.append("%s: expected %s, got %s (step %s: %s)"
                                % (field, v[field], r["status"], r["step"], r["reason"]))
            if field == "expect" and r["status"] == "ok":
                got["digest_warning"] = r["digest_warning"]
                sha = hashlib.sha256(r["plaintext"]).hexdigest()
                if v.get("plaintext_sha256") and sha != v["plaintext_sha256"]:
                    problems.append("plaintext sha256 %s != %s" % (sha, v["plaintext_sha256"]))
                if v.get("plaintext_len") is not None and len(r["plaintext"]) != v["plaintext_len"]:
                    problems.append("plaintext length %d != %d" % (len(r["plaintext"]), v["plaintext_len"]))
                if v.get("plaintext_file"):
                    with open(os.path.join(vdir, v["plaintext_file"]), "rb") as f:
                        if f.read() != r["plaintext"]:
                            problems.append("plaintext differs from " + v["plaintext_file"])
        inter = v.get("intermediate") or {}
        if inter:
            with open(path, "rb") as f:
                h = f.read(HEADER_LEN)
            kdf = h[10]
            params = struct.unpack("<III", h[12:24])
            master = master_key(password_bytes(v["password"]), kdf, params, h[24:56])
            hk, pk = sub_keys(master, h[56:88])
            for name, val in (("master", master), ("header_key", hk), ("payload_key", pk)):
                if name in inter and inter[name] != val.hex():
                    problems.append("%s %s != %s" % (name, val.hex(), inter[name]))
        yield {"file": v["file"], "ok": not problems, "problems": problems, "got": got}


# ---------------------------------------------------------------- CLI

def _write_atomic(path, data):
    tmp = "%s.%d.partial" % (path, os.getpid())
    try:
        with open(tmp, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def _inputs(src, dst, suffix_add=None, suffix_strip=None):
    """[(input, output)] for a file, or for every regular file under a folder
    (recursively, sorted), the outputs mirroring the folder's tree under dst."""
    if not os.path.isdir(src):
        return [(src, dst)]
    pairs = []
    for root, dirs, files in os.walk(src):
        dirs.sort()
        for n in sorted(files):
            full = os.path.join(root, n)
            if not os.path.isfile(full) or os.path.islink(full):
                continue
            out = None
            if dst is not None:
                o = n
                if suffix_add:
                    o = n + suffix_add
                elif suffix_strip and n.endswith(suffix_strip):
                    o = n[:-len(suffix_strip)]
                odir = os.path.join(dst, os.path.relpath(root, src))
                os.makedirs(odir, exist_ok=True)
                out = os.path.normpath(os.path.join(odir, o))
            pairs.append((full, out))
    return pairs


def _emit(obj):
    sys.stdout.write(json.dumps(obj, sort_keys=True) + "\n")


def main(argv):
    import argparse
    ap = argparse.ArgumentParser(prog="aenv_ref.py", description="AENV/1 reference (docs/FORMAT.md)")
    sub = ap.add_subparsers(dest="cmd", required=True)
    d = sub.add_parser("decrypt")
    d.add_argument("file")
    d.add_argument("pwfile")
    d.add_argument("out")
    v = sub.add_parser("verify")
    v.add_argument("file")
    v.add_argument("pwfile", nargs="?")
    e = sub.add_parser("encrypt")
    e.add_argument("input")
    e.add_argument("pwfile")
    e.add_argument("out")
    e.add_argument("--suite", type=int, required=True, choices=(1, 2))
    e.add_argument("--kdf", type=int, required=True, choices=(1, 2, 3))
    e.add_argument("--chunk-log2", type=int, required=True)
    e.add_argument("--params", help="P1,P2,P3 (default: the encoder defaults)")
    e.add_argument("--salt", help="64 hex digits (default: random, one per run)")
    e.add_argument("--nonce", help="64 hex digits (single file only; default: random)")
    t = sub.add_parser("vectors")
    t.add_argument("dir")
    sub.add_parser("impl")
    a = ap.parse_args(argv)

    if a.cmd == "impl":
        import cryptography
        impl = argon2id_impl()
        _emit({"python": sys.version.split()[0], "executable": sys.executable,
               "cryptography": cryptography.__version__, "argon2id": impl})
        return 0 if impl is not None else 1

    if a.cmd == "vectors":
        all_ok = True
        for r in check_vectors(a.dir):
            all_ok = all_ok and r["ok"]
            _emit(r)
        return 0 if all_ok else 1

    try:
        pw = read_password_file(a.pwfile) if a.pwfile else None
        all_ok = True
        if a.cmd == "encrypt":
            params = tuple(int(x) for x in a.params.split(",")) if a.params else None
            salt = bytes.fromhex(a.salt) if a.salt else os.urandom(32)
            nonce = bytes.fromhex(a.nonce) if a.nonce else None
            pairs = _inputs(a.input, a.out, suffix_add=".aspera-env")
            if nonce is not None and len(pairs) != 1:
                raise UsageError("--nonce needs a single input file")
            for src, dst in pairs:
                with open(src, "rb") as f:
                    plain = f.read()
                env = encode(plain, pw, a.suite, a.kdf, a.chunk_log2, params=params, salt=salt, file_nonce=nonce)
                _write_atomic(dst, env)
                _emit({"file": src, "out": dst, "status": "ok", "bytes": len(env)})
        else:
            mode = a.cmd
            pairs = _inputs(a.file, a.out if mode == "decrypt" else None, suffix_strip=".aspera-env")
            for src, dst in pairs:
                r = decode(src, pw, mode)
                rec = {"file": src, "status": r["status"], "step": r["step"], "reason": r["reason"],
                       "digest_warning": r["digest_warning"]}
                if "chunk" in r:
                    rec["chunk"] = r["chunk"]
                    rec["offset"] = r["offset"]
                if r["status"] == "ok" and mode == "decrypt":
                    _write_atomic(dst, r["plaintext"])
                    rec["out"] = dst
                    rec["plaintext_sha256"] = hashlib.sha256(r["plaintext"]).hexdigest()
                    rec["bytes"] = len(r["plaintext"])
                elif r["status"] != "ok":
                    all_ok = False
                _emit(rec)
        return 0 if all_ok else 1
    except UsageError as ex:
        _emit({"status": "usage-error", "reason": str(ex)})
        return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
