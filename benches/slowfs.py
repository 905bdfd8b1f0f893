#!/usr/bin/python3
"""slowfs: a passthrough FUSE file system that answers like a slow network.

    /usr/bin/python3 benches/slowfs.py SOURCE MOUNTPOINT [options]

Mounts SOURCE at MOUNTPOINT (read-only unless --writable) and adds --delay-ms
to every request a caller waits for, as one round trip to a file server
would; requests are answered concurrently (each waits without holding up the
others). Needs Debian's python3-pyfuse3 (async: a waiting request costs a
trio task, not a thread), run as root or a user allowed to mount FUSE. Prints one line, "ready", once mounted, and nothing else on stdout.
Unmount with `fusermount3 -u MOUNTPOINT` (or SIGTERM); the counts then go to
--stats.

Delayed, one round trip each: lookup (of a name), getattr, readlink, statfs,
opendir, readdir (one per listing: the whole folder is read at the first
call and the kernel's later calls are served from it, as an SMB listing
returns up to 64 KiB of entries at once), open, read, and with --writable
create, write, setattr, fsync, mkdir, rmdir, unlink, rename, link, symlink.
Not delayed: flush, release, releasedir (the end of a close: releases are
sent in the background and nobody waits for them; flush is answered locally
by SMB clients that hold a lease on a file opened for reading), forget.

Modes:
  (a) default: every lookup and getattr costs a round trip, as on file
      systems whose listings carry names only.
  (b) --listing-attrs: as SMB, a listing carries attributes, and the
      client keeps them for a second (Linux cifs' actimeo=1; Windows keeps
      them longer): the entries of a listing come with entry and attribute
      timeouts of LISTING_CACHE_S, so the kernel asks nothing more of them
      for that long, and a lookup or getattr of an entry of its folder's
      last listing that still reaches this server is answered without the
      delay.

What the kernel caches in mode (a): entry and attribute timeouts are 0, so every
name in a path is looked up again each time a path is resolved (open("a/b/c")
costs three lookups, an openat() relative to an open folder one), and a stat
after a lookup asks again (getattr). The mount's root is never looked up.
File data is not kept between opens, but within one open the kernel reads
ahead, so the number of reads follows its read-ahead size (128 KiB), not the
caller's buffer. A caller killed while its request is waiting here: a read
through the page cache lets go at once (the kernel waits killably for the
page); other requests (lookup, open, readdir, write...) end only when
answered, as on a hard mount.

Known limit: libfuse before 3.16 (Debian bookworm has 3.14; fusepy's libfuse
2 likewise) never tells the kernel that it takes directory requests in
parallel, so the kernel sends the first lookup of each name in a folder, and
the listings of a folder, one at a time. Lookups of names it already knows
(from a listing or an earlier lookup) overlap, as every request does on SMB.
In mode (a) that puts a floor of (names looked up for the first time in one
folder x delay) under the time spent on that folder.

Faults, each PATTERN is [OPS:]GLOB: GLOB (fnmatch, `*` crosses `/`) is
matched against the path from the mount's root ("/SRV/CAP_AB1/x.ini"; a
rename or link matches on either name), OPS a comma list of the requests
above (all of them if left out):
  --stall PATTERN   matching requests never answer until the file given by
                    --release exists (or the process ends); the first one held
                    writes the --held file (its content: request and path).
  --fail PATTERN    matching requests fail with EIO.
  --slow PATTERN:MS matching requests (OPS defaults to read) take MS more.
The counts (every request by name, the delayed ones by name, and their
total) are written as JSON to --stats on unmount and on SIGUSR1, so the ideal
time of a run is delayed_total x delay / concurrency. So is the delay the
delayed requests really got (delayed_seconds, from the request's start to
the end of its wait): a single Python thread wakes a sleeping request late
when it is busy with others, so under load a round trip takes longer than
--delay-ms, for every client alike; delayed_seconds / concurrency is the
ideal at the delay delivered.
"""

