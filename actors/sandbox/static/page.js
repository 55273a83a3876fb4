// The sandbox page: plays the Telegram client for simulated users, through the JSON API of
// actors/sandbox/web.py. Message bodies arrive as HTML the server built from Telegram's
// entities (escaped, a fixed set of tags); everything else is written with textContent.
"use strict";

const TYPING_MS = 5000;
const state = {
  users: [],
  current: null,
  revision: null,
  poll: 0, // bumped to abandon an older long poll when the chat changes
  seen: {}, // user id -> bot messages seen in their chat
  nodes: new Map(), // message id -> {key, node}
  typingTimer: null,
};

const $ = (id) => document.getElementById(id);

function make(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(props)) {
    if (name === "className") node.className = value;
    else if (name === "text") node.textContent = value;
    else node.setAttribute(name, value);
  }
  node.append(...children);
  return node;
}

function showError(message) {
  const box = $("error");
  box.textContent = message;
  box.hidden = !message;
}

async function api(method, path, body) {
  const options = { method, headers: {} };
  if (body instanceof FormData) options.body = body;
  else if (body !== undefined) {
    options.body = JSON.stringify(body);
    options.headers["Content-Type"] = "application/json";
  }
  const response = await fetch(path, options);
  const payload = await response.json();
  if (!response.ok) throw new Error(payload.error || response.statusText);
  return payload;
}

// --- users ------------------------------------------------------------------------------------

async function refreshState() {
  const data = await api("GET", "/api/state");
  $("bot-name").textContent = data.bot.name;
  $("bot-username").textContent = "@" + data.bot.username;
  const models = $("models");
  models.replaceChildren(
    data.demo
      ? make("span", { className: "demo", "data-testid": "demo-badge",
          text: "Offline demo model: scripted answers, no API key set" })
      : make("span", { text: "Models: " + data.models }));
  state.users = data.users;
  if (state.current === null && data.users.length) {
    // #user=ID picks who this tab plays, so several tabs can be several people.
    const wanted = Number(new URLSearchParams(location.hash.slice(1)).get("user"));
    const user = data.users.find((u) => u.id === wanted) || data.users[0];
    selectUser(user.id);
  }
  renderUsers();
}

function renderUsers() {
  const list = $("users");
  list.replaceChildren(...state.users.map((user) => {
    if (user.id === state.current) state.seen[user.id] = user.bot_messages;
    const unseen = user.bot_messages - (state.seen[user.id] ?? 0);
    const button = make("button", {
      type: "button", "data-testid": "user-" + user.id,
      className: user.id === state.current ? "current" : "",
    }, make("span", { text: user.name }));
    if (unseen > 0) button.append(make("span", { className: "badge", text: String(unseen) }));
    button.addEventListener("click", () => selectUser(user.id));
    return make("li", {}, button);
  }));
}

function selectUser(id) {
  state.current = id;
  history.replaceState(null, "", `#user=${id}`);
  state.revision = null;
  state.nodes.clear();
  $("messages").replaceChildren();
  const user = state.users.find((u) => u.id === id);
  $("chat-title").textContent = user ? `${user.name} ↔ ${$("bot-name").textContent}` : "";
  renderUsers();
  pollChat();
  $("text").focus();
}

async function addUser() {
  const input = $("new-user-name");
  try {
    const user = await api("POST", "/api/users", { name: input.value });
    input.value = "";
    await refreshState();
    selectUser(user.id);
    showError("");
  } catch (error) {
    showError(error.message);
  }
}

// --- the chat ---------------------------------------------------------------------------------

