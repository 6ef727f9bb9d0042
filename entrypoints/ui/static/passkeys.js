// Passkeys on the hosted pages: the one thing here that needs JavaScript (WebAuthn is a
// browser API). Served from 'self' under the pages' strict CSP; without it, or in a browser
// without passkeys, the passkey controls stay hidden and everything else works as before.
"use strict";

(function () {
  const supported = Boolean(
    window.PublicKeyCredential && PublicKeyCredential.parseCreationOptionsFromJSON && PublicKeyCredential.parseRequestOptionsFromJSON
  );

  async function post(url, body) {
    const response = await fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body || {}),
    });
    const answer = await response.json().catch(() => ({}));
    if (!response.ok) {
      throw new Error(answer.message || "That did not work. Reload the page and try again.");
    }
    return answer;
  }

  function explain(error) {
    // The browser's own refusals (cancelled, timed out, no passkey here) all say NotAllowedError.
    if (error && error.name === "NotAllowedError") {
      return "No passkey was used. Try again, or use your password.";
    }
    if (error && error.name === "InvalidStateError") {
      return "This authenticator already holds a passkey for your account.";
    }
    return (error && error.message) || "That did not work.";
  }

  function shown(element, message) {
    element.textContent = message;
    element.hidden = false;
  }

  const signIn = document.getElementById("passkey-sign-in");
  if (signIn && supported) {
    const problem = document.getElementById("passkey-problem");
    signIn.hidden = false;
    signIn.querySelector("button").addEventListener("click", async () => {
      problem.hidden = true;
      try {
        const options = await post("/v1/auth/passkey/options");
        const credential = await navigator.credentials.get({
          publicKey: PublicKeyCredential.parseRequestOptionsFromJSON(options.data.publicKey),
        });
        await post("/v1/auth/passkey/login", { credential: credential.toJSON() });
        window.location.assign(signIn.dataset.next);
      } catch (error) {
        shown(problem, explain(error));
      }
    });
  }

  const secondStep = document.getElementById("passkey-second-step");
  if (secondStep && supported) {
    const problem = document.getElementById("passkey-problem");
    secondStep.hidden = false;
    secondStep.querySelector("button").addEventListener("click", async () => {
      problem.hidden = true;
      try {
        const options = await post("/v1/auth/login/mfa/passkey/options");
        const credential = await navigator.credentials.get({
          publicKey: PublicKeyCredential.parseRequestOptionsFromJSON(options.data.publicKey),
        });
        await post("/v1/auth/login/mfa/passkey", { credential: credential.toJSON() });
        window.location.assign(secondStep.dataset.next);
      } catch (error) {
        shown(problem, explain(error));
      }
    });
  }

  const add = document.getElementById("passkey-add");
  if (add && supported) {
    const problem = document.getElementById("passkey-problem");
    add.hidden = false;
    add.addEventListener("submit", async (event) => {
      event.preventDefault();
      problem.hidden = true;
      try {
        const options = await post("/v1/users/me/passkeys/options");
        const credential = await navigator.credentials.create({
          publicKey: PublicKeyCredential.parseCreationOptionsFromJSON(options.data.publicKey),
        });
        const name = add.elements.namedItem("passkey_name").value;
        await post("/v1/users/me/passkeys", { name: name, credential: credential.toJSON() });
        window.location.assign("/ui/account?done=passkey-added");
      } catch (error) {
        shown(problem, explain(error));
      }
    });
  }
})();
