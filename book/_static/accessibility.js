// Small fixes for screen readers in the theme's markup (sphinx-book-theme / pydata-sphinx-theme),
// myst-nb's toggles and docutils' bibliography, checked by axe-core (tests_book/test_accessibility.py).
function accessibleControls() {
  // A control's accessible name must contain the text it shows, so that a speech-input user can
  // say what they see (WCAG 2.5.3, axe's label-content-name-mismatch).
  for (const el of document.querySelectorAll("a[aria-label], button[aria-label], summary[aria-label]")) {
    // decorative icons (the colour-mode button's sun, moon, half circle) name nothing, before
    // and after Font Awesome turns them into SVGs with a <title>
    for (const icon of el.querySelectorAll("i[title], svg")) {
      icon.removeAttribute("title");
      icon.querySelectorAll("title").forEach((title) => title.remove());
      icon.removeAttribute("aria-labelledby");
      icon.removeAttribute("role");
      icon.setAttribute("aria-hidden", "true");
    }
    const shown = el.innerText.replace(/\s+/g, " ").trim();
    const label = el.getAttribute("aria-label");
    if (!shown || label.toLowerCase().includes(shown.toLowerCase())) continue;
    if (el.tagName === "SUMMARY") {
      // a hidden cell's toggle: "Show code cell content" / "Hide …" says it, and follows the state
      el.removeAttribute("aria-label");
    } else {
      // the search button's "Ctrl + K", the download menu's ".ipynb"
      el.setAttribute("aria-label", `${shown}: ${label}`);
    }
  }
  // The sidebar's toggle of a chapter's sections shows only a chevron: name it after the chapter
  // (axe's summary-name).
  for (const el of document.querySelectorAll("nav summary:not([aria-label])")) {
    if (el.innerText.trim()) continue;
    const chapter = el.closest("li")?.querySelector(":scope > a");
    el.setAttribute("aria-label", `Sections of ${chapter ? chapter.innerText.trim() : "this part"}`);
  }
  // The bibliography: a role="list" whose entries are role="doc-biblioentry" (deprecated in
  // ARIA 1.2), which a list may not hold (axe's aria-required-children): entries are list items.
  for (const entry of document.querySelectorAll('[role="list"] > [role="doc-biblioentry"]')) {
    entry.setAttribute("role", "listitem");
  }
}
document.addEventListener("DOMContentLoaded", accessibleControls);
window.addEventListener("load", accessibleControls);
