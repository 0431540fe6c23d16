"""Every HTML page the daemon serves (the voice lab and the API docs page, ``/docs``) carries the lab's security
headers, each with a Content-Security-Policy for what it loads; and ``/docs`` still renders every operation, with
its style, in headless Chromium under its policy."""

from __future__ import annotations

from typing import Any

import httpx2 as httpx
import pytest

from .conftest import API_KEY, DESKTOP, base_url, http_door

pytestmark = pytest.mark.browser

AUTH = {"Authorization": f"Bearer {API_KEY}"}


def html_pages(lab: Any) -> dict[str, httpx.Headers]:
    """The headers of every answer in HTML: each GET route without a parameter, and the lab's page as a file."""
    paths = {"/static/index.html"}
    for route in http_door(lab)._runner.app.router.routes():
        canonical = route.resource.canonical if route.resource is not None else ""
        if route.method == "GET" and "{" not in canonical:
            paths.add(canonical)
    found = {}
    for path in sorted(paths):
        # Streamed: the headers are all that is looked at (/v1/events never ends).
        with httpx.stream("GET", base_url(lab) + path, headers=AUTH, timeout=30) as answer:
            if answer.headers.get("content-type", "").startswith("text/html"):
                found[path] = answer.headers
    return found


def test_every_html_page_carries_the_security_headers(lab: Any) -> None:
    pages = html_pages(lab)
    assert {"/", "/static/index.html", "/docs"} <= set(pages)
    for path, headers in pages.items():
        policy = {part.split()[0]: part.split()[1:] for part in headers["content-security-policy"].split("; ")}
        assert policy["frame-ancestors"] == ["'none'"] and policy["object-src"] == ["'none'"], path
        assert policy["base-uri"] == ["'none'"] and "'unsafe-inline'" not in str(policy), path
        assert headers["x-content-type-options"] == "nosniff" and headers["referrer-policy"] == "no-referrer", path
    # The docs page runs no script and loads nothing: only its own inline style, by its hash.
    docs = {part.split()[0]: part.split()[1:] for part in pages["/docs"]["content-security-policy"].split("; ")}
    assert docs["default-src"] == ["'none'"] and "script-src" not in docs
    assert len(docs["style-src"]) == 1 and docs["style-src"][0].startswith("'sha256-")


def test_the_docs_page_renders_under_its_policy(browser: Any, lab: Any) -> None:
    operations = [
        (method.upper(), path)
        for path, item in httpx.get(base_url(lab) + "/openapi.json").json()["paths"].items()
        for method in item
    ]
    context = browser.new_context(viewport=DESKTOP, base_url=base_url(lab))  # the page's own CSP, not bypassed
    try:
        page = context.new_page()
        problems: list[str] = []
        requests: list[str] = []
        page.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)
        page.on("pageerror", lambda exc: problems.append(str(exc)))
        page.on("request", lambda request: requests.append(request.url))
        answer = page.goto("/docs")
        assert answer is not None and answer.ok and "content-security-policy" in answer.headers
        headings = page.locator("h2").all_inner_texts()
        assert [" ".join(h.split()[:2]) for h in headings[:-1]] == [f"{m} {p}" for m, p in operations]
        assert headings[-1] == "Schemas" and page.get_by_role("link", name="/openapi.json").is_visible()
        # Its inline style applies (allowed by hash); a script put into the page would not run.
        assert page.evaluate("getComputedStyle(document.body).maxWidth") == "960px"
        ran = page.evaluate(
            "() => { const s = document.createElement('script'); s.textContent = 'window.__ran = 1';"
            " document.head.append(s); return window.__ran === 1; }"
        )
        assert ran is False
        blocked = [p for p in problems if "Content Security Policy" in p]
        assert len(blocked) == 1 and "script" in blocked[0], problems  # that script, and nothing of the page
        assert problems == blocked and requests == [base_url(lab) + "/docs"], requests
    finally:
        context.close()
