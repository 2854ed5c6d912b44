/* Rendering of chat entries (plain DOM, no framework). Exposes window.SimRender. */
"use strict";
(function () {
  function el(tag, cls, text) {
    const node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function mediaSrc(obj) {
    if (!obj) return "";
    return obj.id ? "/_sim/media/" + encodeURIComponent(obj.id) : obj.link || "";
  }

  function timeOf(entry) {
    const d = new Date(entry.timestamp * 1000);
    return d.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  }

  function mediaNode(kind, obj, voice) {
    const box = el("div", "media");
    const src = mediaSrc(obj);
    if (kind === "image" || kind === "sticker") {
      const img = el("img");
      img.src = src;
      img.alt = kind;
      if (kind === "sticker") img.style.maxWidth = "120px";
      box.appendChild(img);
    } else if (kind === "video") {
      const video = el("video");
      video.src = src;
      video.controls = true;
      box.appendChild(video);
    } else if (kind === "audio") {
      if (voice) box.appendChild(el("div", "footer-text", "Voice message"));
      const audio = el("audio");
      audio.src = src;
      audio.controls = true;
      box.appendChild(audio);
    } else {
      const link = el("a", "doc");
      link.href = src;
      link.target = "_blank";
      link.appendChild(el("span", "doc-icon", "DOC"));
      link.appendChild(el("span", "", obj.filename || "Document"));
      box.appendChild(link);
    }
    if (obj && obj.caption) box.appendChild(el("div", "text caption", obj.caption));
    return box;
  }

  function interactiveNode(msg, ctx) {
    const it = msg.interactive || {};
    const box = el("div");
    const header = it.header;
    if (header && header.type === "text") box.appendChild(el("div", "header-text", header.text));
    else if (header && header[header.type]) box.appendChild(mediaNode(header.type, header[header.type]));
    box.appendChild(el("div", "text", (it.body || {}).text));
    if (it.footer) box.appendChild(el("div", "footer-text", it.footer.text));
    const action = it.action || {};
    if (it.type === "list") {
      const open = el("button", "list-open", "\u2630 " + action.button);
      open.addEventListener("click", () => ctx.openList(msg, action));
      box.appendChild(open);
    } else if (it.type === "cta_url" && action.parameters) {
      const link = el("a", "list-open", action.parameters.display_text);
      link.href = action.parameters.url;
      link.target = "_blank";
      link.style.display = "block";
      link.style.textAlign = "center";
      box.appendChild(link);
    }
    return box;
  }

  function templateParams(tpl) {
    const lines = [];
    (tpl.components || []).forEach((c) => {
      (c.parameters || []).forEach((p) => {
        if (p.type === "text") lines.push(p.text);
        else if (p.type === "currency") lines.push(p.currency && p.currency.fallback_value);
        else if (p.type === "date_time") lines.push(p.date_time && p.date_time.fallback_value);
      });
    });
    return lines.filter(Boolean);
  }

  function templateNode(msg) {
    const tpl = msg.template || {};
    const box = el("div");
    box.appendChild(el("div", "template-tag", "Template \u00b7 " + ((tpl.language || {}).code || "")));
    box.appendChild(el("div", "header-text", tpl.name));
    (tpl.components || []).forEach((c) => {
      (c.parameters || []).forEach((p) => {
        const media = p[p.type];
        if (media && typeof media === "object" && (media.link || media.id)) {
          box.appendChild(mediaNode(p.type, media));
        }
      });
    });
    const params = templateParams(tpl);
    if (params.length) box.appendChild(el("div", "text", params.join("\n")));
    return box;
  }

  function templateButtons(msg) {
    const out = [];
    ((msg.template || {}).components || []).forEach((c) => {
      if (c.type !== "button" || c.sub_type !== "quick_reply") return;
      (c.parameters || []).forEach((p) => {
        if (p.payload) out.push({ id: p.payload, title: p.text || p.payload, kind: "button" });
      });
    });
    return out;
  }

  function locationNode(loc) {
    const lines = ["Location: " + (loc.name || "")];
    if (loc.address) lines.push(loc.address);
    lines.push(loc.latitude + ", " + loc.longitude);
    return el("div", "text", lines.join("\n"));
  }

  function contactsNode(list) {
    const lines = (list || []).map((c) => {
      const phones = (c.phones || []).map((p) => p.phone).join(", ");
      return "Contact: " + ((c.name || {}).formatted_name || "") + (phones ? "\n" + phones : "");
    });
    return el("div", "text", lines.join("\n\n"));
  }

  function customerReply(msg) {
    const it = msg.interactive || {};
    const reply = it.button_reply || it.list_reply;
    if (reply) return el("div", "text", reply.title);
    if (msg.button) return el("div", "text", msg.button.text);
    return el("div", "text", "");
  }

  function contentNode(entry, ctx) {
    const msg = entry.payload;
    const kind = entry.kind;
    if (kind === "text") return el("div", "text", (msg.text || {}).body);
    if (kind === "interactive") {
      return entry.direction === "out" ? interactiveNode(msg, ctx) : customerReply(msg);
    }
    if (kind === "button") return customerReply(msg);
    if (kind === "template") return templateNode(msg);
    if (kind === "location") return locationNode(msg.location || {});
    if (kind === "contacts") return contactsNode(msg.contacts);
    if (msg[kind]) return mediaNode(kind, msg[kind], (msg[kind] || {}).voice);
    return el("div", "text", "[" + kind + "]");
  }

  function buttonsOf(entry) {
    const msg = entry.payload;
    if (entry.kind === "template") return templateButtons(msg);
    const it = msg.interactive || {};
    if (entry.kind !== "interactive" || it.type !== "button") return [];
    return ((it.action || {}).buttons || []).map((b) => ({
      id: b.reply.id, title: b.reply.title, kind: "interactive",
    }));
  }

  function metaNode(entry) {
    const meta = el("div", "meta");
    meta.appendChild(el("span", "time", timeOf(entry)));
    if (entry.direction === "in") {
      const tick = el("span", "tick", entry.status === "sent" ? "\u2713" : "\u2713\u2713");
      if (entry.status === "failed") tick.textContent = "!";
      tick.dataset.status = entry.status;
      tick.title = entry.status;
      meta.appendChild(tick);
    }
    return meta;
  }

  function quoteNode(entry, ctx) {
    const context = entry.payload.context;
    if (!context || !context.id) return null;
    const kind = entry.payload.type;
    if (entry.direction === "in" && (kind === "interactive" || kind === "button")) return null;
    return el("div", "quote", ctx.describe(context.id));
  }

  function bubble(entry, ctx) {
    const row = el("div", "row " + entry.direction);
    row.dataset.wamid = entry.wamid;
    row.dataset.kind = entry.kind;
    const box = el("div", "bubble");
    const quote = quoteNode(entry, ctx);
    if (quote) box.appendChild(quote);
    box.appendChild(contentNode(entry, ctx));
    box.appendChild(metaNode(entry));
    row.appendChild(box);
    const replyBtn = el("button", "reply-btn", "\u21A9");
    replyBtn.title = "Reply";
    replyBtn.addEventListener("click", () => ctx.startReply(entry));
    row.appendChild(replyBtn);
    const buttons = entry.direction === "out" ? buttonsOf(entry) : [];
    if (buttons.length) {
      const list = el("div", "buttons");
      buttons.forEach((b) => {
        const btn = el("button", "", b.title);
        btn.dataset.buttonId = b.id;
        btn.addEventListener("click", () => ctx.tap(entry, b.id, b.kind, b.title));
        list.appendChild(btn);
      });
      row.appendChild(list);
    }
    if (entry.reaction) {
      row.classList.add("has-reaction");
      row.appendChild(el("span", "reaction", entry.reaction));
    }
    if (entry.webhook && !entry.webhook.ok) {
      row.appendChild(el("div", "webhook-error", "Webhook failed: " + (entry.webhook.error || "")));
    }
    return row;
  }

  function systemNode(entry, text) {
    const node = el("div", "system", text);
    node.dataset.wamid = entry.wamid;
    return node;
  }

  function summary(entry) {
    if (!entry) return "message";
    const msg = entry.payload;
    if (entry.kind === "text") return (msg.text || {}).body;
    if (entry.kind === "interactive") {
      const it = msg.interactive || {};
      const reply = it.button_reply || it.list_reply;
      return reply ? reply.title : (it.body || {}).text;
    }
    if (entry.kind === "template") return "Template " + (msg.template || {}).name;
    const obj = msg[entry.kind] || {};
    return "[" + entry.kind + "] " + (obj.caption || obj.filename || "");
  }

  window.SimRender = { el, bubble, systemNode, summary };
})();
