"""The ``voxhost`` command: serve, say, voices (and their export and import), jobs, engines, plugins, check-config."""

from __future__ import annotations

from . import startup  # first: a signal while the rest imports ends the command quietly

# isort: split
import argparse
import asyncio
import difflib
import json
import logging
import os
import re
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, NoReturn

from . import __version__
from .audio import to_wav
from .components import (
    collect_door_classes,
    collect_engine_classes,
    describe_engine_classes,
    door_configs,
    engine_configs,
    engine_context,
)
from .core import Core
from .daemon_http import NotTheDoorError, UnreachableError, get_json
from .door import host_port
from .engine import Engine
from .errors import AddressInUseError, ConfigError, StartupError, UnknownVoiceError, VoxhostError
from .log import setup_logging
from .loops import new_event_loop
from .no_telemetry import opt_out
from .operations import MAX_PAGE, SpeechRequest, nothing_to_say, parse
from .plugin_manager import Plugins, build_plugins
from .replacing import replacing
from .settings import CONFIG_ENV, Settings, load_settings
from .voices_cli import UNSPOKEN_FIX, add_voices_command, broken_entry, unspoken_entry, unspoken_reason

_LOGGER = logging.getLogger(__name__)

DEFAULT_CONFIGS = (Path("~/.config/voxhost/voxhost.toml").expanduser(), Path("/etc/voxhost/voxhost.toml"))
"""Config files read when neither --config nor $VOXHOST_CONFIG names one."""

EXIT_CONFIG = 2


def _config_path(args: argparse.Namespace) -> str | None:
    if args.config:
        return str(args.config)
    if os.environ.get(CONFIG_ENV):
        return None  # load_settings reads it
    return next((str(p) for p in DEFAULT_CONFIGS if p.is_file()), None)


def _overrides(args: argparse.Namespace) -> dict[str, Any]:
    """Settings given as command-line flags."""
    out: dict[str, Any] = {}
    if getattr(args, "state_dir", None):
        out["state_dir"] = str(args.state_dir)
    if getattr(args, "plugins_dir", None):
        out["plugins_dirs"] = [str(p) for p in args.plugins_dir]
    if getattr(args, "debug", False):
        out["log_level"] = "debug"
    return out


def _settings(args: argparse.Namespace) -> Settings:
    settings = load_settings(_config_path(args), **_overrides(args))
    # Flags refine door tables without replacing what the file set; the doors validate them at start.
    flags = {
        ("wyoming", "uri"): list(args.uri) if getattr(args, "uri", None) else None,
        ("http", "port"): getattr(args, "http_port", None),
        ("http", "host"): getattr(args, "http_host", None),
    }
    for (door, key), value in flags.items():
        if value is not None:
            settings.doors.setdefault(door, {})[key] = value
    for door in getattr(args, "no", None) or []:
        settings.doors.setdefault(door, {})["enabled"] = False
    return settings


def _plugins(settings: Settings) -> Plugins:
    return build_plugins(settings.plugins_dirs)


# -- commands -----------------------------------------------------------------------------------------


def cmd_serve(args: argparse.Namespace) -> int:
    """Run the daemon until SIGTERM/SIGINT."""
    from .daemon import catch_early_signals

    restore_signals = catch_early_signals()  # first: loading settings and importing plugins may take seconds
    try:
        return _serve(args)
    finally:
        restore_signals()


def _serve(args: argparse.Namespace) -> int:
    """``serve`` once the early signals are caught: load, start the doors, serve until a signal."""
    from .daemon import Daemon

    settings = _settings(args)
    setup_logging(settings.log_level, args.debug)
    plugins = _plugins(settings)
    if args.no:
        _check_doors_named(args.no, collect_door_classes(plugins, settings))
    daemon = Daemon(settings, plugins)
    try:
        loop = new_event_loop(settings.loop)
        _run_bounded(daemon.serve(), loop)
    except StartupError as err:
        _LOGGER.error("%s%s", err.message, _serve_flag(err))
        return 1
    _exit_if_threads_linger()
    return 0


def _serve_flag(err: StartupError) -> str:
    """The ``serve`` flag that moves a built-in door whose address is in use, for the error's end."""
    if not isinstance(err, AddressInUseError):
        return ""
    flag = {"http": "--http-port N", "wyoming": "--uri tcp://HOST:PORT"}.get(err.door)
    return f" (or serve {flag})" if flag else ""


