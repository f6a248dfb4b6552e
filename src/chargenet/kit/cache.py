"""A small cache of costly answers, each kept until the version of its inputs moves."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any, TypeVar, cast

T = TypeVar("T")


class VersionedCache:
    """Answers per question, valid for one version of their inputs: asked again with the
    same version, the kept answer; with another, computed anew. One computation per
    question at a time — others asking the same wait for it instead of repeating it. The
    least recently used answers go beyond `size`."""

    def __init__(self, size: int = 64) -> None:
        self.size = size
        self._answers: OrderedDict[tuple[Any, ...], Any] = OrderedDict()
        self._lock = threading.Lock()
        self._key_locks: dict[Hashable, threading.Lock] = {}

    def get(self, question: Hashable, version: Hashable, compute: Callable[[], T]) -> T:
        full = (question, version)
        with self._lock:
            if full in self._answers:
                self._answers.move_to_end(full)
                return cast(T, self._answers[full])
            lock = self._key_locks.setdefault(question, threading.Lock())
        with lock:
            with self._lock:
                if full in self._answers:
                    return cast(T, self._answers[full])
            value = compute()
            with self._lock:
                self._answers[full] = value
                while len(self._answers) > self.size:
                    self._answers.popitem(last=False)
        return value
