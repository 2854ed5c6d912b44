"""Media understanding engines: speech, image and document readers behind the roles of
`parley.media_understanding`, chosen by settings (`MEDIA_ENGINES=local|aws`).

The media handler calls `understand(media, mime, kind, engines=..., language=...)` with engines
built once per container by `build_engines(load_engine_settings())`. Adapters, decoding libraries
and AWS clients are imported on first use.
"""

from chalicelib.engines.factory import Engines, build_engines
from chalicelib.engines.settings import EngineSettings, load_engine_settings
from chalicelib.engines.understand import understand

__all__ = ["EngineSettings", "Engines", "build_engines", "load_engine_settings", "understand"]
