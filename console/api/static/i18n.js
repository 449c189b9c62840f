// The console's languages: zh-CN by default, English on request. Every script registers its own
// catalog ({en: {key: text}, "zh-CN": {key: text}}) with I18N.register and asks I18N.t(key, params)
// for its words; the names of codes (kinds, cities, funds…) come from /api/labels (I18N.label).
// The choice: ?lang=en|zh-CN in the address, else the last one chosen (localStorage), else zh-CN.
"use strict";
const I18N = (() => {
  const LANGS = ["zh-CN", "en"];
  const DEFAULT = "zh-CN";
  const STORE = "jiuye-lang";
  const catalogs = { "zh-CN": {}, en: {} };
  let labels = {};

  function chosen() {
    const asked = new URLSearchParams(location.search).get("lang");
    if (LANGS.includes(asked)) { localStorage.setItem(STORE, asked); return asked; }
    const kept = localStorage.getItem(STORE);
    return LANGS.includes(kept) ? kept : DEFAULT;
  }
  const lang = chosen();
  document.documentElement.lang = lang;

  function register(catalog) {
    for (const [l, texts] of Object.entries(catalog)) catalogs[l] = { ...(catalogs[l] || {}), ...texts };
  }

  // `{name}` in the text is replaced by params.name; a key missing in this language falls back to
  // English, then to the key itself (visible, so a missing entry is noticed, not hidden).
  function t(key, params = {}) {
    const text = catalogs[lang][key] ?? catalogs.en[key] ?? key;
    return text.replace(/\{(\w+)\}/g, (whole, name) => (name in params ? String(params[name]) : whole));
  }

  // The name of a code in a group of /api/labels ("kind", "city", "fund"…), else the code.
  const label = (group, code) => (code == null || code === "" ? "" : labels[group]?.[code]?.[lang] ?? String(code));
  const codes = (group) => Object.keys(labels[group] || {});
  function setLabels(served) { labels = served || {}; }

  // Switching keeps the token (sessionStorage) and reloads the page in the other language.
  function switchTo(l) {
    localStorage.setItem(STORE, l);
    const url = new URL(location.href);
    url.searchParams.delete("lang");
    location.replace(url);
  }

  // Fen to yuan by string arithmetic on the integer (no float ever touches an amount):
  // zh-CN "1,234.50 元", en "¥1,234.50"; negative amounts keep their sign in front.
  function yuan(fen) {
    if (fen == null || fen === "") return "";
    const whole = BigInt(fen);
    const digits = (whole < 0n ? -whole : whole).toString().padStart(3, "0");
    const amount = `${digits.slice(0, -2).replace(/\B(?=(\d{3})+(?!\d))/g, ",")}.${digits.slice(-2)}`;
    const sign = whole < 0n ? "-" : "";
    return lang === "en" ? `${sign}¥${amount}` : `${sign}${amount} 元`;
  }

  const integer = (n) => (n == null ? "" : new Intl.NumberFormat(lang === "en" ? "en-GB" : "zh-CN").format(n));

  // A business date (YYYY-MM-DD, Asia/Shanghai already) or month (YYYY-MM) as people write it:
  // 2020年3月5日 / 5 March 2020, 2020年3月 / March 2020. Formatted as UTC so no offset moves the day.
  const DAY = /^(\d{4})-(\d{2})-(\d{2})$/, MONTH = /^(\d{4})-(\d{2})$/;
  const locale = () => (lang === "en" ? "en-GB" : "zh-CN");
  function date(text) {
    const m = DAY.exec(text ?? "");
    if (!m) return text ?? "";
    return new Intl.DateTimeFormat(locale(), { timeZone: "UTC", year: "numeric", month: "long", day: "numeric" })
      .format(new Date(Date.UTC(+m[1], +m[2] - 1, +m[3])));
  }
  function month(text) {
    const m = MONTH.exec(text ?? "");
    if (!m) return text ?? "";
    return new Intl.DateTimeFormat(locale(), { timeZone: "UTC", year: "numeric", month: "long" })
      .format(new Date(Date.UTC(+m[1], +m[2] - 1, 1)));
  }
  const isDate = (text) => typeof text === "string" && DAY.test(text);

  // Static text of the page: data-i18n (text), data-i18n-placeholder, data-i18n-title.
  function apply(root = document) {
    for (const node of root.querySelectorAll("[data-i18n]")) node.textContent = t(node.dataset.i18n);
    for (const node of root.querySelectorAll("[data-i18n-placeholder]")) node.placeholder = t(node.dataset.i18nPlaceholder);
    for (const node of root.querySelectorAll("[data-i18n-title]")) node.title = t(node.dataset.i18nTitle);
  }

  return { LANGS, lang, register, t, label, codes, setLabels, switchTo, yuan, integer, date, month, isDate, apply };
})();
