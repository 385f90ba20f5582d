/*
 * Injected before any script of the page (Playwright init script): notes the moment, in ms
 * since navigation start, at which a button whose accessible name matches the pattern is first
 * visible: laid out with a size, inside the viewport, not hidden and not fully transparent.
 * Looks in the document and in every open shadow root. Checked on every DOM change and on
 * every animation frame, so CSS transitions are seen when they start to show the button.
 * Result: window.__acceptVisible = {ms, name}.
 */
(function (source) {
  var pattern = new RegExp(source, "i");
  var roots = [document];
  var selector = "button, [role=button], input[type=button], input[type=submit]";
  var attach = Element.prototype.attachShadow;
  Element.prototype.attachShadow = function (init) {
    var root = attach.call(this, init);
    if (init && init.mode === "open") {
      roots.push(root);
      observer.observe(root, { childList: true, subtree: true, attributes: true });
    }
    return root;
  };

  function nameOf(node) {
    var label = node.getAttribute("aria-label") || (node.tagName === "INPUT" ? node.value : node.textContent);
    return String(label || "").replace(/\s+/g, " ").trim();
  }

  function isVisible(node) {
    var box = node.getBoundingClientRect();
    return box.width > 0 && box.height > 0 && box.bottom > 0 && box.right > 0 &&
      box.top < innerHeight && box.left < innerWidth &&
      node.checkVisibility({ opacityProperty: true, visibilityProperty: true });
  }

  function check() {
    if (window.__acceptVisible) return;
    for (var r = 0; r < roots.length; r++) {
      var nodes = roots[r].querySelectorAll(selector);
      for (var i = 0; i < nodes.length; i++) {
        if (pattern.test(nameOf(nodes[i])) && isVisible(nodes[i])) {
          window.__acceptVisible = { ms: performance.now(), name: nameOf(nodes[i]) };
          observer.disconnect();
          return;
        }
      }
    }
  }

  var observer = new MutationObserver(check);
  observer.observe(document, { childList: true, subtree: true, attributes: true });
  (function frame() {
    check();
    if (!window.__acceptVisible) requestAnimationFrame(frame);
  })();
})(__ACCEPT_PATTERN__);
