"""One person's walk through the site in a real Chromium, checked at every stop.

A ``Journey`` wraps a Playwright page. ``journey.stop("need-detail")`` is called on each
page worth looking at; it

- runs axe-core (bundled in axe-playwright-python) at phone width (390 px) and desktop
  width (1280 px) and fails on any *serious* or *critical* violation;
- writes a full-page screenshot at both widths under ``var/screenshots/journeys/<name>/``
  (git-ignored), for a person to look at;
- checks that every request the page made so far went to the live server and nowhere else,
  that the browser reported no error (a CSP refusal, a missing file), and that at phone
  width the page does not scroll sideways.

Every violation of any impact is also written to ``axe.txt`` beside the screenshots.
On admin pages only the project's own panels are held to the rule (``scope=``): the rest
of the markup is Django's, and its findings are listed in ``axe.txt`` for information.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from axe_playwright_python.sync_playwright import Axe
from django.conf import settings

SCREENSHOTS = Path(settings.BASE_DIR) / "var" / "screenshots" / "journeys"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}
FAILING_IMPACTS = {"serious", "critical"}
# Schemes that never leave the browser (Bootstrap's inline SVG icons are data: URLs).
LOCAL_SCHEMES = {"data", "blob", "about"}

_axe = Axe()


@dataclass
class Finding:
    page: str
    width: int
    rule: str
    impact: str
    help: str
    target: str  # axe's CSS selector of the element
    html: str
    held: bool  # counted against the page
    note: str = ""  # why a serious one is not: Django admin's markup, or a known issue

    def line(self) -> str:
        note = f" [{self.note}]" if self.note else ""
        return (
            f"{self.page} @{self.width}px · {self.rule} ({self.impact}){note}: {self.help}\n"
            f"    {self.target} → {self.html}"
        )


@dataclass
class Journey:
    name: str
    page: object  # playwright.sync_api.Page
    base_url: str
    width: dict
    requests: list[str] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)
    errors_seen: int = 0
    stops: int = 0

    def __post_init__(self):
        self.host = urlsplit(self.base_url).netloc
        self.folder = SCREENSHOTS / self.name
        self.folder.mkdir(parents=True, exist_ok=True)
        for old in self.folder.glob("*"):
            old.unlink()
        self.watch(self.page)

    def watch(self, page) -> None:
        """Record the requests and console errors of ``page`` (a second page of a journey)."""
        page.on("request", lambda request: self.requests.append(request.url))
        page.on("console", self._console)
        page.on("response", self._response)

    def _console(self, message) -> None:
        if message.type == "error":
            where = message.location.get("url", "")
            self.console_errors.append(
                f"{message.text} ({where}:{message.location.get('lineNumber')})"
            )

    def _response(self, response) -> None:
        if response.status >= 400:
            self.console_errors.append(f"HTTP {response.status}: {response.url}")

    # --- moving about -----------------------------------------------------------------

    def url(self, path: str) -> str:
        return self.base_url + path

    def goto(self, path: str):
        response = self.page.goto(self.url(path))
        assert response is not None and response.ok, f"{path}: HTTP {response and response.status}"
        return response

    def arrive(self, path_pattern: str) -> re.Match:
        """Wait until the page's path (without query or fragment) matches the regex."""
        self.page.wait_for_url(lambda url: re.fullmatch(path_pattern, urlsplit(url).path))
        self.page.wait_for_load_state("load")
        return re.fullmatch(path_pattern, urlsplit(self.page.url).path)

    # --- the checks at each stop ----------------------------------------------------------

    def stop(
        self, label: str, *, scope: list[str] | None = None, known: dict | None = None
    ) -> None:
        """Screenshot, axe at both widths and the request check, on the current page.

        ``scope``: CSS selectors of the project's own parts of an admin page; only
        violations inside them fail the journey. ``known``: {(rule, target): why} for a
        violation already reported to the owner of the template; it is listed, not failed.
        """
        self.stops += 1
        slug = f"{self.stops:02d}-{re.sub(r'[^a-z0-9-]+', '-', label.lower())}"
        page = self.page
        page.wait_for_load_state("load")
        own = self.width
        for size in (own, DESKTOP if own == PHONE else PHONE):
            page.set_viewport_size(size)
            self._axe(label, size["width"], scope, known or {})
            if size == PHONE and scope is None:
                self._overflow(label)
            page.screenshot(
                path=self.folder / f"{slug}-{size['width']}.png",
                full_page=True,
                scale="css",
                animations="disabled",
            )
        page.set_viewport_size(own)
        self.assert_same_host()
        self.assert_no_console_errors(label, admin=scope is not None)
        held = [f for f in self.findings if f.held and f.page == label]
        assert not held, f"axe-core: serious or critical violations on {label}:\n" + "\n".join(
            f.line() for f in held
        )

    def _axe(self, label: str, width: int, scope: list[str] | None, known: dict) -> None:
        # No preload: axe would copy each stylesheet into an inline <style> (refused by the
        # site's CSP, and its relative @imports fetched from the page's URL): noise only.
        options = {"resultTypes": ["violations"], "preload": False}
        for violation in _axe.run(self.page, options=options).response["violations"]:
            serious = violation["impact"] in FAILING_IMPACTS
            for node in violation["nodes"]:
                target = " ".join(str(t) for t in node["target"])
                note = ""
                if serious and (violation["id"], target) in known:
                    note = "known: " + known[(violation["id"], target)]
                elif serious and scope is not None and not self._within(target, scope):
                    note = "Django admin markup, not failing"
                self.findings.append(
                    Finding(
                        page=label,
                        width=width,
                        rule=violation["id"],
                        impact=violation["impact"] or "",
                        help=violation["help"],
                        target=target,
                        html=node["html"][:200],
                        held=serious and not note,
                        note=note,
                    )
                )

    def _within(self, target: str, scope: list[str]) -> bool:
        """Whether the element axe names lies inside one of the ``scope`` selectors."""
        return self.page.evaluate(
            "([target, scope]) => !!document.querySelector(target)?.closest(scope)",
            [target, ", ".join(scope) or ":not(*)"],
        )

    def _overflow(self, label: str) -> None:
        """A phone page must not scroll sideways (wide tables scroll in their own box)."""
        wide = self.page.evaluate(
            """() => {
                const width = document.documentElement.clientWidth;
                if (document.documentElement.scrollWidth <= width) return [];
                return [...document.querySelectorAll('body *')]
                    .filter(el => el.getBoundingClientRect().right > width + 1)
                    .filter(el => !el.closest('.table-responsive'))
                    .slice(0, 5)
                    .map(el => el.tagName.toLowerCase() + (el.className ? '.' + String(el.className).trim().split(/\\s+/).join('.') : ''));
            }"""
        )
        assert not wide, f"{label} scrolls sideways at {PHONE['width']} px; too wide: {wide}"

    def assert_no_console_errors(self, label: str, *, admin: bool) -> None:
        """Nothing went wrong in the page since the last stop: no CSP refusal, no 404."""
        new, self.errors_seen = self.console_errors[self.errors_seen :], len(self.console_errors)
        if admin:
            # Django's admin pages name no icon, so the browser asks for /favicon.ico.
            new = [e for e in new if "/favicon.ico" not in e]
        assert not new, f"{label}: errors in the browser: {new}"

    def assert_same_host(self) -> None:
        elsewhere = [
            url
            for url in self.requests
            if urlsplit(url).scheme not in LOCAL_SCHEMES and urlsplit(url).netloc != self.host
        ]
        assert not elsewhere, f"requests to hosts other than {self.host}: {elsewhere}"

    def write_report(self) -> None:
        lines = [f"{self.name}: {self.stops} pages, {len(self.requests)} requests"]
        lines += [f.line() for f in self.findings] or ["no axe-core violations"]
        if self.console_errors:
            lines += ["", "console errors:", *self.console_errors]
        (self.folder / "axe.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")


def log_in(journey: Journey, username: str, password: str, *, admin: bool = False) -> None:
    """Log in through the portal's (or the admin's) login form.

    On a login page already (sent there with ``?next=``), the form is filled in where it is.
    """
    page = journey.page
    login_path = "/admin/login/" if admin else "/accounts/login/"
    if urlsplit(page.url).path != login_path:
        journey.goto(login_path)
    if admin:
        page.locator("#id_username").fill(username)
        page.locator("#id_password").fill(password)
        page.locator("input[type=submit]").click()
    else:
        page.get_by_label("用户名或手机号码").fill(username)
        page.get_by_label("密码").fill(password)
        page.get_by_role("button", name="登录").click()
    page.wait_for_load_state("load")