def _check_doors_named(names: list[str], doors: dict[str, Any]) -> None:
    """``ConfigError`` for a ``--no DOOR`` that names no door: the door meant would stay open."""
    for name in names:
        if name not in doors:
            close = difflib.get_close_matches(name, doors, n=1)
            meant = f"did you mean {close[0]}? " if close else ""
            raise ConfigError(f"--no {name} names no door ({meant}doors: {', '.join(doors) or 'none'})")


def _run_bounded(main: Any, loop: asyncio.AbstractEventLoop) -> None:
    """``asyncio.run`` on ``loop``, except that what is still busy at the end (a task, a model download on a thread)
    is not waited for beyond a second: the daemon's shutdown is bounded, and so is the process's."""
    # The loop's default executor, made here so that it can be shut down without waiting (neither loop offers that).
    executor = ThreadPoolExecutor(thread_name_prefix="voxhost")
    loop.set_default_executor(executor)
    try:
        loop.run_until_complete(main)
    finally:
        try:
            pending = [task for task in asyncio.all_tasks(loop) if not task.done()]
            for task in pending:
                task.cancel()
            loop.run_until_complete(asyncio.wait(pending, timeout=1.0) if pending else asyncio.sleep(0))
            loop.run_until_complete(loop.shutdown_asyncgens())
            executor.shutdown(wait=False, cancel_futures=True)
        finally:
            loop.close()


def _exit_if_threads_linger() -> None:
    """Leave now if a thread is still busy (an engine thread stuck in a model, a download): Python would wait for it
    at exit, past the bound systemd gives the daemon."""
    import threading
    import time

    deadline = time.monotonic() + 1.0  # idle pool threads end as soon as they see their pool shut down
    for thread in threading.enumerate():
        if thread is not threading.main_thread() and not thread.daemon:
            thread.join(max(0.0, deadline - time.monotonic()))
    lingering = [t.name for t in threading.enumerate() if t is not threading.main_thread() and not t.daemon]
    if lingering:
        _LOGGER.warning("Exiting without waiting for busy threads: %s", ", ".join(sorted(lingering)))
        logging.shutdown()
        if sys.stdout is not None:  # None: started with it closed
            sys.stdout.flush()
        os._exit(0)


def cmd_say(args: argparse.Namespace) -> int:
    """Speak text through the same core the daemon uses, into a WAV file (or raw PCM)."""
    settings = _settings(args)
    setup_logging("warning" if not args.debug else "debug", args.debug)
    _check_output(args.output)  # before the whole text is synthesized, not after
    form = _output_form(args.output, args.format)
    text = _text(args.text, settings.text.max_chars)
    fields = {"voice": args.voice, "speaker": args.speaker, "language": args.language, "speed": args.speed}
    request = parse(SpeechRequest, {"text": text, "door": "cli", **{k: v for k, v in fields.items() if v is not None}})

    async def run() -> tuple[bytes, int]:
        core = Core(settings, _plugins(settings))
        for slot in core.registry:
            slot.host.preload = False  # load only the engine the voice needs
        await core.start()
        try:
            if request.voice and request.language:
                _check_voice_language(core, request)
            return await core.speak(request)
        finally:
            await core.close()

    try:
        pcm, rate = asyncio.run(run())
    except UnknownVoiceError as err:
        if err.param != "language":
            raise
        # a language no installed voice speaks: most often a Piper voice not pulled yet
        raise UnknownVoiceError(f"{err.message}; {LANGUAGE_FIX}", param="language") from None
    silent = not pcm
    if silent:  # only emoji, markup or punctuation: a short silence (as the Wyoming door sends), said so
        pcm = nothing_to_say(rate)
    data = pcm if form == "pcm" else to_wav(pcm, rate)
    _write_output(args.output, data)
    where = "standard output" if args.output == "-" else args.output
    if silent:
        reason = "nothing in the text to say (emoji, markup or punctuation alone)"
        print(f"{where}: {len(pcm) / 2 / rate:.2f} s of silence at {rate} Hz: {reason}", file=sys.stderr)
    elif args.output != "-":
        print(f"{where}: {len(pcm) / 2 / rate:.2f} s at {rate} Hz", file=sys.stderr)
    return 0


