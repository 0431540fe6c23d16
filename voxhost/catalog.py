"""One voice catalog over every engine: built-in voices, cloned voices, aliases, defaults and lookup.

Catalog ids are stable: ``<engine>:<engine voice id>`` for built-in voices and ``<engine>:<library id>`` for a
cloned voice spoken by a cloning engine. A bare library id (``voice_grandma_1a2b3c4d``) is an alias for the first
cloning engine's entry, so every door can use it.
"""

from __future__ import annotations

import difflib
import logging
from collections.abc import Callable, Iterable

from .engine import Capability, Engine, Reference, VoiceInfo
from .errors import UnknownVoiceError
from .library import VoiceLibrary
from .settings import Settings
from .voices import CatalogVoice, LibraryVoice, Resolved, listed_names, normalize_language

_LOGGER = logging.getLogger(__name__)


def _usable(info: object) -> bool:
    """Whether an engine's voice is a ``VoiceInfo`` the catalog can list and a request can name."""
    return (
        isinstance(info, VoiceInfo)
        and isinstance(info.id, str)
        and bool(info.id)
        and isinstance(info.sample_rate, int)
        and info.sample_rate > 0
    )


class _Builtin:
    """The engines' own voices, in order and by id (the first of an id, as a lookup in order finds it), and the
    engines they are of."""

    def __init__(self, engines: list[Engine], voices: list[CatalogVoice]) -> None:
        self.engines = engines
        self.voices = voices
        self.by_id: dict[str, CatalogVoice] = {}
        for voice in voices:
            self.by_id.setdefault(voice.id, voice)