import argparse
import errno
import fnmatch
import json
import math
import os
import signal
import stat
import time

import pyfuse3
import trio

# How long a client keeps the attributes a listing carried (mode b).
LISTING_CACHE_S = 1.0

NOT_DELAYED = {"flush", "release", "releasedir", "fsyncdir"}
KNOWN_OPS = {"lookup", "getattr", "readlink", "statfs", "opendir", "readdir", "open", "read",
             "create", "write", "setattr", "fsync", "mkdir", "rmdir", "unlink", "rename",
             "link", "symlink"} | NOT_DELAYED


class Rule:
    """An [OPS:]GLOB pattern, with the milliseconds of --slow."""

    def __init__(self, text, default_ops=None, with_ms=False):
        self.ms = 0
        if with_ms:
            text, _, ms = text.rpartition(":")
            self.ms = float(ms)
        ops = default_ops
        if not text.startswith("/"):
            names, _, text = text.partition(":")
            ops = set(names.split(","))
            if ops - KNOWN_OPS:
                raise SystemExit(f"slowfs: unknown request(s) {sorted(ops - KNOWN_OPS)}")
        if not text.startswith("/"):
            raise SystemExit(f"slowfs: a pattern's glob starts with /: {text!r}")
        self.ops, self.glob = ops, text

    def matches(self, op, paths):
        return (self.ops is None or op in self.ops) and any(
            fnmatch.fnmatchcase(p, self.glob) for p in paths)


