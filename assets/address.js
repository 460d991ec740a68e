// A page opened at an address the server does not allow (say 127.0.0.1 when PUBLIC_URL names
// another host) cannot open its websocket. Ask the server once, and if so say what to do.
(() => {
  const here = window.location.origin;
  const show = (publicUrl) => {
    const note = document.createElement("div");
    note.setAttribute("data-testid", "wrong-address");
    note.setAttribute("role", "alert");
    note.style.cssText =
      "position:fixed;top:0;left:0;right:0;z-index:2147483647;padding:12px 16px;" +
      "background:#7f1d1d;color:#fff;font:15px/1.4 system-ui,sans-serif;text-align:center";
    const link = document.createElement("a");
    link.href = publicUrl + window.location.pathname + window.location.search;
    link.textContent = publicUrl;
    link.style.cssText = "color:#fff;font-weight:600;text-decoration:underline";
    note.append(
      "This app answers at ",
      link,
      `, not at ${here}. Open it there, or add ${here} to ALLOWED_ORIGINS on the server.`,
    );
    document.body.prepend(note);
  };
  fetch(`/api/page-address?origin=${encodeURIComponent(here)}`)
    .then((answer) => (answer.ok ? answer.json() : null))
    .then((answer) => {
      if (answer && !answer.allowed) show(answer.public_url);
    })
    .catch(() => {}); // the server is down: Reflex says so itself
})();
