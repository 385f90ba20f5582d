/*
 * Mixvoip Consent widget. One file, no dependency. The service inlines the site's
 * configuration in place of __CONSENT_CONFIG__ and minifies the result.
 * Sections: read config → read stored decision → gate tags → render banner → record decision.
 * The only global is window.MixvoipConsent (open, get, on); pages also get a
 * "consent:change" DOM event on document.
 */
(function (config) {
  "use strict";
  if (window.MixvoipConsent) return;

  // ---- read config ---------------------------------------------------------------------
  var script = document.currentScript;
  var nonce = (script && script.nonce) || "";
  var api = config.api || new URL("/v1", script ? script.src : location.href).href;
  var site = config.site;
  var optional = config.categories.filter(function (c) { return !c.required; });
  var listeners = [];
  var lang = pickLanguage();
  var t = config.strings[lang];
  var queueKey = "mixvoip-consent:" + site + ":queue";
  var state = null;
  var asking = false;
  var ran = new WeakSet();
  var host, root, banner, dialog, opener;

  function pickLanguage() {
    var wanted = [document.documentElement.lang].concat(navigator.languages || [navigator.language]);
    for (var i = 0; i < wanted.length; i++) {
      var code = String(wanted[i] || "").slice(0, 2).toLowerCase();
      if (config.languages.indexOf(code) >= 0) return code;
    }
    return config.default_language;
  }

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    for (var key in attrs || {}) {
      if (key === "text") node.textContent = attrs[key];
      else if (key.slice(0, 2) === "on") node.addEventListener(key.slice(2), attrs[key]);
      else if (attrs[key] !== false && attrs[key] != null) node.setAttribute(key, attrs[key] === true ? "" : attrs[key]);
    }
    (children || []).forEach(function (child) { if (child) node.appendChild(child); });
    return node;
  }

  // ---- read stored decision ------------------------------------------------------------
  function b64(text) { return btoa(text).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, ""); }
  function unb64(text) { return atob(text.replace(/-/g, "+").replace(/_/g, "/")); }
  function same(a, b) { return JSON.stringify(sorted(a)) === JSON.stringify(sorted(b)); }
  function sorted(o) { var r = {}; Object.keys(o || {}).sort().forEach(function (k) { r[k] = o[k]; }); return r; }

  function readState() {
    var match = document.cookie.match(new RegExp("(?:^|; )" + config.cookie.name + "=([^;]*)"));
    if (!match) return null;
    try {
      var s = JSON.parse(unb64(match[1]));
      if (!/^[0-9a-f-]{36}$/.test(s.id) || typeof s.cat !== "object" || typeof s.par !== "object") return null;
      if (s.r) {
        // The receipt's readable part must say exactly what the cookie says.
        var p = JSON.parse(unb64(s.r.split(".")[0]));
        if (p.cid !== s.id || p.site !== site || p.rev !== s.rev || !same(p.cat, s.cat) || !same(p.par, s.par)) return null;
      }
      return s;
    } catch (e) {
      return null;
    }
  }

  function writeState(s, expires) {
    var parts = [config.cookie.name + "=" + b64(JSON.stringify(s)), "Path=/", "SameSite=Lax", "Expires=" + expires.toUTCString()];
    var domain = config.cookie.domain;
    if (domain && (location.hostname === domain || location.hostname.slice(-domain.length - 1) === "." + domain)) parts.push("Domain=" + domain);
    if (location.protocol === "https:") parts.push("Secure");
    document.cookie = parts.join("; ");
  }

  function isCurrent(s) {
    // A partner or category added since the decision needs a new question; a removed one does not.
    return config.categories.every(function (c) { return c.id in s.cat; }) &&
      config.partners.every(function (p) { return p.id in s.par; });
  }

  function isGranted(category, partner) {
    if (!state) return category === "technical" || isRequired(category);
    if (!state.cat[category] && !isRequired(category)) return false;
    return partner ? state.par[partner] === true : true;
  }

  function isRequired(category) {
    return config.categories.some(function (c) { return c.id === category && c.required; });
  }

  // ---- gate tags -----------------------------------------------------------------------
  var pending = [];
  var loading = false;

  function gate() {
    document.querySelectorAll("script[type='text/plain'][data-consent], iframe[data-consent][data-src]").forEach(release);
  }

  function release(node) {
    if (ran.has(node)) return;
    var granted = isGranted(node.getAttribute("data-consent"), node.getAttribute("data-partner"));
    if (node.tagName === "IFRAME") {
      if (granted) {
        ran.add(node);
        if (node.previousSibling && node.previousSibling.className === "mixvoip-consent-placeholder") node.previousSibling.remove();
        node.hidden = false;
        node.src = node.getAttribute("data-src");
      } else {
        placeholder(node);
      }
      return;
    }
    if (!granted) return;
    ran.add(node);
    pending.push(node);
    runNext();
  }

  function runNext() {
    // One at a time, in document order: an inline tag waits for the external one before it.
    if (loading || !pending.length) return;
    var original = pending.shift();
    var copy = document.createElement("script");
    for (var i = 0; i < original.attributes.length; i++) {
      var a = original.attributes[i];
      if (a.name !== "type" && a.name !== "data-type") copy.setAttribute(a.name, a.value);
    }
    copy.type = original.getAttribute("data-type") || "text/javascript";
    copy.nonce = original.nonce || nonce;
    copy.setAttribute("data-consent-ran", "");
    if (original.src) {
      loading = true;
      copy.async = false;
      copy.onload = copy.onerror = function () { loading = false; runNext(); };
    } else {
      copy.text = original.text;
    }
    original.parentNode.replaceChild(copy, original);
    runNext();
  }

  function placeholder(frame) {
    if (frame.previousSibling && frame.previousSibling.className === "mixvoip-consent-placeholder") return;
    frame.hidden = true;
    var partner = config.partners.filter(function (p) { return p.id === frame.getAttribute("data-partner"); })[0];
    var name = partner ? partner.name : frame.getAttribute("data-consent");
    var box = el("div", { class: "mixvoip-consent-placeholder", role: "note" }, [
      el("p", { text: t.placeholder.replace("{name}", name) }),
      el("button", { type: "button", text: t.placeholder_allow, onclick: function () {
        var par = {};
        var category = frame.getAttribute("data-consent");
        config.partners.forEach(function (p) {
          par[p.id] = (partner ? p.id === partner.id : p.category === category) || isGranted(p.category, p.id);
        });
        var cat = {};
        config.categories.forEach(function (c) { cat[c.id] = c.required || c.id === category || isGranted(c.id); });
        decide("custom", cat, par);
      } }),
    ]);
    frame.parentNode.insertBefore(box, frame);
  }

  new MutationObserver(function (records) {
    records.forEach(function (r) {
      r.addedNodes.forEach(function (n) {
        if (n.nodeType !== 1) return;
        if (n.matches("script[type='text/plain'][data-consent], iframe[data-consent][data-src]")) release(n);
        else if (n.querySelectorAll) n.querySelectorAll("script[type='text/plain'][data-consent], iframe[data-consent][data-src]").forEach(release);
      });
    });
  }).observe(document.documentElement, { childList: true, subtree: true });

  function consentMode(kind) {
    if (!config.consent_mode) return;
    window.dataLayer = window.dataLayer || [];
    if (typeof window.gtag !== "function") window.gtag = function () { window.dataLayer.push(arguments); };
    var ads = kind === "default" ? false : isGranted("advertising");
    var value = ads ? "granted" : "denied";
    var signals = { ad_storage: value, ad_user_data: value, ad_personalization: value, analytics_storage: "denied" };
    if (kind === "default") {
      signals.functionality_storage = "denied";
      signals.personalization_storage = "denied";
      signals.security_storage = "granted";
      signals.wait_for_update = 500;
    }
    window.gtag("consent", kind, signals);
  }

  function clearCookies(partners) {
    var names = [];
    partners.forEach(function (p) { p.cookies.forEach(function (c) { names.push(c.name); }); });
    var patterns = names.map(function (n) { return new RegExp("^" + n.replace(/[.+?^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*") + "$"); });
    var domains = [""];
    var parts = location.hostname.split(".");
    for (var i = 0; i < parts.length - 1; i++) domains.push("; Domain=" + parts.slice(i).join("."));
    document.cookie.split("; ").forEach(function (pair) {
      var name = pair.split("=")[0];
      if (!patterns.some(function (re) { return re.test(name); })) return;
      domains.forEach(function (d) { document.cookie = name + "=; Path=/; Max-Age=0" + d; });
    });
  }

  // ---- render banner -------------------------------------------------------------------
  function mount() {
    if (host) return;
    host = el("div", { id: "mixvoip-consent" });
    var theme = config.theme || {};
    host.style.setProperty("--mvc-accent", theme.accent || "#0b5cad");
    host.style.setProperty("--mvc-bg", theme.background || "#ffffff");
    host.style.setProperty("--mvc-text", theme.text || "#1d2430");
    root = host.attachShadow({ mode: "open" });
    var style = el("style", { nonce: nonce || null });
    style.textContent = config.css;
    root.appendChild(style);
    document.body.insertBefore(host, document.body.firstChild);
  }

  function buttons(extra) {
    return el("div", { class: "actions" }, [
      el("button", { type: "button", class: "choice", "data-action": "accept", text: t.accept, onclick: function () { decideAll(true); } }),
      el("button", { type: "button", class: "choice", "data-action": "refuse", text: t.refuse, onclick: function () { decideAll(false); } }),
      extra,
    ]);
  }

  function links() {
    return el("p", { class: "links" }, [
      el("a", { href: config.policy.url, target: "_blank", rel: "noopener", text: t.policy_link }),
      el("a", { href: "https://www.aboutcookies.org/", target: "_blank", rel: "noopener", text: t.about_link }),
    ]);
  }

  function showBanner() {
    mount();
    if (banner) banner.remove();
    banner = el("section", { class: "banner pos-" + ((config.theme || {}).position || "bottom"), role: "dialog", "aria-modal": "false", "aria-labelledby": "mvc-title", "aria-describedby": "mvc-intro", lang: lang }, [
      el("h2", { id: "mvc-title", text: t.title }),
      el("p", { id: "mvc-intro", text: t.intro }),
      el("p", { text: t.choice }),
      links(),
      buttons(el("button", { type: "button", class: "secondary", "data-action": "customise", text: t.customise, onclick: function () { showPreferences(); } })),
    ]);
    root.appendChild(banner);
    asking = true;
  }

  function hideBanner() {
    asking = false;
    if (banner) { banner.remove(); banner = null; }
  }

  function switchFor(id, label, checked, onchange) {
    var input = el("input", { type: "checkbox", role: "switch", id: "mvc-" + id, checked: checked, onchange: onchange });
    return el("label", { class: "switch", for: "mvc-" + id }, [input, el("span", { text: label })]);
  }

  function cookieList(cookies) {
    if (!cookies.length) return null;
    return el("details", {}, [
      el("summary", { text: t.cookies }),
      el("ul", {}, cookies.map(function (c) {
        return el("li", { text: c.name + (c.lifetime ? " — " + c.lifetime : "") + " — " + (c.third_party ? t.third_party : t.first_party) });
      })),
    ]);
  }

  function showPreferences() {
    mount();
    opener = opener || document.activeElement;
    if (dialog) dialog.remove();
    var draft = { cat: {}, par: {} };
    optional.forEach(function (c) { draft.cat[c.id] = !!(state && state.cat[c.id]); });
    config.partners.forEach(function (p) { draft.par[p.id] = !!(state && state.par[p.id]); });
    var sections = config.categories.map(function (c) {
      var title = t["category." + c.id + ".title"] || c.id;
      var partners = config.partners.filter(function (p) { return p.category === c.id; });
      var head = c.required
        ? el("p", { class: "switch locked" }, [el("strong", { text: title }), el("span", { class: "badge", text: t.always_on })])
        : switchFor(c.id, title, draft.cat[c.id], function (e) {
            draft.cat[c.id] = e.target.checked;
            partners.forEach(function (p) { draft.par[p.id] = e.target.checked; root.getElementById("mvc-p-" + p.id).checked = e.target.checked; });
          });
      return el("section", { class: "category" }, [
        head,
        el("p", { text: t["category." + c.id + ".description"] || "" }),
        cookieList(c.cookies),
        partners.length ? el("ul", { class: "partners", "aria-label": t.partners }, partners.map(function (p) {
          return el("li", {}, [
            switchFor("p-" + p.id, p.name, draft.par[p.id], function (e) {
              draft.par[p.id] = e.target.checked;
              if (e.target.checked) { draft.cat[c.id] = true; root.getElementById("mvc-" + c.id).checked = true; }
            }),
            el("p", { text: p.purpose[lang] || p.purpose.en || "" }),
            el("a", { href: p.privacy_url, target: "_blank", rel: "noopener", text: t.partner_privacy.replace("{name}", p.name) }),
            cookieList(p.cookies),
          ]);
        })) : null,
      ]);
    });
    dialog = el("dialog", { class: "preferences", "aria-labelledby": "mvc-prefs-title", lang: lang }, [
      el("h2", { id: "mvc-prefs-title", text: t.prefs_title }),
      el("p", { text: t.prefs_intro }),
      navigator.globalPrivacyControl ? el("p", { class: "note", text: t.gpc }) : null,
    ].concat(sections, [
      state ? el("p", { class: "consent-id" }, [el("span", { text: t.consent_id + " " }), el("code", { text: state.id })]) : null,
      links(),
      buttons(el("button", { type: "button", class: "secondary", "data-action": "save", text: t.save, onclick: function () {
        var any = Object.keys(draft.par).some(function (k) { return draft.par[k]; });
        optional.forEach(function (c) {
          if (!config.partners.some(function (p) { return p.category === c.id; })) return;
          draft.cat[c.id] = draft.cat[c.id] && config.partners.some(function (p) { return p.category === c.id && draft.par[p.id]; });
        });
        decide(any ? "custom" : refusalAction(), Object.assign({ technical: true }, draft.cat), draft.par);
      } })),
    ]));
    dialog.addEventListener("close", closePreferences);
    root.appendChild(dialog);
    dialog.showModal();
  }

  function closePreferences() {
    if (!dialog) return;
    var d = dialog;
    dialog = null;
    if (d.open) d.close();
    d.remove();
    if (asking) {
      showBanner();
      banner.querySelector("button").focus();
    } else if (opener && opener.focus && document.contains(opener)) {
      opener.focus();
    }
    opener = null;
  }

  // ---- record decision -----------------------------------------------------------------
  function uuid() {
    var b = crypto.getRandomValues(new Uint8Array(16));
    b[6] = (b[6] & 15) | 64;
    b[8] = (b[8] & 63) | 128;
    var h = Array.prototype.map.call(b, function (x) { return (x + 256).toString(16).slice(1); }).join("");
    return h.slice(0, 8) + "-" + h.slice(8, 12) + "-" + h.slice(12, 16) + "-" + h.slice(16, 20) + "-" + h.slice(20);
  }

  function hasGrants(s) {
    return !!s && Object.keys(s.par).some(function (k) { return s.par[k]; });
  }

  function refusalAction() {
    return hasGrants(state) ? "withdraw" : "refuse_all";
  }

  function decideAll(granted) {
    var cat = {}, par = {};
    config.categories.forEach(function (c) { cat[c.id] = c.required || granted; });
    config.partners.forEach(function (p) { par[p.id] = granted; });
    decide(granted ? "accept_all" : refusalAction(), cat, par);
  }

  function decide(action, cat, par, gpcOnly) {
    var before = state;
    var now = new Date();
    state = { id: before ? before.id : uuid(), rev: config.revision, cat: cat, par: par, at: now.toISOString(), r: null };
    var expires = new Date(now);
    expires.setMonth(expires.getMonth() + (hasGrants(state) ? config.cookie.consent_months : config.cookie.refusal_months));
    writeState(state, expires);
    var withdrawn = config.partners.filter(function (p) { return before && before.par[p.id] && !par[p.id]; });
    if (withdrawn.length) clearCookies(withdrawn);
    hideBanner();
    closePreferences();
    consentMode("update");
    gate();
    if (withdrawn.length && !gpcOnly) notice();
    var body = {
      site: site, action: action, categories: cat, partners: par, consent_id: state.id,
      revision: config.revision, language: lang, page_url: location.href,
      gpc: navigator.globalPrivacyControl === true, texts_version: config.texts[lang],
    };
    enqueue(body);
    flush();
    emit();
  }

  function notice() {
    mount();
    var old = root.querySelector(".notice");
    if (old) old.remove();
    var box = el("section", { class: "banner notice", role: "status", lang: lang }, [
      el("p", { text: t.withdrawn }),
      el("div", { class: "actions" }, [
        el("button", { type: "button", class: "choice", text: t.reload, onclick: function () { location.reload(); } }),
        el("button", { type: "button", class: "secondary", text: t.close, onclick: function () { box.remove(); } }),
      ]),
    ]);
    root.appendChild(box);
  }

  function readQueue() {
    try { return JSON.parse(localStorage.getItem(queueKey)) || []; } catch (e) { return []; }
  }

  function writeQueue(items) {
    try {
      if (items.length) localStorage.setItem(queueKey, JSON.stringify(items));
      else localStorage.removeItem(queueKey);
    } catch (e) { /* storage disabled: the decision still applies on this page */ }
  }

  function enqueue(body) {
    writeQueue(readQueue().concat([body]));
  }

  var flushing = false;
  function flush() {
    // Oldest first; a decision stays queued until the service has committed it.
    var items = readQueue();
    if (flushing || !items.length) return;
    flushing = true;
    var body = items[0];
    fetch(api + "/consents", {
      method: "POST", keepalive: true, credentials: "omit",
      headers: { "Content-Type": "text/plain;charset=UTF-8" }, body: JSON.stringify(body),
    }).then(function (response) {
      if (response.status >= 500 || response.status === 429) throw new Error("retry later");
      return response.ok ? response.json() : null;
    }).then(function (result) {
      writeQueue(readQueue().filter(function (item) { return JSON.stringify(item) !== JSON.stringify(body); }));
      if (result && state && result.consent_id === state.id && same(result.categories, state.cat) && same(result.partners, state.par)) {
        state.r = result.receipt;
        writeState(state, new Date(result.expires_at));
      }
      flushing = false;
      flush();
    }).catch(function () { flushing = false; });
  }

  function emit() {
    var detail = api_.get();
    listeners.forEach(function (fn) { try { fn(detail); } catch (e) { setTimeout(function () { throw e; }); } });
    document.dispatchEvent(new CustomEvent("consent:change", { detail: detail }));
  }

  var api_ = window.MixvoipConsent = {
    version: 1,
    open: function () { showPreferences(); },
    get: function () {
      return state ? { consent_id: state.id, categories: Object.assign({}, state.cat), partners: Object.assign({}, state.par),
        revision: state.rev, decided_at: state.at, receipt: state.r } : null;
    },
    on: function (event, fn) { if (event === "change" && typeof fn === "function") listeners.push(fn); },
  };

  // ---- start ---------------------------------------------------------------------------
  // An outdated decision still holds for what it covered until the visitor answers again.
  state = readState();
  consentMode("default");
  if (state) consentMode("update");

  function start() {
    document.addEventListener("click", function (e) {
      var trigger = e.target.closest && e.target.closest("[data-consent-open]");
      if (trigger) { e.preventDefault(); opener = trigger; showPreferences(); }
    });
    gate();
    flush();
    if (!state && navigator.globalPrivacyControl === true) {
      var cat = {}, par = {};
      config.categories.forEach(function (c) { cat[c.id] = c.required; });
      config.partners.forEach(function (p) { par[p.id] = false; });
      decide("refuse_all", cat, par, true);
    } else if (!state || !isCurrent(state)) {
      showBanner();
    }
  }

  if (document.body) start();
  else document.addEventListener("DOMContentLoaded", start);
})(__CONSENT_CONFIG__);
