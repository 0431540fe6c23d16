"""Settings of the Wyoming door: the ``[doors.wyoming]`` table."""

from __future__ import annotations

from urllib.parse import urlparse

from pydantic import Field, ValidationInfo, field_validator

from ...door import DoorSettings
from ...errors import ConfigError

DEFAULT_PORT = 10200


def parse_uri(uri: str) -> tuple[str, str, int]:
    """``(scheme, host or path, port)`` of a Wyoming address; ConfigError if it is not one."""
    parsed = urlparse(uri)
    scheme = parsed.scheme
    if scheme == "tcp":
        try:
            port = parsed.port if parsed.port is not None else DEFAULT_PORT
        except ValueError:
            raise ConfigError(f"doors.wyoming.uri: invalid port in {uri!r}") from None
        return scheme, parsed.hostname or "0.0.0.0", port
    if scheme == "unix":
        path = (parsed.netloc + parsed.path) or ""
        if not path:
            raise ConfigError(f"doors.wyoming.uri: {uri!r} names no socket path")
        return scheme, path, 0
    if scheme == "stdio":
        return scheme, "", 0
    raise ConfigError(f"doors.wyoming.uri: {uri!r} is not tcp://host:port, unix:///path or stdio://")


class WyomingSettings(DoorSettings):
    """The Wyoming door (Home Assistant)."""

    enabled: bool = True
    """Serve Wyoming (Home Assistant's voice pipeline and satellites)."""
    uri: list[str] = Field(default_factory=lambda: ["tcp://0.0.0.0:10200"])
    """Where to listen: ``tcp://host:port``, ``unix:///path`` or ``stdio://``; several at once are fine."""
    zeroconf: bool = True
    """Advertise ``_wyoming._tcp.local.`` so Home Assistant discovers voxhost (for ``tcp://`` addresses)."""
    zeroconf_name: str | None = None
    """Service name to advertise (default: ``voxhost-<host name>``)."""
    zeroconf_host: str | None = None
    """Address to advertise (default: the bound address, or the outbound address when bound to every interface)."""
    program_name: str = Field("voxhost", min_length=1)
    """Name of the TTS program in ``info``; Home Assistant names its entity after it (``tts.voxhost``)."""
    streaming: bool = True
    """Advertise streaming synthesis, so Home Assistant sends text as it arrives from its language model."""
    samples_per_chunk: int = Field(1024, ge=64, le=65536)
    """Audio samples per ``audio-chunk`` event (Piper's convention is 1024)."""
    max_transcribe_seconds: float = Field(300.0, gt=0, le=3600)
    """Longest utterance accepted for speech-to-text; longer audio is refused with an ``error``."""
    transcript_streaming: bool = False
    """Advertise and send ``transcript-start``/``-chunk``/``-stop`` around the ``transcript`` (segment by segment as
    they are recognized). Home Assistant reads only ``transcript``."""
    idle_timeout: float = Field(60.0, gt=0)
    """Seconds a connection may stay silent while nothing is being spoken for it: one that sends nothing is closed,
    and a text stream that stops sending gets an error and is closed. A client that reads its audio no faster gets
    the same time. Home Assistant sends its request as soon as it connects, and streamed text as its model writes."""
    max_connections: int = Field(64, ge=1)
    """Connections served at once; more get an ``error`` event (code ``busy``) and are closed."""

    @field_validator("uri")
    @classmethod
    def _addresses(cls, uris: list[str], info: ValidationInfo) -> list[str]:
        if not uris and info.data.get("enabled", True):
            # The door would open on nothing, and the daemon say it serves Wyoming.
            raise ValueError(
                "no address given; name one (tcp://0.0.0.0:10200), or set enabled = false to close the door"
            )
        # Checked here, not only when the door binds, so that check-config and doctor refuse what serve refuses.
        try:
            schemes = [parse_uri(uri)[0] for uri in uris]
        except ConfigError as err:
            raise ValueError(err.message.removeprefix("doors.wyoming.uri: ")) from None
        if schemes.count("stdio") > 1:
            raise ValueError("stdio:// can be given once")
        return uris
