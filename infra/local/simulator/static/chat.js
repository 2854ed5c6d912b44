/* The customer's side of the chat: state, live stream, composer. Uses window.SimRender. */
"use strict";
(function () {
  const R = window.SimRender;
  const $ = (id) => document.getElementById(id);
  const state = {
    cfg: null, name: "", number: "", entries: new Map(), replyTo: null,
    typingTimer: null, pendingSeen: new Set(), seenTimer: null, recorder: null,
  };

  async function api(path, options) {
    const response = await fetch(path, options);
    let data = null;
    try { data = await response.json(); } catch (e) { data = null; }
    return { status: response.status, ok: response.ok, data };
  }

  function postJson(path, body) {
    return api(path, {
      method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
    });
  }

  function showNotice(text) {
    $("notice-text").textContent = text;
    $("notice").classList.remove("hidden");
  }

  function hideNotice() { $("notice").classList.add("hidden"); }

  function webhookNotice(error) {
    showNotice("Webhook POST to " + state.cfg.webhook_url + " failed: " + error +
      " \u2014 is the ingestion service running?");
  }

  function setTyping(seconds) {
    clearTimeout(state.typingTimer);
    const sub = $("biz-sub");
    if (seconds > 0) {
      sub.textContent = "typing\u2026";
      sub.classList.add("typing");
      const ms = Math.min(seconds, state.cfg.typing_timeout) * 1000;
      state.typingTimer = setTimeout(() => setTyping(0), ms);
    } else {
      sub.textContent = "online";
      sub.classList.remove("typing");
    }
  }

  const ctx = {
    describe(wamid) { return R.summary(state.entries.get(wamid)); },
    startReply(entry) {
      state.replyTo = entry.wamid;
      $("reply-text").textContent = R.summary(entry);
      $("reply-bar").classList.remove("hidden");
      $("text").focus();
    },
    tap(entry, id, kind, title) {
      sendCustomer({ type: kind, reply_to: entry.wamid, button_id: id, text: title });
    },
    openList(msg, action) {
      openSheet(msg, action);
    },
  };

  function render(entry) {
    if (entry.direction === "out" && entry.kind === "reaction") return null;
    if (entry.direction === "out" && entry.status === "failed") {
      return R.systemNode(entry, "\u26A0 A business message was not delivered (failed status).");
    }
    if (entry.direction === "in" && entry.kind === "reaction") {
      return null;
    }
    return R.bubble(entry, ctx);
  }

  function upsert(entry) {
    if (entry.wa_id !== state.number) return;
    state.entries.set(entry.wamid, entry);
    const box = $("messages");
    const old = box.querySelector('[data-wamid="' + entry.wamid + '"]');
    const node = render(entry);
    if (entry.direction === "in" && entry.kind === "reaction") applyCustomerReaction(entry);
    if (!node) return;
    if (old) {
      box.replaceChild(node, old);
    } else {
      const atBottom = box.scrollHeight - box.scrollTop - box.clientHeight < 80;
      box.appendChild(node);
      if (atBottom || entry.direction === "in") box.scrollTop = box.scrollHeight;
    }
    if (entry.direction === "out" && !entry.seen && entry.status !== "failed") markSeen(entry.wamid);
  }

  function applyCustomerReaction(entry) {
    const target = state.entries.get((entry.payload.reaction || {}).message_id);
    if (target) upsert(Object.assign({}, target, { reaction: entry.payload.reaction.emoji || null }));
  }

  function markSeen(wamid) {
    state.pendingSeen.add(wamid);
    if (document.visibilityState !== "visible") return;
    clearTimeout(state.seenTimer);
    state.seenTimer = setTimeout(flushSeen, 150);
  }

  function flushSeen() {
    if (!state.pendingSeen.size || document.visibilityState !== "visible") return;
    const wamids = Array.from(state.pendingSeen);
    state.pendingSeen.clear();
    postJson("/_sim/chat/seen", { wamids });
  }

  async function loadChat() {
    state.entries.clear();
    $("messages").textContent = "";
    const res = await api("/_sim/chat?wa_id=" + encodeURIComponent(state.number));
    (res.data.messages || []).forEach(upsert);
    setTyping(res.data.typing_seconds || 0);
  }

  function onEvent(name, handler) {
    state.stream.addEventListener(name, (e) => handler(JSON.parse(e.data)));
  }

  function openStream() {
    state.stream = new EventSource("/_sim/stream");
    onEvent("hello", () => { document.body.dataset.live = "1"; });
    onEvent("message", (entry) => {
      if (entry.direction === "out" && entry.wa_id === state.number && entry.kind !== "reaction") {
        setTyping(0);
      }
      upsert(entry);
    });
    onEvent("update", upsert);
    onEvent("typing", (t) => { if (t.wa_id === state.number) setTyping(t.active ? t.seconds : 0); });
    onEvent("webhook_error", (w) => webhookNotice(w.error + " (" + w.label + ")"));
    onEvent("reset", loadChat);
  }

  async function sendCustomer(fields) {
    const body = Object.assign({ from: state.number, name: state.name }, fields);
    if (state.replyTo && !body.reply_to) body.reply_to = state.replyTo;
    cancelReply();
    const res = await postJson("/_sim/customer/messages", body);
    if (res.status === 400) {
      showNotice("Simulator rejected the message: " + JSON.stringify(res.data));
    } else if (!res.data || !res.data.webhook || !res.data.webhook.ok) {
      webhookNotice((res.data && res.data.webhook && res.data.webhook.error) || "HTTP " + res.status);
    } else {
      hideNotice();
    }
    return res;
  }

  function cancelReply() {
    state.replyTo = null;
    $("reply-bar").classList.add("hidden");
  }

  function sendText() {
    const box = $("text");
    const text = box.value;
    if (!text.trim()) return;
    box.value = "";
    sendCustomer({ type: "text", text });
  }

  async function sendFile(file, kind, voice) {
    const form = new FormData();
    form.append("file", file, file.name || "upload");
    const up = await api("/_sim/customer/media", { method: "POST", body: form });
    if (!up.ok) { showNotice("Upload failed: " + JSON.stringify(up.data)); return; }
    const caption = $("text").value.trim();
    const fields = { type: kind, media_id: up.data.id };
    if (kind === "audio") fields.voice = voice;
    if (kind !== "audio" && caption) { fields.caption = caption; $("text").value = ""; }
    if (kind === "document") fields.filename = file.name || "document";
    await sendCustomer(fields);
  }

  function openSheet(msg, action) {
    $("sheet-title").textContent = action.button;
    const body = $("sheet-body");
    body.textContent = "";
    const entry = Array.from(state.entries.values()).find((e) => e.payload === msg);
    (action.sections || []).forEach((section) => {
      if (section.title) body.appendChild(R.el("div", "sheet-section", section.title));
      (section.rows || []).forEach((row) => {
        const btn = R.el("button", "sheet-row");
        btn.dataset.rowId = row.id;
        btn.appendChild(R.el("div", "", row.title));
        if (row.description) btn.appendChild(R.el("div", "desc", row.description));
        btn.addEventListener("click", () => {
          $("list-sheet").classList.add("hidden");
          ctx.tap(entry, row.id, "interactive", row.title);
        });
        body.appendChild(btn);
      });
    });
    $("list-sheet").classList.remove("hidden");
  }

  function setRecording(on) {
    const mic = $("mic");
    mic.classList.toggle("recording", on);
    mic.setAttribute("aria-pressed", on ? "true" : "false");
    const label = on ? "Stop recording and send the voice note" : "Record a voice note";
    mic.setAttribute("aria-label", label);
    mic.title = label;
  }

  async function toggleRecording() {
    if (state.recorder) { state.recorder.stop(); return; }
    if (!navigator.mediaDevices || !window.MediaRecorder) {
      showNotice("Recording is not available here; attach an audio file as a voice note instead.");
      return;
    }
    try {
      // A voice note, not a call: no echo cancellation, noise suppression or gain control, which
      // smear the speech the media service transcribes.
      const stream = await navigator.mediaDevices.getUserMedia({
        audio: { echoCancellation: false, noiseSuppression: false, autoGainControl: false },
      });
      // WhatsApp delivers voice notes as OGG/Opus. Chromium records only WebM/Opus: the
      // simulator converts such an upload to OGG/Opus (ffmpeg) before the message is sent.
      const wanted = ["audio/ogg;codecs=opus", "audio/webm;codecs=opus"]
        .find((t) => MediaRecorder.isTypeSupported(t));
      const recorder = wanted
        ? new MediaRecorder(stream, { mimeType: wanted }) : new MediaRecorder(stream);
      const chunks = [];
      recorder.ondataavailable = (e) => chunks.push(e.data);
      recorder.onstop = () => {
        stream.getTracks().forEach((t) => t.stop());
        state.recorder = null;
        setRecording(false);
        const type = (recorder.mimeType || "audio/ogg").split(";")[0];
        const ext = type.includes("webm") ? "webm" : "ogg";
        sendFile(new File(chunks, "voice." + ext, { type }), "audio", true);
      };
      recorder.start();
      state.recorder = recorder;
      setRecording(true);
    } catch (err) {
      showNotice("Microphone not available: " + err);
    }
  }

  function saveCustomer() {
    state.name = $("customer-name").value.trim() || state.cfg.customer_name;
    const number = $("customer-number").value.replace(/\D/g, "") || state.cfg.customer_number;
    localStorage.setItem("sim.name", state.name);
    localStorage.setItem("sim.number", number);
    if (number !== state.number) { state.number = number; loadChat(); }
  }

  function bindComposer() {
    $("send").addEventListener("click", sendText);
    $("text").addEventListener("keydown", (e) => {
      if (e.key === "Enter" && !e.shiftKey) { e.preventDefault(); sendText(); }
    });
    $("attach").addEventListener("click", () => $("attach-menu").classList.toggle("hidden"));
    document.querySelectorAll("[data-pick]").forEach((b) => b.addEventListener("click", () => {
      $("attach-menu").classList.add("hidden");
      $("file-" + b.dataset.pick).click();
    }));
    const pickers = { image: ["image", false], voice: ["audio", true], document: ["document", false] };
    Object.entries(pickers).forEach(([pick, [kind, voice]]) => {
      const input = $("file-" + pick);
      input.addEventListener("change", () => {
        if (input.files.length) sendFile(input.files[0], kind, voice);
        input.value = "";
      });
    });
    $("mic").addEventListener("click", toggleRecording);
    $("reply-cancel").addEventListener("click", cancelReply);
    $("notice-close").addEventListener("click", hideNotice);
    $("sheet-close").addEventListener("click", () => $("list-sheet").classList.add("hidden"));
  }

  function bindSettings() {
    $("settings-toggle").addEventListener("click", () => $("settings").classList.toggle("hidden"));
    $("customer-name").addEventListener("change", saveCustomer);
    $("customer-number").addEventListener("change", saveCustomer);
    document.addEventListener("visibilitychange", flushSeen);
  }

  async function init() {
    const res = await api("/_sim/config");
    state.cfg = res.data;
    state.name = localStorage.getItem("sim.name") || state.cfg.customer_name;
    state.number = localStorage.getItem("sim.number") || state.cfg.customer_number;
    $("biz-name").textContent = state.cfg.business_name;
    $("biz-avatar").textContent = (state.cfg.business_name || "?").charAt(0).toUpperCase();
    $("customer-name").value = state.name;
    $("customer-number").value = state.number;
    $("settings-hint").textContent = "Business +" + state.cfg.display_number + " \u00b7 webhooks \u2192 " +
      state.cfg.webhook_url;
    bindComposer();
    bindSettings();
    openStream();
    await loadChat();
  }

  init();
})();
