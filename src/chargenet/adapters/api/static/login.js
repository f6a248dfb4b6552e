// The login page: a session for the dashboard, then back where the user came from.
import { post } from "./api.js";
import { header, t } from "./chrome.js";
const form = document.getElementById("login-form");
form.addEventListener("submit", async (event) => {
  event.preventDefault();
  const error = document.getElementById("error");
  error.textContent = "";
  try {
    const me = await post("/api/v1/auth/login", {
      username: document.getElementById("username").value,
      password: document.getElementById("password").value,
    });
    const next = new URLSearchParams(location.search).get("next");
    // Each role has its home: operators their workspace, officials the dashboard.
    const home = me?.role === "operator" ? "/workspace" : "/dashboard";
    location.href = next && next.startsWith("/") && !next.startsWith("//") ? next : home;
  } catch (e) {
    error.textContent = e.status === 429 ? t("login_throttled") : t("login_failed");
  }
});
// The form is ours now: let the user submit (the header below may still be loading).
form.querySelector("button[type=submit]").disabled = false;
await header("login");
