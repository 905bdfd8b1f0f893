#!/usr/bin/python3
"""slowfs: a passthrough FUSE file system that answers like a slow network.

    /usr/bin/python3 benches/slowfs.py SOURCE MOUNTPOINT [options]

Mounts SOURCE at MOUNTPOINT (read-only unless --writable), multithreaded, and
adds --delay-ms to every operation a caller waits for, as one round trip to a
file server would. Needs Debian's python3-fusepy (and libfuse2), run as root
or a user allowed to mount FUSE. Prints one line, "ready", once mounted and
nothing else on stdout. Unmount with `fusermount3 -u MOUNTPOINT` (or SIGTERM);
the operation counts then go to --stats.

Delayed, one round trip each: getattr (the kernel's lookup of a name and its
stat), readlink, statfs, access, opendir, readdir (one call per listing:
libfuse asks once and serves the kernel's later calls from its buffer), open,
read, and with --writable create, write, truncate, fsync, mkdir, rmdir,
unlink, rename, link, symlink, chmod, chown, utimens.
Not delayed: flush, release and releasedir (the end of a close: release is
sent in the background and nobody waits for it; flush is answered locally by
SMB clients that hold a lease on a file opened for reading).

Modes:
  (a) default: a listing carries names only (no file type either), so every
      entry's attributes cost a getattr round trip.
  (b) --listing-attrs: as SMB, a listing carries attributes: readdir returns
      each entry's stat (so d_type too), and a getattr of an entry of the last
      listing of its folder is answered without the delay.

What the kernel still caches: the mount uses attr_timeout=0, entry_timeout=0
and negative_timeout=0, so each name in a path is looked up again (a getattr)
every time a path is resolved: open("a/b/c") costs three getattrs, an
openat() relative to an open folder one. The mount's root is never looked up.
File data is not kept between opens (no kernel_cache), but within one open
the kernel reads ahead, so the number of reads follows its read-ahead size
(128 KiB), not the caller's buffer.

Faults, each PATTERN is [OPS:]GLOB: GLOB (fnmatch, `*` crosses `/`) is
matched against the path from the mount's root ("/SRV/CAP_AB1/x.ini"; a
rename or link matches on either name), OPS a comma list of operation names
above (all operations if left out):
  --stall PATTERN   matching operations never answer until the file given by
                    --release exists (or the process ends); the first one held
                    writes the --held file (its content: operation and path).
  --fail PATTERN    matching operations fail with EIO.
  --slow PATTERN:MS matching operations (OPS defaults to read) take MS more.
  --killable        a held or delayed operation ends with EINTR once the kernel
                    says its caller was interrupted (a fatal signal, or one the
                    caller handles): a server that lets a client give up.
                    Without it nothing answers early, as a hard mount.
The counts (every operation by name, the delayed ones by name, and their
total) are written as JSON to --stats on unmount and on SIGUSR1, so the ideal
time of a run is delayed_total x delay / concurrency.
"""

import argparse
import ctypes
import errno
import fnmatch
import json
import os
import signal
import stat
import sys
import threading
import time

import fusepy

NOT_DELAYED = {"flush", "release", "releasedir", "fsyncdir"}
WRITE_OPS = {"create", "write", "truncate", "fsync", "mkdir", "rmdir", "unlink",
             "rename", "link", "symlink", "chmod", "chown", "utimens"}
KNOWN_OPS = {"getattr", "readlink", "statfs", "access", "opendir", "readdir",
             "open", "read"} | WRITE_OPS | NOT_DELAYED

_fuse_interrupted = fusepy._libfuse.fuse_interrupted
_fuse_interrupted.restype = ctypes.c_int


class Rule:
    """An [OPS:]GLOB pattern, with the milliseconds of --slow."""

    def __init__(self, text, default_ops=None, with_ms=False):
        self.ms = 0
        if with_ms:
            text, _, ms = text.rpartition(":")
            self.ms = int(ms)
        ops = default_ops
        if not text.startswith("/"):
            names, _, text = text.partition(":")
            ops = set(names.split(","))
            unknown = ops - KNOWN_OPS
            if unknown:
                raise SystemExit(f"slowfs: unknown operation(s) {sorted(unknown)}")
        if not text.startswith("/"):
            raise SystemExit(f"slowfs: a pattern's glob starts with /: {text!r}")
        self.ops, self.glob = ops, text

    def matches(self, op, paths):
        return (self.ops is None or op in self.ops) and any(
            fnmatch.fnmatchcase(p, self.glob) for p in paths)


