"""Index files cached per container (in the temp directory, /tmp on Lambda)."""

from __future__ import annotations

import os
import shutil
import threading
import uuid
from pathlib import Path

from chalicelib.knowledge.store import Manifest, S3IndexStore

KEEP_LOCAL_VERSIONS = 3


class IndexCache:
    """`<directory>/<version>.sqlite` per index version; downloads are atomic renames."""

    def __init__(self, directory: str | Path) -> None:
        self.directory = Path(directory)
        self._lock = threading.Lock()

    def path_for(self, version: str) -> Path:
        return self.directory / f"{version}.sqlite"

    def scratch(self) -> Path:
        """A new file name for work in progress."""
        self.directory.mkdir(parents=True, exist_ok=True)
        return self.directory / f"work-{uuid.uuid4().hex}.tmp"

    def local(self, store: S3IndexStore, manifest: Manifest) -> Path:
        """The manifest's index version on local disk, downloaded once per container."""
        path = self.path_for(manifest.version)
        with self._lock:
            if not path.exists():
                partial = self.scratch()
                store.download_index(manifest, partial)
                os.replace(partial, path)
                self._prune()
        return path

    def working_copy(self, store: S3IndexStore, manifest: Manifest | None) -> Path:
        """A private, writable copy of the manifest's index (an empty file without one)."""
        work = self.scratch()
        if manifest is not None:
            shutil.copyfile(self.local(store, manifest), work)
        return work

    def adopt(self, work: Path, version: str) -> Path:
        """Keep a just-published working file as that version's local copy."""
        path = self.path_for(version)
        with self._lock:
            os.replace(work, path)
            self._prune()
        return path

    def _prune(self) -> None:
        versions = sorted(self.directory.glob("*.sqlite"), key=lambda p: p.stat().st_mtime)
        for old in versions[:-KEEP_LOCAL_VERSIONS]:
            old.unlink(missing_ok=True)  # a reader holding it open keeps its inode until it closes
