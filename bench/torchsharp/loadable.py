#!/usr/bin/env python3
"""Make the build output's copy of libLibTorchSharp.so loadable against an older libstdc++ (Debian 12's).

TorchSharp 0.107's libLibTorchSharp.so was linked with GCC 13 and lists GLIBCXX_3.4.32 among the versions it needs
from libstdc++.so.6; Debian 12's libstdc++ (GCC 12) stops at GLIBCXX_3.4.30, and the dynamic loader refuses the
library. The one symbol carrying that version is std::ios_base_library_init(): GCC 13's <iostream> emits an
undefined reference to it (an `.globl` in inline assembly) only to pull in a libstdc++ that initialises the
standard streams itself. Nothing calls it: no relocation names it. So this script, on a copy in the peer's own
build output (never the NuGet cache):

  * finds each version the library needs from libstdc++ that the system's libstdc++ does not define;
  * refuses (exit 1, saying which) if any symbol of that version is the target of a relocation, i.e. really used;
  * otherwise marks the symbols of that version unversioned (what `patchelf --clear-symbol-version` does) and the
    version requirement weak (VER_FLG_WEAK), which glibc's loader accepts when the version is missing.

Idempotent: a library already patched, or one whose needs the system meets, is left as it is.
usage: loadable.py PATH/libLibTorchSharp.so [--libstdcxx PATH]
"""

import os
import struct
import subprocess
import sys

SHT_RELA, SHT_REL, SHT_DYNSYM = 4, 9, 11
SHT_GNU_VERDEF, SHT_GNU_VERNEED, SHT_GNU_VERSYM = 0x6FFFFFFD, 0x6FFFFFFE, 0x6FFFFFFF
VER_FLG_WEAK = 0x2
LIBSTDCXX = "libstdc++.so.6"


