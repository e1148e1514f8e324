"""The one rule for trusting a stat: not while its mtime is younger than ``RACY_NS``.

A file modified twice within one mtime tick can keep its stat while its bytes
change (git calls such entries "racily clean"). Whatever Loom remembers by stat
— the state index's hashes, a folder's listing, a no-op ``loom repro`` — is
only written down once the newest mtime it rests on is older than this.
"""

RACY_NS = 20_000_000  # 20 ms, a few of ext4's coarse timestamp ticks
