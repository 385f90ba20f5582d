/* Osano cookieconsent 3: an opt-in banner (it has no preferences layer of its own). */
window.addEventListener("load", function () {
  window.cookieconsent.initialise({
    type: "opt-in",
    position: "bottom-right",
    cookie: { name: "mixvoip_consent", expiryDays: 395 },
    palette: { popup: { background: "#ffffff", text: "#1d2733" }, button: { background: "#0b5cad", text: "#ffffff" } },
    content: {
      header: "Cookies on mixvoip.com",
      message: "MIXVOIP Sa, the data controller, uses technical cookies that the site needs for your visit and login. With your consent, our display advertising partners also place advertising cookies for retargeting: they receive your IP address and/or an advertising ID.",
      allow: "Accept all",
      deny: "Refuse all",
      link: "Privacy policy",
      href: "https://www.mixvoip.com/privacy-policy"
    }
  });
});