class SlowFs(fusepy.Operations):
    use_ns = True

    def __init__(self, args):
        self.root = os.path.realpath(args.source)
        self.delay = args.delay_ms / 1000
        self.args = args
        self.stalls = [Rule(t) for t in args.stall]
        self.fails = [Rule(t) for t in args.fail]
        self.slows = [Rule(t, {"read"}, with_ms=True) for t in args.slow]
        self.listed = {}  # folder -> names of its last listing (mode b)
        self._mutex = threading.Lock()
        self.ops = {}
        self.delayed = {}
        self.held_once = False

    # -- the cost of a round trip ------------------------------------------

    def _op(self, op, *paths):
        # An open file unlinked since has no path (libfuse passes None).
        paths = [p for p in paths if p is not None]
        with self._mutex:
            self.ops[op] = self.ops.get(op, 0) + 1
        if any(r.matches(op, paths) for r in self.fails):
            raise fusepy.FuseOSError(errno.EIO)
        if any(r.matches(op, paths) for r in self.stalls):
            self._hold(op, paths)
        wait = sum(r.ms for r in self.slows if r.matches(op, paths)) / 1000
        if op not in NOT_DELAYED and not (op == "getattr" and paths and self._from_listing(paths[0])):
            wait += self.delay
            with self._mutex:
                self.delayed[op] = self.delayed.get(op, 0) + 1
        if wait:
            self._sleep(wait)

    def _from_listing(self, path):
        folder, _, name = path.rpartition("/")
        return self.args.listing_attrs and name in self.listed.get(folder or "/", ())

    def _interrupted(self):
        if self.args.killable and _fuse_interrupted():
            raise fusepy.FuseOSError(errno.EINTR)

    def _sleep(self, seconds):
        """Sleeps (the GIL released, so requests overlap); a killable server
        looks for an interrupt every 20 ms of a long wait."""
        if not self.args.killable or seconds <= 0.02:
            time.sleep(seconds)
            return
        until = time.monotonic() + seconds
        while (left := until - time.monotonic()) > 0:
            time.sleep(min(left, 0.02))
            self._interrupted()

    def _hold(self, op, paths):
        with self._mutex:
            first, self.held_once = not self.held_once, True
        if first and self.args.held:
            write_atomically(self.args.held, f"{op} {' '.join(paths)}\n")
        while not (self.args.release and os.path.exists(self.args.release)):
            time.sleep(0.02)
            self._interrupted()

    def stats(self):
        with self._mutex:
            return {
                "delay_ms": self.args.delay_ms,
                "listing_attrs": self.args.listing_attrs,
                "ops": dict(sorted(self.ops.items())),
                "delayed": dict(sorted(self.delayed.items())),
                "delayed_total": sum(self.delayed.values()),
            }

    def _real(self, path):
        return self.root + path

    # -- reading -----------------------------------------------------------

    def init(self, path):
        if self.args.ready:
            write_atomically(self.args.ready, "ready\n")
        print("ready", flush=True)

    def getattr(self, path, fh=None):
        self._op("getattr", path)
        st = os.lstat(self._real(path)) if path is not None else os.fstat(fh)
        return attributes(st)

    def readlink(self, path):
        self._op("readlink", path)
        return os.readlink(self._real(path))

    def statfs(self, path):
        self._op("statfs", path)
        sv = os.statvfs(self._real(path))
        return {k: getattr(sv, k) for k in ("f_bavail", "f_bfree", "f_blocks", "f_bsize", "f_favail",
                                            "f_ffree", "f_files", "f_flag", "f_frsize", "f_namemax")}

    def access(self, path, amode):
        self._op("access", path)
        if not os.access(self._real(path), amode):
            raise fusepy.FuseOSError(errno.EACCES)

    def opendir(self, path):
        self._op("opendir", path)
        # Opened here, as a server would: a folder gone since its lookup
        # fails at the open.
        return os.open(self._real(path), os.O_RDONLY | os.O_DIRECTORY)

    def readdir(self, path, fh):
        self._op("readdir", path)
        with os.scandir(self._real(path)) as entries:
            if not self.args.listing_attrs:
                names = [e.name for e in entries]
                return [".", ".."] + names
            listing = [(e.name, attributes(e.stat(follow_symlinks=False)), 0) for e in entries]
        self.listed[path] = frozenset(name for name, _, _ in listing)
        return [".", ".."] + listing

    def releasedir(self, path, fh):
        self._op("releasedir", path)
        os.close(fh)
        return 0

    def open(self, path, flags):
        self._op("open", path)
        return os.open(self._real(path), flags & (os.O_ACCMODE | os.O_APPEND | os.O_TRUNC))

    def read(self, path, size, offset, fh):
        self._op("read", path)
        return os.pread(fh, size, offset)

    def flush(self, path, fh):
        self._op("flush", path)
        return 0

    def release(self, path, fh):
        self._op("release", path)
        os.close(fh)
        return 0

    # -- writing (--writable) ------------------------------------------------

    def create(self, path, mode, fi=None):
        self._op("create", path)
        return os.open(self._real(path), os.O_RDWR | os.O_CREAT, mode)

    def write(self, path, data, offset, fh):
        self._op("write", path)
        return os.pwrite(fh, data, offset)

    def truncate(self, path, length, fh=None):
        self._op("truncate", path)
        os.truncate(fh if fh is not None else self._real(path), length)

    def fsync(self, path, datasync, fh):
        self._op("fsync", path)
        (os.fdatasync if datasync else os.fsync)(fh)

    def fsyncdir(self, path, datasync, fh):
        self._op("fsyncdir", path)
        return 0

    def mkdir(self, path, mode):
        self._op("mkdir", path)
        os.mkdir(self._real(path), mode)

    def rmdir(self, path):
        self._op("rmdir", path)
        os.rmdir(self._real(path))

    def unlink(self, path):
        self._op("unlink", path)
        os.unlink(self._real(path))

    def rename(self, old, new):
        self._op("rename", old, new)
        os.rename(self._real(old), self._real(new))

    def link(self, target, source):
        # fusepy's order: the new name `target` for the existing `source`.
        self._op("link", source, target)
        os.link(self._real(source), self._real(target))

    def symlink(self, target, source):
        # fusepy's order: the link `target` holding the text `source`.
        self._op("symlink", target)
        os.symlink(source, self._real(target))

    def chmod(self, path, mode):
        self._op("chmod", path)
        os.chmod(self._real(path), mode, follow_symlinks=False)

    def chown(self, path, uid, gid):
        self._op("chown", path)
        os.chown(self._real(path), uid, gid, follow_symlinks=False)

    def utimens(self, path, times=None):
        self._op("utimens", path)
        os.utime(self._real(path), ns=times, follow_symlinks=False)