class SlowFs(pyfuse3.Operations):
    def __init__(self, args):
        super().__init__()
        self.root = os.path.realpath(args.source)
        self.args = args
        self.delay = args.delay_ms / 1000
        self.stalls = [Rule(t) for t in args.stall]
        self.fails = [Rule(t) for t in args.fail]
        self.slows = [Rule(t, {"read"}, with_ms=True) for t in args.slow]
        # Inodes are ours, one per path, kept for the mount's life.
        self.paths = {pyfuse3.ROOT_INODE: "/"}
        self.inodes = {"/": pyfuse3.ROOT_INODE}
        self.next_inode = pyfuse3.ROOT_INODE + 1
        self.handles = {}  # fh -> inode (for an unlinked file's getattr)
        self.listings = {}  # folder fh -> its entries, read at the first call
        self.listed = {}  # folder path -> names of its last listing (mode b)
        self.ops = {}
        self.delayed = {}
        self.delayed_seconds = 0.0
        self.held_once = False

    # -- the cost of a round trip ------------------------------------------

    async def _op(self, op, *paths):
        self.ops[op] = self.ops.get(op, 0) + 1
        if any(r.matches(op, paths) for r in self.fails):
            raise pyfuse3.FUSEError(errno.EIO)
        if any(r.matches(op, paths) for r in self.stalls):
            await self._hold(op, paths)
        wait = sum(r.ms for r in self.slows if r.matches(op, paths)) / 1000
        delayed = op not in NOT_DELAYED and not (op in ("lookup", "getattr") and self._from_listing(paths))
        if delayed:
            wait += self.delay
            self.delayed[op] = self.delayed.get(op, 0) + 1
        if wait:
            started = trio.current_time()
            await trio.sleep(wait)
            if delayed:
                self.delayed_seconds += trio.current_time() - started

    def _from_listing(self, paths):
        folder, _, name = paths[0].rpartition("/") if paths else ("", "", "")
        return self.args.listing_attrs and name in self.listed.get(folder or "/", ())

    async def _hold(self, op, paths):
        if not self.held_once:
            self.held_once = True
            if self.args.held:
                write_atomically(self.args.held, f"{op} {' '.join(paths)}\n")
        while not (self.args.release and os.path.exists(self.args.release)):
            await trio.sleep(0.02)

    def stats(self):
        return {
            "delay_ms": self.args.delay_ms,
            "listing_attrs": self.args.listing_attrs,
            "ops": dict(sorted(self.ops.items())),
            "delayed": dict(sorted(self.delayed.items())),
            "delayed_total": sum(self.delayed.values()),
            "delayed_seconds": round(self.delayed_seconds, 6),
        }

    # -- paths and inodes ----------------------------------------------------

    def _path(self, inode):
        try:
            return self.paths[inode]
        except KeyError:
            raise pyfuse3.FUSEError(errno.ESTALE)

    def _child(self, parent_inode, name):
        parent = self._path(parent_inode)
        return ("" if parent == "/" else parent) + "/" + os.fsdecode(name)

    def _real(self, path):
        return self.root + path

    def _inode(self, path):
        inode = self.inodes.get(path)
        if inode is None:
            inode, self.next_inode = self.next_inode, self.next_inode + 1
            self.inodes[path], self.paths[inode] = inode, path
        return inode

    def _entry(self, path, st=None, cached=False):
        """The attributes of `path`; `cached`: kept by the kernel for
        LISTING_CACHE_S (what a listing gave, in mode b)."""
        st = st or os.lstat(self._real(path))
        entry = pyfuse3.EntryAttributes()
        for key in ("st_mode", "st_nlink", "st_uid", "st_gid", "st_rdev", "st_size",
                    "st_blksize", "st_blocks", "st_atime_ns", "st_mtime_ns", "st_ctime_ns"):
            setattr(entry, key, getattr(st, key))
        entry.st_ino = self._inode(path)
        entry.entry_timeout = entry.attr_timeout = LISTING_CACHE_S if cached else 0
        return entry

    def _forget_path(self, path):
        inode = self.inodes.pop(path, None)
        if inode is not None:
            self.paths.pop(inode, None)

    def _move(self, old, new):
        self._forget_path(new)
        for path in [p for p in self.inodes if p == old or p.startswith(old + "/")]:
            inode = self.inodes.pop(path)
            moved = new + path[len(old):]
            self.inodes[moved], self.paths[inode] = inode, moved

    # -- reading -----------------------------------------------------------

    async def lookup(self, parent_inode, name, ctx=None):
        path = self._child(parent_inode, name)
        await self._op("lookup", path)
        return errors(self._entry, path, cached=self._from_listing([path]))

    async def getattr(self, inode, ctx=None):
        path = self.paths.get(inode)
        await self._op("getattr", *([path] if path else []))
        if path is None:
            fds = [fh for fh, i in self.handles.items() if i == inode]
            if not fds:
                raise pyfuse3.FUSEError(errno.ESTALE)
            st = os.fstat(fds[0])
            entry = self._entry("/", st)
            entry.st_ino = inode
            return entry
        return errors(self._entry, path, cached=self._from_listing([path]))

    async def readlink(self, inode, ctx):
        path = self._path(inode)
        await self._op("readlink", path)
        return os.fsencode(errors(os.readlink, self._real(path)))

    async def statfs(self, ctx):
        await self._op("statfs", "/")
        sv = os.statvfs(self.root)
        data = pyfuse3.StatvfsData()
        for key in ("f_bavail", "f_bfree", "f_blocks", "f_bsize", "f_favail", "f_ffree",
                    "f_files", "f_frsize", "f_namemax"):
            setattr(data, key, getattr(sv, key))
        return data

    async def opendir(self, inode, ctx):
        path = self._path(inode)
        await self._op("opendir", path)
        # Opened here, as a server would: a folder gone since its lookup
        # fails at the open.
        fh = errors(os.open, self._real(path), os.O_RDONLY | os.O_DIRECTORY)
        self.handles[fh] = inode
        return fh

    async def readdir(self, fh, start_id, token):
        if start_id == 0:
            path = self._path(self.handles[fh])
            await self._op("readdir", path)
            prefix = "" if path == "/" else path
            with os.scandir(fh) as entries:
                listing = sorted((e.name, e.stat(follow_symlinks=False)) for e in entries)
            self.listings[fh] = [(os.fsencode(n), prefix + "/" + n, st) for n, st in listing]
            self.listed[path] = frozenset(n for n, _ in listing)
        for index, (name, path, st) in enumerate(self.listings.get(fh, ())[start_id:], start_id):
            entry = self._entry(path, st, cached=self.args.listing_attrs)
            if not pyfuse3.readdir_reply(token, name, entry, index + 1):
                return

    async def releasedir(self, fh):
        await self._op("releasedir", self.paths.get(self.handles.get(fh), "/"))
        self.listings.pop(fh, None)
        self.handles.pop(fh, None)
        os.close(fh)

    async def open(self, inode, flags, ctx):
        path = self._path(inode)
        await self._op("open", path)
        fh = errors(os.open, self._real(path), flags & (os.O_ACCMODE | os.O_APPEND | os.O_TRUNC))
        self.handles[fh] = inode
        return pyfuse3.FileInfo(fh=fh, keep_cache=False)

    async def read(self, fh, off, size):
        await self._op("read", *self._handle_path(fh))
        return os.pread(fh, size, off)

    async def flush(self, fh):
        await self._op("flush", *self._handle_path(fh))

    async def release(self, fh):
        await self._op("release", *self._handle_path(fh))
        self.handles.pop(fh, None)
        os.close(fh)

    def _handle_path(self, fh):
        path = self.paths.get(self.handles.get(fh))
        return [path] if path else []

    # -- writing (--writable) ------------------------------------------------

    async def create(self, parent_inode, name, mode, flags, ctx):
        path = self._child(parent_inode, name)
        await self._op("create", path)
        fh = errors(os.open, self._real(path), os.O_RDWR | os.O_CREAT | (flags & os.O_EXCL), mode)
        self._forget_path(path)
        entry = self._entry(path)
        self.handles[fh] = entry.st_ino
        return pyfuse3.FileInfo(fh=fh, keep_cache=False), entry

    async def write(self, fh, off, buf):
        await self._op("write", *self._handle_path(fh))
        return os.pwrite(fh, buf, off)

    async def setattr(self, inode, attr, fields, fh, ctx):
        path = self._path(inode)
        await self._op("setattr", path)
        real = self._real(path)
        if fields.update_size:
            errors(os.truncate, fh if fh is not None else real, attr.st_size)
        if fields.update_mode:
            errors(os.chmod, real, stat.S_IMODE(attr.st_mode), follow_symlinks=False)
        if fields.update_uid or fields.update_gid:
            uid = attr.st_uid if fields.update_uid else -1
            gid = attr.st_gid if fields.update_gid else -1
            errors(os.chown, real, uid, gid, follow_symlinks=False)
        if fields.update_atime or fields.update_mtime:
            st = os.lstat(real)
            times = (attr.st_atime_ns if fields.update_atime else st.st_atime_ns,
                     attr.st_mtime_ns if fields.update_mtime else st.st_mtime_ns)
            errors(os.utime, real, ns=times, follow_symlinks=False)
        return errors(self._entry, path)

    async def fsync(self, fh, datasync):
        await self._op("fsync", *self._handle_path(fh))
        (os.fdatasync if datasync else os.fsync)(fh)

    async def fsyncdir(self, fh, datasync):
        await self._op("fsyncdir")

    async def mkdir(self, parent_inode, name, mode, ctx):
        path = self._child(parent_inode, name)
        await self._op("mkdir", path)
        errors(os.mkdir, self._real(path), mode)
        return self._entry(path)

    async def rmdir(self, parent_inode, name, ctx):
        path = self._child(parent_inode, name)
        await self._op("rmdir", path)
        errors(os.rmdir, self._real(path))
        self._forget_path(path)

    async def unlink(self, parent_inode, name, ctx):
        path = self._child(parent_inode, name)
        await self._op("unlink", path)
        errors(os.unlink, self._real(path))
        self._forget_path(path)

    async def rename(self, parent_inode_old, name_old, parent_inode_new, name_new, flags, ctx):
        old, new = self._child(parent_inode_old, name_old), self._child(parent_inode_new, name_new)
        await self._op("rename", old, new)
        if flags:
            raise pyfuse3.FUSEError(errno.EINVAL)
        errors(os.rename, self._real(old), self._real(new))
        self._move(old, new)

    async def link(self, inode, new_parent_inode, new_name, ctx):
        source, path = self._path(inode), self._child(new_parent_inode, new_name)
        await self._op("link", source, path)
        errors(os.link, self._real(source), self._real(path), follow_symlinks=False)
        return self._entry(path)

    async def symlink(self, parent_inode, name, target, ctx):
        path = self._child(parent_inode, name)
        await self._op("symlink", path)
        errors(os.symlink, target, self._real(path))
        return self._entry(path)


