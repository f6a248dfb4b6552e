// The bar on top of every page: where to go, language, who is logged in.
import { get, optional, post } from "./api.js";
import { html, render } from "./html.js";
import { lang, setLang, setZone, t, translatePage } from "./i18n.js";

// A session exists only where the login left its CSRF cookie (readable by scripts, set
// beside the HttpOnly session cookie): without it, asking /auth/me would only earn a 401
// in the console of every anonymous visitor.
export function maybeLoggedIn() {
  return /(?:^|; )chargenet_csrf=/.test(document.cookie);
}

export async function whoAmI() {
  return maybeLoggedIn() ? optional("/api/v1/auth/me") : null;
}

export async function header(active, onLanguage) {
  const bar = document.querySelector("header.bar");
  render(bar, html`
    <span class="brand" data-t="brand"></span>
    <nav aria-label="${t("menu")}">
      <a href="/" class="${active === "finder" ? "active" : ""}" data-t="finder"
        ${active === "finder" ? html`aria-current="page"` : ""}></a>
      <a href="/dashboard" id="nav-dashboard" class="${active === "dashboard" ? "active" : ""}" data-t="dashboard"
        ${active === "dashboard" ? html`aria-current="page"` : ""}></a>
      <a href="/docs" class="wide-only" data-t="api_docs"></a>
    </nav>
    <span class="who" id="who"></span>
    <button id="lang" type="button" data-t="language"></button>
    <button id="logout" type="button" data-t="logout" hidden></button>
    <a id="login" href="/login" data-t="login" hidden></a>`);
  // The language switch works from the first moment; pages re-render what they have.
  bar.querySelector("#lang").addEventListener("click", () => {
    setLang(lang() === "zh" ? "en" : "zh");
    translatePage();
    try {
      onLanguage?.();
    } catch (error) {
      console.warn("re-rendering after the language switch:", error);
    }
  });
  bar.querySelector("#logout").addEventListener("click", async () => {
    await post("/api/v1/auth/logout");
    location.href = "/login";
  });
  translatePage();
  const [config, me] = await Promise.all([optional("/api/v1/ui/config"), whoAmI()]);
  setZone(config?.timezone);
  if (me) {
    bar.querySelector("#who").textContent = me.display_name || me.username;
    bar.querySelector("#logout").hidden = false;
    if (me.role === "operator") {
      const link = bar.querySelector("#nav-dashboard");
      link.href = "/workspace";
      link.dataset.t = "workspace";
      link.classList.toggle("active", active === "workspace");
    }
  } else {
    bar.querySelector("#login").hidden = false;
  }
  translatePage();
  return me;
}

export { get, t };
