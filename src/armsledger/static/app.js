// armsledger dashboard: small enhancements; the pages work without them.
// Data is only ever written with textContent, never as markup.
"use strict";

document.addEventListener("DOMContentLoaded", () => {
  // Mark the current page in the navigation.
  const here = location.pathname;
  for (const link of document.querySelectorAll("header nav a")) {
    const path = link.getAttribute("href");
    if (path === here || (path !== "/" && here.startsWith(path))) link.classList.add("current");
  }

  // Flows: pointing at a band tells its figures in the caption.
  const caption = document.getElementById("flow-caption");
  if (caption) {
    const original = caption.textContent;
    for (const band of document.querySelectorAll("#flow-diagram .band")) {
      band.addEventListener("mouseenter", () => {
        band.classList.add("active");
        caption.textContent =
          `${band.dataset.supplier} → ${band.dataset.recipient}: ` +
          `${band.dataset.deals} deals, ${band.dataset.facts} facts`;
      });
      band.addEventListener("mouseleave", () => {
        band.classList.remove("active");
        caption.textContent = original;
      });
    }
  }

  // Filters: a changed selection applies at once.
  for (const select of document.querySelectorAll("form.filters select")) {
    select.addEventListener("change", () => select.form.requestSubmit());
  }
});
