/* Demo page helpers (technical, never gated): show which stand-in tags ran and the consent. */
window.demoTagRan = function (id) {
  var show = function () {
    var item = document.querySelector('[data-tag="' + id + '"] .status');
    if (item) item.textContent = "ran";
  };
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", show);
  else show();
};
document.addEventListener("DOMContentLoaded", function () {
  var render = function () {
    var state = window.MixvoipConsent && window.MixvoipConsent.get();
    var out = document.getElementById("consent-state");
    if (out) {
      out.textContent = state
        ? "Consent id " + state.consent_id + ": advertising " +
          (state.categories.advertising ? "granted" : "refused") +
          (state.receipt ? " (recorded)" : " (waiting to be recorded)")
        : "No decision yet.";
    }
    var layer = document.getElementById("datalayer");
    if (layer && window.dataLayer) {
      layer.textContent = window.dataLayer
        .map(function (entry) { return JSON.stringify(Array.prototype.slice.call(entry)); })
        .join("\n");
    }
  };
  render();
  document.addEventListener("consent:change", function () { setTimeout(render, 0); });
  // The receipt arrives after the decision (or on a later page when the service was down).
  setInterval(render, 1000);
  if (window.MixvoipConsent) window.MixvoipConsent.on("change", render);
});