def _check_voice_language(core: Core, request: SpeechRequest) -> None:
    """Refuse ``-v`` with a built-in voice that does not speak ``-l``'s language: it would read the text as that
    language's (numbers in its words) with sounds of its own, and the result is neither. A cloned voice may speak
    beyond the language of its recording (cross-lingual cloning), so only a built-in voice is held to its list."""
    voice = core.resolve_voice(request.voice, speaker=request.speaker)
    if voice.kind == "builtin" and voice.languages and not core.speaks(voice, request.language):
        raise VoxhostError(
            f"voice {voice.id} speaks {', '.join(voice.languages)}, not {request.language}: leave out -l to speak in "
            f"its language, or -v to have -l pick a {request.language} voice (`voxhost voices` lists them)",
        )


def _text(given: str, max_chars: int) -> str:
    """The text to speak: ``given``, or standard input for ``-`` (read to at most what ``max_chars`` characters
    take); text that is not UTF-8 is refused saying so."""
    where = "standard input" if given == "-" else "the text"
    # A Latin-1 file, or a terminal in another encoding: bytes that are not UTF-8 (as arguments, Python keeps them
    # as lone surrogates, which the core refuses in words that mean nothing to someone who typed a word).
    data = _read_text(max_chars) if given == "-" else given.encode("utf-8", "surrogateescape")
    try:
        return data.decode("utf-8-sig")  # a byte order mark (files saved by Windows editors) is not text
    except UnicodeDecodeError as err:
        raise VoxhostError(
            f"{where} is not UTF-8 (byte 0x{data[err.start]:02x} at {err.start}); convert it first, e.g. "
            "iconv -f latin1 -t utf-8"
        ) from None


def _read_text(max_chars: int) -> bytes:
    """Standard input's bytes, up to what ``max_chars`` characters may take in UTF-8 (and a byte order mark): a
    stream that goes on past that (``say - < /dev/zero``) is refused there, not read into memory to its end."""
    most = 4 * max_chars + 3
    data = sys.stdin.buffer.read(most + 1)
    if len(data) > most:
        raise VoxhostError(
            f"standard input holds more than {max_chars} characters, the most accepted ([text] max_chars)"
        )
    return data


LANGUAGE_FIX = (
    "`voxhost models list piper` lists Piper's voices by language, `voxhost models pull piper <voice>` installs one"
)
"""What to do about a language no installed voice speaks."""

OTHER_AUDIO = frozenset({".mp3", ".ogg", ".oga", ".opus", ".flac", ".aac", ".m4a", ".webm"})
"""Names of audio files in a form ``say`` does not write."""


class OutputError(VoxhostError):
    """Output that cannot be written (a directory, a missing folder, a closed stdout): the user's environment."""


RAW_AUDIO = frozenset({".pcm", ".raw"})
"""Names of raw PCM files: ``say`` writes its samples there without a WAV header."""


def _output_form(output: str, given: str | None) -> str:
    """What ``say`` writes to ``output``: ``given`` (``--format``), else what the file's name says (raw PCM for
    .pcm and .raw, else WAV); a name for another form than the one given is refused."""
    suffix = "" if output == "-" else Path(output).suffix.lower()
    if suffix in OTHER_AUDIO:
        # A WAV named dinner.mp3 plays in some players and not in others (a speaker that trusts the name).
        raise OutputError(
            f"cannot write {output}: say writes WAV (or raw PCM with --format pcm); name it "
            f"{'.pcm' if given == 'pcm' else '.wav'} (the HTTP door's response_format gives mp3, opus, aac and flac)"
        )
    named = "pcm" if suffix in RAW_AUDIO else "wav" if suffix == ".wav" else None
    if given is not None and named is not None and given != named:
        # Raw samples named .wav open in no player; a WAV named .pcm plays its header as a click (aplay -f S16_LE).
        what, right = ("raw samples", ".pcm") if given == "pcm" else ("a WAV", ".wav")
        raise OutputError(
            f"cannot write {output}: --format {given} writes {what}, not a {suffix} file; name it {right}, "
            "or leave out --format"
        )
    return given or named or "wav"


