"""``voxhost models list | pull | remove``: the models every engine declares through ``Engine.models()``.

The CLI wires it in with ``add_models_command(subparsers, engines)``, where ``engines(args)`` returns the
configured engine instances (their settings decide e.g. F5's language registry; their context the models
directory). Each subcommand sets ``args.func(args) -> int`` (the exit status); its errors are raised as
``VoxhostError``, which the command line says as it says every command's (``voxhost: ...``, exit status 1).
"""

from __future__ import annotations

import argparse
import difflib
import sys
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

from . import models
from .engine import Engine, ModelSpec
from .errors import VoxhostError

EngineFactory = Callable[[argparse.Namespace], Iterable[Engine]]


def _human(size: int) -> str:
    value = float(size)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} TB"


class _Catalog:
    """The engines' model specs, and where each engine keeps them."""

    def __init__(self, engines: Iterable[Engine]) -> None:
        self.engines = {engine.engine_id: engine for engine in engines}

    def specs(self, engine_id: str | None = None) -> list[tuple[Engine, ModelSpec]]:
        if engine_id is not None and engine_id not in self.engines:
            close = difflib.get_close_matches(engine_id, self.engines, n=1)
            meant = f"did you mean {close[0]}? " if close else ""
            raise VoxhostError(f"no engine {engine_id!r} ({meant}engines: {', '.join(sorted(self.engines)) or 'none'})")
        return [
            (engine, spec)
            for eid, engine in sorted(self.engines.items())
            if engine_id in (None, eid)
            for spec in engine.models()
        ]

    def refresh(self, engine_id: str, *, quiet: bool = False) -> str | None:
        """Let the engine fetch its list of models (the Piper voice catalog); a failure is a note, not an error.
        Returns why it failed (None: fetched, or nothing to fetch)."""
        engine = self.engines.get(engine_id)
        if engine is None:
            return None
        try:
            engine.refresh_models()
        except VoxhostError as exc:
            if not quiet:
                print(f"note: {exc.message}", file=sys.stderr)
            return exc.message
        return None

    def find(self, engine_id: str, name: str) -> tuple[Engine, ModelSpec]:
        failure = None
        if name not in {spec.name for _, spec in self.specs(engine_id)}:
            # a catalog that was never fetched, or a voice newer than the cached one
            failure = self.refresh(engine_id, quiet=True)
        pairs = self.specs(engine_id)
        for engine, spec in pairs:
            if spec.name == name:
                return engine, spec
        if failure:  # not "has no model": its list is on the network, and could not be had to look
            raise VoxhostError(f"cannot look up {engine_id} {name!r}: {failure}{_fetch_hint()}")
        names = [spec.name for _, spec in pairs]
        close = difflib.get_close_matches(name, names, n=1)
        meant = f"did you mean {close[0]}? " if close else ""
        raise VoxhostError(f"engine {engine_id!r} has no model {name!r} ({meant}models: {', '.join(names) or 'none'})")

    def all_specs(self) -> list[ModelSpec]:
        return [spec for _, spec in self.specs()]


