// The pages' own script, loaded from this server (the page policy allows no other). Every page
// works without it; it only adds conveniences.
"use strict";

// A textarea with data-max counts down the characters left into the element its
// aria-describedby names.
for (const area of document.querySelectorAll("textarea[data-max]")) {
  const counter = document.getElementById(area.getAttribute("aria-describedby"));
  if (!counter) continue;
  const template = counter.dataset.template || "{n}";
  const update = () => {
    counter.textContent = template.replace("{n}", String(Number(area.dataset.max) - area.value.length));
  };
  area.addEventListener("input", update);
  update();
}