def _check_output(output: str) -> None:
    """Refuse an output that cannot be written, so that nothing is synthesized for it."""
    if output == "-":
        if sys.stdout is None:  # started with stdout closed (``>&-``)
            raise OutputError("cannot write standard output: it is closed")
        if sys.stdout.isatty():  # audio bytes on a terminal are noise, and may leave it in a state of their making
            raise OutputError(
                "standard output is a terminal, not a place for audio: pipe it (voxhost say ... -o - | aplay) "
                "or name a file with -o"
            )
        return
    path = Path(output)
    if path.is_dir():
        raise OutputError(f"cannot write {output}: it is a directory")
    if not path.parent.is_dir():
        raise OutputError(f"cannot write {output}: no directory {path.parent}")
    target = Path(os.path.realpath(path))  # as replacing() writes it: a link's destination
    if target.exists() and not target.is_file():  # /dev/null, a pipe: written in place
        if not os.access(target, os.W_OK):
            raise OutputError(f"cannot write {output}: permission denied")
    elif target.exists() and not os.access(target, os.W_OK):  # replacing() keeps a read-only file, as cp and > do
        raise OutputError(f"cannot write {output}: the file is read-only (make it writable to let voxhost replace it)")
    elif not os.access(target.parent, os.W_OK):  # a file is written beside itself first, then renamed into place
        raise OutputError(f"cannot write {output}: the folder {target.parent} is not writable")


def _write_output(output: str, data: bytes) -> None:
    """Write to the file (or stdout for ``-``); what the system refuses (a full disk, /proc) is one sentence."""
    try:
        if output == "-":
            sys.stdout.buffer.write(data)
            sys.stdout.buffer.flush()
        else:
            with replacing(Path(output)) as part:  # whole or untouched: never a truncated WAV on a full disk
                part.write_bytes(data)
    except BrokenPipeError:  # the reader went away (`| true`): said as for every command, by main()
        raise
    except OSError as err:
        if output == "-":
            _drop_stdout()
        where = "standard output" if output == "-" else output
        raise OutputError(f"cannot write {where}: {err.strerror or err}") from None


def _core_offline(args: argparse.Namespace) -> Core:
    settings = _settings(args)
    setup_logging("warning", getattr(args, "debug", False))
    return Core(settings, _plugins(settings))


def cmd_voices(args: argparse.Namespace) -> int:
    """List the catalog, then the built-in voices engines do not offer with this config, and why, then the broken
    voices of the library (out of the catalog until removed), and why."""
    core = _core_offline(args)
    voices = core.voices()
    withheld = [(engine.id, voice) for engine in core.engines() for voice in engine.withheld]
    broken = core.library.broken()
    spoken = {v.voice for v in voices if v.kind == "cloned"}
    unspoken = [stored for stored in core.library.list() if stored.id not in spoken]
    if args.json:
        # A library voice no engine speaks, and a broken one, are entries of the list too, with every key a catalog
        # voice has (kind "unspoken", "broken") and why.
        engines = core.engines()
        entries = [v.__dict__ for v in voices] + [unspoken_entry(u, unspoken_reason(u, engines)) for u in unspoken]
        entries += [broken_entry(b) for b in broken]
        print(json.dumps(entries, indent=2, default=list))
        return 0
    for v in voices:
        extra = f"  speakers: {', '.join(v.speakers[:8])}" if v.speakers else ""
        aliases = f"  aliases: {', '.join(v.aliases)}" if v.aliases else ""
        print(f"{v.id:40} {','.join(v.languages):12} {v.sample_rate:>6} Hz  {v.name}{aliases}{extra}")
    if withheld:
        print("\nnot offered:")
        for engine_id, voice in withheld:
            print(f"{engine_id}:{voice.id:34} {','.join(voice.languages):12} {voice.reason}")
    if unspoken:  # stored, and listed nowhere else: `voices add` said it was stored
        print(f"\nin the voice library, spoken by no running engine ({UNSPOKEN_FIX}):")
        for stored in unspoken:
            print(f"{stored.id:40} {stored.language or '-':12} {stored.seconds:>6.1f} s  {stored.name}")
    if broken:
        print(
            "\nbroken (out of the catalog; `voxhost voices remove ID` deletes one, importing its export restores it):"
        )
        for b in broken:
            print(f"{b.id:40} {b.bytes / 1000:>9.1f} kB  broken: {b.problem}")
    return 0


def cmd_engines(args: argparse.Namespace) -> int:
    """List engine plugins and whether config runs them."""
    settings = _settings(args)
    setup_logging("warning", args.debug)
    plugins = _plugins(settings)
    classes = collect_engine_classes(plugins, settings)
    configs = engine_configs(settings, classes)
    rows = describe_engine_classes(classes.values())
    for row in rows:
        host = configs[row["id"]].host
        row["enabled"] = host.enabled
        row["mode"] = host.mode or row["mode"]
        if host.python:
            row["python"] = host.python
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    for row in rows:
        state = "enabled" if row["enabled"] else "disabled"
        print(f"{row['id']:12} {state:9} {row['mode']:7} {','.join(row['capabilities']):24} {row['module']}")
    return 0