class Catalog:
    """Lookup over the voices of the running engines and the voice library."""

    def __init__(
        self,
        settings: Settings,
        engines: Callable[[], Iterable[Engine]],
        library: VoiceLibrary,
    ) -> None:
        self._settings = settings
        self._engines = engines
        self.library = library
        self._builtin: tuple[tuple[object, ...], _Builtin] | None = None
        """The engines' own voices, and what they were built of (the engines and the voices they offered)."""
        self._built: tuple[tuple[object, ...], list[CatalogVoice], list[CatalogVoice]] | None = None
        """The voices offered, every voice a request can name, and what they were built of (the built-in voices
        and the library)."""
        self._faults: dict[str, str] = {}
        """Engine id → what is wrong with what its ``voices()`` gave (``<id>.speaks_cloned``: with that hook), as
        last logged."""

    # -- listing ----------------------------------------------------------------------------------

    # Every request resolves its voice here, so neither list is built again while what it is made of stays the
    # same: the engines and the library give the same objects back while nothing changes (compared by identity
    # first, by value where an engine makes its list afresh).

    def voices(self) -> list[CatalogVoice]:
        """Every voice offered, built-in first, in engine order: what the doors list."""
        return list(self._lists()[0])

    def _lists(self) -> tuple[list[CatalogVoice], list[CatalogVoice]]:
        """The voices offered, and every voice a request can name: those, and the library voices a cloning engine
        cannot speak (``Engine.speaks_cloned``), in no list, so that a request naming one gets the engine's
        reason rather than "unknown voice"."""
        builtin, stored = self._builtin_voices(), self.library.list()
        if self._built is None or self._built[0][0] is not builtin or self._built[0][1] != stored:
            offered, every = self._build(builtin, stored)
            self._built = ((builtin, stored), offered, every)
        return self._built[1], self._built[2]

    def _builtin_voices(self) -> _Builtin:
        """The running engines' own voices, in engine order."""
        engines = list(self._engines())
        offered = [self._offered(engine) for engine in engines]
        sources = (engines, offered)
        if self._builtin is None or self._builtin[0] != sources:
            aliases = self._alias_map_by_target()
            pairs = zip(engines, offered, strict=True)
            voices = [self._entry(engine, info, aliases) for engine, infos in pairs for info in infos]
            self._builtin = (sources, _Builtin(engines, voices))
        return self._builtin[1]

    def _offered(self, engine: Engine) -> list[VoiceInfo]:
        """The engine's voices that are ``VoiceInfo``s; none when ``voices()`` raises (a third-party engine's fault
        is logged by its engine id once, rather than failing every request, or the daemon's start, with it)."""
        try:
            offered = list(engine.voices())
            voices = [info for info in offered if _usable(info)]
            fault = (
                "" if len(voices) == len(offered) else f"{len(offered) - len(voices)} of them not a usable VoiceInfo"
            )
        except Exception as err:
            voices, fault = [], f"raised {type(err).__name__}: {err}"
        if fault != self._faults.get(engine.engine_id, ""):
            self._faults[engine.engine_id] = fault
            if fault:
                _LOGGER.error("Engine %s: voices() %s; those voices are left out", engine.engine_id, fault)
        return voices

    @staticmethod
    def _entry(engine: Engine, info: VoiceInfo, aliases: dict[str, list[str]]) -> CatalogVoice:
        vid = f"{engine.engine_id}:{info.id}"
        return CatalogVoice(
            id=vid,
            engine=engine.engine_id,
            voice=info.id,
            name=info.name,
            languages=tuple(info.languages),
            sample_rate=info.sample_rate,
            speakers=tuple(info.speakers),
            description=info.description,
            aliases=tuple(aliases.get(vid, ())),
        )

    def _build(self, builtin: _Builtin, library: list[LibraryVoice]) -> tuple[list[CatalogVoice], list[CatalogVoice]]:
        """The built-in voices, then the library's voices for each cloning engine, then the pipelines: those
        offered, and all of them."""
        aliases = self._alias_map_by_target()
        out = list(builtin.voices)
        unspoken: set[str] = set()
        engines = builtin.engines
        cloners = [e for e in engines if Capability.CLONE in e.capabilities]
        shown = listed_names(library)  # two voices of one name are told apart where only the name is shown
        for stored in library:
            # An engine that needs the transcript cannot speak a voice stored without one.
            usable = [e for e in cloners if stored.transcript or not e.needs_transcript]
            speaking = [e for e in usable if not stored.language or self._speaks(e, stored.language)]
            # The bare id names the first engine that speaks the voice (else the first that would be asked).
            named = speaking[0] if speaking else usable[0] if usable else None
            for engine in usable:
                vid = f"{engine.engine_id}:{stored.id}"
                extra = (stored.id,) if engine is named else ()
                if engine not in speaking:
                    unspoken.add(vid)
                out.append(
                    CatalogVoice(
                        id=vid,
                        engine=engine.engine_id,
                        voice=stored.id,
                        name=f"{shown[stored.id]} ({engine.display_name or engine.engine_id})",
                        languages=(stored.language,) if stored.language else ("en_US",),
                        sample_rate=engine.clone_sample_rate,
                        kind="cloned",
                        description=f"cloned voice {stored.name}",
                        aliases=extra + tuple(aliases.get(vid, ())),
                    )
                )
        pipelines = self._pipelines(out, engines)
        # A pipeline speaks with its source voice: one whose source is not offered is not offered either.
        unspoken.update(p.id for p in pipelines if f"{p.engine}:{p.voice}" in unspoken)
        out += pipelines
        return [v for v in out if v.id not in unspoken], out

    def _speaks(self, engine: Engine, language: str) -> bool:
        """``engine.speaks_cloned``; one that raises is logged once and taken at its word as speaking it (the
        request then gets the engine's own answer), rather than failing every lookup."""
        try:
            return bool(engine.speaks_cloned(language))
        except Exception as err:
            fault = f"speaks_cloned raised {type(err).__name__}: {err}"
            if self._faults.get(f"{engine.engine_id}.speaks_cloned") != fault:
                self._faults[f"{engine.engine_id}.speaks_cloned"] = fault
                _LOGGER.error(
                    "Engine %s: %s; its library voices are offered in every language", engine.engine_id, fault
                )
            return True

    def _pipelines(self, voices: list[CatalogVoice], engines: list[Engine]) -> list[CatalogVoice]:
        """Pipeline voices whose source voice and converting engine are both running."""
        converters = {e.engine_id: e for e in engines if Capability.CONVERT in e.capabilities}
        out = []
        for pipeline in self._settings.pipelines:
            source = next((v for v in voices if v.id == pipeline.source or pipeline.source in v.aliases), None)
            converter = converters.get(pipeline.engine) if pipeline.engine else next(iter(converters.values()), None)
            if source is None or converter is None:
                continue
            out.append(
                CatalogVoice(
                    id=f"pipeline:{pipeline.id}",
                    engine=source.engine,
                    voice=source.voice,
                    name=pipeline.display_name,
                    languages=tuple(pipeline.languages or source.languages),
                    sample_rate=converter.clone_sample_rate,
                    kind="pipeline",
                    speakers=source.speakers,
                    description=f"{source.name}, converted by {converter.engine_id} into {pipeline.convert_to}",
                    aliases=(pipeline.id,),
                    pipeline=pipeline.id,
                )
            )
        return out

    def _alias_map_by_target(self) -> dict[str, list[str]]:
        by_target: dict[str, list[str]] = {}
        for alias, target in self._settings.aliases.items():
            by_target.setdefault(target, []).append(alias)
        return by_target

    def languages(self) -> list[str]:
        """Every language some voice speaks."""
        return sorted({lang for voice in self.voices() for lang in voice.languages})

    # -- lookup -----------------------------------------------------------------------------------

    def resolve(
        self,
        name: str | None = None,
        *,
        language: str | None = None,
        speaker: str | None = None,
        engine: str | None = None,
    ) -> Resolved:
        """Find a voice by id or alias, else by language, else the default; check the speaker."""
        if name and name.strip():
            # A built-in voice by its id (what most clients send): found before the library is looked at, as
            # the full lookup would find it first too (built-in voices lead the list, and ids are unique).
            target = self._settings.aliases.get(name.strip(), name.strip())
            builtin = self._builtin_voices().by_id.get(target)
            if builtin is not None and engine in (None, builtin.engine):
                return Resolved(builtin, self._check_speaker(builtin, speaker), None)
        voices = self._lists()[1]
        if not voices:
            raise UnknownVoiceError(f"no voices are available: {self._why_no_voices()}", param="voice")
        if name and name.strip():
            voice = self._by_name(voices, name.strip(), engine)
        elif language:
            voice = self._by_language(voices, language, engine)
        else:
            voice = self._default(voices, engine)
        return Resolved(voice, self._check_speaker(voice, speaker), self._reference(voice))

    def _why_no_voices(self) -> str:
        """Why the catalog is empty: no engine, or engines that found no voice where they look for them."""
        engines = list(self._engines())
        if not engines:
            return "no engine is loaded"
        # engines that read voices from disk say where (Piper: its voices_dirs); the others offer none as set up
        places = [place for engine in engines for place in getattr(engine, "voice_locations", list)()]
        where = f"; voices are looked for in {', '.join(places)}" if places else ""
        return f"the engines ({', '.join(e.engine_id for e in engines)}) offer none with this config{where}"

    def dangling(self) -> list[tuple[str, str]]:
        """``(key, voice)`` for each of default_voice, default_voices and aliases that names no voice here."""
        voices = self._lists()[1]
        named = [("default_voice", self._settings.default_voice)] if self._settings.default_voice else []
        named += [(f"default_voices.{lang}", voice) for lang, voice in self._settings.default_voices.items()]
        named += [(f"aliases.{alias}", target) for alias, target in self._settings.aliases.items()]
        aliases = self._settings.aliases
        return [(key, name) for key, name in named if _find(voices, aliases.get(name, name)) is None]

    def _by_name(self, voices: list[CatalogVoice], name: str, engine: str | None) -> CatalogVoice:
        pool = [v for v in voices if engine is None or v.engine == engine]
        target = self._settings.aliases.get(name, name)
        if (found := _find(pool, target)) is not None:
            return found
        hint = f" for engine {engine!r}" if engine else ""
        for owner in self._engines():  # a built-in voice the engine withholds: say why, and what would offer it
            for withheld in owner.withheld_voices():
                if target in (f"{owner.engine_id}:{withheld.id}", withheld.id):
                    raise UnknownVoiceError(
                        f"voice {owner.engine_id}:{withheld.id} is not offered: {withheld.reason}", param="voice"
                    )
        if why := self._why_unspoken(target, engine):  # a stored voice: say why it is not spoken, not "unknown"
            raise UnknownVoiceError(f"voice {name!r} is in the voice library, but {why}", param="voice")
        meant = _meant(pool, target, list(self._settings.aliases))
        raise UnknownVoiceError(
            f"unknown voice {name!r}{hint}{meant}; see the voice list for the voices there are", param="voice"
        )

    def _why_unspoken(self, target: str, engine: str | None) -> str | None:
        """Why no running engine (``engine``, if one is asked) speaks the library voice ``target`` names (a bare
        library id, or ``<engine>:<library id>``), and what to do; None when it names no library voice, or one an
        engine would speak."""
        stored = next((v for v in self.library.list() if v.id == target.rpartition(":")[2]), None)
        if stored is None:
            return None
        cloners = [
            e
            for e in self._engines()
            if Capability.CLONE in e.capabilities and (engine is None or e.engine_id == engine)
        ]
        if not cloners:
            which = f"engine {engine!r} does not clone voices" if engine else "no running engine clones voices"
            return f"{which}; enable one that does (`voxhost engines` lists them, those that clone with `clone`)"
        if stored.transcript is None and all(e.needs_transcript for e in cloners):
            needing = ", ".join(e.engine_id for e in cloners)
            return f"it has no transcript, which {needing} need{'s' if len(cloners) == 1 else ''}; give it one"
        return None

    def _by_language(self, voices: list[CatalogVoice], language: str, engine: str | None) -> CatalogVoice:
        lang = normalize_language(language) or ""
        if (chosen := self._settings.default_voices.get(lang)) and engine is None:
            return self._by_name(voices, chosen, None)
        pool = [v for v in voices if engine is None or v.engine == engine]
        default = self._default(voices, engine) if pool else None
        base = lang.split("_")[0]
        for match in (lambda code: code == lang, lambda code: code.split("_")[0] == base):
            if default and any(match(code) for code in default.languages):
                return default
            for voice in pool:
                if voice.kind == "builtin" and any(match(code) for code in voice.languages):
                    return voice
        raise UnknownVoiceError(f"no voice speaks language {language!r}", param="language")

    def _default(self, voices: list[CatalogVoice], engine: str | None) -> CatalogVoice:
        pool = [v for v in voices if engine is None or v.engine == engine]
        if not pool:
            raise UnknownVoiceError(f"engine {engine!r} has no voices", param="voice")
        if self._settings.default_voice:
            try:
                return self._by_name(pool, self._settings.default_voice, engine)
            except UnknownVoiceError:
                if engine is None:
                    raise UnknownVoiceError(
                        f"the configured default_voice {self._settings.default_voice!r} is not available",
                        param="voice",
                    ) from None
        # Engines are in order of their default priority: the first built-in voice is the bundled one.
        builtin = [v for v in pool if v.kind == "builtin"]
        if builtin:
            return builtin[0]
        offered = {v.id for v in self._lists()[0]}
        return next((v for v in pool if v.id in offered), pool[0])

    @staticmethod
    def _check_speaker(voice: CatalogVoice, speaker: str | None) -> str | None:
        if speaker is None or str(speaker).strip() == "":
            return None
        speaker = str(speaker).strip()
        if not voice.speakers:
            # Speaker 0 is the only speaker: Home Assistant carries ``speaker: 0`` over from wyoming-piper, which
            # speaks it with a single-speaker voice, into every voice's options.
            if speaker.isdigit() and int(speaker) == 0:
                return None
            raise UnknownVoiceError(
                f"voice {voice.id!r} has a single speaker; got speaker {speaker!r}", param="speaker"
            )
        if speaker in voice.speakers:
            return speaker
        if speaker.isdigit() and int(speaker) < len(voice.speakers):
            return voice.speakers[int(speaker)]
        raise UnknownVoiceError(
            f"voice {voice.id!r} has no speaker {speaker!r}; speakers: {', '.join(voice.speakers[:20])}",
            param="speaker",
        )

    def _reference(self, voice: CatalogVoice) -> Reference | None:
        cloned_source = voice.kind == "pipeline" and voice.voice.startswith("voice_")
        return self.library.reference(voice.voice) if voice.kind == "cloned" or cloned_source else None