def _list(args: argparse.Namespace, catalog: _Catalog) -> int:
    failure = None
    if args.engine and (args.refresh or not catalog.specs(args.engine)):
        failure = catalog.refresh(args.engine, quiet=True)
    rows = []
    groups: list[str] = []
    local: dict[str, dict[str, Path]] = {}
    for engine, spec in catalog.specs(args.engine):
        st = models.status(
            spec, engine.context.models_dir, search_hf_cache=engine.context.search_hf_cache, check=args.check
        )
        state = "installed" if st.installed else "missing"
        if st.verified is False:
            state = "CORRUPT"
        elif st.verified:
            state = "verified"
        where = str(st.path) if st.path else "-"
        size = _human(st.size) if st.installed else f"({_human(spec.download_size)})" if spec.download_size else "-"
        if not st.installed:
            # Not pulled, but on this machine all the same (Whisper's bundled tiny.en, Piper's bundled voice):
            # the engine uses that copy, so "missing" would send one to pull what is there.
            on_disk = local.setdefault(engine.engine_id, engine.local_models()).get(spec.name)
            if on_disk is not None:
                state, size, where = "installed", _human(_size_of(on_disk)), str(on_disk)
        rows.append((spec.engine, spec.name, spec.repo, state, size, where))
        groups.append(spec.group)
    if failure and not rows:  # not "declares no models": its list is on the network, and could not be had
        rows = _local_rows(catalog.engines[args.engine])
        groups = [""] * len(rows)
        if not rows:
            raise VoxhostError(f"no models of {args.engine} to list: {failure}{_fetch_hint()}")
        # Offline (a machine that stays so, HF_HUB_OFFLINE): what is installed is still worth seeing.
        print(f"note: {failure}; listing the models installed here{_fetch_hint()}", file=sys.stderr)
    elif failure:
        print(f"note: {failure} (the models listed are from the copy fetched before)", file=sys.stderr)
    if not rows:
        print(f"engine {args.engine!r} declares no models" if args.engine else "no engine declares models")
        return 0
    header = ("ENGINE", "MODEL", "REPOSITORY", "STATE", "SIZE", "LOCATION")
    widths = [max(len(str(r[i])) for r in (header, *rows)) for i in range(len(header) - 1)]
    group = ""
    for row, row_group in zip((header, *rows), ("", *groups), strict=True):
        if row_group and row_group != group:  # a catalog by language: a heading for each
            group = row_group
            print(f"# {group}")
        print("  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=False)) + "  " + row[-1])
    return 1 if any(r[3] == "CORRUPT" for r in rows) else 0


def _size_of(path: Path) -> int:
    """A model file's size, or the total of a model directory's files."""
    if path.is_file():
        return path.stat().st_size
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def _local_rows(engine: Engine) -> list[tuple[str, str, str, str, str, str]]:
    """``models list`` rows of the models on this machine (``Engine.local_models``), for an engine whose catalog
    could not be fetched."""
    return [
        (engine.engine_id, name, "-", "installed", _human(_size_of(path)), str(path))
        for name, path in sorted(engine.local_models().items())
    ]


def _fetch_hint() -> str:
    """What to do about a model catalog that could not be fetched."""
    if models.is_offline():
        return "; unset HF_HUB_OFFLINE (or run this where the network is) to fetch it"
    return "; check the network (or the engine's catalog_url); on a machine that stays offline set HF_HUB_OFFLINE=1"


def _with_requirements(catalog: _Catalog, engine_id: str, names: list[str]) -> list[tuple[Engine, ModelSpec]]:
    ordered: dict[tuple[str, str], tuple[Engine, ModelSpec]] = {}

    def add(name: str) -> None:
        engine, spec = catalog.find(engine_id, name)
        if (spec.engine, spec.name) in ordered:
            return
        ordered[(spec.engine, spec.name)] = (engine, spec)
        for req in spec.requires:
            add(req)

    for name in names:
        add(name)
    return list(ordered.values())


def _pull(args: argparse.Namespace, catalog: _Catalog) -> int:
    everything = args.names == ["all"]
    # A catalog never fetched: `all` would be nothing.
    if everything and not catalog.specs(args.engine) and (failure := catalog.refresh(args.engine, quiet=True)):
        raise VoxhostError(f"no models of {args.engine} to pull: {failure}{_fetch_hint()}")
    names = [spec.name for _, spec in catalog.specs(args.engine)] if everything else args.names
    pairs = _with_requirements(catalog, args.engine, names)
    if everything and not _confirmed(args, pairs):
        print("nothing pulled", file=sys.stderr)
        return 1
    for engine, spec in pairs:
        print(f"pulling {spec.engine} {spec.name} from {spec.repo} ...", flush=True)
        path = models.pull(
            spec,
            engine.context.models_dir,
            to_hf_cache=args.hf_cache,
            force=args.force,
            verify=not args.no_verify,
        )
        print(f"{spec.engine} {spec.name}: {path}")
    return 0


def _confirmed(args: argparse.Namespace, pairs: list[tuple[Engine, ModelSpec]]) -> bool:
    """Whether to pull every model of an engine: a catalog (Piper's) holds hundreds of voices, gigabytes in all, so
    that is asked on a terminal and refused without ``--yes`` elsewhere (a script, a pipe)."""
    wanted = [
        spec
        for engine, spec in pairs
        if args.force
        or not models.status(spec, engine.context.models_dir, search_hf_cache=engine.context.search_hf_cache).installed
    ]
    if args.yes or not wanted:
        return True
    sizes = [spec.download_size for spec in wanted]
    known = sum(size for size in sizes if size)
    size = f"about {_human(known)}" if all(sizes) else f"at least {_human(known)}" if known else "size unknown"
    what = f"{len(wanted)} model(s) of {args.engine} ({size})"
    if not sys.stdin or not sys.stdin.isatty():
        raise VoxhostError(
            f"`models pull {args.engine} all` would download {what}; add --yes to pull them all, or name the ones "
            f"you want (`voxhost models list {args.engine}` lists them)"
        )
    print(f"pull {what}? [y/N] ", end="", file=sys.stderr, flush=True)
    return sys.stdin.readline().strip().lower() in ("y", "yes")


def _remove(args: argparse.Namespace, catalog: _Catalog) -> int:
    status = 0
    for name in args.names:
        engine, spec = catalog.find(args.engine, name)
        deleted = models.remove(spec, engine.context.models_dir, catalog.all_specs())
        if deleted:
            where = models.local_dir(spec, engine.context.models_dir)
            print(f"removed {spec.engine} {spec.name}: {len(deleted)} file(s) from {where}")
            continue
        found = models.find_model(spec, engine.context.models_dir, search_hf_cache=engine.context.search_hf_cache)
        if found is not None and not Path(found).is_relative_to(engine.context.models_dir):
            print(
                f"{spec.engine} {spec.name} lives in the Hugging Face cache ({found}); "
                "remove it with: huggingface-cli delete-cache",
                file=sys.stderr,
            )
            status = 1
        else:
            print(f"{spec.engine} {spec.name} is not installed in {engine.context.models_dir}")
    return status


def _runner(
    handler: Callable[[argparse.Namespace, _Catalog], int], engines: EngineFactory
) -> Callable[[argparse.Namespace], int]:
    def run(args: argparse.Namespace) -> int:
        return handler(args, _Catalog(engines(args)))

    return run


def add_models_command(
    subparsers: argparse._SubParsersAction,  # type: ignore[type-arg]
    engines: EngineFactory,
    parents: Sequence[argparse.ArgumentParser] = (),
) -> None:
    """Add ``models list|pull|remove`` to an argparse subparsers object; ``parents`` carry common options."""
    parser = subparsers.add_parser("models", help="list, download and remove engine models")
    sub = parser.add_subparsers(dest="models_command", required=True, metavar="{list,pull,remove}")  # named in errors
    common = list(parents)

    p = sub.add_parser("list", parents=common, help="every model the engines can use, and whether it is installed")
    p.add_argument("engine", nargs="?", help="only this engine's models")
    p.add_argument("--check", action="store_true", help="hash installed files against the pull manifest")
    p.add_argument(
        "--refresh", action="store_true", help="fetch the engine's model catalog again (e.g. a voice catalog)"
    )
    p.set_defaults(func=_runner(_list, engines))

    p = sub.add_parser(
        "pull", parents=common, help="download models from Hugging Face (with what they need), and verify them"
    )
    p.add_argument("engine")
    p.add_argument("names", nargs="+", metavar="name", help="model names (see `voxhost models list`), or all")
    p.add_argument("--hf-cache", action="store_true", help="download into the Hugging Face cache instead")
    p.add_argument("--force", action="store_true", help="download again even if present")
    p.add_argument("--no-verify", action="store_true", help="skip checking files against the hub's hashes")
    p.add_argument("-y", "--yes", action="store_true", help="pull `all` without asking (it may be gigabytes)")
    p.set_defaults(func=_runner(_pull, engines))

    p = sub.add_parser("remove", parents=common, help="delete models from voxhost's models directory")
    p.add_argument("engine")
    p.add_argument("names", nargs="+", metavar="name")
    p.set_defaults(func=_runner(_remove, engines))
