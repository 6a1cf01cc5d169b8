# machine.factory_reset() on the host probe (run by tests/test_factory_reset.py):
#   micropython factory_reset.py DIRECTORY
# bmp_factory is the frozen module; machine.py is the stm32 boards' one, from the source tree.
import os
import sys

import bmp_factory
import vfs

sys.path.insert(0, sys.argv[2])
import machine  # noqa: E402  (modules/frozen/stm32/machine.py over the built-in)

BLOCK = 512
OLD = {"boot.py": "# my boot.py\n", "main.py": "# my main.py\n" * 20}
NEW = dict(bmp_factory.FILES)


def read(path):
    try:
        with open(path) as file:
            return file.read()
    except OSError:
        return None


def put(directory, files):
    for name, text in files.items():
        with open(directory + "/" + name, "w") as file:
            file.write(text)


# 1. A directory of the host: templates in, the previous files kept as .bak.
directory = sys.argv[1]
put(directory, OLD)
print("paths", machine.factory_reset(directory) == [directory + "/boot.py", directory + "/main.py"])
print("written", all(read(directory + "/" + n) == NEW[n] for n in NEW))
print("kept", all(read(directory + "/" + n + ".bak") == OLD[n] for n in OLD))
print("listing", sorted(os.listdir(directory)))


class Flash:
    """A block device whose power goes after `budget` block writes: `persisted` is what
    the flash holds then (the code keeps running on the live image, unaware, as it would
    until the supply drops)."""

    def __init__(self, blocks, budget=None):
        self.data = bytearray(blocks * BLOCK)
        self.budget = budget
        self.writes = 0
        self.persisted = None

    def readblocks(self, block, buffer):
        buffer[:] = self.data[block * BLOCK:block * BLOCK + len(buffer)]

    def writeblocks(self, block, buffer):
        if self.writes == self.budget:
            self.persisted = self.copy()
        self.writes += 1
        self.data[block * BLOCK:block * BLOCK + len(buffer)] = buffer

    def ioctl(self, op, arg):
        if op == 4:  # block count
            return len(self.data) // BLOCK
        if op == 5:  # block size
            return BLOCK
        return 0

    def copy(self):
        other = Flash(len(self.data) // BLOCK)
        other.data[:] = self.data
        return other


def mounted(flash):
    vfs.mount(vfs.VfsFat(flash), "/fat")


def unmount():
    try:
        vfs.umount("/fat")
    except OSError:
        pass


def whole_or_recoverable(name):
    """NAME is the old text or the new one; or absent with .bak old and .new new."""
    text = read("/fat/" + name)
    if text is not None:
        return text in (OLD[name], NEW[name])
    return read("/fat/" + name + ".bak") == OLD[name] and read("/fat/" + name + ".new") == NEW[name]


# 2. A FAT image that loses power after each number of block writes in turn.
image = Flash(128)
vfs.VfsFat.mkfs(image)
mounted(image)
put("/fat", OLD)
unmount()
cuts = 0
outcomes = set()
while True:
    flash = image.copy()
    flash.budget = cuts
    mounted(flash)
    machine.factory_reset("/fat")
    unmount()
    finished = flash.persisted is None
    rebooted = flash if finished else flash.persisted
    mounted(rebooted)
    states = tuple(
        "old" if read("/fat/" + n) == OLD[n] else "new" if read("/fat/" + n) == NEW[n] else "gone"
        for n in ("boot.py", "main.py")
    )
    if not all(whole_or_recoverable(n) for n in NEW):
        print("half-written after", cuts, "block writes:", states)
    machine.factory_reset("/fat")  # run again after the power came back: completes
    if not all(read("/fat/" + n) == NEW[n] for n in NEW):
        print("not completed by a second run after", cuts, "block writes")
    unmount()
    outcomes.add(states)
    if finished:
        break
    cuts += 1
print("power cuts tried", cuts > 10)
print("states seen", sorted(outcomes))

# 3. A filesystem with room for boot.py.new but not main.py.new: nothing changes.
full = Flash(128)
vfs.VfsFat.mkfs(full)
mounted(full)
put("/fat", OLD)
stat = os.statvfs("/fat")
cluster, free = stat[0], stat[3]
with open("/fat/filler", "wb") as file:
    file.write(bytes((free - 2) * cluster))
try:
    machine.factory_reset("/fat")
    print("no error on a full filesystem")
except OSError as error:
    print("full:", error.errno == 28)
print("unchanged", all(read("/fat/" + n) == OLD[n] for n in OLD))
print("no staged files", [n for n in os.listdir("/fat") if n.endswith(".new")])
unmount()

# 4. A directory that is not there.
try:
    machine.factory_reset(directory + "/missing")
except OSError as error:
    print("missing directory:", error.errno == 2)
