"""axe-core (the npm package `make axe` installs) run inside a page: what it finds that is serious."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Page

AXE = Path(__file__).resolve().parents[2] / ".tools" / "node_modules" / "axe-core" / "axe.min.js"
SERIOUS = ("serious", "critical")


def serious_violations(page: Page, within: str | None = None) -> list[str]:
    """One line per serious or critical violation of WCAG 2 A/AA on the page (or inside the
    element `within` selects): the rule, and the first places it was found."""
    if not AXE.exists():
        raise AssertionError(f"axe-core is missing at {AXE}: run `make axe`.")
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        # Evaluated by the test, not added as a <script>: the page's own policy refuses inline ones.
        page.evaluate(AXE.read_text(encoding="utf-8"))
    found = page.evaluate(
        """async (within) => {
            // Colours are judged once transitions end (a button just chosen is still fading in).
            const ending = document.getAnimations().filter((a) => a.effect?.getComputedTiming().endTime !== Infinity);
            await Promise.all(ending.map((a) => a.finished.catch(() => null)));
            const context = within ? document.querySelector(within) : document;
            const result = await axe.run(context, { runOnly: { type: "tag", values: ["wcag2a", "wcag2aa"] } });
            return result.violations.map((v) => ({
                id: v.id, impact: v.impact, help: v.help,
                where: v.nodes.slice(0, 3).map((n) => n.target.join(" ") + " " + (n.any[0]?.message ?? "")),
            }));
        }""",
        within,
    )
    return [
        f"{v['id']} ({v['impact']}): {v['help']} at {v['where']}" for v in found if v["impact"] in SERIOUS
    ]
