import ssl
from os import PathLike

def create_ssl_context(
    *,
    cafile: str | bytes | PathLike[str] | PathLike[bytes] | None = None,
    capath: str | bytes | PathLike[str] | PathLike[bytes] | None = None,
    cadata: str | bytes | None = None,
    certfile: str | bytes | PathLike[str] | PathLike[bytes] | None = None,
    keyfile: str | bytes | PathLike[str] | PathLike[bytes] | None = None,
    password: str | bytes | None = None,
    crlfile: str | bytes | PathLike[str] | PathLike[bytes] | None = None,
) -> ssl.SSLContext: ...
