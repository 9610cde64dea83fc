// The dashboard's only script: copy buttons, confirmations, and the playground's
// product/search fields. Every page works without it.
"use strict";
document.addEventListener("click", (event) => {
  const button = event.target.closest("[data-copy]");
  if (!button) return;
  const source = document.querySelector(button.dataset.copy);
  if (!source) return;
  const text = "value" in source && source.value !== undefined ? source.value : source.textContent;
  const done = () => {
    button.textContent = "Copied";
    setTimeout(() => (button.textContent = "Copy"), 1500);
  };
  if (navigator.clipboard && window.isSecureContext) {
    navigator.clipboard.writeText(text).then(done, () => {});
  } else if (source.select) {
    source.select();
    document.execCommand("copy");
    done();
  }
});
document.addEventListener("submit", (event) => {
  const message = event.target.dataset.confirm;
  if (message && !window.confirm(message)) event.preventDefault();
});
function syncPlayground() {
  const form = document.getElementById("playground");
  if (!form) return;
  const search = form.querySelector('input[name="endpoint"][value="search"]').checked;
  form.querySelectorAll(".search-only").forEach((el) => (el.hidden = !search));
  form.querySelectorAll(".product-only").forEach((el) => (el.hidden = search));
}
document.addEventListener("change", (event) => {
  if (event.target.name === "endpoint") syncPlayground();
});
document.addEventListener("DOMContentLoaded", syncPlayground);