async function pollChat() {
  const mine = ++state.poll;
  const chatId = state.current;
  while (mine === state.poll) {
    const since = state.revision === null ? "" : `&since=${encodeURIComponent(state.revision)}`;
    try {
      const view = await api("GET", `/api/chats/${chatId}?wait=20${since}`);
      if (mine !== state.poll) return;
      state.revision = view.revision;
      renderChat(view);
    } catch (error) {
      if (mine !== state.poll) return;
      showError("Lost the sandbox: " + error.message + " (retrying)");
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
  }
}

function renderChat(view) {
  const box = $("messages");
  const atBottom = box.scrollHeight - box.scrollTop - box.clientHeight < 40;
  const alive = new Set();
  let previous = null;
  for (const message of view.messages) {
    alive.add(message.id);
    const key = JSON.stringify([message.html, message.buttons, message.edits, message.document]);
    let entry = state.nodes.get(message.id);
    if (!entry || entry.key !== key) {
      const node = messageNode(message);
      if (entry) entry.node.replaceWith(node);
      else if (previous) previous.after(node);
      else box.prepend(node);
      entry = { key, node };
      state.nodes.set(message.id, entry);
    }
    previous = entry.node;
  }
  for (const [id, entry] of state.nodes) {
    if (!alive.has(id)) {
      entry.node.remove();
      state.nodes.delete(id);
    }
  }
  state.seen[view.chat_id] = view.messages.filter((m) => m.from_bot).length;
  showTyping(view.typing);
  if (atBottom) box.scrollTop = box.scrollHeight;
}

function showTyping(typing) {
  clearTimeout(state.typingTimer);
  $("typing").hidden = !typing;
  if (typing) state.typingTimer = setTimeout(() => { $("typing").hidden = true; }, TYPING_MS);
}

function safeUrl(url) {
  try {
    const parsed = new URL(url);
    return ["http:", "https:", "tg:"].includes(parsed.protocol) ? parsed.href : null;
  } catch {
    return null;
  }
}

function messageNode(message) {
  const side = message.from_bot ? "bot" : "user";
  const bubble = make("div", { className: "bubble" });
  if (!message.from_bot) bubble.append(make("div", { className: "sender", text: message.sender }));
  if (message.document) {
    const kb = Math.max(1, Math.round(message.document.size / 1024));
    const icon = message.document.photo ? "🖼" : "📄";
    bubble.append(make("div", { className: "doc", text: `${icon} ${message.document.name} · ${kb} KB` }));
  }
  if (message.text) {
    const body = make("div", { className: "text", "data-testid": "message-text" });
    body.innerHTML = message.html; // built and escaped by actors/sandbox/render.py
    bubble.append(body);
  }
  const time = new Date(message.date * 1000).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  bubble.append(make("div", { className: "meta", text: (message.edits ? "edited · " : "") + time }));
  const node = make("div", {
    className: `msg ${side}`, "data-testid": "message", "data-id": String(message.id),
    "data-from": side, "data-edits": String(message.edits),
  }, bubble);
  if (message.buttons.length) node.append(keyboardNode(message));
  return node;
}

function keyboardNode(message) {
  return make("div", { className: "keyboard" }, ...message.buttons.map((row) => make(
    "div", { className: "row" }, ...row.map((button) => {
      const url = button.url ? safeUrl(button.url) : null;
      if (url) {
        return make("a", { href: url, target: "_blank", rel: "noopener noreferrer",
          text: button.text + " ↗" });
      }
      const node = make("button", { type: "button", "data-testid": "inline-button",
        text: button.text });
      node.addEventListener("click", () => press(message.id, button.data));
      return node;
    }))));
}

async function press(messageId, data) {
  try {
    await api("POST", "/api/press", { user_id: state.current, message_id: messageId, data });
    showError("");
  } catch (error) {
    showError(error.message);
  }
}

async function sendText(text) {
  if (!text.trim() || state.current === null) return;
  try {
    await api("POST", "/api/send", { user_id: state.current, text });
    showError("");
  } catch (error) {
    showError(error.message);
  }
}

async function sendFile(file) {
  const form = new FormData();
  form.append("user_id", String(state.current));
  form.append("caption", $("text").value);
  form.append("file", file, file.name);
  try {
    await api("POST", "/api/upload", form);
    $("text").value = "";
    showError("");
  } catch (error) {
    showError(error.message);
  }
}

function wire() {
  const text = $("text");
  const send = () => {
    const value = text.value;
    text.value = "";
    sendText(value);
  };
  $("send").addEventListener("click", send);
  text.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey) {
      event.preventDefault();
      send();
    }
  });
  $("file").addEventListener("change", (event) => {
    const [file] = event.target.files;
    if (file) sendFile(file);
    event.target.value = "";
  });
  $("add-user").addEventListener("click", addUser);
  $("new-user-name").addEventListener("keydown", (event) => {
    if (event.key === "Enter") addUser();
  });
  $("messages").addEventListener("click", (event) => {
    const command = event.target.closest(".msg.bot .tg-command");
    if (command) sendText(command.textContent);
    const spoiler = event.target.closest(".tg-spoiler");
    if (spoiler) spoiler.classList.toggle("revealed");
  });
  refreshState().catch((error) => showError(error.message));
  setInterval(() => refreshState().catch(() => {}), 2000);
}

document.addEventListener("DOMContentLoaded", wire);
