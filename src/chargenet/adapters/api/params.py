"""Query parameters shared by the API's routers, each bounded to what the store can hold
(kit.bounds.StoredInt): a number past the bound is a 422 naming it, never a 500 from the
database driver."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query

from chargenet.kit.bounds import StoredInt

Offset = Annotated[StoredInt, Query(description="Rows to skip")]
AfterSeq = Annotated[StoredInt, Query(description="Return events after this seq")]
