#!/usr/bin/env python3
"""tls_test.py - TLS is verified by default, and the password never reaches
the wire (nor any output) when it must not. Standard library only; every
socket is on 127.0.0.1.

    tls_test.py XMSG_BINARY [GROUP...]     groups: starttls direct strip names
                                           hostile
                                           (default: all)

Each case starts tests/tls/evil_server.py (a scripted XMPP-ish server that
records every byte it receives, cleartext and decrypted), runs
`xmsg connect` against it and checks the exit code, error.code of the JSON
status line, and the recording: no <auth and no form of the password
(cleartext, base64 of the SASL PLAIN message, base64 of the password at any
alignment) when the connection must be refused, and <auth> with the
password's base64 when it must not (the recorder is proven to see it). The
stdout and stderr of every run (at -l debug) must hold no form of the
password.

The PKI is made at test time with openssl (bookworm's OpenSSL 3.0:
`openssl x509 -req` cannot backdate, `openssl ca -startdate/-enddate` can)
in a temporary directory. Prints "ok - ..."/"FAIL - ..." lines and
"N passed, N failed"; exits 1 when a check failed. XMSG_TLS_VERBOSE=1
prints each run's result and the server's events; XMSG_TLS_KEEP=1 keeps the
temporary directory (PKI, recordings).
"""

import base64
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
EVIL = os.path.join(HERE, "evil_server.py")
PW = "Sup3r-Secret-Zebra"
USER = "alice"
DAY = 86400
RUN_TIMEOUT = 10  # xmsg -T
HARD_TIMEOUT = 40  # the test kills xmsg after this: a hang

passed = failed = 0
VERBOSE = os.environ.get("XMSG_TLS_VERBOSE") == "1"


def check(name, cond, detail=""):
    global passed, failed
    if cond:
        passed += 1
        print("ok - %s" % name)
    else:
        failed += 1
        print("FAIL - %s" % name)
        if detail:
            for line in str(detail).splitlines():
                print("#   %s" % line)
    sys.stdout.flush()
    return cond


# ---------------------------------------------------------------- secrets

def b64(b):
    return base64.b64encode(b).decode()


