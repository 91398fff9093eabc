# SPDX-License-Identifier: BSD-2-Clause
"""A minimal writer of the "newc" cpio format the kernel unpacks as its
initramfs (Documentation/driver-api/early-userspace/buffer-format.rst).

Regular files, directories, symbolic links and device nodes; hard links
are written as separate copies (simpler, and the kernel does not care).
Archives can be concatenated: the kernel unpacks them one after another,
later entries replacing earlier ones.
"""
import os
import stat

TRAILER = "TRAILER!!!"


class Writer:
    def __init__(self, f):
        self.f = f
        self.ino = 1
        self.dirs = set()

    def _pad(self):
        n = (-self.f.tell()) % 4
        if n:
            self.f.write(b"\0" * n)

    def _entry(self, name, mode, data=b"", rdev=(0, 0), mtime=0):
        name_b = name.encode() + b"\0"
        fields = (self.ino, mode, 0, 0, 1, mtime, len(data), 0, 0, rdev[0], rdev[1], len(name_b), 0)
        self.ino += 1
        self.f.write(b"070701" + b"".join(b"%08X" % v for v in fields))
        self.f.write(name_b)
        self._pad()
        self.f.write(data)
        self._pad()

    def mkdirs(self, name):
        """Every parent directory of name, once."""
        parts = name.split("/")[:-1]
        for i in range(1, len(parts) + 1):
            d = "/".join(parts[:i])
            if d and d not in self.dirs:
                self.dirs.add(d)
                self._entry(d, stat.S_IFDIR | 0o755)

    def add_bytes(self, name, data, perm=0o644):
        self.mkdirs(name)
        self._entry(name, stat.S_IFREG | perm, data)

    def add_node(self, name, kind, major, minor, perm=0o600):
        self.mkdirs(name)
        self._entry(name, kind | perm, rdev=(major, minor))

    def add_path(self, name, path):
        """One file system object (not following symbolic links)."""
        st = os.lstat(path)
        mode = st.st_mode
        self.mkdirs(name)
        if stat.S_ISDIR(mode):
            if name not in self.dirs:
                self.dirs.add(name)
                self._entry(name, mode, mtime=int(st.st_mtime))
        elif stat.S_ISLNK(mode):
            self._entry(name, mode, os.readlink(path).encode(), mtime=int(st.st_mtime))
        elif stat.S_ISREG(mode):
            with open(path, "rb") as src:
                self._entry(name, mode, src.read(), mtime=int(st.st_mtime))
        elif stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
            self._entry(name, mode, rdev=(os.major(st.st_rdev), os.minor(st.st_rdev)))
        # sockets and fifos are left out

    def add_tree(self, prefix, top, exclude=()):
        """The tree under top as prefix/... (prefix "" for the root),
        without the relative paths in exclude and what is below them."""
        for dirpath, dirnames, filenames in os.walk(top):
            rel = os.path.relpath(dirpath, top)
            rel = "" if rel == "." else rel
            dirnames[:] = sorted(d for d in dirnames if os.path.join(rel, d) not in exclude)
            if rel or prefix:
                self.add_path(os.path.join(prefix, rel).rstrip("/"), dirpath)
            for fn in sorted(filenames) + [d for d in dirnames if os.path.islink(os.path.join(dirpath, d))]:
                r = os.path.join(rel, fn)
                if r not in exclude:
                    self.add_path(os.path.join(prefix, r), os.path.join(dirpath, fn))

    def close(self):
        self._entry(TRAILER, 0)