def attributes(st):
    return {
        "st_mode": st.st_mode, "st_ino": st.st_ino, "st_nlink": st.st_nlink,
        "st_uid": st.st_uid, "st_gid": st.st_gid, "st_size": st.st_size,
        "st_blocks": st.st_blocks, "st_atime": st.st_atime_ns,
        "st_mtime": st.st_mtime_ns, "st_ctime": st.st_ctime_ns,
    }


def write_atomically(path, text):
    temp = f"{path}.{os.getpid()}.tmp"
    with open(temp, "w") as out:
        out.write(text)
    os.replace(temp, path)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("source")
    parser.add_argument("mountpoint")
    parser.add_argument("--delay-ms", type=float, default=0)
    parser.add_argument("--listing-attrs", action="store_true")
    parser.add_argument("--writable", action="store_true")
    parser.add_argument("--stall", action="append", default=[])
    parser.add_argument("--release")
    parser.add_argument("--held")
    parser.add_argument("--fail", action="append", default=[])
    parser.add_argument("--slow", action="append", default=[])
    parser.add_argument("--killable", action="store_true")
    parser.add_argument("--stats")
    parser.add_argument("--ready")
    args = parser.parse_args()
    if not stat.S_ISDIR(os.stat(args.source).st_mode):
        raise SystemExit(f"slowfs: {args.source} is not a folder")
    filesystem = SlowFs(args)

    def write_stats():
        if args.stats:
            write_atomically(args.stats, json.dumps(filesystem.stats(), indent=1) + "\n")

    # libfuse's loop runs in C, where Python's signal handlers never run: a
    # thread of ours takes SIGUSR1 with sigwait instead (blocked everywhere
    # else; libfuse's threads inherit the mask).
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGUSR1})

    def on_sigusr1():
        while True:
            signal.sigwait({signal.SIGUSR1})
            write_stats()

    threading.Thread(target=on_sigusr1, daemon=True).start()
    fusepy.FUSE(filesystem, args.mountpoint, foreground=True, nothreads=False,
                ro=not args.writable, use_ino=True, fsname="slowfs",
                # an unlinked open file is removed, not renamed .fuse_hidden*
                hard_remove=True,
                attr_timeout=0, entry_timeout=0, negative_timeout=0)
    write_stats()


if __name__ == "__main__":
    main()
