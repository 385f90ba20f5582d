/* tarteaucitron 1.x: the same banner as ours (advertising partners, equal Accept and Refuse). */
tarteaucitron.init({
  privacyUrl: "https://www.mixvoip.com/privacy-policy",
  hashtag: "#tarteaucitron",
  cookieName: "mixvoip_consent",
  orientation: "bottom",
  showAlertSmall: false,
  cookieslist: true,
  DenyAllCta: true,
  AcceptAllCta: true,
  highPrivacy: true,
  handleBrowserDNTRequest: false,
  removeCredit: true,
  moreInfoLink: true,
  useExternalCss: false,
  useExternalJs: false,
  mandatory: true,
  googleConsentMode: false
});
tarteaucitron.user.googleadsId = "AW-0000000000";
(tarteaucitron.job = tarteaucitron.job || []).push("googleads");
tarteaucitron.user.facebookpixelId = "0000000000";
(tarteaucitron.job = tarteaucitron.job || []).push("facebookpixel");
