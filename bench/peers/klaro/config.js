/* Klaro 0.7: the same banner as ours (technical + advertising, two partners). */
var klaroConfig = {
  storageMethod: "cookie",
  cookieName: "mixvoip_consent",
  cookieExpiresAfterDays: 395,
  privacyPolicy: "https://www.mixvoip.com/privacy-policy",
  default: false,
  mustConsent: false,
  acceptAll: true,
  hideDeclineAll: false,
  lang: "en",
  translations: {
    en: {
      consentNotice: {
        title: "Cookies on mixvoip.com",
        description: "MIXVOIP Sa, the data controller, uses technical cookies that the site needs for your visit and login. With your consent, our display advertising partners also place advertising cookies for retargeting: they receive your IP address and/or an advertising ID.",
        learnMore: "Customise"
      },
      ok: "Accept all",
      acceptAll: "Accept all",
      decline: "Refuse all",
      purposes: { technical: "Technical cookies", advertising: "Advertising cookies" }
    }
  },
  services: [
    { name: "session", title: "Technical cookies", purposes: ["technical"], required: true,
      description: "Your session and login, load balancing, and the cookie that remembers this choice." },
    { name: "google-ads", title: "Google Ads", purposes: ["advertising"],
      description: "Measures ad conversions and shows you Mixvoip ads on other websites (retargeting).",
      cookies: ["_gcl_au", "_gcl_aw"] },
    { name: "meta-pixel", title: "Meta Pixel", purposes: ["advertising"],
      description: "Shows you Mixvoip ads on Facebook and Instagram (retargeting).",
      cookies: ["_fbp"] }
  ]
};