def cmd_plugins(args: argparse.Namespace) -> int:
    """List plugins with their versions and hooks, and the ones that failed."""
    settings = _settings(args)
    setup_logging("error", args.debug)
    plugins = _plugins(settings)
    # The registration hooks run as serve runs them, so a plugin that fails in one is listed as failed here too.
    collect_engine_classes(plugins, settings)
    collect_door_classes(plugins, settings)
    rows = plugins.describe()
    failures = [f.__dict__ for f in plugins.failures]
    if args.json:
        print(json.dumps({"plugins": rows, "failures": failures}, indent=2))
        return 0
    for row in rows:
        print(f"{row['name']:36} {row['source']:10} {row['version'] or '-':10} {', '.join(row['hooks'])}")
    for failure in failures:
        print(f"FAILED {failure['name']} ({failure['source']}): {failure['error']}")
    return 0


def cmd_default_config(args: argparse.Namespace) -> int:
    """Print every setting with its default and documentation, as TOML."""
    from .config_doc import render

    settings = _settings(args)
    setup_logging("error", args.debug)
    plugins = _plugins(settings)
    engines = collect_engine_classes(plugins, settings).values()
    print(render(engines, collect_door_classes(plugins, settings).values()), end="")
    return 0


def cmd_check_config(args: argparse.Namespace) -> int:
    """Validate the config, including every engine's table; print what serve would warn about (exit status 0)."""
    settings = _settings(args)
    setup_logging("warning", args.debug)
    if not args.debug:  # a table no plugin provides ([doors.htp]) is a warning at start: one plain line here
        logging.getLogger().handlers[0].setFormatter(logging.Formatter("voxhost: %(levelname)s: %(message)s"))
    _check_tables(settings)
    print(f"config OK ({_config_path(args) or os.environ.get(CONFIG_ENV) or 'defaults'})")
    return 0


def _check_tables(settings: Settings) -> None:
    """Validate every engine's and door's table as serve does at start (``ConfigError`` naming the key)."""
    plugins = _plugins(settings)
    engine_configs(settings, collect_engine_classes(plugins, settings))
    door_configs(settings, collect_door_classes(plugins, settings))


def cmd_doctor(args: argparse.Namespace) -> int:
    """Check that this config will work here: engines' environments, devices, models, disk, doors."""
    from . import doctor

    settings = _settings(args)
    setup_logging("error", args.debug)
    checks = doctor.diagnose(settings, _plugins(settings), engines=args.engine or None, hashes=args.hashes)
    print(doctor.as_json(checks) if args.json else doctor.render(checks), end="" if not args.json else "\n")
    return 1 if doctor.failed(checks) else 0


def cmd_service(args: argparse.Namespace) -> int:
    """Install or remove voxhost as a systemd unit (Linux) or a launchd job (macOS)."""
    from . import service

    manager = args.manager or service.default_manager()
    if args.action == "install":
        found = _config_path(args) or os.environ.get(CONFIG_ENV)
        config = Path(found).expanduser().resolve() if found else None
        # the service's serve gets the common options too: given here, they are meant for it
        options = service.ServeOptions.given(args.state_dir, args.plugins_dir, args.debug)
        # dry runs too: same verdict
        if args.run_as and not args.user:
            service.check_run_as(args.run_as, manager)
        service.refuse_private_tmp_paths(manager, user_mode=args.user, config=config, options=options)
        # A config that is not there or not valid would have the service fail at every start; checked as
        # check-config checks it (dry runs too).
        _check_tables(_settings(args))
        plan = service.install_plan(manager, user_mode=args.user, config=config, run_as=args.run_as, options=options)
        if args.dry_run:
            print(service.describe(plan, "install"), end="")
            return 0
        service.apply_install(plan)
        print(f"installed and started: {plan.path}")
    else:
        plan = service.uninstall_plan(manager, user_mode=args.user)
        if args.dry_run:
            print(service.describe(plan, "uninstall"), end="")
            return 0
        installed = plan.path.exists()
        service.apply_uninstall(plan)  # stopped and disabled all the same: a unit may be loaded without its file
        print(f"stopped and removed: {plan.path}" if installed else f"not installed (no {plan.path}); nothing removed")
    for note in plan.notes:
        print(note)
    return 0