class Elf:
    """The parts of a little-endian ELF64 file this script reads: sections, strings, version tables."""

    def __init__(self, data):
        if data[:4] != b"\x7fELF" or data[4] != 2 or data[5] != 1:
            raise ValueError("not a little-endian ELF64 file")
        self.data = data
        shoff, = struct.unpack_from("<Q", data, 0x28)
        shentsize, shnum = struct.unpack_from("<HH", data, 0x3A)
        self.sections = []
        for i in range(shnum):
            _name, typ, _flags, _addr, off, size, link, _info, _align, entsize = struct.unpack_from("<IIQQQQIIQQ", data, shoff + i * shentsize)
            self.sections.append({"type": typ, "offset": off, "size": size, "link": link, "entsize": entsize})

    def section(self, typ):
        return next((s for s in self.sections if s["type"] == typ), None)

    def string(self, strtab, offset):
        start = self.sections[strtab]["offset"] + offset
        return self.data[start:self.data.index(b"\0", start)].decode()

    def verneed(self):
        """(file, version name, version index, offset of the vna_flags field) for every needed version."""
        s = self.section(SHT_GNU_VERNEED)
        out, off = [], s["offset"] if s else None
        while off is not None:
            _ver, cnt, file, aux, nxt = struct.unpack_from("<HHIII", self.data, off)
            a = off + aux
            for _ in range(cnt):
                _hash, _flags, other, name, anext = struct.unpack_from("<IHHII", self.data, a)
                out.append((self.string(s["link"], file), self.string(s["link"], name), other, a + 4))
                a += anext
            off = off + nxt if nxt else None
        return out

    def verdef(self):
        """The version names this library defines."""
        s = self.section(SHT_GNU_VERDEF)
        names, off = set(), s["offset"] if s else None
        while off is not None:
            _ver, _flags, _ndx, cnt, _hash, aux, nxt = struct.unpack_from("<HHHHIII", self.data, off)
            if cnt:
                name, = struct.unpack_from("<I", self.data, off + aux)
                names.add(self.string(s["link"], name))
            off = off + nxt if nxt else None
        return names

    def dynsym_names(self):
        s = self.section(SHT_DYNSYM)
        return [self.string(s["link"], struct.unpack_from("<I", self.data, s["offset"] + i * 24)[0])
                for i in range(s["size"] // 24)]

    def relocated_symbols(self):
        """Indices of dynamic symbols named by some relocation."""
        dynsym = self.sections.index(self.section(SHT_DYNSYM))
        used = set()
        for s in self.sections:
            if s["type"] in (SHT_RELA, SHT_REL) and s["link"] == dynsym:
                size = 24 if s["type"] == SHT_RELA else 16
                for i in range(s["size"] // size):
                    info, = struct.unpack_from("<Q", self.data, s["offset"] + i * size + 8)
                    used.add(info >> 32)
        return used


def system_libstdcxx():
    out = subprocess.run(["ldconfig", "-p"], capture_output=True, text=True).stdout
    for line in out.splitlines():
        if line.strip().startswith(LIBSTDCXX) and "x86-64" in line and "=>" in line:
            return line.split("=>", 1)[1].strip()
    for d in ("/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu", "/usr/lib64", "/lib64"):
        if os.path.exists(os.path.join(d, LIBSTDCXX)):
            return os.path.join(d, LIBSTDCXX)
    return None


def main(argv):
    if len(argv) not in (2, 4) or (len(argv) == 4 and argv[2] != "--libstdcxx"):
        print(__doc__.strip().splitlines()[-1], file=sys.stderr)
        return 2
    path = argv[1]
    std = argv[3] if len(argv) == 4 else system_libstdcxx()
    if not os.path.exists(path):
        print(f"loadable.py: no {path}", file=sys.stderr)
        return 2
    if std is None:
        print(f"loadable.py: no {LIBSTDCXX} found (ldconfig -p lists none)", file=sys.stderr)
        return 1
    with open(path, "rb") as f:
        data = bytearray(f.read())
    with open(std, "rb") as f:
        provided = Elf(f.read()).verdef()
    elf = Elf(data)
    missing = [(name, index, flags_at) for file, name, index, flags_at in elf.verneed()
               if file == LIBSTDCXX and name not in provided]
    if not missing:
        print(f"loadable.py: {os.path.basename(path)} loads as it is against {std}")
        return 0
    pending = [m for m in missing if not struct.unpack_from("<H", data, m[2])[0] & VER_FLG_WEAK]
    if not pending:
        print(f"loadable.py: {os.path.basename(path)} already patched (weak: {', '.join(m[0] for m in missing)})")
        return 0
    versym = elf.section(SHT_GNU_VERSYM)
    names = elf.dynsym_names()
    relocated = elf.relocated_symbols()
    changed = []
    for name, index, flags_at in pending:
        symbols = [i for i in range(len(names)) if struct.unpack_from("<H", data, versym["offset"] + 2 * i)[0] & 0x7FFF == index]
        used = [names[i] for i in symbols if i in relocated]
        if used:
            print(f"loadable.py: {os.path.basename(path)} calls {', '.join(used)} of {name}, which {std} lacks; "
                  f"install a libstdc++ from GCC 13 or newer", file=sys.stderr)
            return 1
        for i in symbols:
            struct.pack_into("<H", data, versym["offset"] + 2 * i, 1)  # VER_NDX_GLOBAL: unversioned
        flags, = struct.unpack_from("<H", data, flags_at)
        struct.pack_into("<H", data, flags_at, flags | VER_FLG_WEAK)
        changed.append(f"{name} ({', '.join(names[i] for i in symbols) or 'no symbol'}, never relocated)")
    tmp = path + ".loadable-tmp"
    with open(tmp, "wb") as f:
        f.write(data)
    os.chmod(tmp, os.stat(path).st_mode)
    os.replace(tmp, path)
    print(f"loadable.py: {os.path.basename(path)}: made weak the requirement of {'; '.join(changed)}, which {std} does not define")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
