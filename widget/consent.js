/*
 * Mixvoip Consent widget. One file, no dependency. The service inlines one site's configuration
 * and one language's strings in place of __CONSENT_CONFIG__ and minifies the result.
 * Sections: read config → read stored decision → gate tags → render banner → record decision.
 * The only global is window.MixvoipConsent (open, get, on); pages also get a
 * "consent:change" DOM event on document. Size is a feature: every line costs every visitor.
 */
(() => {
  "use strict";
  // The service writes one site's configuration here, first, where gzip compresses it best.
  const C = __CONSENT_CONFIG__;
  const w = window, d = document, nav = navigator;
  if (w.MixvoipConsent) return;

  // ---- read config ---------------------------------------------------------------------
  const me = d.currentScript;
  const nonce = me?.nonce || "";
  const api = C.api || new URL("/v1", me ? me.src : location.href).href;
  const site = C.site, K = C.cookie, gpc = nav.globalPrivacyControl === true;
  const lang = [d.documentElement.lang].concat(nav.languages || [])
    .map(x => String(x || "").slice(0, 2).toLowerCase())
    .find(x => C.languages.includes(x)) || C.default_language;
  const t = C.strings;
  const optional = C.categories.filter(c => !c.required);
  const queueKey = "mixvoip-consent:" + site + ":queue";
  const TAGS = "script[type='text/plain'][data-consent],iframe[data-consent][data-src]";
  const listeners = [], pending = [], ran = new WeakSet(), notes = new WeakMap();
  let state = null, asking = false, loading = false, flushing = false, reloading = false;
  let host, root, banner, dialog, opener;

  const el = (tag, attrs, kids) => {
    const n = d.createElement(tag);
    for (const k in attrs) {
      const v = attrs[k];
      if (k === "text") n.textContent = v;
      else if (k.startsWith("on")) n.addEventListener(k.slice(2), v);
      else if (v !== false && v != null) n.setAttribute(k, v === true ? "" : v);
    }
    (kids || []).forEach(c => c && n.append(c));
    return n;
  };

  const consentMode = kind => {
    if (!C.consent_mode) return;
    const layer = (w.dataLayer = w.dataLayer || []);
    if (typeof w.gtag !== "function") w.gtag = function () { layer.push(arguments); };
    const v = kind === "update" && isGranted("advertising") ? "granted" : "denied";
    const s = { ad_storage: v, ad_user_data: v, ad_personalization: v, analytics_storage: "denied" };
    if (kind === "default") {
      if (layer.some(e => e[0] === "consent" && e[1] === "default")) return;
      s.wait_for_update = 500;
    }
    w.gtag("consent", kind, s);
  };

  // This bundle speaks one language; a page in another of the site's languages loads that one.
  if (me && lang !== C.lang) {
    consentMode("default");
    const other = el("script", { src: me.src.replace(/[?#].*/, "") + "?lang=" + lang });
    other.nonce = nonce;
    me.after(other);
    return;
  }

  // ---- read stored decision ------------------------------------------------------------
  const b64 = s => btoa(s).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  const unb64 = s => atob(s.replace(/-/g, "+").replace(/_/g, "/"));
  const same = (a, b) => JSON.stringify(Object.entries(a || {}).sort()) === JSON.stringify(Object.entries(b || {}).sort());

  const readState = () => {
    try {
      const s = JSON.parse(unb64(d.cookie.match("(?:^|; )" + K.name + "=([^;]*)")[1]));
      if (!/^[0-9a-f-]{36}$/.test(s.id) || !s.cat || !s.par) return null;
      if (s.r) {
        // The receipt's readable part must say exactly what the cookie says.
        const p = JSON.parse(unb64(s.r.split(".")[0]));
        if (p.cid !== s.id || p.site !== site || p.rev !== s.rev || !same(p.cat, s.cat) || !same(p.par, s.par)) return null;
      } else if (!readQueue().some(q => q.consent_id === s.id)) {
        return null; // no receipt and nothing waiting to be recorded: not a decision we made
      }
      return s;
    } catch (e) {
      return null;
    }
  };

  const writeState = (s, expires) => {
    const h = location.hostname, dom = K.domain;
    d.cookie = K.name + "=" + b64(JSON.stringify(s)) + "; Path=/; SameSite=Lax; Expires=" + expires.toUTCString() +
      (dom && (h === dom || h.endsWith("." + dom)) ? "; Domain=" + dom : "") +
      (location.protocol === "https:" ? "; Secure" : "");
  };

  // A partner or category added since the decision needs a new question; a removed one does not.
  const isCurrent = s => C.categories.every(c => c.id in s.cat) && C.partners.every(p => p.id in s.par);
  const isRequired = id => C.categories.some(c => c.id === id && c.required);
  const isGranted = (category, partner) =>
    isRequired(category) || (!!state && state.cat[category] === true && (!partner || state.par[partner] === true));

  // ---- gate tags -----------------------------------------------------------------------
  const gate = () => d.querySelectorAll(TAGS).forEach(release);

  function release(n) {
    if (ran.has(n)) return;
    const ok = isGranted(n.dataset.consent, n.dataset.partner);
    if (n.tagName === "IFRAME") {
      if (!ok) return placeholder(n);
      ran.add(n);
      notes.get(n)?.remove();
      n.hidden = false;
      n.src = n.dataset.src;
    } else if (ok) {
      ran.add(n);
      pending.push(n);
      runNext();
    }
  }

  function runNext() {
    // One at a time, in document order: an inline tag waits for the external one before it.
    if (loading || !pending.length) return;
    const original = pending.shift(), copy = d.createElement("script");
    for (const a of original.attributes) if (a.name !== "type") copy.setAttribute(a.name, a.value);
    copy.type = original.dataset.type || "text/javascript";
    copy.nonce = original.nonce || nonce;
    if (original.src) {
      loading = true;
      copy.async = false;
      copy.onload = copy.onerror = () => { loading = false; runNext(); };
    } else {
      copy.text = original.text;
    }
    original.replaceWith(copy);
    runNext();
  }

  function placeholder(frame) {
    if (notes.has(frame)) return;
    frame.hidden = true;
    const category = frame.dataset.consent, id = frame.dataset.partner;
    const partner = C.partners.find(p => p.id === id);
    const box = el("div", { class: "mixvoip-consent-placeholder", role: "note" }, [
      el("p", { text: t.placeholder.replace("{name}", partner ? partner.name : category) }),
      el("button", { type: "button", text: t.placeholder_allow, onclick: () => decide("custom",
        grants(c => c.id === category || isGranted(c.id), p => (partner ? p.id === id : p.category === category) || isGranted(p.category, p.id))) }),
    ]);
    notes.set(frame, box);
    frame.before(box);
  }

  new MutationObserver(records => records.forEach(r => r.addedNodes.forEach(n => {
    if (n.nodeType !== 1) return;
    if (n.matches(TAGS)) release(n);
    n.querySelectorAll(TAGS).forEach(release);
  }))).observe(d.documentElement, { childList: true, subtree: true });

  const clearCookies = partners => {
    const names = [];
    // Cookie names hold letters, digits, "_", "-", "." and the wildcard "*".
    partners.forEach(p => p.cookies.forEach(c => c[2] || names.push(new RegExp("^" + c[0].replace(/\./g, "\\.").replace(/\*/g, ".*") + "$"))));
    const parts = location.hostname.split("."), domains = [""];
    for (let i = 0; i < parts.length - 1; i++) domains.push("; Domain=" + parts.slice(i).join("."));
    d.cookie.split("; ").forEach(pair => {
      const name = pair.split("=")[0];
      if (names.some(re => re.test(name))) domains.forEach(dom => { d.cookie = name + "=; Path=/; Max-Age=0" + dom; });
    });
  };

  // ---- render banner -------------------------------------------------------------------
  const mount = () => {
    if (host) return;
    host = el("div", { id: "mixvoip-consent" });
    for (const k in C.theme) host.style.setProperty("--" + k, C.theme[k]);
    root = host.attachShadow({ mode: "open" });
    root.append(el("style", { nonce: nonce || null, text: C.css }));
    d.body.prepend(host);
  };

  const button = (text, onclick, cls) => el("button", { type: "button", class: cls, text, onclick });
  const buttons = extra => el("div", {}, [
    button(t.accept, () => decideAll(true)),
    button(t.refuse, () => decideAll(false)),
    extra,
  ]);
  const link = (href, text) => el("a", { href, target: "_blank", rel: "noopener", text });
  const links = () => el("p", {}, [link(C.policy, t.policy_link), link("https://www.aboutcookies.org/", t.about_link)]);

  // Ids live in the shadow root, so short ones cannot clash with the page's.
  function showBanner() {
    mount();
    banner?.remove();
    banner = el("section", { class: "banner pos-" + C.theme.position, role: "dialog", "aria-labelledby": "h", "aria-describedby": "i", lang }, [
      el("h2", { id: "h", text: t.title }),
      el("p", { id: "i", text: t.intro }),
      el("p", { text: t.choice }),
      links(),
      buttons(button(t.customise, () => showPreferences(), "secondary")),
    ]);
    root.append(banner);
    asking = true;
  }

  const toggle = (id, label, checked, onchange) => el("label", {}, [
    el("input", { type: "checkbox", role: "switch", id: "s-" + id, checked, onchange }),
    el("span", { text: label }),
  ]);

  const cookieList = cookies => cookies.length ? el("details", {}, [
    el("summary", { text: t.cookies }),
    el("ul", {}, cookies.map(c => el("li", { text: c[0] + (c[1] ? " — " + c[1] : "") + " — " + (c[2] ? t.third_party : t.first_party) }))),
  ]) : null;

  function showPreferences() {
    mount();
    opener = opener || d.activeElement;
    dialog?.remove();
    const draft = { cat: {}, par: {} }, box = id => root.getElementById("s-" + id);
    optional.forEach(c => { draft.cat[c.id] = isGranted(c.id); });
    C.partners.forEach(p => { draft.par[p.id] = isGranted(p.category, p.id); });
    const sections = C.categories.map(c => {
      const partners = C.partners.filter(p => p.category === c.id);
      return el("section", { class: "category" }, [
        c.required
          ? el("p", { class: "locked" }, [el("strong", { text: c.title }), el("span", { text: t.always_on })])
          : toggle(c.id, c.title, draft.cat[c.id], e => {
            draft.cat[c.id] = e.target.checked;
            partners.forEach(p => { draft.par[p.id] = box("p-" + p.id).checked = e.target.checked; });
          }),
        el("p", { text: c.description }),
        cookieList(c.cookies),
        partners.length ? el("ul", { class: "partners", "aria-label": t.partners }, partners.map(p => el("li", {}, [
          toggle("p-" + p.id, p.name, draft.par[p.id], e => {
            draft.par[p.id] = e.target.checked;
            if (e.target.checked) draft.cat[c.id] = box(c.id).checked = true;
          }),
          el("p", { text: p.purpose }),
          link(p.privacy_url, t.partner_privacy.replace("{name}", p.name)),
          cookieList(p.cookies),
        ]))) : null,
      ]);
    });
    dialog = el("dialog", { "aria-labelledby": "ph", lang, onclose: closePreferences }, [
      el("h2", { id: "ph", text: t.prefs_title }),
      el("p", { text: t.prefs_intro }),
      gpc ? el("p", { text: t.gpc }) : null,
      ...sections,
      state ? el("p", {}, [t.consent_id + " ", el("code", { text: state.id })]) : null,
      links(),
      buttons(button(t.save, () => {
        // A category with partners is granted only through at least one of them.
        optional.forEach(c => {
          const ps = C.partners.filter(p => p.category === c.id);
          if (ps.length) draft.cat[c.id] = ps.some(p => draft.par[p.id]);
        });
        const any = Object.values(draft.cat).some(Boolean);
        decide(any ? "custom" : refusalAction(), grants(c => draft.cat[c.id], p => draft.par[p.id]));
      }, "secondary")),
    ]);
    root.append(dialog);
    dialog.showModal();
  }

  function closePreferences() {
    if (!dialog) return;
    const shown = dialog;
    dialog = null;
    shown.close(); // does nothing if the dialog is already closed
    shown.remove();
    if (asking) {
      showBanner();
      banner.querySelector("button").focus();
    } else if (opener?.focus && d.contains(opener)) {
      opener.focus();
    }
    opener = null;
  }

  // ---- record decision -----------------------------------------------------------------
  const uuid = () => "10000000-1000-4000-8000-100000000000".replace(/[018]/g,
    c => (c ^ (crypto.getRandomValues(new Uint8Array(1))[0] & (15 >> (c / 4)))).toString(16));
  const hasGrants = s => !!s && Object.values(s.par).some(Boolean);
  const refusalAction = () => (hasGrants(state) ? "withdraw" : "refuse_all");
  const grants = (category, partner) => {
    const cat = {}, par = {};
    C.categories.forEach(c => { cat[c.id] = c.required || !!category(c); });
    C.partners.forEach(p => { par[p.id] = !!partner(p); });
    return [cat, par];
  };
  const decideAll = granted => decide(granted ? "accept_all" : refusalAction(), grants(() => granted, () => granted));

  function decide(action, [cat, par], quiet) {
    const before = state, now = new Date(), expires = new Date(now);
    state = { id: before ? before.id : uuid(), rev: C.revision, cat, par, at: now.toISOString(), r: null };
    enqueue({
      site, action, categories: cat, partners: par, consent_id: state.id, revision: C.revision,
      language: lang, page_url: location.href, gpc, texts_version: C.texts_version,
    });
    expires.setMonth(expires.getMonth() + (hasGrants(state) ? K.consent_months : K.refusal_months));
    writeState(state, expires);
    const withdrawn = C.partners.filter(p => before && before.par[p.id] && !par[p.id]);
    if (withdrawn.length) clearCookies(withdrawn);
    asking = false;
    banner?.remove();
    banner = null;
    closePreferences();
    consentMode("update");
    gate();
    // A tag that already ran cannot be unrun: once the withdrawal is recorded (or queued),
    // reload the page so that nothing the partners started keeps running.
    reloading = withdrawn.length > 0 && !quiet;
    flush();
    emit();
  }

  function readQueue() {
    try { return JSON.parse(localStorage.getItem(queueKey)) || []; } catch (e) { return []; }
  }

  const writeQueue = items => {
    try {
      if (items.length) localStorage.setItem(queueKey, JSON.stringify(items));
      else localStorage.removeItem(queueKey);
    } catch (e) { /* storage disabled: the decision still applies on this page */ }
  };
  const enqueue = body => writeQueue(readQueue().concat([body]));

  function flush() {
    // Oldest first; a decision stays queued until the service has committed it.
    const body = readQueue()[0];
    if (flushing) return;
    if (!body) return reloading && location.reload();
    flushing = true;
    fetch(api + "/consents", {
      // A string body goes as text/plain: a simple request, no CORS preflight.
      method: "POST", keepalive: true, credentials: "omit", body: JSON.stringify(body),
    }).then(response => {
      if (response.status >= 500 || response.status === 429) throw 0; // retry on a later page
      return response.ok ? response.json() : null;
    }).then(result => {
      writeQueue(readQueue().filter(item => JSON.stringify(item) !== JSON.stringify(body)));
      if (result && state && result.consent_id === state.id && same(result.categories, state.cat) && same(result.partners, state.par)) {
        state.r = result.receipt;
        writeState(state, new Date(result.expires_at));
      }
      flushing = false;
      flush();
    }).catch(() => {
      flushing = false;
      if (reloading) location.reload();
    });
  }

  function emit() {
    const detail = API.get();
    listeners.forEach(fn => { try { fn(detail); } catch (e) { setTimeout(() => { throw e; }); } });
    d.dispatchEvent(new CustomEvent("consent:change", { detail }));
  }

  const API = (w.MixvoipConsent = {
    version: 1,
    open: () => showPreferences(),
    get: () => state && { consent_id: state.id, categories: { ...state.cat }, partners: { ...state.par },
      revision: state.rev, decided_at: state.at, receipt: state.r, language: lang },
    on: (event, fn) => { if (event === "change" && typeof fn === "function") listeners.push(fn); },
  });

  // ---- start ---------------------------------------------------------------------------
  // An outdated decision still holds for what it covered until the visitor answers again.
  state = readState();
  consentMode("default");
  if (state) consentMode("update");

  const start = () => {
    d.addEventListener("click", e => {
      const trigger = e.target.closest?.("[data-consent-open]");
      if (trigger) { e.preventDefault(); opener = trigger; showPreferences(); }
    });
    gate();
    flush();
    if (!state && gpc) decide("refuse_all", grants(() => 0, () => 0), true);
    else if (!state || !isCurrent(state)) showBanner();
  };
  if (d.body) start();
  else d.addEventListener("DOMContentLoaded", start);
})();