def _meant(voices: list[CatalogVoice], target: str, aliases: list[str]) -> str:
    """`` (did you mean X?)`` for a name a voice's id or alias is close to (a typo: ``en_US-joe-mediun``) or the
    only one to hold it (``joe``); else nothing."""
    names = {name.lower(): name for v in voices for name in (v.id, *v.aliases)}
    names |= {v.voice.lower(): v.id for v in voices if v.voice.lower() not in names}  # an engine-local id
    names |= {name.lower(): name for name in aliases}
    wanted = target.lower()
    close = difflib.get_close_matches(wanted, names, n=1, cutoff=0.8)
    holding = {v.id for v in voices if len(wanted) >= 3 and wanted in v.id.lower()}  # not every id holding "e"
    meant = names[close[0]] if close else holding.pop() if len(holding) == 1 else None
    return f" (did you mean {meant}?)" if meant else ""


def _find(voices: list[CatalogVoice], target: str) -> CatalogVoice | None:
    """The voice ``target`` names (an id, an alias, an engine-local id, or either in another case), if any."""
    for match in (
        lambda v: v.id == target,
        lambda v: target in v.aliases,
        lambda v: v.voice == target,  # an engine-local id, when unambiguous among the pool
        lambda v: v.id.lower() == target.lower() or v.voice.lower() == target.lower(),
    ):
        found = [v for v in voices if match(v)]
        if found:
            return found[0]
    return None
