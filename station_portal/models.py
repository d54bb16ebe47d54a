"""Import every model module (``features.FEATURES``), so ``Base.metadata`` is complete
(Alembic, tests)."""

from station_portal.db import Base
from station_portal.features import model_modules

model_modules()

__all__ = ["Base"]