def errors(call, *args, **kwargs):
    """`call`, its OSError passed on to the caller as the same errno."""
    try:
        return call(*args, **kwargs)
    except OSError as err:
        raise pyfuse3.FUSEError(err.errno or errno.EIO) from None


def write_atomically(path, text):
    temp = f"{path}.{os.getpid()}.tmp"
    with open(temp, "w") as out:
        out.write(text)
    os.replace(temp, path)


class WholeMillisecondClock(trio.abc.Clock):
    """trio's clock, except that it sleeps whole milliseconds: epoll rounds
    a wait up to the next millisecond, which would wake a 2 ms request at up
    to 3 ms. The loop polls through what is left of a millisecond instead
    (a spin of under a millisecond per wake-up), so delays end on time."""

    def start_clock(self):
        pass

    def current_time(self):
        return time.perf_counter()

    def deadline_to_sleep_time(self, deadline):
        left = deadline - time.perf_counter()
        if math.isinf(left):
            return left
        return max(0.0, math.floor(left * 1000) / 1000)


async def serve(filesystem, args):
    def write_stats():
        if args.stats:
            write_atomically(args.stats, json.dumps(filesystem.stats(), indent=1) + "\n")

    async def on_signals(cancel, task_status=trio.TASK_STATUS_IGNORED):
        with trio.open_signal_receiver(signal.SIGUSR1, signal.SIGTERM, signal.SIGINT) as signals:
            task_status.started()
            async for number in signals:
                if number == signal.SIGUSR1:
                    write_stats()
                else:
                    cancel.cancel()

    async with trio.open_nursery() as nursery:
        # Ready only once SIGUSR1 is taken: before, it would end the process.
        await nursery.start(on_signals, nursery.cancel_scope)
        if args.ready:
            write_atomically(args.ready, "ready\n")
        print("ready", flush=True)
        # One task per request under way: held and delayed requests wait in
        # trio.sleep, so thousands can wait at once.
        await pyfuse3.main(min_tasks=8, max_tasks=4096)
        nursery.cancel_scope.cancel()
    write_stats()


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
    parser.add_argument("--stats")
    parser.add_argument("--ready")
    args = parser.parse_args()
    if not stat.S_ISDIR(os.stat(args.source).st_mode):
        raise SystemExit(f"slowfs: {args.source} is not a folder")
    filesystem = SlowFs(args)
    # No default_permissions: with attributes never cached, the kernel would
    # ask for every folder's attributes on each path it resolves.
    options = {"fsname=slowfs"}
    if not args.writable:
        options.add("ro")
    pyfuse3.init(filesystem, args.mountpoint, options)
    try:
        trio.run(serve, filesystem, args, clock=WholeMillisecondClock())
    finally:
        # Unmounts when the loop ended by a signal rather than by fusermount.
        pyfuse3.close(unmount=True)


if __name__ == "__main__":
    main()