def secret_forms(pw=PW, user=USER, domain="localhost"):
    """Every form of the password worth looking for, as bytes."""
    p = pw.encode()
    forms = {
        "password": p,
        "base64(password)": b64(p).rstrip("=").encode(),
        "base64(\\0%s\\0password)" % user:
            b64(b"\0" + user.encode() + b"\0" + p).encode(),
        "base64(%s@%s\\0%s\\0password)" % (user, domain, user):
            b64(("%s@%s" % (user, domain)).encode() + b"\0" + user.encode() +
                b"\0" + p).encode(),
    }
    # The password inside any base64 text, whatever its offset modulo 3:
    # the groups that only its own bytes make up.
    for k in range(3):
        s = (3 - k) % 3
        chunk = p[s:]
        chunk = chunk[:len(chunk) // 3 * 3]
        forms["base64 fragment (offset %d mod 3)" % k] = b64(chunk).encode()
    return forms


SECRETS = secret_forms()


def secrets_in(data):
    return [n for n, f in SECRETS.items() if f in data]


# -------------------------------------------------------------------- PKI

CA_CNF = """\
[ca]
default_ca = tca
[tca]
database = index.txt
new_certs_dir = newcerts
rand_serial = yes
default_md = sha256
policy = pol
unique_subject = no
email_in_dn = no
copy_extensions = none
[pol]
commonName = supplied
organizationName = optional
"""
CA_EXT = """\
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
"""
LEAF_EXT = """\
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyAgreement
extendedKeyUsage = serverAuth
subjectAltName = %s
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
"""


class PKI:
    """Test CAs and server certificates. Dates are relative to now."""

    def __init__(self, d):
        self.d = d
        os.makedirs(os.path.join(d, "newcerts"))
        open(os.path.join(d, "index.txt"), "w").close()
        self.write("ca.cnf", CA_CNF)
        self.write("ca.ext", CA_EXT)
        now = time.time()
        # Two CAs: "ca" is the trusted test CA, "other" an unrelated one.
        for ca in ("ca", "other"):
            self.csr(ca, "xmsg tls test %s CA" % ca)
            self.sign(ca, None, now - 400 * DAY, now + 400 * DAY, "ca.ext")
        loc = "DNS:localhost"
        leaves = [
            ("valid", "localhost", loc, "ca", -DAY, 30 * DAY),
            ("wronghost", "evil.example", "DNS:evil.example", "ca", -DAY,
             30 * DAY),
            ("expired", "localhost", loc, "ca", -30 * DAY, -DAY),
            ("notyet", "localhost", loc, "ca", DAY, 30 * DAY),
            ("othersigned", "localhost", loc, "other", -DAY, 30 * DAY),
            # a certificate for the address the client dials, not the name
            ("ipsan", "127.0.0.1", "IP:127.0.0.1", "ca", -DAY, 30 * DAY),
            # signed by "valid", a leaf (CA:FALSE) that may not sign
            ("leafsigned", "localhost", loc, "valid", -DAY, 30 * DAY),
        ]
        for name, cn, san, issuer, start, end in leaves:
            self.write(name + ".ext", LEAF_EXT % san)
            self.csr(name, cn)
            self.sign(name, issuer, now + start, now + end, name + ".ext")
        # Self-signed, by nobody the client knows.
        self.openssl("req", "-x509", "-newkey", "ec", "-pkeyopt",
                     "ec_paramgen_curve:P-256", "-nodes", "-days", "30",
                     "-subj", "/O=xmsg tls test/CN=localhost",
                     "-addext", "subjectAltName=DNS:localhost",
                     "-keyout", "selfsigned.key", "-out", "selfsigned.crt")

    def path(self, name):
        return os.path.join(self.d, name)

    def write(self, name, text):
        with open(self.path(name), "w") as f:
            f.write(text)

    def openssl(self, *args):
        r = subprocess.run(["openssl"] + list(args), cwd=self.d,
                           capture_output=True, text=True)
        if r.returncode != 0:
            raise RuntimeError("openssl %s failed:\n%s" %
                               (" ".join(args), r.stderr))
        return r.stdout

    def csr(self, name, cn):
        self.openssl("req", "-new", "-newkey", "ec", "-pkeyopt",
                     "ec_paramgen_curve:P-256", "-nodes",
                     "-subj", "/O=xmsg tls test/CN=%s" % cn,
                     "-keyout", name + ".key", "-out", name + ".csr")

    def sign(self, name, issuer, start, end, ext):
        """`openssl ca` sets any notBefore/notAfter, past or future."""
        fmt = "%Y%m%d%H%M%SZ"
        args = ["ca", "-batch", "-notext", "-config", "ca.cnf",
                "-in", name + ".csr",
                "-startdate", time.strftime(fmt, time.gmtime(start)),
                "-enddate", time.strftime(fmt, time.gmtime(end)),
                "-extfile", ext, "-out", name + ".crt"]
        if issuer is None:
            args += ["-selfsign", "-keyfile", name + ".key"]
        else:
            args += ["-cert", issuer + ".crt", "-keyfile", issuer + ".key"]
        self.openssl(*args)
        if issuer is None:
            shutil.copy(self.path(name + ".crt"), self.path(name + ".pem"))

    def describe(self, name):
        return self.openssl("x509", "-in", name + ".crt", "-noout",
                            "-subject", "-issuer", "-dates", "-ext",
                            "subjectAltName,basicConstraints")


# ------------------------------------------------------------------- runs

class Run:
    pass


def run_case(ctx, label, mode, cert, args, jid="%s@localhost" % USER,
             level="debug"):
    """Starts the evil server, runs xmsg connect against it, stops the
    server. Returns a Run with rc, out, err, status, plain, raw, events."""
    r = Run()
    r.label = label
    r.level = level
    ctx["runs"] = ctx.get("runs", 0) + 1
    prefix = os.path.join(ctx["tmp"], "rec-%03d" % ctx["runs"])
    cmd = [sys.executable, EVIL, "--record", prefix, mode]
    if cert:
        cmd += [ctx["pki"].path(cert + ".crt"), ctx["pki"].path(cert + ".key")]
    srv = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
    try:
        line = srv.stdout.readline()
        if not line.startswith("PORT "):
            raise RuntimeError("evil_server did not start: %r" % line)
        port = line.split()[1]
        env = dict(os.environ, XMSG_PASSWORD=PW,
                   XDG_STATE_HOME=os.path.join(ctx["tmp"], "state"))
        argv = [ctx["xmsg"], "connect", "-j", jid, "-H", "127.0.0.1",
                "-P", port, "-T", str(RUN_TIMEOUT), "-l", level] + args
        r.argv = argv
        t0 = time.monotonic()
        try:
            p = subprocess.run(argv, env=env, capture_output=True,
                               timeout=HARD_TIMEOUT)
            r.rc, out, err = p.returncode, p.stdout, p.stderr
            r.hung = False
        except subprocess.TimeoutExpired as e:
            r.rc, out, err = None, e.stdout or b"", e.stderr or b""
            r.hung = True
        r.secs = time.monotonic() - t0
    finally:
        srv.terminate()
        try:
            srv.wait(15)
        except subprocess.TimeoutExpired:
            srv.kill()
            srv.wait()
    r.out, r.err = out, err
    r.status = {}
    lines = [ln for ln in out.decode("utf-8", "replace").splitlines()
             if ln.strip()]
    if lines:
        try:
            r.status = json.loads(lines[-1])
        except ValueError:
            pass
    r.code = (r.status.get("error") or {}).get("code")
    r.text = (r.status.get("error") or {}).get("text")

    def slurp(ext):
        try:
            with open(prefix + ext, "rb") as f:
                return f.read()
        except FileNotFoundError:
            return b""
    r.plain, r.raw = slurp(".plain"), slurp(".raw")
    r.events = slurp(".events").decode()
    if VERBOSE:
        print("# %s: rc=%s %.2fs code=%s text=%s" %
              (label, r.rc, r.secs, r.code, r.text))
        for ev in r.events.splitlines():
            print("#   event %s" % ev)
    return r


def detail(r):
    """What a failing check prints: the run, its result and the log."""
    lines = ["cmd: XMSG_PASSWORD=... %s" % " ".join(r.argv),
             "exit %s after %.1f s%s, error.code=%s, error.text=%s" %
             (r.rc, r.secs, " (HUNG, killed)" if r.hung else "", r.code,
              r.text),
             "server events:"]
    lines += ["  " + e for e in r.events.splitlines()]
    lines += ["status log:"]
    lines += ["  " + ln for ln in r.status.get("log", [])][-40:]
    err = r.err.decode("utf-8", "replace").strip()
    if err:
        lines += ["stderr: " + err]
    return "\n".join(lines)


def check_outputs_clean(r):
    found = secrets_in(r.out + r.err)
    check("%s: no form of the password in stdout/stderr (-l %s)" %
          (r.label, r.level), not found,
          "found: %s\n%s" % (found, detail(r)))


def expect_refused(ctx, label, mode, cert, args, jid="%s@localhost" % USER,
                   code="tls", rc=4):
    """The client must refuse: exit rc / error.code code, no <auth, no
    password on the wire, none in its outputs."""
    r = run_case(ctx, label, mode, cert, args, jid=jid)
    check("%s: exits %s (%s)" % (label, rc, code),
          r.rc == rc and r.code == code, detail(r))
    wire = r.plain + b"\n" + r.raw
    check("%s: no <auth on the wire" % label, b"<auth" not in wire,
          detail(r))
    found = secrets_in(wire)
    check("%s: no form of the password on the wire" % label, not found,
          "found: %s\n%s" % (found, detail(r)))
    check_outputs_clean(r)
    return r


def expect_tls_passes(ctx, label, mode, cert, args, jid="%s@localhost" % USER,
                      level="debug", tls=True):
    """TLS (or plaintext, tls=False) is accepted and the client logs in:
    the evil server refuses the login (exit 5, auth), and its recording
    holds <auth> with the password's base64: the recorder sees it."""
    r = run_case(ctx, label, mode, cert, args, jid=jid, level=level)
    check("%s: %s, the evil server refuses the login: exits 5 (auth)" %
          (label, "TLS accepted" if tls else "plaintext login"),
          r.rc == 5 and r.code == "auth", detail(r))
    if tls:
        check("%s: the handshake completed" % label, "tls-ok" in r.events,
              detail(r))
    check("%s: the recording holds <auth (recorder works)" % label,
          b"<auth" in r.plain and ("auth (%s)" % ("TLS" if tls else
                                                  "CLEARTEXT")) in r.events,
          detail(r))
    plain_msg = SECRETS["base64(\\0%s\\0password)" % USER]
    check("%s: the recording holds the SASL PLAIN message (%s)" %
          (label, plain_msg.decode()), plain_msg in r.plain, detail(r))
    if level == "debug":
        check("%s: the debug log shows the <auth/> it sent, redacted" % label,
              [ln for ln in r.status.get("log", [])
               if "SENT: <auth" in ln and "[redacted]" in ln], detail(r))
    if tls:
        check("%s: the password is not in the raw (encrypted) bytes" % label,
              not secrets_in(r.raw) and b"<auth" not in r.raw, detail(r))
    check_outputs_clean(r)
    return r


# ----------------------------------------------------------------- groups

def group_starttls(ctx):
    ca = ["--ca-file", ctx["pki"].path("ca.pem")]
    other = ["--ca-file", ctx["pki"].path("other.pem")]
    expect_tls_passes(ctx, "starttls valid", "starttls", "valid", ca)
    expect_refused(ctx, "starttls wrong host", "starttls", "wronghost", ca)
    expect_refused(ctx, "starttls expired", "starttls", "expired", ca)
    expect_refused(ctx, "starttls not yet valid", "starttls", "notyet", ca)
    expect_refused(ctx, "starttls unknown self-signed", "starttls",
                   "selfsigned", ca)
    expect_refused(ctx, "starttls valid, --ca-file other CA", "starttls",
                   "valid", other)
    expect_refused(ctx, "starttls signed by another CA", "starttls",
                   "othersigned", ca)
    expect_refused(ctx, "starttls signed by a leaf (CA:FALSE)", "starttls",
                   "leafsigned", ca)
    expect_refused(ctx, "starttls valid, no --ca-file (system store)",
                   "starttls", "valid", [])
    # mandatoryTLS off is no licence to go on after a refused certificate
    expect_refused(ctx, "starttls wrong host, --allow-plaintext", "starttls",
                   "wronghost", ca + ["--allow-plaintext"])
    expect_refused(ctx, "starttls expired, --allow-plaintext", "starttls",
                   "expired", ca + ["--allow-plaintext"])
    # --insecure (trustTLS): accepted, and said so at warn level
    r = expect_tls_passes(ctx, "starttls self-signed, --insecure -l warn",
                          "starttls", "selfsigned", ["--insecure"],
                          level="warn")
    warn = [ln for ln in r.status.get("log", [])
            if ln.startswith("warn ") and "verification is off" in ln]
    check("starttls self-signed, --insecure: the status log warns that "
          "verification is off", warn, detail(r))
    r = expect_tls_passes(ctx, "starttls wrong host, --insecure", "starttls",
                          "wronghost", ["--insecure"])
    warn = [ln for ln in r.status.get("log", [])
            if ln.startswith("warn ") and "verification is off" in ln]
    check("starttls wrong host, --insecure: warned at -l debug too", warn,
          detail(r))


def group_direct(ctx):
    ca = ["--ca-file", ctx["pki"].path("ca.pem"), "--legacy-tls"]
    expect_tls_passes(ctx, "direct valid", "direct", "valid", ca)
    expect_refused(ctx, "direct wrong host", "direct", "wronghost", ca)
    expect_refused(ctx, "direct expired", "direct", "expired", ca)
    expect_refused(ctx, "direct not yet valid", "direct", "notyet", ca)
    expect_refused(ctx, "direct unknown self-signed", "direct", "selfsigned",
                   ca)
    expect_refused(ctx, "direct valid, --ca-file other CA", "direct",
                   "valid", ["--ca-file", ctx["pki"].path("other.pem"),
                             "--legacy-tls"])
    # a cleartext server on the direct-TLS port
    expect_refused(ctx, "direct against a cleartext server", "plain", None,
                   ca)
    expect_tls_passes(ctx, "direct self-signed, --insecure", "direct",
                      "selfsigned", ["--insecure", "--legacy-tls"])


def group_strip(ctx):
    ca = ["--ca-file", ctx["pki"].path("ca.pem")]
    r = expect_refused(ctx, "strip (no STARTTLS offered)", "strip", None, ca)
    check("strip: the client read the features (the attack was seen)",
          "stream to=localhost" in r.events, detail(r))
    expect_refused(ctx, "strip, --insecure (trustTLS keeps mandatoryTLS)",
                   "strip", None, ["--insecure"])
    # A pin makes TLS mandatory: refused with a plaintext fallback (exit 2,
    # before connecting), and a server without STARTTLS gets no login.
    pin = ["--pin", "sha256//" + "A" * 43 + "="]
    expect_refused(ctx, "plain, --allow-plaintext --pin", "plain", None,
                   ca + ["--allow-plaintext"] + pin, code="input", rc=2)
    expect_refused(ctx, "strip, --pin", "strip", None, ca + pin)
    # The positive control: without mandatoryTLS the password does go out
    # in clear, and the recorder catches it.
    r = expect_tls_passes(ctx, "plain, --allow-plaintext", "plain", None,
                          ca + ["--allow-plaintext"], tls=False)
    check("plain, --allow-plaintext: <auth and the password are in the raw "
          "bytes too", b"<auth" in r.raw and secrets_in(r.raw), detail(r))


def group_names(ctx):
    ca = ["--ca-file", ctx["pki"].path("ca.pem")]
    # -H 127.0.0.1 is dialled, the name checked is the JID's domain.
    expect_tls_passes(ctx, "names: localhost cert, -H 127.0.0.1, "
                      "JID @localhost", "starttls", "valid", ca)
    expect_refused(ctx, "names: localhost cert, JID @evil.example",
                   "starttls", "valid", ca, jid="%s@evil.example" % USER)
    expect_tls_passes(ctx, "names: evil.example cert, JID @evil.example",
                      "starttls", "wronghost", ca,
                      jid="%s@evil.example" % USER)
    expect_refused(ctx, "names: cert for IP 127.0.0.1 (the -H address), "
                   "JID @localhost", "starttls", "ipsan", ca)
    expect_refused(ctx, "names: direct, localhost cert, JID @evil.example",
                   "direct", "valid", ca + ["--legacy-tls"],
                   jid="%s@evil.example" % USER)


def group_hostile(ctx):
    """Protocol tricks of a man in the middle around STARTTLS."""
    ca = ["--ca-file", ctx["pki"].path("ca.pem")]
    # <starttls/> refused, then SASL PLAIN offered on the cleartext stream
    expect_refused(ctx, "hostile: <failure/> to <starttls/>, then PLAIN",
                   "tlsfail", None, ca)
    # <starttls/> refused as RFC 6120 5.4.2.2 says: failure, stream closed
    expect_refused(ctx, "hostile: <failure/> to <starttls/>, stream closed",
                   "tlsrefuse", None, ca)
    # <proceed/>, then cleartext XMPP in answer to the ClientHello
    expect_refused(ctx, "hostile: cleartext in answer to the ClientHello",
                   "garbage", None, ca)
    # <proceed/> and cleartext XMPP in the same segment, then silence: the
    # bytes after <proceed/> can only be cleartext (TLS starts with the
    # client's ClientHello): refused at once as tls (exit 4), and nothing
    # of the login leaves.
    expect_refused(ctx, "hostile: cleartext stream in the <proceed/> "
                   "segment", "inject", None, ca + ["-T", "3"])


GROUPS = {"starttls": group_starttls, "direct": group_direct,
          "strip": group_strip, "names": group_names,
          "hostile": group_hostile}


def main():
    if len(sys.argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    xmsg = os.path.abspath(sys.argv[1])
    groups = sys.argv[2:] or list(GROUPS)
    for g in groups:
        if g not in GROUPS:
            print("unknown group %s" % g, file=sys.stderr)
            return 2
    tmp = tempfile.mkdtemp(prefix="xmsg-tls-")
    try:
        pki = PKI(os.path.join(tmp, "pki"))
        if VERBOSE:
            for c in ("valid", "expired", "notyet"):
                print("# %s: %s" % (c, pki.describe(c).replace("\n", " ")))
        ctx = {"xmsg": xmsg, "tmp": tmp, "pki": pki}
        for g in groups:
            GROUPS[g](ctx)
    finally:
        if os.environ.get("XMSG_TLS_KEEP") == "1":
            print("# kept %s" % tmp)
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
