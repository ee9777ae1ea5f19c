"""axe-core in the page a browser test is on: a page that breaks a rule of impact "serious"
or "critical" fails the test, with each rule's id, its help and the elements concerned.

axe.min.js comes from the pinned PyPI package axe-playwright-python (no npm needed). The
browser puts it into every document it loads (an init script, through the DevTools protocol,
which the page's Content-Security-Policy does not govern), so the policy under test stays
exactly as the application sends it and no page waits for the script to be sent again.
"""

from __future__ import annotations

from typing import Any

from axe_playwright_python.base import AXE_SCRIPT
from playwright.sync_api import BrowserContext, Page

FAILING_IMPACTS = ("serious", "critical")


def install(context: BrowserContext) -> None:
    """axe-core in every document the context's pages load from now on."""
    context.add_init_script(AXE_SCRIPT)


def violations(page: Page) -> list[dict[str, Any]]:
    """Every rule the current document breaks, with its impact and the offending nodes."""
    if not page.evaluate("typeof window.axe === 'object'"):
        page.evaluate(AXE_SCRIPT)
    results = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
    return results["violations"]


def describe(found: list[dict[str, Any]]) -> str:
    lines = []
    for violation in found:
        lines.append(f"{violation['id']} ({violation['impact']}): {violation['help']}")
        lines.append(f"  {violation['helpUrl']}")
        for node in violation["nodes"]:
            target = " ".join(str(part) for part in node["target"])
            lines.append(f"  - {target}")
            summary = node.get("failureSummary")
            if summary:
                lines.extend(f"      {line.strip()}" for line in summary.splitlines()[1:])
    return "\n".join(lines)


def assert_accessible(page: Page) -> list[dict[str, Any]]:
    """Fails on serious or critical violations; returns the milder ones (minor, moderate)."""
    found = violations(page)
    failing = [v for v in found if v["impact"] in FAILING_IMPACTS]
    assert not failing, f"axe-core on {page.url} ({page.title()}):\n{describe(failing)}"
    return [v for v in found if v["impact"] not in FAILING_IMPACTS]
