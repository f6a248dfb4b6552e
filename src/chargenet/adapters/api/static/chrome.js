// The bar on top of every page: where to go, language, who is logged in.
import { get, optional, post } from "./api.js";
import { html, render } from "./html.js";
import { lang, setLang, setZone, t, translatePage } from "./i18n.js";

export async function header(active, onLanguage) {
  const bar = document.querySelector("header.bar");
  render(bar, html`
    <span class="brand" data-t="brand"></span>
    <nav>
      <a href="/" class="${active === "finder" ? "active" : ""}" data-t="finder"></a>
      <a href="/dashboard" class="${active === "dashboard" ? "active" : ""}" data-t="dashboard"></a>
      <a href="/docs" data-t="api_docs"></a>
    </nav>
    <span class="who" id="who"></span>
    <button id="lang" type="button" data-t="language"></button>
    <button id="logout" type="button" data-t="logout" hidden></button>
    <a id="login" href="/login" data-t="login" hidden></a>`);
  const config = await optional("/api/v1/ui/config");
  setZone(config?.timezone);
  const me = await optional("/api/v1/auth/me");
  if (me) {
    bar.querySelector("#who").textContent = me.display_name || me.username;
    bar.querySelector("#logout").hidden = false;
  } else {
    bar.querySelector("#login").hidden = false;
  }
  bar.querySelector("#lang").addEventListener("click", () => {
    setLang(lang() === "zh" ? "en" : "zh");
    translatePage();
    onLanguage?.();
  });
  bar.querySelector("#logout").addEventListener("click", async () => {
    await post("/api/v1/auth/logout");
    location.href = "/login";
  });
  translatePage();
  return me;
}

export { get, t };