def _daemon(args: argparse.Namespace, settings: Settings) -> tuple[str, str | None]:
    """The running daemon's HTTP address and API key: ``--url`` / ``--api-key``, else ``[doors.http]``."""
    table = settings.doors.get("http", {})
    host = str(table.get("host", "127.0.0.1"))
    host = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host
    url = args.url or f"http://{host_port(host, int(table.get('port', 8000)))}"
    parts = urllib.parse.urlsplit(url)
    try:
        valid = parts.scheme in ("http", "https") and bool(parts.hostname) and parts.port != 0
    except ValueError:  # a port that is not a number
        valid = False
    if not valid:
        raise VoxhostError(f"--url {url!r} is not an HTTP address (like http://127.0.0.1:8000)")
    # The door reads its key without the spaces around it (a secret file's final newline): a header cannot hold them.
    return url.rstrip("/"), str(args.api_key or table.get("api_key") or "").strip() or None


def _drop_stdout() -> None:
    """Send what is left of standard output to /dev/null: after a failed write, Python's flush at exit would fail
    again and print a complaint of its own."""
    os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


def _get_json(url: str, path: str, api_key: str | None) -> Any:
    """GET a JSON answer from the daemon; an unreachable daemon, or another service at ``url``, with what to do."""
    try:
        return get_json(url, path, api_key)
    except UnreachableError as err:
        raise VoxhostError(
            f"{err.message}; is `voxhost serve` running with the HTTP door? (--url names another address)"
        ) from None
    except NotTheDoorError as err:
        # The Wyoming door (10200) answers in its own protocol, a web server in HTML.
        raise VoxhostError(
            f"{err.message}; --url names that door (http://127.0.0.1:8000 by default; not the Wyoming port)"
        ) from None


def _page_size(text: str) -> int:
    """``--limit``: checked here, as the daemon checks it, so that no daemon (or none running) is asked first."""
    try:
        size = int(text)
    except ValueError:
        size = 0
    if not 1 <= size <= MAX_PAGE:  # 0 was left out of the query, so it showed the default 50
        raise argparse.ArgumentTypeError(f"a number from 1 to {MAX_PAGE}, not {text!r}")
    return size


def cmd_jobs_list(args: argparse.Namespace) -> int:
    """Recent jobs of the running daemon (from every door), newest first, through its HTTP door."""
    settings = _settings(args)
    url, key = _daemon(args, settings)
    query = {"limit": args.limit, "door": args.door, "state": args.state}
    page = _get_json(url, f"/v1/jobs?{urllib.parse.urlencode({k: v for k, v in query.items() if v})}", key)
    if args.json:
        print(json.dumps(page, indent=2))
        return 0
    for job in page["data"]:
        progress, timings = job["progress"], job["timings"]
        accepted = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(timings["accepted_at"]))
        ttfa = f"{timings['ttfa']:.2f}s" if timings["ttfa"] is not None else "-"
        flags = ",".join(flag for flag, on in (("kept", job["kept"]), ("audio", job["audio"])) if on)
        error = f"  {job['error']['code']}: {job['error']['message']}" if job["error"] else ""
        print(
            f"{job['id']:14} {accepted}  {job['door']:8} {job['state']:9} {job['voice']:32} "
            f"{progress['audio_seconds']:7.1f}s {ttfa:>7} {flags}{error}"
        )
    print(f"{len(page['data'])} of {page['total']} job(s)", file=sys.stderr)
    return 0


# -- parser ---------------------------------------------------------------------------------------------


