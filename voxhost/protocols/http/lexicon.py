"""``/v1/lexicon``: the user lexicon (how names and words are said), listed, added to and pruned over HTTP."""

from __future__ import annotations

import asyncio

from aiohttp import web

from .keys import CORE
from .parsing import answer, json_body
from .schemas import CreateLexiconEntryRequest, LexiconList


async def list_lexicon(request: web.Request) -> web.Response:
    """``GET /v1/lexicon``: every entry, the config file's first."""
    return answer(LexiconList(data=request.app[CORE].lexicon()))


async def add_lexicon_entry(request: web.Request) -> web.Response:
    """``POST /v1/lexicon``: a new entry; jobs that start from now on use it."""
    rule = await json_body(request, CreateLexiconEntryRequest)
    entry = await asyncio.shield(request.app[CORE].add_lexicon_entry(rule))
    return answer(entry, status=201)


async def delete_lexicon_entry(request: web.Request) -> web.Response:
    """``DELETE /v1/lexicon/{entry_id}``: remove an entry added over HTTP (config entries: 400; unknown: 404)."""
    entry = await asyncio.shield(request.app[CORE].delete_lexicon_entry(request.match_info["entry_id"]))
    return answer(entry)
