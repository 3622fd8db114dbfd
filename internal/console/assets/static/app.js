// calm-collector console: inline hints for the classic connector mistakes, the test and save
// buttons without a page reload, and the copy button. No framework; the page works without it.
"use strict";

(function () {
  function isLoopback(host) {
    return host === "localhost" || host === "127.0.0.1" || host === "[::1]" || host === "::1";
  }
  function hostOf(v) {
    try { return new URL(v).hostname; } catch (e) { return ""; }
  }
  function show(id, text) {
    var el = document.getElementById(id);
    if (!el) { return; }
    el.textContent = text || "";
    el.hidden = !text;
  }

  function urlHint(v) {
    v = v.trim();
    if (v === "") { return ""; }
    if (/^http:\/\//i.test(v) && !isLoopback(hostOf(v))) {
      return "Use https:// — SAP Cloud ALM answers only over https.";
    }
    if (/\/api\/?$/i.test(v)) {
      return "Leave out /api: the collector adds it (a doubled /api/api answers 404). Use endpoints.Api from the service key without /api.";
    }
    if (/\.authentication\..*hana\.ondemand\.com/i.test(v)) {
      return "This looks like the authentication server (uaa.url). The URL is endpoints.Api without /api, e.g. https://<tenant>.eu10.alm.cloud.sap.";
    }
    if (/\/$/.test(v)) {
      return "The trailing slash will be removed.";
    }
    return "";
  }

  function authHint(v) {
    v = v.trim();
    if (v === "") { return ""; }
    if (/^http:\/\//i.test(v) && !isLoopback(hostOf(v))) {
      return "Use https:// — the SAP BTP authentication server answers only over https.";
    }
    if (/\/oauth\/token\/?$/i.test(v)) {
      return "Leave out /oauth/token: it is added for the token call. Use uaa.url from the service key as it is.";
    }
    if (/alm\.cloud\.sap/i.test(v)) {
      return "This looks like the Cloud ALM tenant. The authentication server is uaa.url: https://<subdomain>.authentication.<region>.hana.ondemand.com.";
    }
    return "";
  }

  function keyHint(v) {
    v = v.trim();
    if (v === "") { return ""; }
    var key;
    try { key = JSON.parse(v); } catch (e) {
      return "Not valid JSON yet: paste the whole service key, from the first { to the last }.";
    }
    if (key && typeof key === "object" && !key.uaa && key.authenticationServer && key.url) {
      if (!key.clientSecret && !key.key) {
        return "These connector settings have no clientSecret: paste them exactly as written.";
      }
      return "Connector settings recognised: tenant " + key.url + ", client " + (key.clientId || "?") + ".";
    }
    if (!key || typeof key !== "object" || !key.uaa) {
      return "This JSON has no \"uaa\" section: paste the service key of the SAP Cloud ALM API instance.";
    }
    var api = key.endpoints && key.endpoints.Api;
    if (!api) { return "The key has no endpoints.Api: is it a key of the SAP Cloud ALM API service?"; }
    if (key.uaa["credential-type"] !== "x509" && !key.uaa.clientsecret) {
      return "The key has no uaa.clientsecret: paste the key exactly as downloaded.";
    }
    return "Service key recognised: tenant " + api.replace(/\/api\/?$/, "") + ", client " + (key.uaa.clientid || "?") + ".";
  }

  function wireHint(inputId, hintId, fn) {
    var el = document.getElementById(inputId);
    if (!el) { return; }
    var update = function () { show(hintId, fn(el.value)); };
    el.addEventListener("input", update);
    update();
  }

  // refreshList replaces the connector list with the server's, after a save stored a connector:
  // it fetches the saved connector's page and takes its list (the saved one marked current).
  function refreshList(saved) {
    var list = document.querySelector("aside.list");
    var link = saved.querySelector("a");
    if (!list || !window.DOMParser) { return; }
    fetch((link && link.getAttribute("href")) || "/", { credentials: "same-origin" }).then(function (resp) {
      if (!resp.ok) { return; }
      return resp.text().then(function (text) {
        var fresh = new DOMParser().parseFromString(text, "text/html").querySelector("aside.list");
        if (fresh) { list.replaceWith(fresh); }
      });
    });
  }

  function wireForm() {
    var form = document.getElementById("connector-form");
    var result = document.getElementById("result");
    if (!form || !result || !window.fetch) { return; }
    form.addEventListener("submit", function (ev) {
      var btn = ev.submitter;
      var action = (btn && btn.getAttribute("formaction")) || form.getAttribute("action");
      ev.preventDefault();
      var body = new URLSearchParams(new FormData(form));
      var csrf = form.querySelector("input[name=csrf]").value;
      var buttons = form.querySelectorAll("button");
      buttons.forEach(function (b) { b.disabled = true; });
      show("busy", "testing…");
      result.setAttribute("aria-busy", "true");
      fetch(action, {
        method: "POST",
        body: body,
        credentials: "same-origin",
        headers: { "X-CSRF-Token": csrf, "X-Console-Fragment": "1" }
      }).then(function (resp) {
        return resp.text().then(function (text) {
          if (!resp.ok) {
            var p = document.createElement("p");
            p.className = "error";
            p.id = "result-error";
            p.textContent = "HTTP " + resp.status + ": " + text;
            result.replaceChildren(p);
            return;
          }
          // The fragment is rendered by html/template on the server.
          result.innerHTML = text;
          var secret = document.getElementById("f-secret");
          var key = document.getElementById("f-key");
          var saved = document.getElementById("saved");
          if (saved && saved.classList.contains("yes")) {
            refreshList(saved);
          }
          if (secret && saved && saved.classList.contains("yes")) {
            // Stored: the page lets go of the secret (the pasted key holds it too).
            secret.value = "";
            secret.placeholder = "set — leave empty to keep it";
            if (key && key.value !== "") {
              key.value = "";
              key.dispatchEvent(new Event("input"));
            }
          }
        });
      }).catch(function (err) {
        var p = document.createElement("p");
        p.className = "error";
        p.id = "result-error";
        p.textContent = "The console did not answer: " + err;
        result.replaceChildren(p);
      }).finally(function () {
        buttons.forEach(function (b) { b.disabled = false; });
        show("busy", "");
        result.removeAttribute("aria-busy");
      });
    });
  }

  // "Collect now": the run summary replaces the box's result, without a page reload. The box
  // can arrive later inside a result fragment, so the listener sits on the document.
  function wireCollect() {
    if (!window.fetch) { return; }
    document.addEventListener("submit", function (ev) {
      var form = ev.target;
      if (!form.classList || !form.classList.contains("collect-form")) { return; }
      ev.preventDefault();
      var box = form.closest("section.collect");
      var result = box && box.querySelector(".run-result");
      if (!result) { return; }
      var btn = form.querySelector("button");
      var busy = form.querySelector(".busy");
      btn.disabled = true;
      if (busy) { busy.hidden = false; }
      result.setAttribute("aria-busy", "true");
      var fail = function (text) {
        var p = document.createElement("p");
        p.className = "error";
        p.id = "run-error";
        p.textContent = text;
        result.replaceChildren(p);
      };
      fetch(form.getAttribute("action"), {
        method: "POST",
        body: new URLSearchParams(new FormData(form)),
        credentials: "same-origin",
        headers: { "X-CSRF-Token": form.querySelector("input[name=csrf]").value, "X-Console-Fragment": "1" }
      }).then(function (resp) {
        return resp.text().then(function (text) {
          if (!resp.ok) { fail("HTTP " + resp.status + ": " + text); return; }
          // The fragment is rendered by html/template on the server.
          result.innerHTML = text;
        });
      }).catch(function (err) {
        fail("The console did not answer: " + err);
      }).finally(function () {
        btn.disabled = false;
        if (busy) { busy.hidden = true; }
        result.removeAttribute("aria-busy");
      });
    });
  }

  function wireCopy() {
    document.addEventListener("click", function (ev) {
      var btn = ev.target.closest && ev.target.closest("button.copy");
      if (!btn) { return; }
      var src = document.getElementById(btn.getAttribute("data-copy"));
      if (!src) { return; }
      var done = function () { btn.textContent = "Copied"; setTimeout(function () { btn.textContent = "Copy"; }, 1500); };
      if (navigator.clipboard && navigator.clipboard.writeText) {
        navigator.clipboard.writeText(src.textContent).then(done, function () { selectText(src); });
      } else {
        selectText(src);
      }
    });
  }

  function selectText(el) {
    var range = document.createRange();
    range.selectNodeContents(el);
    var sel = window.getSelection();
    sel.removeAllRanges();
    sel.addRange(range);
  }

  document.addEventListener("DOMContentLoaded", function () {
    wireHint("f-url", "hint-url", urlHint);
    wireHint("f-auth", "hint-auth", authHint);
    wireHint("f-key", "hint-key", keyHint);
    wireForm();
    wireCollect();
    wireCopy();
  });
})();