class _Parser(argparse.ArgumentParser):
    """An argument parser (its subcommands' too) that refuses an unknown option in the words of the subcommand it was
    given to, with the option likely meant (argparse names it from the top: ``voxhost: error: unrecognized
    arguments: --sped``, with the usage of ``voxhost`` itself), also where argparse would first miss a required
    argument (``voxhost --verison``: "the following arguments are required: command")."""

    _given: list[str] = []
    """The arguments this parser was last given (a subcommand's: what is left after its name)."""

    def parse_known_args(  # type: ignore[override]
        self, args: list[str] | None = None, namespace: argparse.Namespace | None = None
    ) -> tuple[argparse.Namespace, list[str]]:
        """As argparse's, noting on the namespace the innermost parser that was left with arguments it did not know."""
        self._given = list(sys.argv[1:] if args is None else args)
        parsed, extras = super().parse_known_args(args, namespace)
        if extras and not hasattr(parsed, "_refused_by"):
            parsed._refused_by = self  # subcommands parse first: the innermost one sets it
        return parsed, extras

    def parse_args(  # type: ignore[override]
        self, args: list[str] | None = None, namespace: argparse.Namespace | None = None
    ) -> argparse.Namespace:
        """As argparse's, but arguments nobody knew are refused by the subcommand they were given to."""
        parsed, extras = self.parse_known_args(args, namespace)
        if extras:
            where = getattr(parsed, "_refused_by", self)
            where.error(where.unrecognized(extras))
        if hasattr(parsed, "_refused_by"):
            del parsed._refused_by
        return parsed

    def error(self, message: str) -> NoReturn:
        """As argparse's, except that a missing argument is not what is said when an option was not known: the
        misspelled option is the mistake, and the argument may well be there."""
        unknown = (
            [arg for arg in self._given if self._unknown_option(arg)] if "arguments are required" in message else []
        )
        if "--" in self._given:  # what follows it is never an option
            unknown = [arg for arg in unknown if self._given.index(arg) < self._given.index("--")]
        super().error(self.unrecognized(unknown) if unknown else message)

    def unrecognized(self, extras: list[str]) -> str:
        """The refusal of arguments this parser does not know, with the options likely meant."""
        meant = [close[0] for extra in extras if (close := difflib.get_close_matches(extra, self._options(), n=1))]
        hint = f" (did you mean {', '.join(meant)}?)" if meant else ""
        return f"unrecognized arguments: {' '.join(extras)}{hint}"

    def _options(self) -> list[str]:
        """Every option string this parser knows."""
        return [option for action in self._actions for option in action.option_strings]

    def _unknown_option(self, arg: str) -> bool:
        """Whether ``arg`` is an option this parser does not know (an abbreviation of one it knows is known)."""
        if not arg.startswith("-") or arg in ("-", "--") or _NUMBER.match(arg):
            return False
        name = arg.split("=", 1)[0]
        options = self._options()
        if name in options or (not arg.startswith("--") and arg[:2] in options):  # -ofile.wav
            return False
        return not (self.allow_abbrev and arg.startswith("--") and any(o.startswith(name) for o in options))


_NUMBER = re.compile(r"^-\d+$|^-\d*\.\d+$")
"""A negative number, which argparse takes as a value, not an option."""


