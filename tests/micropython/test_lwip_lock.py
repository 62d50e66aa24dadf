"""The lwIP lock rp2 needs (bindings/micropython/linger/lgmp_lock.h).

On MicroPython's rp2 port lwIP runs from PendSV whenever the port's lock
(MICROPY_PY_LWIP_ENTER/EXIT) is not held, so the binding holds it in every
call into linger and lets it go whenever Python runs. The unix port has no
such lock; scripts/micropython.sh builds it with LINGER_LOCK_CHECK=1, which
puts a checking lock in the macros' place: every call into linger's
platform (lgmp_sockets.c wraps each one) and its backend must find it
held, and taking it while it is held (Python ran under it, or a way out of
a locked call kept it) aborts the process. Every MicroPython test runs on
that build. This one makes sure the checks are in it and ran, over the
ways in and out the others may not take: errors raised from inside locked
calls, a failing handler, an exit raised from a callback through the
loop's turn.
"""
import subprocess

from mpyharness import HERE, MP, _die_with_parent, mpy_env, mpy_ready


def test_lock_held_in_linger_and_free_in_python():
    mpy_ready()
    p = subprocess.run([str(MP), "-X", "heapsize=8M", str(HERE / "apps/lock_app.py")],
                       env=mpy_env("linger"), capture_output=True, timeout=60,
                       preexec_fn=_die_with_parent)
    out = p.stdout.decode() + p.stderr.decode()
    assert "lwIP lock check" not in out, out
    assert p.returncode == 0, out
    last = out.strip().splitlines()[-1].split()
    assert last[0] == "ok", out
    taken, checked = int(last[1]), int(last[2])
    # (every request takes the lock a few times; the platform is called
    # for every accept, read, write and close)
    assert taken > 50 and checked > 50, out