def build_parser() -> argparse.ArgumentParser:
    """The argument parser, with every subcommand."""
    common = _Parser(add_help=False)
    common.add_argument("-c", "--config", type=Path, help=f"TOML config file (or ${CONFIG_ENV})")
    common.add_argument("--state-dir", type=Path, help="state directory (voice library, caches, models)")
    common.add_argument("--plugins-dir", type=Path, action="append", help="directory of single-file plugins")
    common.add_argument("--debug", action="store_true", help="debug logging")

    parser = _Parser(prog="voxhost", description="A resident text-to-speech daemon.")
    parser.add_argument("--version", action="version", version=f"voxhost {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", parents=[common], help="run the daemon")
    serve.add_argument("--uri", action="append", help="Wyoming address (tcp://, unix://, stdio://); repeatable")
    serve.add_argument("--http-port", type=int, help="HTTP port")
    serve.add_argument("--http-host", help="HTTP bind address")
    serve.add_argument("--no", action="append", metavar="DOOR", help="disable a door (wyoming, http, mqtt, ...)")
    serve.set_defaults(func=cmd_serve)

    say = sub.add_parser("say", parents=[common], help="speak text into a WAV file")
    say.add_argument("text", help="text to speak, or - to read stdin")
    say.add_argument("-v", "--voice", help="voice id or alias")
    say.add_argument("-s", "--speaker", help="speaker of a multi-speaker voice")
    say.add_argument("-l", "--language", help="language (picks that language's default voice)")
    say.add_argument("--speed", type=float, default=1.0, help="speed, 0.25-4.0")
    say.add_argument(
        "-o", "--output", default="voxhost.wav", help="output file (default: voxhost.wav), or - for stdout"
    )
    say.add_argument(
        "--format",
        choices=["wav", "pcm"],
        help="wav or raw s16le pcm (default: pcm for a .pcm or .raw output, else wav)",
    )
    say.set_defaults(func=cmd_say)

    add_voices_command(sub, cmd_voices, _settings, parents=[common], make_core=_core_offline)
    jobs = sub.add_parser("jobs", help="recent jobs of the running daemon, from every door")
    jobs_sub = jobs.add_subparsers(dest="jobs_command", required=True, metavar="{list}")  # named so in errors
    jobs_list = jobs_sub.add_parser("list", parents=[common], help="recent jobs, newest first")
    jobs_list.add_argument(
        "--limit", type=_page_size, default=50, help=f"most jobs to show, 1 to {MAX_PAGE} (default 50)"
    )
    jobs_list.add_argument("--door", help="only this door's jobs")
    jobs_list.add_argument("--state", choices=("queued", "running", "finished", "failed", "cancelled"))
    jobs_list.add_argument("--url", help="the daemon's HTTP address (default: from [doors.http])")
    jobs_list.add_argument("--api-key", help="the daemon's API key (default: [doors.http] api_key)")
    jobs_list.add_argument("--json", action="store_true", help="JSON output")
    jobs_list.set_defaults(func=cmd_jobs_list)

    for name, func, text in (
        ("engines", cmd_engines, "list engines"),
        ("plugins", cmd_plugins, "list plugins"),
    ):
        command = sub.add_parser(name, parents=[common], help=text)
        command.add_argument("--json", action="store_true", help="JSON output")
        command.set_defaults(func=func)

    check = sub.add_parser("check-config", parents=[common], help="validate the configuration")
    check.set_defaults(func=cmd_check_config)
    defaults = sub.add_parser("default-config", parents=[common], help="print every setting and its default")
    defaults.set_defaults(func=cmd_default_config)
    doctor = sub.add_parser("doctor", parents=[common], help="check that this config will work on this machine")
    doctor.add_argument("--json", action="store_true", help="JSON output, for scripts")
    doctor.add_argument("--engine", action="append", metavar="ID", help="check only this engine (repeatable)")
    doctor.add_argument("--hashes", action="store_true", help="hash model files against their manifests (slow)")
    doctor.set_defaults(func=cmd_doctor)
    service = sub.add_parser("service", parents=[common], help="run voxhost at boot (systemd or launchd)")
    service.add_argument("action", choices=["install", "uninstall"], metavar="{install,uninstall}")
    service.add_argument("--user", action="store_true", help="for your user only (systemd --user, a LaunchAgent)")
    service.add_argument("--dry-run", action="store_true", help="print the file and commands; change nothing")
    service.add_argument("--manager", choices=["systemd", "launchd"], help="default: launchd on macOS, else systemd")
    service.add_argument("--run-as", metavar="USER", help="account of a system service (default: voxhost if it exists)")
    service.set_defaults(func=cmd_service)

    for add in _extra_commands():
        add(sub, common)
    return parser


def _extra_commands() -> list[Callable[[Any, argparse.ArgumentParser], None]]:
    """Subcommands that live in their own modules."""
    from .models_cli import add_models_command
    from .transcribe_cli import add_transcribe_command

    def models(sub: Any, common: argparse.ArgumentParser) -> None:
        add_models_command(sub, _model_engines, parents=[common])

    def transcribe(sub: Any, common: argparse.ArgumentParser) -> None:
        add_transcribe_command(sub, _core_offline, parents=[common])

    return [models, transcribe]


def _model_engines(args: argparse.Namespace) -> list[Engine]:
    """Every registered engine (enabled or not) with its configured settings, for ``voxhost models``."""
    settings = _settings(args)
    setup_logging("warning", args.debug)
    classes = collect_engine_classes(_plugins(settings), settings)
    configs = engine_configs(settings, classes)
    return [cls(configs[engine_id].own, engine_context(settings, engine_id)) for engine_id, cls in classes.items()]


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``voxhost`` console script."""
    opt_out()  # every command may load an engine (say, transcribe) or pull a model
    args = build_parser().parse_args(argv)
    if args.func is not cmd_serve:  # serve hands them to the daemon's own early handlers
        startup.release()  # Ctrl-C is KeyboardInterrupt again (130 below), SIGTERM ends a `say` as it would
    try:
        return int(args.func(args) or 0)
    except ConfigError as err:
        print(f"voxhost: {err.message}", file=sys.stderr)
        return EXIT_CONFIG
    except VoxhostError as err:
        print(f"voxhost: {err.message}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # the reader of our output went away (`| head`): the user's pipeline, not a bug
        _drop_stdout()
        print("voxhost: cannot write standard output: the reader closed it", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
